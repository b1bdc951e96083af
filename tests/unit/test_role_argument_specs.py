# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' argument specs (meta/argument_specs.yml) and docs/roles.md agree with the roles' defaults.

Every variable of a role's defaults/main.yml is an option of the spec's entry point ``main``, with the same
default, a type and a description; the component roles also document the shared settings of the internal
role ``common`` (they expose them with include_role public: true), with the same text as ``common`` itself.
docs/roles.md has one table row per option, with the same default.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re

import pytest
import yaml


REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
ROLES_DIR = os.path.join(REPO_ROOT, 'roles')
DOCS = os.path.join(REPO_ROOT, 'docs', 'roles.md')

# The internal role holding the shared settings; every other role is a component role that includes it.
COMMON_ROLE = '_common'

ROLES = sorted(name for name in os.listdir(ROLES_DIR) if os.path.isdir(os.path.join(ROLES_DIR, name)))
COMPONENT_ROLES = [role for role in ROLES if role != COMMON_ROLE]

# Types role argument specs accept (ansible.module_utils.common.parameters.DEFAULT_TYPE_VALIDATORS).
VALID_TYPES = {'str', 'list', 'dict', 'bool', 'int', 'float', 'path', 'raw', 'jsonarg', 'json', 'bytes', 'bits'}

# A secret is an option whose name ends in one of these words: dragonfly_redis_password, ..._jwt_key, a
# future ..._token. Names that merely describe a secret (dragonfly_manager_token_name,
# ..._token_lifetime_days) are not secrets and stay visible.
SECRET_NAME = re.compile(r'(?:^|_)(?:password|secret|token|jwt_key)$')

# What a non-templated default of each type must be in Python (bool is a subclass of int: checked apart).
PYTHON_TYPES = {'str': str, 'path': str, 'int': int, 'bool': bool, 'dict': dict, 'list': list, 'float': float}


def load_yaml(path):
    with open(path) as f:
        return yaml.safe_load(f)


def role_path(role, *parts):
    return os.path.join(ROLES_DIR, role, *parts)


def rel(path):
    return os.path.relpath(path, REPO_ROOT)


def role_defaults(role):
    path = role_path(role, 'defaults', 'main.yml')
    if not os.path.exists(path):
        return {}
    return load_yaml(path) or {}


def expected_variables(role):
    """The variables the role's spec must document, with their defaults."""
    variables = dict(role_defaults(role))
    if role != COMMON_ROLE:
        variables.update(role_defaults(COMMON_ROLE))
    return variables


def entry_point(role):
    path = role_path(role, 'meta', 'argument_specs.yml')
    assert os.path.exists(path), '%s is missing' % rel(path)
    data = load_yaml(path) or {}
    specs = data.get('argument_specs') or {}
    assert 'main' in specs, '%s has no entry point main (found: %s)' % (rel(path), sorted(specs))
    return specs['main']


def spec_options(role):
    return entry_point(role).get('options') or {}


