# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The preheat_status module against a scripted manager: several jobs followed at once, one finished, one failed, one
still running at the end of the round; and its action plugin's rounds, progress lines and verdict."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime


from ansible_collections.p2p.dragonfly.plugins.action import preheat_status as action
from ansible_collections.p2p.dragonfly.plugins.modules import preheat_status

from ansible_collections.p2p.dragonfly.tests.unit.plugins.modules.conftest import MANAGER_URL


TOKEN = 'dG9rZW4tZm9yLXN0YXR1cy10ZXN0cw'


def tasks(name):
    return [dict(url='http://files.test/%s.bin' % name, task_id=('%s' % name * 64)[:64])]


def job(job_id, state, success_urls=(), errors=()):
    success = [dict(url=url, hostname='seed-1', ip='10.0.0.5') for url in success_urls]
    results = [dict(scheduler_cluster_id=1, success_tasks=success, failure_tasks=[])]
    job_states = [dict(state=state, error=error, results=results) for error in (errors or [''])]
    return dict(id=job_id, type='preheat', state=state, result=dict(state=state, job_states=job_states))


def created_ago(row, seconds):
    """The row with a created_at ``seconds`` ago, as the manager writes it (the module takes the job's age from it)."""
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds)
    return dict(row, created_at=moment.strftime('%Y-%m-%dT%H:%M:%S.%fZ'))


def get_task(job_id, state='PENDING'):
    return dict(id=job_id, type='get_task', state=state, result=dict(job_states=[dict(state=state, results=None)]))


def args(**extra):
    return dict(dict(manager_url=MANAGER_URL, token=TOKEN, round_seconds=40), **extra)


def test_follows_every_job_and_tells_finished_failed_and_running_apart(manager, clock, run_module):
    a, b, c = tasks('a'), tasks('b'), tasks('c')
    manager.expect('GET', '/oapi/v1/jobs/1', body=job(1, 'SUCCESS', success_urls=[a[0]['url']]))
    manager.expect('GET', '/oapi/v1/jobs/2', body=job(2, 'FAILURE', errors=['manifest unknown']))
    manager.expect('GET', '/oapi/v1/jobs/3', body=created_ago(job(3, 'PENDING'), 10))
    # Job 3 (10 s old) is still missing its task: a get_task round at once, its row at the job's 30 s refresh (20 s
    # later), the round's row at its own (32 s later); the round of 40 s ends before the next.
    manager.expect('POST', '/oapi/v1/jobs', body=get_task(10))
    manager.expect('GET', '/oapi/v1/jobs/3', body=job(3, 'PENDING'))
    manager.expect('GET', '/oapi/v1/jobs/10', body=get_task(10))
    result = run_module(preheat_status.main, args(preheats=[
        dict(name='a', job_id=1, expected_tasks=a),
        dict(job=dict(id=2), expected_tasks=b, item='registry.test/team/b:1'),
        dict(job_id=3, expected_tasks=c)]))
    assert not result.failed, result.output
    out = result.output
    assert out['changed'] is False and out['done'] is False and out['failed_preheats'] == ['registry.test/team/b:1']
    rows = out['preheats']
    assert [(row['name'], row['job_id'], row['status']) for row in rows] == [
        ('a', 1, 'finished'), ('registry.test/team/b:1', 2, 'failed'), ('job 3', 3, 'running')]
    assert rows[0]['progress'] == dict(expected=1, finished=1) and rows[0]['missing'] == []
    assert 'preheat job 2 failed' in rows[1]['msg'] and 'manifest unknown' in rows[1]['msg']
    assert rows[2]['progress'] == dict(expected=1, finished=0) and rows[2]['missing'][0]['task_id'] == c[0]['task_id']
    assert clock.now - 500.0 >= 40
    manager.assert_done()


def test_bad_entry_is_refused_naming_it(manager, clock, run_module):
    result = run_module(preheat_status.main, args(preheats=[dict(name='a', expected_tasks=tasks('a'))]))
    assert result.failed and 'preheats[0] needs job_id (or job.id) and expected_tasks' in result.output['msg']
    assert manager.calls == []


class FakeTask(object):
    def __init__(self, task_args):
        self.args = task_args
        self.check_mode = False
        self.async_val = 0


def plugin(answers, task_args, monkeypatch):
    """The action plugin with _execute_module replaced by ``answers`` (one per round); returns (plugin, calls, lines)."""
    calls, lines = [], []
    module = action.ActionModule.__new__(action.ActionModule)
    module._task = FakeTask(task_args)
    monkeypatch.setattr(action.ActionBase, 'run', lambda self, tmp=None, task_vars=None: dict())
    answers = list(answers)

    def execute_module(module_name, module_args, task_vars):
        calls.append((module_name, module_args))
        return answers.pop(0)
    module._execute_module = execute_module
    monkeypatch.setattr(action.display, 'display', lines.append)
    return module, calls, lines


