# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""extensions/awx/setup.yml run for real (awx.awx from the venv) against a fake AWX API on loopback (fake_awx.py).

The first run creates the credential type, the credential and the six job templates with their surveys; the
second changes nothing (`changed=0`, no request that writes). The contrast: with `dragonfly_awx_update_token` (awx.awx's
`update_secrets`, true by its default) the credential is rewritten, because AWX never shows a stored secret
(`$encrypted$`); that is how the token is rotated. The manager token never appears in the output.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import subprocess
import sys

import pytest

from fake_awx import FakeAWX

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SETUP = os.path.join(REPO_ROOT, 'extensions', 'awx', 'setup.yml')
TOKEN = 'dragonfly-job-token-0123456789'
EXTRA_VARS = {
    'dragonfly_awx_manager_url': 'https://manager.example.com:8080',
    'dragonfly_awx_token': TOKEN,
    'dragonfly_awx_manager_ca_certificate': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
    'dragonfly_awx_project': 'Dragonfly',
    'dragonfly_awx_inventory': 'Dragonfly hosts',
    'dragonfly_awx_machine_credential': 'Dragonfly hosts SSH',
    'dragonfly_awx_execution_environment': 'Dragonfly EE',
}
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')


@pytest.fixture(name='awx')
def awx_fixture():
    fake = FakeAWX()
    org = fake.seed('organizations', name='Default')
    machine = fake.seed('credential_types', name='Machine', kind='ssh', managed=True,
                        inputs={'fields': [{'id': 'username', 'type': 'string'},
                                           {'id': 'ssh_key_data', 'type': 'string', 'secret': True}]})
    fake.seed('projects', name='Dragonfly', organization=org['id'])
    fake.seed('inventories', name='Dragonfly hosts', organization=org['id'])
    fake.seed('credentials', name='Dragonfly hosts SSH', credential_type=machine['id'], organization=org['id'],
              inputs={'username': 'deploy', 'ssh_key_data': 'not-a-real-key'})
    fake.seed('execution_environments', name='Dragonfly EE', image='registry.example.com/dragonfly-ee:0.1.0')
    url = fake.start()
    fake.url = url
    yield fake
    fake.stop()


def run_setup(awx, playbook, tmp_path, **overrides):
    env = dict(os.environ, CONTROLLER_HOST=awx.url, CONTROLLER_USERNAME=awx.username,
               CONTROLLER_PASSWORD=awx.password, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')
    extra = tmp_path / 'settings.json'
    extra.write_text(json.dumps(dict(EXTRA_VARS, **overrides)))
    proc = subprocess.run([ANSIBLE_PLAYBOOK, playbook, '-e', '@%s' % extra], env=env, capture_output=True,
                          text=True, cwd=str(tmp_path), check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    recap = re.search(r'localhost\s*:\s*ok=(\d+)\s+changed=(\d+)', out)
    assert recap, out[-4000:]
    assert TOKEN not in out, 'the manager token is in the output'
    return int(recap.group(2)), out


def test_setup_creates_everything_then_changes_nothing(awx, tmp_path):
    changed, out = run_setup(awx, SETUP, tmp_path)
    assert changed == 4, out[-3000:]  # the credential type, the credential, the job templates (one loop), the workflow
    [ctype] = [t for t in awx.objects['credential_types'] if t['name'] == 'Dragonfly manager']
    [cred] = [c for c in awx.objects['credentials'] if c['name'] == 'Dragonfly manager']
    assert cred['credential_type'] == ctype['id'] and cred['inputs']['token'] == TOKEN
    assert cred['inputs']['ca_certificate'] == EXTRA_VARS['dragonfly_awx_manager_ca_certificate']
    templates = {t['name']: t for t in awx.objects['job_templates']}
    assert sorted(templates) == ['Dragonfly backup', 'Dragonfly deploy', 'Dragonfly evict', 'Dragonfly preheat',
                                 'Dragonfly restore', 'Dragonfly rotate secrets', 'Dragonfly verify']
    for name, template in templates.items():
        survey = awx.surveys.get(('job_templates', template['id'], 'survey_spec'))
        if name in ('Dragonfly backup', 'Dragonfly rotate secrets'):
            assert survey is None and not template.get('survey_enabled'), name
        else:
            assert survey['spec'] and template.get('survey_enabled'), name
        linked = awx.associations.get(('job_templates', template['id'], 'credentials'), [])
        assert (cred['id'] in linked) == (name in ('Dragonfly preheat', 'Dragonfly verify', 'Dragonfly evict')), (name, linked)

    # The workflow: deploy, then preheat, then verify, each node on the job template of its name; the preheat survey.
    [workflow] = awx.objects['workflow_job_templates']
    assert workflow['name'] == 'Dragonfly deploy, preheat and verify' and workflow.get('survey_enabled')
    assert awx.surveys[('workflow_job_templates', workflow['id'], 'survey_spec')]['spec'], 'the workflow has no survey'
    nodes = dict((node['identifier'], node) for node in awx.objects['workflow_job_template_nodes'])
    assert sorted(nodes) == ['deploy', 'preheat', 'verify']
    assert all(node['workflow_job_template'] == workflow['id'] for node in nodes.values())
    assert dict((name, node['unified_job_template']) for name, node in nodes.items()) == dict(
        (name, templates['Dragonfly ' + name]['id']) for name in nodes)
    success = dict((name, awx.associations.get(('workflow_job_template_nodes', node['id'], 'success_nodes'), []))
                   for name, node in nodes.items())
    assert success == {'deploy': [nodes['preheat']['id']], 'preheat': [nodes['verify']['id']], 'verify': []}, success

    before = len(awx.requests)
    changed, out = run_setup(awx, SETUP, tmp_path)
    writes = awx.writes(before)
    assert changed == 0, out[-3000:]
    assert not writes, writes


def test_update_token_rewrites_the_secret_and_is_the_only_change(awx, tmp_path):
    # The contrast: awx.awx's default (update_secrets true) rewrites the token on every run.
    run_setup(awx, SETUP, tmp_path)
    new_token = TOKEN + '-rotated'
    before = len(awx.requests)
    changed, out = run_setup(awx, SETUP, tmp_path, dragonfly_awx_token=new_token, dragonfly_awx_update_token=True)
    writes = awx.writes(before)
    assert changed == 1, out[-3000:]
    assert [w[0] for w in writes] == ['PATCH'] and '/credentials/' in writes[0][1], writes
    [cred] = [c for c in awx.objects['credentials'] if c['name'] == 'Dragonfly manager']
    assert cred['inputs']['token'] == new_token
    assert new_token not in out