def same(a, b):
    """Equal including the type (1 != true, "1" != 1)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def is_template(value):
    return isinstance(value, str) and ('{{' in value or '{%' in value)


def description_paragraphs(option):
    description = option.get('description')
    if isinstance(description, str):
        return [description]
    return description if isinstance(description, list) else []


@pytest.mark.parametrize('role', ROLES)
def test_entry_point_is_documented(role):
    main = entry_point(role)
    problems = [key for key in ('short_description', 'description', 'author') if not main.get(key)]
    assert not problems, 'roles/%s/meta/argument_specs.yml, entry point main lacks: %s' % (role, ', '.join(problems))


@pytest.mark.parametrize('role', ROLES)
def test_options_are_the_defaults_variables(role):
    expected = set(expected_variables(role))
    options = set(spec_options(role))
    where = 'roles/%s/defaults/main.yml' % role
    if role != COMMON_ROLE:
        where += ' and roles/%s/defaults/main.yml' % COMMON_ROLE
    problems = []
    missing = sorted(expected - options)
    if missing:
        problems.append('in %s but not in the spec: %s' % (where, ', '.join(missing)))
    unknown = sorted(options - expected)
    if unknown:
        problems.append('in the spec but not in %s: %s' % (where, ', '.join(unknown)))
    assert not problems, 'roles/%s/meta/argument_specs.yml:\n  %s' % (role, '\n  '.join(problems))


@pytest.mark.parametrize('role', ROLES)
def test_option_defaults_equal_the_defaults_file(role):
    expected = expected_variables(role)
    differing = []
    for name, option in sorted(spec_options(role).items()):
        if name not in expected:
            continue  # reported by test_options_are_the_defaults_variables
        if 'default' not in option:
            differing.append('%s: no default in the spec, defaults file has %r' % (name, expected[name]))
        elif not same(option['default'], expected[name]):
            differing.append('%s: spec %r != defaults file %r' % (name, option['default'], expected[name]))
    assert not differing, 'roles/%s: spec defaults differ:\n  %s' % (role, '\n  '.join(differing))


@pytest.mark.parametrize('role', ROLES)
def test_options_have_type_and_description(role):
    problems = []
    for name, option in sorted(spec_options(role).items()):
        option = option or {}
        if option.get('type') not in VALID_TYPES:
            problems.append('%s: type %r is not one of %s' % (name, option.get('type'), ', '.join(sorted(VALID_TYPES))))
        paragraphs = description_paragraphs(option)
        if not paragraphs or not all(isinstance(p, str) and p.strip() for p in paragraphs):
            problems.append('%s: empty or missing description' % name)
    assert not problems, 'roles/%s/meta/argument_specs.yml:\n  %s' % (role, '\n  '.join(problems))


@pytest.mark.parametrize('role', ROLES)
def test_defaults_fit_type_and_choices(role):
    problems = []
    for name, option in sorted(spec_options(role).items()):
        option = option or {}
        type_, default = option.get('type'), option.get('default')
        if default is None or type_ == 'raw':
            continue
        if is_template(default):
            # A template is a string until Ansible renders it; only str (or raw) can hold it.
            if type_ not in ('str', 'path'):
                problems.append('%s: templated default %r needs type str (or raw), not %s' % (name, default, type_))
            continue
        python_type = PYTHON_TYPES.get(type_)
        if python_type and (not isinstance(default, python_type) or (python_type is int and isinstance(default, bool))):
            problems.append('%s: default %r is not a %s' % (name, default, type_))
        # A list's choices are those of its elements (as ansible-core's argument spec validation checks them).
        values = default if type_ == 'list' else [default]
        if 'choices' in option and any(value not in option['choices'] for value in values):
            problems.append('%s: default %r is not one of the choices %r' % (name, default, option['choices']))
        if type_ == 'list' and 'elements' in option:
            element_type = PYTHON_TYPES.get(option['elements'])
            wrong = [e for e in default if element_type and not isinstance(e, element_type)]
            if wrong:
                problems.append('%s: elements %r are not of type %s' % (name, wrong, option['elements']))
    assert not problems, 'roles/%s/meta/argument_specs.yml:\n  %s' % (role, '\n  '.join(problems))


@pytest.mark.parametrize('role', ROLES)
def test_secrets_are_no_log(role):
    shown = sorted(name for name, option in spec_options(role).items()
                   if SECRET_NAME.search(name) and not (option or {}).get('no_log'))
    assert not shown, 'roles/%s/meta/argument_specs.yml: secrets without no_log: true: %s' % (role, ', '.join(shown))


@pytest.mark.parametrize('role', ROLES)
def test_lists_declare_elements(role):
    bare = sorted(name for name, option in spec_options(role).items()
                  if (option or {}).get('type') == 'list' and not option.get('elements'))
    assert not bare, 'roles/%s/meta/argument_specs.yml: type list without elements: %s' % (role, ', '.join(bare))


@pytest.mark.parametrize('role', COMPONENT_ROLES)
def test_shared_settings_are_documented_alike(role):
    """Argument specs cannot include other files: the shared settings are repeated and must not drift."""
    shared = spec_options(COMMON_ROLE)
    options = spec_options(role)
    differing = sorted(name for name in shared if name in options and not same(options[name], shared[name]))
    assert not differing, (
        'roles/%s/meta/argument_specs.yml: shared settings differ from roles/%s/meta/argument_specs.yml '
        '(copy them from there): %s' % (role, COMMON_ROLE, ', '.join(differing)))


def test_release_set_choices_are_the_tested_sets():
    """The choices of dragonfly_release_set are the keys of the release-set table the roles read."""
    path = role_path(COMMON_ROLE, 'vars', 'main.yml')
    table = (load_yaml(path) or {}).get('_dragonfly_release_sets')
    assert isinstance(table, dict) and table, '%s has no _dragonfly_release_sets table' % rel(path)
    choices = spec_options(COMMON_ROLE).get('dragonfly_release_set', {}).get('choices')
    assert choices == [str(key) for key in table], (
        'roles/%s/meta/argument_specs.yml: dragonfly_release_set choices %r != release sets in %s %r'
        % (COMMON_ROLE, choices, rel(path), list(table)))


def role_dependencies(role):
    meta = load_yaml(role_path(role, 'meta', 'main.yml')) or {}
    names = []
    for dep in meta.get('dependencies') or []:
        names.append(dep if isinstance(dep, str) else (dep.get('role') or dep.get('name')))
    return names


@pytest.mark.parametrize('role', COMPONENT_ROLES)
def test_shared_defaults_are_in_scope_for_validation(role):
    """Ansible validates a role's arguments before its first task and renders the templated values then.

    A default built from a shared setting (e.g. "{{ dragonfly_base_dir }}/manager") fails with "is undefined"
    unless the shared defaults are already loaded: the role must depend on the common role in meta/main.yml
    (its include_role public: true comes too late).
    """
    shared = set(role_defaults(COMMON_ROLE))
    using = sorted(name for name, value in role_defaults(role).items()
                   if is_template(value) and shared & set(re.findall(r'\b[a-z][a-z0-9_]*\b', value)))
    if not using:
        return
    deps = role_dependencies(role)
    assert COMMON_ROLE in deps or 'p2p.dragonfly.%s' % COMMON_ROLE in deps, (
        'roles/%s/meta/main.yml must list p2p.dragonfly.%s in dependencies: these defaults are built from shared '
        'settings and the argument spec validation would fail with "undefined": %s' % (role, COMMON_ROLE, ', '.join(using)))


# --------------------------------------------------------------------------------------------- docs/roles.md

def docs_sections():
    """{heading: {variable: default cell}} for the tables of docs/roles.md, by level-2 heading."""
    assert os.path.exists(DOCS), '%s is missing' % rel(DOCS)
    sections, heading = {}, None
    with open(DOCS) as f:
        for line in f:
            if line.startswith('## '):
                heading = line[3:].strip()
                sections[heading] = {}
                continue
            row = re.match(r'^\|\s*`(dragonfly_[a-z0-9_]+)`\s*\|(.*?[^\\])\|', line)
            if row and heading is not None:
                sections[heading][row.group(1)] = row.group(2).strip()
    return sections


def docs_section(role):
    """The variables documented in the section whose heading names p2p.dragonfly.<role>."""
    marker = '`p2p.dragonfly.%s`' % role
    found = [rows for heading, rows in docs_sections().items() if marker in heading]
    assert len(found) == 1, '%s: expected one "## ... %s" section, found %d' % (rel(DOCS), marker, len(found))
    return found[0]


def parse_default_cell(cell):
    """A default cell is one code span holding the default in YAML flow style ('|' escaped as '\\|')."""
    match = re.match(r'^`(.*)`$', cell.strip())
    assert match, 'default cell %r is not one code span' % cell
    return yaml.safe_load(match.group(1).replace('\\|', '|'))


@pytest.mark.parametrize('role', ROLES)
def test_docs_list_every_option(role):
    """Each option has a row in its role's section; shared settings in the section of the common role."""
    shared = set(spec_options(COMMON_ROLE))
    options = spec_options(role)
    own = set(options) - shared if role != COMMON_ROLE else set(options)
    rows = docs_section(role)
    problems = []
    missing = sorted(own - set(rows))
    if missing:
        problems.append('no row for: %s' % ', '.join(missing))
    stale = sorted(set(rows) - own)
    if stale:
        problems.append('rows for variables the spec does not have: %s' % ', '.join(stale))
    differing = []
    for name in sorted(own & set(rows)):
        try:
            documented = parse_default_cell(rows[name])
        except (AssertionError, yaml.YAMLError) as exc:
            differing.append('%s: unreadable default cell (%s)' % (name, exc))
            continue
        if not same(documented, options[name].get('default')):
            differing.append('%s: docs %r != spec %r' % (name, documented, options[name].get('default')))
    if differing:
        problems.append('defaults differ:\n    %s' % '\n    '.join(differing))
    assert not problems, '%s, section of p2p.dragonfly.%s:\n  %s' % (rel(DOCS), role, '\n  '.join(problems))
