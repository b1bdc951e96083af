# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`ansible-doc` renders every module of plugins/modules without an error or a warning, and docs/modules.md
lists each of them with its `ansible-doc` command.

One ansible-doc call for all modules (about half a second): it finds this checkout as p2p.dragonfly through a
collections path built here, ahead of whatever ANSIBLE_COLLECTIONS_PATH says, so a link to another checkout
cannot stand in for this one.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess
import sys
import tempfile

import pytest


REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
MODULES_DIR = os.path.join(REPO_ROOT, 'plugins', 'modules')
MODULES_DOC = os.path.join(REPO_ROOT, 'docs', 'modules.md')
COLLECTION = 'p2p.dragonfly'

MODULES = sorted(name[:-3] for name in os.listdir(MODULES_DIR) if name.endswith('.py') and not name.startswith('_'))


def ansible_doc():
    # The ansible-doc of the Python running the tests (the project's venv), else the one on PATH.
    candidate = os.path.join(os.path.dirname(sys.executable), 'ansible-doc')
    return candidate if os.access(candidate, os.X_OK) else shutil.which('ansible-doc')


@pytest.fixture(scope='module')
def collections_path():
    parts = REPO_ROOT.split(os.sep)
    if parts[-3:-2] == ['ansible_collections'] and parts[-2:] == COLLECTION.split('.'):
        # Already in place (scripts/test.sh units tests a copy under ansible_collections/p2p/dragonfly).
        yield os.sep.join(parts[:-3]) or os.sep
        return
    tmp = tempfile.mkdtemp(prefix='p2p-dragonfly-doc-')
    try:
        namespace = os.path.join(tmp, 'ansible_collections', 'p2p')
        os.makedirs(namespace)
        os.symlink(REPO_ROOT, os.path.join(namespace, 'dragonfly'))
        yield tmp
    finally:
        shutil.rmtree(tmp)


def test_every_module_renders_without_warnings(collections_path):
    executable = ansible_doc()
    if executable is None:
        pytest.skip('ansible-doc not found')
    inherited = [path for path in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep) if path and os.path.isdir(path)]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([collections_path] + inherited), ANSIBLE_NOCOLOR='1',
               ANSIBLE_DEPRECATION_WARNINGS='1', ANSIBLE_COLLECTIONS_ON_ANSIBLE_VERSION_MISMATCH='warning')
    env.pop('ANSIBLE_CONFIG', None)
    names = [f'{COLLECTION}.{module}' for module in MODULES]
    result = subprocess.run([executable, '--type', 'module'] + names, env=env, cwd=collections_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120, check=False)
    assert result.returncode == 0 and not result.stderr.strip(), (
        f'ansible-doc {" ".join(names)} exited {result.returncode}:\n{result.stderr}')
    for name in names:
        # ansible-doc's text output starts each plugin with "> MODULE <name>".
        assert f'> MODULE {name}' in result.stdout, f'{name} missing from the ansible-doc output'


def test_modules_md_lists_every_module():
    with open(MODULES_DOC) as f:
        text = f.read()
    for module in MODULES:
        assert f'`ansible-doc {COLLECTION}.{module}`' in text, f'docs/modules.md does not list {module}'
