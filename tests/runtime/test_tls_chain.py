# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The manager role's TLS tasks (roles/manager/tasks/tls.yml) against a directory below tmp_path: real
ansible-playbook runs, no daemon.

A first run makes the whole chain in one call (p2p.dragonfly.tls_chain) and none of the community.crypto tasks runs;
those tasks, run on what it wrote, change nothing (the point of writing what they write), and tls_chain_info finds it
up to date. The contrast: the same tasks asked for other names do renew the server's request and certificate, and a
directory that already holds one of the files gets nothing generated.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import stat
import subprocess
import sys

import pytest
import yaml


REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
# The role's own name for the CA on the host localhost (roles/manager/vars/main.yml); the names are given.
CA_NAME = 'p2p.dragonfly manager CA localhost'
NAMES = ('IP:192.0.2.10', 'IP:127.0.0.1', 'DNS:localhost', 'DNS:localhost.localdomain')
FILES = ('ca.key', 'ca.csr', 'ca.crt', 'server.key', 'server.csr', 'server.crt')
CRYPTO_TASKS = ("Ensure the CA's private key (0600)", "Ensure the CA's signing request", 'Ensure the CA certificate (10 years)',
                "Ensure the server's private key (0600)", "Ensure the server's signing request",
                'Ensure the server certificate, signed by the CA (825 days)')

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason='the role writes its keys owned by root')


def play(preflight_read):
    """The role's TLS tasks, after the preflight's read of the directory (as roles/manager/tasks/preflight.yml does)
    or, with ``preflight_read`` false, without it (as with --skip-tags preflight: the community.crypto tasks decide)."""
    tasks = []
    if preflight_read:
        tasks.append({'name': 'Read the TLS directory', 'register': '_dragonfly_manager_tls_state',
                      'p2p.dragonfly.tls_chain_info': {
                          'path': '{{ dragonfly_manager_dir }}/tls', 'ca_common_name': CA_NAME,
                          'common_name': '{{ inventory_hostname }}', 'subject_alt_names': '{{ _dragonfly_manager_tls_names }}'}})
    tasks.append({'name': 'TLS', 'ansible.builtin.include_role': {'name': 'p2p.dragonfly.manager', 'tasks_from': 'tls'}})
    tasks.append({'name': 'Show what it publishes', 'ansible.builtin.debug': {'var': '_dragonfly_manager_tls'}})
    return [{'name': 'TLS tasks only', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': tasks}]


@pytest.fixture
def run(tmp_path):
    collections = tmp_path / 'collections' / 'ansible_collections' / 'p2p'
    collections.mkdir(parents=True)
    (collections / 'dragonfly').symlink_to(REPO_ROOT)

    def run_playbook(preflight_read=True, names=NAMES):
        playbook = tmp_path / 'tls.yml'
        playbook.write_text(yaml.safe_dump(play(preflight_read)))
        extra = tmp_path / 'vars.json'
        extra.write_text(json.dumps({'dragonfly_manager_dir': str(tmp_path / 'manager'), '_dragonfly_manager_tls_names': list(names),
                                     'ansible_python_interpreter': sys.executable}))
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / 'collections'), ANSIBLE_NOCOLOR='1',
                   ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0', ANSIBLE_STDOUT_CALLBACK='json')
        result = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), str(playbook),
                                 '-e', '@%s' % extra], env=env, cwd=str(tmp_path), capture_output=True, text=True,
                                timeout=300, check=False)
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
        tasks = json.loads(result.stdout[result.stdout.index('{'):])['plays'][0]['tasks']
        return {re.sub(r'^p2p\.dragonfly\.manager : ', '', task['task']['name']): task['hosts']['localhost'] for task in tasks}

    return run_playbook


def changed(results, names):
    return {name: results[name].get('changed', False) and not results[name].get('skipped', False) for name in names}


def test_a_first_run_generates_what_the_community_crypto_tasks_then_keep(run, tmp_path):
    first = run()
    generated = first['Generate the CA and the server certificate (first run)']
    assert generated['changed'] and generated['generated'], generated
    assert all(first[name].get('skipped') for name in CRYPTO_TASKS if name in first), first.keys()
    tls = tmp_path / 'manager' / 'tls'
    assert stat.S_IMODE(tls.stat().st_mode) == 0o700
    for name in FILES:
        mode = stat.S_IMODE((tls / name).stat().st_mode)
        assert mode == (0o600 if name.endswith('.key') else 0o644), (name, oct(mode))
    published = first['Show what it publishes']['_dragonfly_manager_tls']
    assert published['certificate'] == (tls / 'server.crt').read_text()
    assert published['ca_certificate'] == (tls / 'ca.crt').read_text()
    before = {name: (tls / name).read_bytes() for name in FILES}

    # A re-run: the preflight's read finds it up to date, so nothing runs at all.
    again = run()
    assert again['Read the TLS directory']['up_to_date'], again['Read the TLS directory']['reasons']
    assert again['Generate the CA and the server certificate (first run)'].get('skipped')
    # Without that read the community.crypto tasks run on the generated files, and keep every one of them.
    crypto = run(preflight_read=False)
    assert set(CRYPTO_TASKS) <= set(crypto), crypto.keys()
    assert changed(crypto, CRYPTO_TASKS) == dict.fromkeys(CRYPTO_TASKS, False)
    assert {name: (tls / name).read_bytes() for name in FILES} == before

    # The contrast: other names make the same tasks renew the server's request and certificate.
    renewed = run(preflight_read=False, names=NAMES + ('DNS:manager.example.com',))
    assert changed(renewed, CRYPTO_TASKS) == dict(dict.fromkeys(CRYPTO_TASKS, False), **{
        "Ensure the server's signing request": True, 'Ensure the server certificate, signed by the CA (825 days)': True})


def test_nothing_is_generated_where_a_file_is_there(run, tmp_path):
    tls = tmp_path / 'manager' / 'tls'
    tls.mkdir(parents=True, mode=0o700)
    (tls / 'server.crt').write_text('not a certificate\n')
    results = run()
    generated = results['Generate the CA and the server certificate (first run)']
    assert generated.get('skipped') or not generated['generated'], generated
    # The community.crypto tasks made the chain instead, replacing what was not a certificate.
    assert changed(results, CRYPTO_TASKS) == dict.fromkeys(CRYPTO_TASKS, True)
    assert (tls / 'server.crt').read_text().startswith('-----BEGIN CERTIFICATE-----')
