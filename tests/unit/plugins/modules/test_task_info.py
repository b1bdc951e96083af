# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils._task_id import task_id
from ansible_collections.p2p.dragonfly.plugins.modules import task_info

from ansible_collections.p2p.dragonfly.tests.unit.plugins.modules.conftest import MANAGER_URL


TOKEN = 'dG9rZW4tZm9yLXRhc2staW5mby10ZXN0cw'
URL = 'http://files.test/data/one.bin?Expires=1&b=2'


def row(state, peers=None):
    job_states = [dict(state=state, error='', results=None if peers is None else [dict(scheduler_cluster_id=1, peers=peers)])]
    return dict(id=40, type='get_task', state=state, task_id='group_x', args={}, result=dict(state=state, job_states=job_states))


PEERS = [
    dict(id='10.0.0.5-seed-1', hostname='seed-1', ip='10.0.0.5', host_type='super', IsFinished=True),
    dict(id='10.0.0.9-peer-1', hostname='peer-1', ip='10.0.0.9', host_type='normal', IsFinished=True),
    dict(id='10.0.0.6-seed-2', hostname='seed-2', ip='10.0.0.6', host_type='super', IsFinished=False),
]


def test_by_url(manager, clock, run_module):
    manager.expect('POST', '/oapi/v1/jobs', body=row('PENDING', None))
    manager.expect('GET', '/oapi/v1/jobs/40', body=row('SUCCESS', PEERS))

    result = run_module(task_info.main, dict(manager_url=MANAGER_URL, token=TOKEN, url=URL, tag='t',
                                             _ansible_check_mode=True))

    assert not result.failed, result.output
    post = manager.calls[0]
    expected_id = task_id(URL, tag='t')
    assert post['body'] == dict(type='get_task', bio='Created by Ansible (p2p.dragonfly.task_info)',
                                scheduler_cluster_ids=[1], args=dict(task_id=expected_id))
    out = result.output
    assert out['changed'] is False and out['task_id'] == expected_id and out['url'] == URL
    assert out['job'] == dict(id=40, state='SUCCESS')
    assert out['finished_peers'] == ['seed-1 (10.0.0.5)', 'peer-1 (10.0.0.9)']
    assert out['finished_seed_peers'] == ['seed-1 (10.0.0.5)']
    assert out['peers'][2] == dict(id='10.0.0.6-seed-2', hostname='seed-2', ip='10.0.0.6', host_type='super',
                                   is_finished=False, scheduler_cluster_id=1)
    # Read once, just after the manager's 30 s refresh.
    assert clock.now - 500.0 == 32
    manager.assert_done()


def test_by_task_id_waits_for_the_90_s_refresh(manager, clock, run_module):
    manager.expect('POST', '/oapi/v1/jobs', body=row('PENDING', None))
    manager.expect('GET', '/oapi/v1/jobs/40', body=row('PENDING', None))
    manager.expect('GET', '/oapi/v1/jobs/40', body=row('SUCCESS', []))

    result = run_module(task_info.main, dict(manager_url=MANAGER_URL, token=TOKEN, task_id='c' * 64,
                                             scheduler_cluster_ids=[1, 2]))

    assert not result.failed, result.output
    assert manager.calls[0]['body']['scheduler_cluster_ids'] == [1, 2]
    assert result.output['peers'] == [] and result.output['finished_peers'] == []
    assert clock.now - 500.0 == 92


def test_timeout(manager, clock, run_module):
    manager.expect('POST', '/oapi/v1/jobs', body=row('PENDING', None))
    manager.expect('GET', '/oapi/v1/jobs/40', body=row('PENDING', None))

    result = run_module(task_info.main, dict(manager_url=MANAGER_URL, token=TOKEN, task_id='c' * 64, wait_timeout=60))

    assert result.failed
    assert 'get_task job 40 is still PENDING after wait_timeout=60 s' in result.output['msg']
    assert result.output['job'] == dict(id=40, state='PENDING')


@pytest.mark.parametrize('args, expected', [
    (dict(task_id='xyz'), 'task_id must be 64 lower-case hex characters'),
    (dict(task_id='c' * 64, tag='t'), 'tag only applies with option url'),
    (dict(url='ftp://x/y'), 'must be an http:// or https:// URL'),
    (dict(url=URL, task_id='c' * 64), 'mutually exclusive'),
    (dict(), 'one of the following is required: url, task_id'),
])
def test_bad_input(manager, clock, run_module, args, expected):
    args.update(manager_url=MANAGER_URL, token=TOKEN)

    result = run_module(task_info.main, args)

    assert result.failed and expected in result.output['msg'], result.output['msg']
    assert manager.calls == []


def test_scheduler_missing(manager, clock, run_module):
    manager.expect('POST', '/oapi/v1/jobs', status=500, body={'message': 'active schedulers not found'})

    result = run_module(task_info.main, dict(manager_url=MANAGER_URL, token=TOKEN, task_id='c' * 64))

    assert result.failed and 'active schedulers not found' in result.output['msg']
    assert result.leaks(TOKEN) == []