def row(name, status, finished, job_id=1, msg=None):
    entry = dict(name=name, job_id=job_id, status=status, progress=dict(expected=2, finished=finished), elapsed=31.0)
    if msg:
        entry['msg'] = msg
    return entry


def test_action_runs_rounds_prints_progress_and_names_the_failed(monkeypatch):
    entries = [dict(name='a', job_id=1, expected_tasks=[]), dict(name='b', job_id=2, expected_tasks=[])]
    module, calls, lines = plugin([
        dict(done=False, preheats=[row('a', 'running', 1), row('b', 'failed', 0, job_id=2, msg='preheat job 2 failed')]),
        dict(done=True, preheats=[row('a', 'finished', 2)]),
    ], dict(preheats=entries, wait_timeout=600, round_seconds=60), monkeypatch)
    result = module.run(task_vars=dict(inventory_hostname='seed-1'))
    # The second round follows only what was still running.
    assert [[entry['name'] for entry in args['preheats']] for name, args in calls] == [['a', 'b'], ['a']]
    assert all(name == 'p2p.dragonfly.preheat_status' and args['round_seconds'] == 60 for name, args in calls)
    assert lines[0] == ('[seed-1] preheat a (job 1): running, 1/2 tasks where the scope needs them, 31 s since the job '
                        'started')
    assert len(lines) == 3 and '(job 2): failed' in lines[1] and '(job 1): finished, 2/2' in lines[2]
    assert result['failed'] is True and result['failed_preheats'] == ['b']
    assert result['msg'] == '1 of 2 preheats did not finish:\nb (job 2): preheat job 2 failed'
    assert [entry['status'] for entry in result['preheats']] == ['finished', 'failed']


def test_action_succeeds_when_every_preheat_finished(monkeypatch):
    module, calls, lines = plugin([dict(done=True, preheats=[row('a', 'finished', 2)])],
                                  dict(preheats=[dict(name='a', job_id=1, expected_tasks=[])]), monkeypatch)
    result = module.run(task_vars={})
    assert not result.get('failed') and result['done'] is True and len(calls) == 1 and len(lines) == 1


def test_action_passes_a_module_failure_on(monkeypatch):
    module, calls, lines = plugin([dict(failed=True, msg='manager unreachable')],
                                  dict(preheats=[dict(name='a', job_id=1, expected_tasks=[])]), monkeypatch)
    result = module.run(task_vars={})
    assert result['failed'] is True and result['msg'] == 'manager unreachable' and lines == []


def test_an_image_job_is_followed_with_image_rounds_built_from_its_row(manager, clock, run_module):
    blob = 'http://registry.test:5000/v2/team/app/blobs/sha256:' + 'e' * 64
    expected = [dict(url=blob, task_id='e' * 64)]
    row = created_ago(job(4, 'PENDING'), 10)
    row['args'] = dict(type='image', url='http://registry.test:5000/v2/team/app/manifests/1.0', platform='linux/amd64',
                       username='puller', password='Regi$try-pa55', scope='single_seed_peer', timeout=0)
    manager.expect('GET', '/oapi/v1/jobs/4', body=row)
    # At once, not at the job's 30 s refresh: the manager's get_task job for the blob, answered within the request.
    manager.expect('GET', '/oapi/v1/jobs', body=[dict(id=4, type='preheat')])
    manager.expect('POST', '/oapi/v1/jobs', body=dict(image=dict(layers=[dict(url=blob)]), peers=[]))
    seed = dict(id='s', hostname='seed-1', ip='10.0.0.5', host_type='super', IsFinished=True)
    answered = dict(get_task(5, 'SUCCESS'), args=dict(url=blob))
    answered['result']['job_states'][0]['results'] = [dict(scheduler_cluster_id=1, peers=[seed])]
    manager.expect('GET', '/oapi/v1/jobs', body=[answered])

    result = run_module(preheat_status.main, args(preheats=[dict(name='app', job_id=4, expected_tasks=expected)]))

    assert not result.failed, result.output
    assert [row['status'] for row in result.output['preheats']] == ['finished']
    distribution = manager.calls[2]['body']
    assert distribution['type'] == 'get_image_distribution' and distribution['args'] == dict(
        url=row['args']['url'], platform='linux/amd64', username='puller', password='Regi$try-pa55')
    assert result.leaks('Regi$try-pa55') == []
    manager.assert_done()
