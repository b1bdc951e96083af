# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX credential type (extensions/awx/credential_type.yml) fits the modules' connection options.

Its injectors must set exactly the environment variables that plugins/module_utils/_api.py reads as fallbacks of
the options manager_url, token and ca_path (read from that source here, not repeated), each from the input of the
same name, ca_path from the file AWX writes with the input ca_certificate; the token input is secret; every injector
uses an input that exists. Nothing here needs awx.awx.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import os
import re

import pytest
import yaml


REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
CREDENTIAL_TYPE = os.path.join(REPO_ROOT, 'extensions', 'awx', 'credential_type.yml')
API_SOURCE = os.path.join(REPO_ROOT, 'plugins', 'module_utils', '_api.py')
SETUP_PLAYBOOK = os.path.join(REPO_ROOT, 'extensions', 'awx', 'setup.yml')

# Options of awx.awx.credential_type (awx.awx 24.6.1) that describe the type; the file holds nothing else, so
# that it can be passed to the module as it is.
CREDENTIAL_TYPE_OPTIONS = {'name', 'description', 'kind', 'inputs', 'injectors'}
# AWX: custom credential types can only be of these kinds.
CUSTOM_KINDS = {'cloud', 'net'}
# AWX: input field types.
FIELD_TYPES = {'string', 'boolean'}
# "{{ name }}" in an injector value (AWX renders injectors with Jinja against the inputs).
INPUT_REFERENCE = re.compile(r'{{\s*([A-Za-z_][A-Za-z0-9_]*)\s*}}')
# Options whose value is a file: the credential's input holds the content, AWX writes it to a file of the job and
# "{{ tower.filename.<input> }}" names that file.
FILE_OPTIONS = {'ca_path': 'ca_certificate'}


def env_fallbacks():
    """``{option: [ENV, ...]}`` for every ``fallback=(env_fallback, [...])`` in _api.py."""
    with open(API_SOURCE) as f:
        tree = ast.parse(f.read(), API_SOURCE)
    found = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.keyword) or not isinstance(node.value, ast.Call):
            continue
        for keyword in node.value.keywords:
            value = keyword.value
            if (keyword.arg == 'fallback' and isinstance(value, ast.Tuple) and len(value.elts) == 2
                    and isinstance(value.elts[0], ast.Name) and value.elts[0].id == 'env_fallback'):
                found[node.arg] = [ast.literal_eval(element) for element in value.elts[1].elts]
    return found


@pytest.fixture(scope='module')
def credential_type():
    with open(CREDENTIAL_TYPE) as f:
        return yaml.safe_load(f)


@pytest.fixture(scope='module')
def fields(credential_type):
    return dict((field['id'], field) for field in credential_type['inputs']['fields'])


def test_api_source_has_the_env_fallbacks():
    # Guards the parser above: if _api.py changes shape, this test says so instead of comparing empty sets.
    fallbacks = env_fallbacks()
    assert set(fallbacks) == {'manager_url', 'token', 'ca_path'}
    assert all(len(names) == 1 for names in fallbacks.values()), fallbacks


def test_only_credential_type_options(credential_type):
    assert set(credential_type) <= CREDENTIAL_TYPE_OPTIONS
    assert {'name', 'kind', 'inputs', 'injectors'} <= set(credential_type)
    assert credential_type['kind'] in CUSTOM_KINDS


def test_inputs_are_well_formed(credential_type, fields):
    assert len(fields) == len(credential_type['inputs']['fields']), 'input ids must be unique'
    for field in fields.values():
        assert field.get('label'), field
        assert field.get('type', 'string') in FIELD_TYPES, field
    optional = set(FILE_OPTIONS.values())
    assert set(credential_type['inputs'].get('required', [])) == set(fields) - optional, 'every other input is required'
    for name in optional:
        assert fields[name].get('multiline') is True, 'a PEM has several lines'


def test_token_is_secret_and_url_is_not(fields):
    assert fields['token'].get('secret') is True
    assert not fields['manager_url'].get('secret', False)


def test_injectors_set_exactly_the_env_fallbacks(credential_type):
    env = credential_type['injectors']['env']
    expected = set(name for names in env_fallbacks().values() for name in names)
    assert set(env) == expected


def test_each_env_var_comes_from_the_input_of_its_option(credential_type):
    env = credential_type['injectors']['env']
    for option, names in env_fallbacks().items():
        for name in names:
            if option in FILE_OPTIONS:
                field = FILE_OPTIONS[option]
                assert env[name].strip() == '{{ tower.filename.%s }}' % field, (name, env[name])
                assert credential_type['injectors']['file']['template.' + field].strip() == '{{ %s }}' % field
                continue
            assert INPUT_REFERENCE.findall(env[name]) == [option], (name, env[name])
            assert env[name].strip() == '{{ %s }}' % option, (name, env[name])


def test_every_injector_references_an_existing_input(credential_type, fields):
    injectors = credential_type['injectors']
    values = list(injectors.get('env', {}).values()) + list(injectors.get('extra_vars', {}).values())
    values += list(injectors.get('file', {}).values())
    assert values
    values = [value for value in values if not str(value).strip().startswith('{{ tower.filename.')]
    for value in values:
        references = INPUT_REFERENCE.findall(str(value))
        assert references, value
        for reference in references:
            assert reference in fields, f'injector {value!r} names no input of the credential type'


def test_the_token_never_goes_into_extra_vars(credential_type):
    # Extra variables are shown with the job; environment variables of secret inputs are not.
    assert not credential_type['injectors'].get('extra_vars')


def test_setup_playbook_passes_the_file_unchanged():
    with open(SETUP_PLAYBOOK) as f:
        plays = yaml.safe_load(f)
    tasks = [task for play in plays for task in play['tasks']]
    reads = [task for task in tasks if 'credential_type.yml' in str(task.get('ansible.builtin.set_fact', ''))]
    assert reads, 'setup.yml reads credential_type.yml'
    # The registry type's task is checked in test_awx_registry_credential_type.py.
    creates = [task['awx.awx.credential_type'] for task in tasks if 'awx.awx.credential_type' in task
               and 'dragonfly_awx_credential_type.' in task['awx.awx.credential_type']['name']]
    assert len(creates) == 1
    args = creates[0]
    for key in CREDENTIAL_TYPE_OPTIONS:
        assert key in args and f'dragonfly_awx_credential_type.{key}' in args[key], (key, args.get(key))
    credential = [task for task in tasks if 'awx.awx.credential' in task]
    assert credential and all(task.get('no_log') is True for task in credential), 'no secret is ever logged'
