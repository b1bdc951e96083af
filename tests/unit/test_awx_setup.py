# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""extensions/awx/setup.yml run for real (awx.awx from the venv) against a fake AWX API on loopback (fake_awx.py).

The first run creates the two credential types (passed as their files hold them), the manager and registry
credentials, the seven job templates with their surveys and the workflow; the second changes nothing (`changed=0`, no
request that writes). The contrast: with `dragonfly_awx_update_token` or `dragonfly_awx_update_registry_password`
(awx.awx's `update_secrets`, true by its default) that credential is rewritten, because AWX never shows a stored secret
(`$encrypted$`); that is how a secret is rotated. Without `dragonfly_awx_registry` the registry type is still created,
but no registry credential, and no job template gets one. Neither the manager token nor the registry password ever
appears in the output.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from fake_awx import FakeAWX

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SETUP = os.path.join(REPO_ROOT, 'extensions', 'awx', 'setup.yml')
TOKEN = 'dragonfly-job-token-0123456789'
REGISTRY_PASSWORD = 'dragonfly-registry-password-0123456789'
CREDENTIAL_TYPES = dict((name, os.path.join(REPO_ROOT, 'extensions', 'awx', name + '.yml'))
                        for name in ('credential_type', 'registry_credential_type'))
# The job templates whose playbooks read the registry credential's environment (playbooks/vars/content.yml).
REGISTRY_TEMPLATES = ('Dragonfly preheat', 'Dragonfly verify', 'Dragonfly evict')
EXTRA_VARS = {
    'dragonfly_awx_manager_url': 'https://manager.example.com:8080',
    'dragonfly_awx_token': TOKEN,
    'dragonfly_awx_manager_ca_certificate': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
    'dragonfly_awx_registry': 'registry.example.com:5000',
    'dragonfly_awx_registry_username': 'preheat-reader',
    'dragonfly_awx_registry_password': REGISTRY_PASSWORD,
    'dragonfly_awx_registry_ca_certificate': '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----',
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
    assert REGISTRY_PASSWORD not in out, 'the registry password is in the output'
    return int(recap.group(2)), out


def test_setup_creates_everything_then_changes_nothing(awx, tmp_path):
    changed, out = run_setup(awx, SETUP, tmp_path)
    # The two credential types, the two credentials, the job templates (one loop), the workflow.
    assert changed == 6, out[-3000:]
    # Each type as its file holds it: its injectors' "{{ input }}" reach AWX untemplated.
    for path in CREDENTIAL_TYPES.values():
        with open(path) as f:
            definition = yaml.safe_load(f)
        [stored] = [t for t in awx.objects['credential_types'] if t['name'] == definition['name']]
        assert dict((key, stored.get(key)) for key in definition) == definition, path
    [ctype] = [t for t in awx.objects['credential_types'] if t['name'] == 'Dragonfly manager']
    [cred] = [c for c in awx.objects['credentials'] if c['name'] == 'Dragonfly manager']
    assert cred['credential_type'] == ctype['id'] and cred['inputs']['token'] == TOKEN
    assert cred['inputs']['ca_certificate'] == EXTRA_VARS['dragonfly_awx_manager_ca_certificate']
    [rtype] = [t for t in awx.objects['credential_types'] if t['name'] == 'Dragonfly registry']
    [rcred] = [c for c in awx.objects['credentials'] if c['name'] == 'Dragonfly registry']
    assert rcred['credential_type'] == rtype['id']
    assert rcred['inputs'] == {'registry': 'registry.example.com:5000', 'username': 'preheat-reader',
                               'password': REGISTRY_PASSWORD,
                               'ca_certificate': EXTRA_VARS['dragonfly_awx_registry_ca_certificate']}
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
        assert (rcred['id'] in linked) == (name in REGISTRY_TEMPLATES), (name, linked)

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


def test_update_registry_password_rewrites_the_secret_and_is_the_only_change(awx, tmp_path):
    run_setup(awx, SETUP, tmp_path)
    new_password = REGISTRY_PASSWORD + '-rotated'
    before = len(awx.requests)
    changed, out = run_setup(awx, SETUP, tmp_path, dragonfly_awx_registry_password=new_password,
                             dragonfly_awx_update_registry_password=True)
    writes = awx.writes(before)
    assert changed == 1, out[-3000:]
    [rcred] = [c for c in awx.objects['credentials'] if c['name'] == 'Dragonfly registry']
    assert writes == [('PATCH', '/api/v2/credentials/%d/' % rcred['id'])], writes
    assert rcred['inputs']['password'] == new_password
    assert new_password not in out


def test_without_a_registry_the_type_only(awx, tmp_path):
    # The type is there for credentials made by hand; no credential, and no job template names one.
    changed, out = run_setup(awx, SETUP, tmp_path, dragonfly_awx_registry='', dragonfly_awx_registry_username='',
                             dragonfly_awx_registry_password='', dragonfly_awx_registry_ca_certificate='')
    assert changed == 5, out[-3000:]
    assert [t for t in awx.objects['credential_types'] if t['name'] == 'Dragonfly registry']
    assert not [c for c in awx.objects['credentials'] if c['name'] == 'Dragonfly registry']
    allowed = set(c['id'] for c in awx.objects['credentials'] if c['name'] in ('Dragonfly manager', 'Dragonfly hosts SSH'))
    for template in awx.objects['job_templates']:
        linked = awx.associations.get(('job_templates', template['id'], 'credentials'), [])
        assert set(linked) <= allowed, (template['name'], linked)


def test_fake_refuses_a_second_credential_of_one_type_like_awx():
    # What makes the runs above prove that setup.yml never gives a job template two credentials of one type.
    fake = FakeAWX()
    ctype = fake.seed('credential_types', name='Dragonfly registry', kind='cloud')
    first, second = (fake.seed('credentials', name=name, credential_type=ctype['id']) for name in ('one', 'two'))
    template = fake.seed('job_templates', name='Dragonfly preheat')
    path, auth = '/api/v2/job_templates/%d/credentials/' % template['id'], 'Bearer fake-oauth-token'
    assert fake.handle('POST', path, {}, {'id': first['id']}, auth) == (204, None)
    status, body = fake.handle('POST', path, {}, {'id': second['id']}, auth)
    assert status == 400 and 'multiple Dragonfly registry' in body['error']
    assert fake.associations[('job_templates', template['id'], 'credentials')] == [first['id']]
