# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The judgement whether `docker compose up --wait` would find nothing to do (plugins/module_utils/_compose_state.py):
up to date only when every container is there as compose would create it, running and healthy; every other case
(each thing compose would change, and each case the judgement does not follow) has a reason."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils._compose_state import assess, expected_services, parse_hashes


CONFIG = {
    'name': 'dragonfly-scheduler',
    'networks': {
        'default': {'name': 'dragonfly-scheduler_default'},
        'manager': {'name': 'dragonfly-manager_default', 'external': True},
    },
    'services': {
        'scheduler': {'image': 'docker.io/dragonflyoss/scheduler:v2.5.1', 'networks': {'default': None, 'manager': None}},
        'redis': {'image': 'redis:7.0', 'networks': {'default': None}},
    },
}
HASHES = 'redis 1111\nscheduler 2222\n'
IMAGES = {'docker.io/dragonflyoss/scheduler:v2.5.1': 'sha256:aaaa', 'redis:7.0': 'sha256:bbbb'}
NETWORKS = {'dragonfly-scheduler_default': 'net-1', 'dragonfly-manager_default': 'net-2'}


def container(service, config_hash, image, networks, status='running', health='healthy', oneoff='False'):
    return {
        'Image': image,
        'Config': {'Labels': {
            'com.docker.compose.project': 'dragonfly-scheduler',
            'com.docker.compose.service': service,
            'com.docker.compose.config-hash': config_hash,
            'com.docker.compose.image': image,
            'com.docker.compose.oneoff': oneoff,
        }},
        'State': dict({'Status': status}, **({'Health': {'Status': health}} if health else {})),
        'NetworkSettings': {'Networks': dict((name, {'NetworkID': NETWORKS[name]}) for name in networks)},
    }


def containers():
    return [
        container('scheduler', '2222', 'sha256:aaaa', ['dragonfly-scheduler_default', 'dragonfly-manager_default']),
        # No health check: running is enough, as for `up --wait`.
        container('redis', '1111', 'sha256:bbbb', ['dragonfly-scheduler_default'], health=None),
    ]


def services():
    found, reasons = expected_services(CONFIG, parse_hashes(HASHES))
    assert reasons == []
    return found


def test_parse_hashes():
    assert parse_hashes('manager abc\nproxy def\n\n') == {'manager': 'abc', 'proxy': 'def'}


def test_expected_services():
    assert services() == {
        'redis': {'hash': '1111', 'image': 'redis:7.0', 'networks': ['dragonfly-scheduler_default']},
        'scheduler': {'hash': '2222', 'image': 'docker.io/dragonflyoss/scheduler:v2.5.1',
                      'networks': ['dragonfly-manager_default', 'dragonfly-scheduler_default']},
    }


def test_up_to_date():
    assert assess(services(), containers(), IMAGES, NETWORKS) == []


def change(index, path, value):
    found = containers()
    target = found[index]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return found


@pytest.mark.parametrize('found, reason', [
    (change(0, ['Config', 'Labels', 'com.docker.compose.config-hash'], '9999'),
     'service scheduler: the container was created from another configuration'),
    (change(0, ['Image'], 'sha256:old'), 'service scheduler: the container runs another image than '
                                         'docker.io/dragonflyoss/scheduler:v2.5.1 is now'),
    (change(0, ['Config', 'Labels', 'com.docker.compose.image'], 'sha256:old'),
     'service scheduler: the container runs another image than docker.io/dragonflyoss/scheduler:v2.5.1 is now'),
    (change(0, ['State', 'Status'], 'exited'), 'service scheduler: the container is exited'),
    (change(0, ['State', 'Health', 'Status'], 'starting'), 'service scheduler: the container is starting'),
    (change(0, ['State', 'Health', 'Status'], 'unhealthy'), 'service scheduler: the container is unhealthy'),
    (change(1, ['State', 'Status'], 'restarting'), 'service redis: the container is restarting'),
    (change(0, ['NetworkSettings', 'Networks'], {'dragonfly-scheduler_default': {'NetworkID': 'net-1'}}),
     'service scheduler: the container is attached to other networks than the project says'),
    (change(0, ['NetworkSettings', 'Networks', 'dragonfly-manager_default'], {'NetworkID': 'net-old'}),
     'service scheduler: the network dragonfly-manager_default was replaced or is missing'),
    (containers()[:1], 'service redis: no container'),
    (containers() + containers()[1:], 'service redis: 2 containers'),
    (containers() + [container('old', '0', 'sha256:bbbb', [])], 'service old: an orphan container exists'),
    (containers() + [container('redis', '1111', 'sha256:bbbb', [], oneoff='True')],
     'service redis: a one-off container exists'),
])
def test_what_compose_would_change(found, reason):
    assert assess(services(), found, IMAGES, NETWORKS) == [reason]


def test_a_missing_image_or_network():
    images = dict(IMAGES)
    del images['redis:7.0']
    assert assess(services(), containers(), images, NETWORKS) == ['service redis: the image redis:7.0 is not present']
    networks = dict(NETWORKS)
    del networks['dragonfly-manager_default']
    assert assess(services(), containers(), IMAGES, networks) == [
        'service scheduler: the network dragonfly-manager_default was replaced or is missing']


def test_no_container_at_all():
    assert assess(services(), [], IMAGES, NETWORKS) == ['service redis: no container', 'service scheduler: no container']


@pytest.mark.parametrize('edit, hashes, reason', [
    (lambda config: config['services']['redis'].pop('image'), HASHES, 'service redis: no image (built by compose)'),
    (lambda config: config['services']['redis'].update(deploy={'replicas': 2}), HASHES,
     'service redis: more than one container wanted'),
    (lambda config: config['services']['redis'].update(scale=3), HASHES, 'service redis: more than one container wanted'),
    (lambda config: None, 'scheduler 2222\n', 'service redis: compose gave no config hash'),
    (lambda config: None, HASHES + 'ghost 3333\n', 'service ghost: compose gave a config hash for a service it does not list'),
])
def test_what_the_judgement_does_not_follow(edit, hashes, reason):
    config = copy.deepcopy(CONFIG)
    edit(config)
    found, reasons = expected_services(config, parse_hashes(hashes))
    assert reasons == [reason]


def test_network_mode_is_not_checked():
    config = copy.deepcopy(CONFIG)
    config['services']['redis'] = {'image': 'redis:7.0', 'network_mode': 'host'}
    found, reasons = expected_services(config, parse_hashes(HASHES))
    assert reasons == [] and found['redis']['networks'] is None
    host = containers()
    host[1]['NetworkSettings']['Networks'] = {'host': {'NetworkID': 'host-net'}}
    assert assess(found, host, IMAGES, NETWORKS) == []
