# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' argument specs (meta/argument_specs.yml) and docs/roles.md agree with the roles' defaults.

Every variable of a role's defaults/main.yml is an option of the spec's entry point ``main``, with the same
default, a type and a description. The shared settings are documented once: they are the defaults of the internal
role ``_common``, whose entry point ``main`` documents and validates them (every component role depends on it);
no component role's spec repeats them. docs/roles.md has one table row per option, with the same default, the
shared settings in the section of ``_common``.

``_common`` has one entry point per task file; the options of the entry points other than ``main`` are the explicit
inputs (``_dragonfly_*``) its callers pass, and every include_role of ``_common`` passes the required ones and no
other. No role builds variable names from a role name (a ``vars`` lookup).
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
    return dict(role_defaults(role))


def entry_points(role):
    path = role_path(role, 'meta', 'argument_specs.yml')
    assert os.path.exists(path), '%s is missing' % rel(path)
    data = load_yaml(path) or {}
    return data.get('argument_specs') or {}


def entry_point(role):
    specs = entry_points(role)
    assert 'main' in specs, 'roles/%s/meta/argument_specs.yml has no entry point main (found: %s)' % (role, sorted(specs))
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
def test_shared_settings_are_documented_once(role):
    """The shared settings are options of _common's main only: a component role's spec neither repeats them (in any
    entry point) nor leaves its readers without a pointer to where they are."""
    shared = set(role_defaults(COMMON_ROLE))
    repeated = sorted('%s: %s' % (name, ', '.join(sorted(set(spec.get('options') or {}) & shared)))
                      for name, spec in entry_points(role).items() if set(spec.get('options') or {}) & shared)
    assert not repeated, (
        'roles/%s/meta/argument_specs.yml repeats shared settings of roles/%s (document them there only): %s'
        % (role, COMMON_ROLE, '; '.join(repeated)))
    description = ' '.join(description_paragraphs(entry_point(role)))
    assert 'p2p.dragonfly.%s' % COMMON_ROLE in description, (
        'roles/%s/meta/argument_specs.yml: the description of main does not say that the shared settings are options '
        'of p2p.dragonfly.%s' % (role, COMMON_ROLE))


def test_common_has_one_entry_point_per_task_file():
    tasks = sorted(name[:-4] for name in os.listdir(role_path(COMMON_ROLE, 'tasks')) if name.endswith('.yml'))
    assert sorted(entry_points(COMMON_ROLE)) == tasks, (
        'roles/%s: entry points %s, task files %s' % (COMMON_ROLE, sorted(entry_points(COMMON_ROLE)), tasks))


def common_inputs():
    """{entry point: {option: spec}} of _common's entry points other than main (their explicit inputs)."""
    return dict((name, spec.get('options') or {}) for name, spec in entry_points(COMMON_ROLE).items() if name != 'main')


@pytest.mark.parametrize('entry', sorted(common_inputs()))
def test_common_inputs_are_explicit_and_documented(entry):
    """Each input is a _dragonfly_* variable with a type and a description, required or with the default the task
    applies, and its task file reads it."""
    with open(role_path(COMMON_ROLE, 'tasks', entry + '.yml')) as f:
        tasks = f.read()
    problems = []
    for name, option in sorted(common_inputs()[entry].items()):
        if not name.startswith('_dragonfly_'):
            problems.append('%s: not a _dragonfly_* name' % name)
        if option.get('type') not in VALID_TYPES or not description_paragraphs(option):
            problems.append('%s: no type or no description' % name)
        if not option.get('required') and 'default' not in option:
            problems.append('%s: neither required nor with a default' % name)
        if 'default' in option and not re.search(r'%s \| default\(%s\)' % (name, re.escape(json.dumps(option['default']))), tasks):
            problems.append('%s: the task file does not apply its default %r' % (name, option['default']))
        if name not in tasks:
            problems.append('%s: the task file does not read it' % name)
    assert not problems, 'roles/%s/meta/argument_specs.yml, entry point %s:\n  %s' % (COMMON_ROLE, entry, '\n  '.join(problems))


def common_includes():
    """(file, entry point, variables) of every include_role of _common in the roles and playbooks."""
    found = []
    for top in ('roles', 'playbooks'):
        for root, _dirs, files in os.walk(os.path.join(REPO_ROOT, top)):
            for name in sorted(files):
                if name.endswith('.yml') and os.path.basename(root) == 'tasks' or top == 'playbooks' and name.endswith('.yml'):
                    path = os.path.join(root, name)
                    found.extend((rel(path), entry, variables) for entry, variables in includes_in(load_yaml(path)))
    return found


def includes_in(data):
    """(entry point, variable names) of the include_role tasks of _common in a task list, play or block."""
    if isinstance(data, list):
        for item in data:
            yield from includes_in(item)
    elif isinstance(data, dict):
        include = data.get('ansible.builtin.include_role') or data.get('include_role')
        if isinstance(include, dict) and include.get('name') == 'p2p.dragonfly.%s' % COMMON_ROLE:
            yield include.get('tasks_from', 'main'), set(data.get('vars') or {})
        for key in ('tasks', 'pre_tasks', 'post_tasks', 'handlers', 'block', 'rescue', 'always'):
            yield from includes_in(data.get(key))


def test_callers_pass_the_inputs_of_common():
    """Every include_role of _common passes the required inputs of its entry point and no undocumented _dragonfly_*
    input (the entry point main takes none: it reads the shared settings)."""
    includes = common_includes()
    assert includes, 'no include_role of p2p.dragonfly.%s found' % COMMON_ROLE
    inputs = common_inputs()
    problems = []
    for path, entry, variables in includes:
        options = inputs.get(entry, {})
        required = set(name for name, option in options.items() if option.get('required'))
        passed = set(name for name in variables if name.startswith('_dragonfly_'))
        if entry not in entry_points(COMMON_ROLE):
            problems.append('%s: no entry point %s' % (path, entry))
        if required - passed:
            problems.append('%s (%s): does not pass %s' % (path, entry, ', '.join(sorted(required - passed))))
        if passed - set(options):
            problems.append('%s (%s): passes undocumented %s' % (path, entry, ', '.join(sorted(passed - set(options)))))
    assert not problems, '\n  '.join(['include_role of p2p.dragonfly.%s:' % COMMON_ROLE] + problems)


def test_no_variable_names_built_from_a_role_name():
    """A role reads its own variables by name and hands _common explicit inputs: no vars lookup in the roles."""
    found = []
    for root, _dirs, files in os.walk(ROLES_DIR):
        for name in sorted(files):
            if name.endswith(('.yml', '.j2')):
                with open(os.path.join(root, name)) as f:
                    if re.search(r"(query|lookup|q)\(\s*'(ansible\.builtin\.)?vars'", f.read()):
                        found.append(rel(os.path.join(root, name)))
    assert not found, 'vars lookups in: %s' % ', '.join(found)


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
    unless the shared defaults are already loaded: the role must depend on the _common role in meta/main.yml
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
    """Each option has a row in its role's section; shared settings in the section of the _common role only."""
    options = spec_options(role)
    own = set(options)
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
