# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX registry credential type (extensions/awx/registry_credential_type.yml) fits what the playbooks read.

Checked like the manager's type (test_awx_credential_type.py): only credential type options, a custom kind, known
field types, the password secret, every injector from an input that exists, the CA through the file AWX writes.
Its injectors set exactly REGISTRY_ENV, and playbooks/vars/content.yml (preheat, verify, evict) reads exactly those
names with lookup('ansible.builtin.env', ...), checked both ways. setup.yml creates the type from the file as it is
and attaches the credential only to the job templates whose playbooks read it. Nothing here needs awx.awx.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

import pytest
import yaml

from test_awx_credential_type import (
    CREDENTIAL_TYPE,
    CREDENTIAL_TYPE_OPTIONS,
    CUSTOM_KINDS,
    FIELD_TYPES,
    INPUT_REFERENCE,
)


REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
REGISTRY_CREDENTIAL_TYPE = os.path.join(REPO_ROOT, 'extensions', 'awx', 'registry_credential_type.yml')
SETUP_PLAYBOOK = os.path.join(REPO_ROOT, 'extensions', 'awx', 'setup.yml')
PLAYBOOKS = os.path.join(REPO_ROOT, 'playbooks')
PROJECT_DIR = os.path.join(REPO_ROOT, 'examples', 'awx-project')
CONTENT_VARS = os.path.join(PLAYBOOKS, 'vars', 'content.yml')

# What the credential injects, and from which input: the contract with playbooks/vars/content.yml, which adds one
# entry to the preheat's credentials when DRAGONFLY_REGISTRY is set. None: the path of the file AWX writes from
# the input FILE_INPUT.
REGISTRY_ENV = {
    'DRAGONFLY_REGISTRY': 'registry',
    'DRAGONFLY_REGISTRY_USERNAME': 'username',
    'DRAGONFLY_REGISTRY_PASSWORD': 'password',
    'DRAGONFLY_REGISTRY_CA_PATH': None,
}
FILE_INPUT = 'ca_certificate'
# The collection playbooks whose job templates get the registry credential (they read vars/content.yml).
REGISTRY_PLAYBOOKS = {'preheat.yml', 'verify.yml', 'evict.yml'}
# lookup('ansible.builtin.env', 'NAME') or lookup('env', "NAME"), as a playbook reads the job's environment.
ENV_LOOKUP = re.compile(r"""lookup\(\s*['"](?:ansible\.builtin\.)?env['"]\s*,\s*['"]([A-Z0-9_]+)['"]""")
INCLUDED_TASKS = re.compile(r'tasks/([a-z0-9_]+\.yml)')
VARS_FILES = re.compile(r'^\s*-\s*vars/([\w.-]+\.yml)\s*$', re.M)


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def read(path):
    with open(path) as f:
        return f.read()


def registry_env_read(text):
    return set(name for name in ENV_LOOKUP.findall(text) if name.startswith('DRAGONFLY_REGISTRY'))


def playbook_text(project_playbook):
    """The text of the collection playbook that a project playbook imports, with that of the playbooks/tasks and
    playbooks/vars files it names."""
    [imported] = [play['ansible.builtin.import_playbook'] for play in load(os.path.join(PROJECT_DIR, project_playbook))]
    text = read(os.path.join(PLAYBOOKS, imported[len('p2p.dragonfly.'):] + '.yml'))
    for tasks in sorted(set(INCLUDED_TASKS.findall(text))):
        path = os.path.join(PLAYBOOKS, 'tasks', tasks)
        if os.path.isfile(path):
            text += read(path)
    for name in sorted(set(VARS_FILES.findall(text))):
        text += read(os.path.join(PLAYBOOKS, 'vars', name))
    return text


@pytest.fixture(scope='module')
def credential_type():
    return load(REGISTRY_CREDENTIAL_TYPE)


@pytest.fixture(scope='module')
def fields(credential_type):
    return dict((field['id'], field) for field in credential_type['inputs']['fields'])


def test_only_credential_type_options(credential_type):
    assert set(credential_type) <= CREDENTIAL_TYPE_OPTIONS
    assert {'name', 'kind', 'inputs', 'injectors'} <= set(credential_type)
    assert credential_type['kind'] in CUSTOM_KINDS
    assert credential_type['name'] != load(CREDENTIAL_TYPE)['name']


