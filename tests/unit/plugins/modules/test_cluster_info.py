# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils._api import PAGE_SIZE
from ansible_collections.p2p.dragonfly.plugins.modules import cluster_info

from ansible_collections.p2p.dragonfly.tests.unit.plugins.modules.conftest import JWT, MANAGER_URL


ADMIN_PASSWORD = 'S3cret-admin-pw'
SESSION = 'eyJhbGciOiJIUzI1NiJ9.eyJpZCI6MX0.Z2l2ZW4tc2Vzc2lvbg'
SIGNIN = '/api/v1/users/signin'
JOBS = '/api/v1/jobs'
SCHEDULERS = '/api/v1/schedulers'
PEERS = '/api/v1/peers'
CLUSTER = {'id': 1, 'name': 'cluster-1', 'config': {'candidate_parent_limit': 4}, 'is_default': True}


def scheduler(scheduler_id=1, host='scheduler-1', ip='10.0.0.11', state='active', features=('schedule', 'preheat')):
    # As GET /api/v1/schedulers answers in v2.5.0 (manager/models/scheduler.go).
    return dict(
        id=scheduler_id, created_at='2026-01-01T09:00:00Z', updated_at='2026-01-01T10:00:00Z', is_del=0, config=None,
        host_name=host, idc='', location='', ip=ip, port=8002, state=state,
        features=list(features) if features is not None else None, last_keep_alive_at='2026-01-01T10:00:00Z',
        scheduler_cluster_id=1, scheduler_cluster={'id': 0},
    )


def peer(peer_id=4, host='seed-1', ip='10.0.0.21', peer_type='super', state='active'):
    # As GET /api/v1/peers answers in v2.5.0 (manager/models/peer.go; the cluster is preloaded).
    return dict(
        id=peer_id, created_at='2026-01-01T09:00:00Z', updated_at='2026-01-01T10:00:00Z', is_del=0,
        host_name=host, type=peer_type, idc='', location='', ip=ip, port=4000, download_port=4001, proxy_port=4001,
        object_storage_port=0, state=state, os='linux', platform='debian', platform_family='debian',
        platform_version='12', kernel_version='6.1.0', git_version='v1.0.0', git_commit='abc', build_platform='x86_64-unknown-linux-gnu',
        scheduler_cluster_id=1, scheduler_cluster=CLUSTER,
    )


def args(**extra):
    result = dict(manager_url=MANAGER_URL, jwt=SESSION)
    result.update(extra)
    return result


def expect_reads(manager, schedulers=None, peers=None):
    manager.expect('GET', SCHEDULERS, body=[scheduler()] if schedulers is None else schedulers)
    manager.expect('GET', PEERS, body=[peer()] if peers is None else peers)
    return manager


def test_syncs_then_reads_with_the_jwt(manager, run_module):
    manager.expect('POST', JOBS, body='OK')
    expect_reads(manager)

    result = run_module(cluster_info.main, args())

    assert not result.failed, result.output
    assert manager.requests() == [('POST', JOBS), ('GET', SCHEDULERS), ('GET', PEERS)]
    sync, schedulers, peers = manager.calls
    assert sync['body'] == {'type': 'sync_peers', 'scheduler_cluster_ids': [1]}
    assert schedulers['query'] == {'scheduler_cluster_id': '1', 'page': '1', 'per_page': str(PAGE_SIZE)}
    assert peers['query'] == {'scheduler_cluster_id': '1', 'page': '1', 'per_page': str(PAGE_SIZE)}
    assert all(call['headers']['Authorization'] == 'Bearer ' + SESSION for call in manager.calls)
    out = result.output
    assert out['changed'] is False
    assert out['scheduler_cluster_id'] == 1
    assert out['peers_synced'] is True
    assert out['schedulers'] == [scheduler()]
    assert out['peers'] == [peer()]
    assert out['active_preheat_schedulers'] == [dict(id=1, host_name='scheduler-1', ip='10.0.0.11', port=8002)]
    assert out['super_peers'] == [peer()]
    assert out['invocation']['module_args']['jwt'] != SESSION
    assert result.leaks(SESSION) == []
    manager.assert_done()


def test_without_sync(manager, run_module):
    expect_reads(manager)

    result = run_module(cluster_info.main, args(sync_peers=False, scheduler_cluster_id=3))

    assert manager.requests() == [('GET', SCHEDULERS), ('GET', PEERS)]
    assert {call['query']['scheduler_cluster_id'] for call in manager.calls} == {'3'}
    assert result.output['peers_synced'] is False
    assert result.output['changed'] is False
    manager.assert_done()


