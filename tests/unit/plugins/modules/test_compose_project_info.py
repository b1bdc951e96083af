# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""compose_project_info against a scripted docker CLI: the commands it runs, the objects of one `docker inspect`
matched to what was asked by position, one call per name when one of them is missing, and a failing docker call
taken as "not up to date" rather than as a failure."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible.module_utils import basic

from ansible_collections.p2p.dragonfly.plugins.modules import compose_project_info


PROJECT = '/opt/dragonfly/scheduler'
CONFIG = {
    'name': 'dragonfly-scheduler',
    'networks': {'default': {'name': 'dragonfly-scheduler_default'}},
    'services': {'scheduler': {'image': 'dragonflyoss/scheduler:v2.5.1', 'networks': {'default': None}}},
}
CONTAINER = {
    'Id': 'c1', 'Image': 'sha256:img',
    'Config': {'Labels': {'com.docker.compose.project': 'dragonfly-scheduler', 'com.docker.compose.service': 'scheduler',
                          'com.docker.compose.config-hash': 'h1', 'com.docker.compose.image': 'sha256:img',
                          'com.docker.compose.oneoff': 'False'}},
    'State': {'Status': 'running', 'Health': {'Status': 'healthy'}},
    'NetworkSettings': {'Networks': {'dragonfly-scheduler_default': {'NetworkID': 'n1'}}},
}
IMAGE = {'Id': 'sha256:img', 'RepoTags': ['dragonflyoss/scheduler:v2.5.1']}
NETWORK = {'Id': 'n1', 'Name': 'dragonfly-scheduler_default', 'IPAM': {}}


class Docker(object):
    """A scripted docker CLI: each call is recorded; ``objects`` are what `docker inspect` knows, by name."""

    def __init__(self, objects, fail=None):
        self.calls = []
        self.objects = objects
        self.fail = fail or {}

    def __call__(self, args, **kwargs):
        args = args[1:]
        self.calls.append(args)
        key = ' '.join(args[:5])
        for prefix, answer in self.fail.items():
            if key.startswith(prefix):
                return answer
        if args[-3:] == ['config', '--format', 'json']:
            return 0, json.dumps(CONFIG), ''
        if args[-3:] == ['config', '--hash', '*']:
            return 0, 'scheduler h1\n', ''
        if args[0] == 'ps':
            return 0, 'c1\n', ''
        if args[0] == 'inspect':
            names = args[2:]
            if any(name not in self.objects for name in names):
                return 1, json.dumps([self.objects[name] for name in names if name in self.objects]), 'Error: No such object'
            return 0, json.dumps([self.objects[name] for name in names]), ''
        raise AssertionError(f'unexpected docker call {args}')


@pytest.fixture
def docker(monkeypatch):
    def install(objects, fail=None):
        fake = Docker(objects, fail)
        # Not a function: looked up on the module, it is called without the module.
        monkeypatch.setattr(basic.AnsibleModule, 'run_command', fake)
        monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda module, name, *args, **kwargs: '/usr/bin/docker')
        return fake
    return install


def objects(**changes):
    """What `docker inspect` knows by name; a change to None removes the object."""
    found = {'c1': CONTAINER, 'dragonflyoss/scheduler:v2.5.1': IMAGE, 'dragonfly-scheduler_default': NETWORK}
    found.update(changes)
    return dict((name, value) for name, value in found.items() if value is not None)


def test_up_to_date_in_one_inspect(docker, run_module):
    fake = docker(objects())

    result = run_module(compose_project_info.main, dict(project_src=PROJECT, _ansible_check_mode=True))

    assert not result.failed, result.output
    assert result.output['changed'] is False
    assert result.output['up_to_date'] is True and result.output['reasons'] == []
    assert result.output['project'] == 'dragonfly-scheduler'
    assert fake.calls == [
        ['compose', '--project-directory', PROJECT, 'config', '--format', 'json'],
        ['compose', '--project-directory', PROJECT, 'config', '--hash', '*'],
        ['ps', '--all', '--quiet', '--no-trunc', '--filter', 'label=com.docker.compose.project=dragonfly-scheduler'],
        ['inspect', '--', 'c1', 'dragonflyoss/scheduler:v2.5.1', 'dragonfly-scheduler_default'],
    ]


def test_a_missing_image_is_looked_up_alone(docker, run_module):
    fake = docker(objects(**{'dragonflyoss/scheduler:v2.5.1': None}))

    result = run_module(compose_project_info.main, dict(project_src=PROJECT))

    assert result.output['up_to_date'] is False
    assert result.output['reasons'] == ['service scheduler: the image dragonflyoss/scheduler:v2.5.1 is not present']
    assert [call[2:] for call in fake.calls if call[0] == 'inspect'] == [
        ['c1', 'dragonflyoss/scheduler:v2.5.1', 'dragonfly-scheduler_default'],
        ['c1'], ['dragonflyoss/scheduler:v2.5.1'], ['dragonfly-scheduler_default'],
    ]


def test_an_object_of_another_kind_is_not_taken(docker, run_module):
    # A container that happens to carry the network's name answers for it: not a network, so not found.
    docker(objects(**{'dragonfly-scheduler_default': CONTAINER}))

    result = run_module(compose_project_info.main, dict(project_src=PROJECT))

    assert result.output['reasons'] == ['service scheduler: the network dragonfly-scheduler_default was replaced or is missing']


def test_a_failing_docker_call_is_a_reason_not_a_failure(docker, run_module):
    docker(objects(), fail={'compose --project-directory /opt/dragonfly/scheduler config --format': (
        15, '', 'service "scheduler" refers to undefined network\n')})

    result = run_module(compose_project_info.main, dict(project_src=PROJECT))

    assert not result.failed
    assert result.output['up_to_date'] is False and result.output['project'] == ''
    assert result.output['reasons'] == [
        '`docker compose --project-directory /opt/dragonfly/scheduler` failed: service "scheduler" refers to undefined network']
