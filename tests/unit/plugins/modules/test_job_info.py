# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.p2p.dragonfly.plugins.modules import job_info

from ansible_collections.p2p.dragonfly.tests.unit.plugins.modules.conftest import MANAGER_URL


TOKEN = 'dG9rZW4tZm9yLWpvYi1pbmZvLXRlc3Rz'
REGISTRY_PASSWORD = 'registry-password-1'
BLOB = 'https://registry.example.com/v2/team/app/blobs/sha256:' + 'a' * 64


def preheat_row(job_id=12):
    return dict(
        id=job_id, type='preheat', state='SUCCESS', task_id='group_1', bio='b', created_at='2026-07-01T10:00:00Z',
        updated_at='2026-07-01T10:00:30Z', scheduler_clusters=[dict(id=1, name='cluster-1')],
        args=dict(type='image', url='https://registry.example.com/v2/team/app/manifests/1.0', username='puller',
                  password=REGISTRY_PASSWORD, headers={'Authorization': 'Basic c2VjcmV0'}),
        result=dict(state='SUCCESS', job_states=[dict(state='SUCCESS', error='', results=[dict(
            scheduler_cluster_id=1,
            success_tasks=[dict(url=BLOB, hostname='seed-1', ip='10.0.0.5')],
            failure_tasks=[dict(url=BLOB, hostname='seed-2', ip='10.0.0.6', description='connection refused')],
        )])]),
    )


def get_task_row(job_id=13):
    return dict(
        id=job_id, type='get_task', state='SUCCESS', task_id='group_2', args=dict(task_id='b' * 64),
        scheduler_clusters=[dict(id=1)],
        result=dict(state='SUCCESS', job_states=[dict(state='SUCCESS', error='', results=[dict(
            scheduler_cluster_id=1,
            peers=[dict(id='10.0.0.5-seed-1', hostname='seed-1', ip='10.0.0.5', host_type='super', IsFinished=True)],
        )])]),
    )


def test_reads_jobs_and_summarizes(manager, run_module):
    manager.expect('GET', '/oapi/v1/jobs/12', body=preheat_row()).expect('GET', '/oapi/v1/jobs/13', body=get_task_row())

    result = run_module(job_info.main, dict(manager_url=MANAGER_URL, token=TOKEN, id=[12, 13], _ansible_check_mode=True))

    assert not result.failed, result.output
    assert manager.methods() == {'GET'}
    assert all(call['headers']['Authorization'] == 'Bearer ' + TOKEN for call in manager.calls)
    preheat, get_task = result.output['jobs']
    assert result.output['changed'] is False
    assert preheat['state'] == 'SUCCESS' and preheat['scheduler_cluster_ids'] == [1]
    assert preheat['args']['password'] == '********' and preheat['args']['headers'] == {'Authorization': '********'}
    assert preheat['args']['username'] == 'puller'
    assert preheat['summary']['per_host'] == {'seed-1 (10.0.0.5)': [BLOB]}
    assert preheat['summary']['failure_tasks'][0]['description'] == 'connection refused'
    assert get_task['summary']['peers'] == [dict(id='10.0.0.5-seed-1', hostname='seed-1', ip='10.0.0.5', host_type='super',
                                                 is_finished=True, scheduler_cluster_id=1)]
    assert result.leaks(TOKEN, REGISTRY_PASSWORD, 'Basic c2VjcmV0') == []
    manager.assert_done()


def test_single_id_alias(manager, run_module):
    manager.expect('GET', '/oapi/v1/jobs/12', body=preheat_row())

    result = run_module(job_info.main, dict(manager_url=MANAGER_URL, token=TOKEN, ids=12))

    assert not result.failed, result.output
    assert [job['id'] for job in result.output['jobs']] == [12]


def test_unknown_job(manager, run_module):
    manager.expect('GET', '/oapi/v1/jobs/99', status=404, body={'message': 'record not found'})

    result = run_module(job_info.main, dict(manager_url=MANAGER_URL, token=TOKEN, id=99))

    assert result.failed
    assert 'job 99 does not exist' in result.output['msg'] and result.output['http_status'] == 404


def test_missing_token(manager, run_module):
    result = run_module(job_info.main, dict(manager_url=MANAGER_URL, id=1))

    assert result.failed and 'DRAGONFLY_TOKEN' in result.output['msg']
    assert manager.calls == []


def test_bad_id(manager, run_module):
    result = run_module(job_info.main, dict(manager_url=MANAGER_URL, token=TOKEN, id=[0]))

    assert result.failed and 'job IDs' in result.output['msg']