def test_inputs_are_well_formed(credential_type, fields):
    assert len(fields) == len(credential_type['inputs']['fields']), 'input ids must be unique'
    assert set(fields) == {'registry', 'username', 'password', 'ca_certificate'}
    for field in fields.values():
        assert field.get('label') and field.get('help_text'), field
        assert field.get('type', 'string') in FIELD_TYPES, field
    # Anonymous access with a CA of its own is a registry credential too.
    assert credential_type['inputs'].get('required') == ['registry']
    assert fields[FILE_INPUT].get('multiline') is True, 'a PEM has several lines'
    # The help text names both spellings content.yml accepts.
    assert 'docker.io' in fields['registry']['help_text'] and 'https://' in fields['registry']['help_text']


def test_password_is_secret_and_nothing_else(fields):
    assert [name for name, field in fields.items() if field.get('secret')] == ['password']


def test_injectors_set_exactly_the_registry_env(credential_type):
    env = credential_type['injectors']['env']
    assert set(env) == set(REGISTRY_ENV)
    for name, field in REGISTRY_ENV.items():
        if field is None:
            assert env[name].strip() == '{{ tower.filename.%s }}' % FILE_INPUT, (name, env[name])
            assert credential_type['injectors']['file'] == {'template.' + FILE_INPUT: '{{ %s }}' % FILE_INPUT}
            continue
        assert env[name].strip() == '{{ %s }}' % field, (name, env[name])


def test_every_injector_references_an_existing_input(credential_type, fields):
    injectors = credential_type['injectors']
    values = list(injectors.get('env', {}).values()) + list(injectors.get('file', {}).values())
    values = [value for value in values if not str(value).strip().startswith('{{ tower.filename.')]
    assert values
    for value in values:
        references = INPUT_REFERENCE.findall(str(value))
        assert references, value
        for reference in references:
            assert reference in fields, f'injector {value!r} names no input of the credential type'


def test_the_password_never_goes_into_extra_vars(credential_type):
    # Extra variables are shown with the job; environment variables of secret inputs are not.
    assert set(credential_type['injectors']) <= {'env', 'file'}


def test_no_env_name_is_also_the_manager_types(credential_type):
    # Both credentials are on the preheat job: neither may set what the other sets.
    assert not set(credential_type['injectors']['env']) & set(load(CREDENTIAL_TYPE)['injectors']['env'])


def test_content_vars_read_exactly_the_injected_env():
    assert registry_env_read(read(CONTENT_VARS)) == set(REGISTRY_ENV), (
        'playbooks/vars/content.yml and the credential type disagree on the env names')


def test_setup_playbook_passes_the_file_unchanged():
    plays = load(SETUP_PLAYBOOK)
    tasks = [task for play in plays for task in play['tasks']]
    reads = [task for task in tasks if 'registry_credential_type.yml' in str(task.get('ansible.builtin.set_fact', ''))]
    assert reads, 'setup.yml reads registry_credential_type.yml'
    creates = [task['awx.awx.credential_type'] for task in tasks if 'awx.awx.credential_type' in task
               and 'dragonfly_awx_registry_credential_type.' in task['awx.awx.credential_type']['name']]
    assert len(creates) == 1
    assert 'when' not in creates[0], 'the type is created always'
    for key in CREDENTIAL_TYPE_OPTIONS:
        assert f'dragonfly_awx_registry_credential_type.{key}' in creates[0][key], (key, creates[0][key])
    credential = [task for task in tasks if 'awx.awx.credential' in task
                  and 'registry' in task['awx.awx.credential']['credential_type']]
    assert len(credential) == 1 and credential[0].get('no_log') is True, 'the password is never logged'
    args = credential[0]['awx.awx.credential']
    assert set(args['inputs']) == {'registry', 'username', 'password', 'ca_certificate'}
    # Like the token: rewritten only when asked for, else every run would change it.
    assert 'dragonfly_awx_update_registry_password' in args['update_secrets']


def test_registry_credential_goes_to_the_templates_whose_playbooks_read_it():
    templates = load(SETUP_PLAYBOOK)[0]['vars']['dragonfly_awx_job_templates']
    assert {template['playbook'] for template in templates if template['registry_credential']} == REGISTRY_PLAYBOOKS
    for template in templates:
        reads = bool(registry_env_read(playbook_text(template['playbook'])))
        assert reads == template['registry_credential'], (
            f"{template['playbook']}: reads the registry credential's env: {reads}, gets the credential: "
            f"{template['registry_credential']}")