def test_signs_in_once_with_the_password(manager, run_module):
    manager.signin().expect('POST', JOBS, body='OK')
    expect_reads(manager)

    result = run_module(cluster_info.main, dict(manager_url=MANAGER_URL, admin_password=ADMIN_PASSWORD))

    assert not result.failed, result.output
    assert manager.requests() == [('POST', SIGNIN), ('POST', JOBS), ('GET', SCHEDULERS), ('GET', PEERS)]
    assert manager.calls[0]['body'] == {'name': 'root', 'password': ADMIN_PASSWORD}
    assert all(call['headers']['Authorization'] == 'Bearer ' + JWT for call in manager.calls[1:])
    assert result.leaks(ADMIN_PASSWORD, JWT) == []


def test_check_mode_reads_and_syncs_the_same(manager, run_module):
    manager.expect('POST', JOBS, body='OK')
    expect_reads(manager)

    result = run_module(cluster_info.main, args(_ansible_check_mode=True))

    assert manager.requests() == [('POST', JOBS), ('GET', SCHEDULERS), ('GET', PEERS)]
    assert result.output['changed'] is False and result.output['peers_synced'] is True


def test_digests_filter_state_features_and_type(manager, run_module):
    schedulers = [
        scheduler(1, 'sched-a', '10.0.0.1'),
        scheduler(2, 'sched-b', '10.0.0.2', state='inactive'),
        scheduler(3, 'sched-c', '10.0.0.3', features=['schedule']),
        scheduler(4, 'sched-d', '10.0.0.4', features=None),
        scheduler(5, 'sched-e', '10.0.0.5', features=['preheat']),
    ]
    peers = [
        peer(1, 'seed-a', '10.0.1.1'),
        peer(2, 'seed-b', '10.0.1.2', state='inactive'),
        peer(3, 'client-a', '10.0.1.3', peer_type='normal'),
        peer(4, 'seed-c', '10.0.1.4'),
    ]
    expect_reads(manager, schedulers, peers)

    out = run_module(cluster_info.main, args(sync_peers=False)).output

    assert [(row['host_name'], row['ip']) for row in out['active_preheat_schedulers']] == [('sched-a', '10.0.0.1'), ('sched-e', '10.0.0.5')]
    assert [row['host_name'] for row in out['super_peers']] == ['seed-a', 'seed-c']
    assert len(out['schedulers']) == 5 and len(out['peers']) == 4


def test_reads_every_page(manager, run_module):
    first_schedulers = [scheduler(index, f'sched-{index}', f'10.0.0.{index % 250}') for index in range(PAGE_SIZE)]
    first_peers = [peer(index, f'peer-{index}', f'10.0.1.{index % 250}', peer_type='normal') for index in range(PAGE_SIZE)]
    manager.expect('GET', SCHEDULERS, body=first_schedulers).expect('GET', SCHEDULERS, body=[scheduler(500, 'last')])
    manager.expect('GET', PEERS, body=first_peers).expect('GET', PEERS, body=[])

    out = run_module(cluster_info.main, args(sync_peers=False)).output

    assert [(call['path'], call['query']['page']) for call in manager.calls] == [
        (SCHEDULERS, '1'), (SCHEDULERS, '2'), (PEERS, '1'), (PEERS, '2')]
    assert len(out['schedulers']) == PAGE_SIZE + 1
    assert len(out['peers']) == PAGE_SIZE
    assert out['super_peers'] == []
    manager.assert_done()


def test_no_active_scheduler_warns_and_still_reads(manager, run_module):
    # manager/service/job.go findSchedulerInClusters: no active scheduler -> gorm record not found -> 404.
    manager.expect('POST', JOBS, status=404, body={'message': 'scheduler cluster id 1: record not found'})
    expect_reads(manager, schedulers=[scheduler(state='inactive')], peers=[])

    result = run_module(cluster_info.main, args())

    assert not result.failed, result.output
    out = result.output
    assert out['peers_synced'] is False
    assert out['active_preheat_schedulers'] == [] and out['super_peers'] == []
    assert any('were not synchronised' in warning and 'has no active scheduler' in warning for warning in out['warnings'])
    manager.assert_done()


def test_sync_already_running_warns(manager, run_module):
    manager.expect('POST', JOBS, status=500, body={'message': 'sync peers job is running'})
    expect_reads(manager)

    result = run_module(cluster_info.main, args())

    assert not result.failed, result.output
    assert result.output['peers_synced'] is False
    assert any('another synchronisation is running' in warning for warning in result.output['warnings'])


def test_sync_timeout_fails_with_advice(manager, run_module):
    manager.expect('POST', JOBS, status=-1, body='Connection failure: The read operation timed out')

    result = run_module(cluster_info.main, args(timeout=5))

    assert result.failed
    msg = result.output['msg']
    assert msg.startswith(f'manager unreachable at {MANAGER_URL}: no answer to POST /api/v1/jobs within 5s')
    assert 'job.syncPeers.timeout' in msg and 'Set sync_peers=false' in msg
    assert len(manager.calls) == 1


def test_unknown_cluster_is_rate_limited(manager, run_module):
    for dummy in range(4):
        manager.expect('POST', JOBS, status=429, body='rate limit exceeded')

    result = run_module(cluster_info.main, args(scheduler_cluster_id=42))

    assert result.failed
    assert result.output['http_status'] == 429
    assert 'check scheduler cluster 42' in result.output['msg']
    assert manager.sleeps == [2, 4, 8]


def test_other_sync_errors_fail(manager, run_module):
    manager.expect('POST', JOBS, status=500, body={'message': 'dial tcp 10.0.0.9:6379: connect: connection refused'})

    result = run_module(cluster_info.main, args())

    assert result.failed
    assert 'HTTP 500 (dial tcp' in result.output['msg']
    assert result.leaks(SESSION) == []


def test_refused_jwt_without_password(manager, run_module):
    manager.expect('POST', JOBS, status=401, body={'message': 'Unauthorized'})

    result = run_module(cluster_info.main, args())

    assert result.failed
    assert 'the manager refused the given JWT' in result.output['msg']
    assert len(manager.calls) == 1
    assert result.leaks(SESSION) == []


def test_refused_jwt_signs_in_with_the_password(manager, run_module):
    manager.expect('GET', SCHEDULERS, status=401, body={'message': 'Unauthorized'}).signin()
    expect_reads(manager)

    result = run_module(cluster_info.main, args(admin_password=ADMIN_PASSWORD, sync_peers=False))

    assert not result.failed, result.output
    assert manager.requests() == [('GET', SCHEDULERS), ('POST', SIGNIN), ('GET', SCHEDULERS), ('GET', PEERS)]
    assert manager.calls[-1]['headers']['Authorization'] == 'Bearer ' + JWT
    assert result.leaks(SESSION, ADMIN_PASSWORD, JWT) == []
    manager.assert_done()


def test_secrets_echoed_in_errors_are_hidden(manager, run_module):
    manager.expect('POST', JOBS, body='OK').expect('GET', SCHEDULERS, status=500, body={'message': f'oops {SESSION} {MANAGER_URL}'})

    result = run_module(cluster_info.main, args(token='MWY0YzU3ZDUtNjdjNi00YzBhLWJmNjgtZjQyNTZkZDk5ZmM0'))

    assert result.failed
    assert result.leaks(SESSION, 'MWY0YzU3ZDUtNjdjNi00YzBhLWJmNjgtZjQyNTZkZDk5ZmM0') == []


@pytest.mark.parametrize('extra, message', [
    (dict(jwt=None), 'one of the following is required: admin_password, jwt'),
    (dict(jwt=''), "no way to sign in as 'root': set admin_password, or jwt"),
    (dict(scheduler_cluster_id=0), 'scheduler_cluster_id must be a scheduler cluster ID (1 or more), got 0'),
    (dict(manager_url='http://manager.test:8080/api'), 'manager_url must be http(s)://host[:port] without a path'),
    (dict(jwt=None, admin_password='short'), "the password of user 'root' must be 8-20 characters long"),
])
def test_invalid_arguments_fail_before_any_request(manager, run_module, extra, message):
    params = args(**extra)
    result = run_module(cluster_info.main, {key: value for key, value in params.items() if value is not None})

    assert result.failed
    assert message in result.output['msg']
    assert manager.calls == []


def test_manager_url_from_environment(manager, run_module, monkeypatch):
    monkeypatch.setenv('DRAGONFLY_MANAGER_URL', 'http://env-manager.test:8080')
    expect_reads(manager)

    result = run_module(cluster_info.main, dict(jwt=SESSION, sync_peers=False))

    assert not result.failed, result.output
    assert all(call['url'].startswith('http://env-manager.test:8080/api/v1/') for call in manager.calls)
