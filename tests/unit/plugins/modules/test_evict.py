# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The evict module against a scripted manager: check mode, delete_task jobs, the local cache directory with a fake
docker CLI, and the refusals."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import os

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils._task_id import task_content_path, task_id
from ansible_collections.p2p.dragonfly.plugins.modules import evict

from ansible_collections.p2p.dragonfly.tests.unit.plugins.modules.conftest import MANAGER_URL


TOKEN = 'dG9rZW4tZm9yLWV2aWN0LXRlc3Rz'
URLS = ['http://files.test/models/a.bin', 'http://files.test/models/b.bin']
IDS = [task_id(url) for url in URLS]
SEED = dict(id='10.0.0.5-seed-1', hostname='seed-1', ip='10.0.0.5', host_type='super', IsFinished=True)
PEER = dict(id='10.0.0.9-peer-1', hostname='peer-1', ip='10.0.0.9', host_type='normal', IsFinished=True)


def get_task_row(job_id, state, peers=None):
    results = None if peers is None else [dict(scheduler_cluster_id=1, peers=peers)]
    return dict(id=job_id, type='get_task', state=state, result=dict(job_states=[dict(state=state, results=results)]))


def delete_row(job_id, state, deleted=(), failed=()):
    results = [dict(scheduler_cluster_id=1, success_tasks=list(deleted), failure_tasks=list(failed))]
    return dict(id=job_id, type='delete_task', state=state,
                result=dict(job_states=[dict(state=state, error='', results=results if state != 'PENDING' else None)]))


def holders(manager, *peers_per_task):
    """The get_task round: one job per task, answered at the 30 s refresh."""
    for index, peers in enumerate(peers_per_task):
        manager.expect('POST', '/oapi/v1/jobs', body=get_task_row(10 + index, 'PENDING'))
    for index, peers in enumerate(peers_per_task):
        manager.expect('GET', '/oapi/v1/jobs/%d' % (10 + index), body=get_task_row(10 + index, 'SUCCESS', peers))


def args(**extra):
    return dict(dict(manager_url=MANAGER_URL, token=TOKEN, urls=URLS), **extra)


def test_check_mode_reports_the_holders_and_deletes_nothing(manager, clock, run_module):
    holders(manager, [SEED, PEER], [])
    result = run_module(evict.main, args(_ansible_check_mode=True))
    assert not result.failed, result.output
    out = result.output
    assert out['changed'] is True and out['jobs'] == []
    assert out['tasks'][0]['held_by'] == ['peer-1 (10.0.0.9)', 'seed-1 (10.0.0.5)'] and out['tasks'][1]['held_by'] == []
    assert [call['body']['type'] for call in manager.calls if call['method'] == 'POST'] == ['get_task', 'get_task']
    manager.assert_done()


def test_evicts_each_held_task_with_a_delete_task_job(manager, clock, run_module):
    holders(manager, [SEED, PEER], [])
    manager.expect('POST', '/oapi/v1/jobs', body=delete_row(20, 'PENDING'))
    manager.expect('GET', '/oapi/v1/jobs/20', body=delete_row(20, 'SUCCESS', deleted=[
        dict(hostname='seed-1', ip='10.0.0.5', host_type='super'), dict(hostname='peer-1', ip='10.0.0.9', host_type='normal')]))
    result = run_module(evict.main, args())
    assert not result.failed, result.output
    out = result.output
    assert out['changed'] is True and out['jobs'] == [dict(id=20, state='SUCCESS', task_id=IDS[0])]
    delete = [call['body'] for call in manager.calls if call['method'] == 'POST'][-1]
    assert delete == dict(type='delete_task', bio='Created by Ansible (p2p.dragonfly.evict)', scheduler_cluster_ids=[1],
                          args=dict(task_id=IDS[0]))
    assert out['tasks'][0]['deleted_from'] == ['seed-1 (10.0.0.5)', 'peer-1 (10.0.0.9)']
    manager.assert_done()


def test_nothing_held_is_no_change_and_no_job(manager, clock, run_module):
    holders(manager, [], [dict(PEER, IsFinished=False)])
    result = run_module(evict.main, args())
    assert not result.failed and result.output['changed'] is False and result.output['jobs'] == []
    manager.assert_done()


def test_a_peer_the_scheduler_could_not_reach_fails_naming_it(manager, clock, run_module):
    holders(manager, [SEED], [])
    manager.expect('POST', '/oapi/v1/jobs', body=delete_row(20, 'PENDING'))
    manager.expect('GET', '/oapi/v1/jobs/20', body=delete_row(20, 'SUCCESS', failed=[
        dict(hostname='seed-1', ip='10.0.0.5', host_type='super', description='connection refused')]))
    result = run_module(evict.main, args())
    assert result.failed
    assert ('%s on seed-1 (10.0.0.5): connection refused' % IDS[0]) in result.output['msg']
    assert result.output['changed'] is True  # a job was created
    manager.assert_done()


@pytest.fixture
def cache_dir(tmp_path):
    """A seed peer's cache directory holding the files of both tasks."""
    root = tmp_path / 'cache'
    for value in IDS:
        path = task_content_path(str(root), value)
        os.makedirs(os.path.dirname(path))
        with open(path, 'wb') as handle:
            handle.write(b'x')
    return str(root)


def fake_docker(monkeypatch, removes=True):
    """``docker exec <container> dfctl task rm <id>``: removes the file (or fails) and records the call."""
    calls = []

    def run_command(module, command, **kwargs):
        calls.append(command)
        if not removes:
            return 1, '', 'Removing Task Failed!'
        os.remove(task_content_path(module.params['cache_dir'], command[-1]))
        return 0, 'Task Removed!', ''

    monkeypatch.setattr(evict.AnsibleModule, 'get_bin_path', lambda module, name, required=False: '/usr/bin/docker')
    monkeypatch.setattr(evict.AnsibleModule, 'run_command', run_command)
    return calls


def test_local_only_removes_what_is_left_with_dfctl(monkeypatch, manager, clock, run_module, cache_dir):
    calls = fake_docker(monkeypatch)
    result = run_module(evict.main, dict(via=['local'], task_ids=IDS, cache_dir=cache_dir, container='seed-dfdaemon-1'))
    assert not result.failed, result.output
    out = result.output
    assert out['changed'] is True and out['left_on_disk'] == []
    assert [row['removed_locally'] for row in out['tasks']] == [True, True]
    assert calls == [['/usr/bin/docker', 'exec', 'seed-dfdaemon-1', 'dfctl', 'task', 'rm', value] for value in IDS]
    assert manager.calls == []  # no manager without via manager
    # Again: nothing left, nothing to do.
    result = run_module(evict.main, dict(via=['local'], task_ids=IDS, cache_dir=cache_dir, container='seed-dfdaemon-1'))
    assert result.output['changed'] is False and len(calls) == 2


def test_files_the_scheduler_does_not_know_fail_without_a_container(manager, clock, run_module, cache_dir):
    holders(manager, [], [])
    result = run_module(evict.main, args(cache_dir=cache_dir))
    assert result.failed
    assert 'still on disk in %s: %s, %s' % (cache_dir, IDS[0], IDS[1]) in result.output['msg']
    assert 'set option container' in result.output['msg'] and result.output['left_on_disk'] == IDS


def test_check_mode_local_reports_files_and_keeps_them(monkeypatch, manager, clock, run_module, cache_dir):
    calls = fake_docker(monkeypatch)
    result = run_module(evict.main, dict(via=['local'], task_ids=IDS, cache_dir=cache_dir, container='c',
                                         _ansible_check_mode=True))
    assert result.output['changed'] is True and [row['on_disk'] for row in result.output['tasks']] == [True, True]
    assert calls == [] and all(os.path.exists(task_content_path(cache_dir, value)) for value in IDS)


def test_dfctl_failure_names_the_command(monkeypatch, manager, clock, run_module, cache_dir):
    fake_docker(monkeypatch, removes=False)
    result = run_module(evict.main, dict(via=['local'], task_ids=IDS, cache_dir=cache_dir, container='c'))
    assert result.failed and 'docker exec c dfctl task rm %s failed (rc 1): Removing Task Failed!' % IDS[0] in result.output['msg']


@pytest.mark.parametrize('extra, message', [
    (dict(via=['local']), "via local needs option cache_dir"),
    (dict(container='c'), 'container only applies with via local'),
    (dict(urls=None, task_ids=['abc']), 'task_ids must be 64 lower-case hex characters'),
    (dict(task_ids=IDS), 'task_ids names the tasks itself: do not also set urls'),
    (dict(manager_url=None), 'via manager needs option manager_url'),
    (dict(wait_timeout=0), 'wait_timeout must be at least 1 second'),
    (dict(urls=None, image='alpine:3.20', docker_hub_host='https://index.docker.io'), 'docker_hub_host: '),
])
def test_bad_input_is_refused_before_any_request(manager, clock, run_module, extra, message, monkeypatch):
    monkeypatch.delenv('DRAGONFLY_MANAGER_URL', raising=False)
    result = run_module(evict.main, args(**extra))
    assert result.failed and message in result.output['msg'], result.output
    assert manager.calls == []


# --- credentials -------------------------------------------------------------------------------------
# The list of credentials a playbook gives every preheat and evict: the entry of the image's registry reads its
# manifests; url_prefix entries are checked and otherwise ignored.

REGISTRY = 'registry.test:5000'
REGISTRY_PASSWORD = 'Regi$try-pa55'
BASIC = 'Basic ' + base64.b64encode(f'puller:{REGISTRY_PASSWORD}'.encode()).decode()
FILES_PASSWORD = 'f1les-Pa55word'
CREDENTIALS = [
    dict(registry='ghcr.io', username='other', password='other-password'),
    dict(registry=REGISTRY, username='puller', password=REGISTRY_PASSWORD, ca_path='/etc/ssl/registry-ca.pem'),
    dict(url_prefix='http://files.test/models', username='fetcher', password=FILES_PASSWORD),
]
SECRETS = (TOKEN, REGISTRY_PASSWORD, BASIC, FILES_PASSWORD, 'other-password')
IMAGE = f'{REGISTRY}/team/app:1.0'
MANIFEST_PATH = '/v2/team/app/manifests/1.0'
CONFIG, LAYER = 'sha256:' + 'c' * 64, 'sha256:' + 'd' * 64
MANIFEST = dict(schemaVersion=2, mediaType='application/vnd.oci.image.manifest.v1+json',
                config=dict(mediaType='application/vnd.oci.image.config.v1+json', digest=CONFIG, size=10),
                layers=[dict(mediaType='application/vnd.oci.image.layer.v1.tar', digest=LAYER, size=100)])
BLOB_IDS = [task_id(f'https://{REGISTRY}/v2/team/app/blobs/{digest}') for digest in (CONFIG, LAYER)]


def registry_basic_auth(manager, manifest_status=200):
    """The registry: a basic challenge, then the manifest (or a refusal) for the credentials sent."""
    manager.expect('GET', MANIFEST_PATH, status=401, body={'errors': [dict(code='UNAUTHORIZED')]},
                   headers={'WWW-Authenticate': 'Basic realm="registry"'})
    manager.expect('GET', MANIFEST_PATH, status=manifest_status,
                   body=MANIFEST if manifest_status == 200 else {'errors': [dict(code='UNAUTHORIZED', message='bad login')]})


BLOB_URLS = [f'https://{REGISTRY}/v2/team/app/blobs/{digest}' for digest in (CONFIG, LAYER)]


def image_round(manager, *peers_per_blob):
    """An image round: the newest job, get_image_distribution (its get_task jobs answered within the request), then
    those jobs' rows, newest first."""
    manager.expect('GET', '/oapi/v1/jobs', body=[dict(id=40, type='preheat', state='SUCCESS')])
    manager.expect('POST', '/oapi/v1/jobs', body=dict(image=dict(layers=[dict(url=url) for url in BLOB_URLS]), peers=[]))
    rows = [dict(get_task_row(41 + index, 'SUCCESS', peers), args=dict(url=url))
            for index, (url, peers) in enumerate(zip(BLOB_URLS, peers_per_blob))]
    manager.expect('GET', '/oapi/v1/jobs', body=rows[::-1] + [dict(get_task_row(7, 'SUCCESS', [SEED]), args=dict(url=BLOB_URLS[0]))])


def registry_calls(manager):
    return [call for call in manager.calls if call['path'].startswith('/v2/')]


def image_args(**extra):
    return dict(dict(manager_url=MANAGER_URL, token=TOKEN, image=IMAGE), **extra)


def test_the_entry_of_the_image_registry_reads_its_manifest(manager, clock, run_module):
    registry_basic_auth(manager)
    image_round(manager, [], [])

    result = run_module(evict.main, image_args(credentials=CREDENTIALS))

    assert not result.failed, result.output
    out = result.output
    assert out['credentials_used'] == REGISTRY
    assert [row['task_id'] for row in out['tasks']] == BLOB_IDS and out['changed'] is False
    calls = registry_calls(manager)
    assert calls[1]['headers']['Authorization'] == BASIC
    assert {call['ca_path'] for call in calls} == {'/etc/ssl/registry-ca.pem'}
    assert result.leaks(*SECRETS) == []
    # Names and URLs stay visible.
    assert out['invocation']['module_args']['credentials'][1]['registry'] == REGISTRY
    manager.assert_done()


def test_explicit_registry_options_win_over_the_entry(manager, clock, run_module):
    registry_basic_auth(manager)
    image_round(manager, [], [])
    credentials = [dict(registry=REGISTRY, username='puller', password='other-password', ca_path='/etc/entry-ca.pem')]

    result = run_module(evict.main, image_args(credentials=credentials, registry_username='puller',
                                               registry_password=REGISTRY_PASSWORD, registry_ca_path='/etc/given-ca.pem'))

    assert not result.failed, result.output
    assert result.output['credentials_used'] is None
    calls = registry_calls(manager)
    assert calls[1]['headers']['Authorization'] == BASIC
    assert {call['ca_path'] for call in calls} == {'/etc/given-ca.pem'}
    assert result.leaks(*SECRETS) == []


def test_an_image_round_finds_the_holders_in_seconds(manager, clock, run_module):
    registry_basic_auth(manager)
    # The older row (id 7) says the seed holds the config; the round's own rows say only the layer is held.
    image_round(manager, [], [SEED])
    manager.expect('POST', '/oapi/v1/jobs', body=delete_row(50, 'PENDING'))
    manager.expect('GET', '/oapi/v1/jobs/50', body=delete_row(50, 'SUCCESS', deleted=[SEED]))

    result = run_module(evict.main, image_args(credentials=CREDENTIALS))

    assert not result.failed, result.output
    out = result.output
    assert [row['held_by'] for row in out['tasks']] == [[], ['seed-1 (10.0.0.5)']] and out['changed'] is True
    call = [call for call in manager.calls if call['method'] == 'POST'][0]
    # The manager answers when its get_task jobs have: a timeout of its own, not the module's.
    assert call['timeout'] == 30
    distribution = call['body']
    assert distribution['type'] == 'get_image_distribution'
    assert distribution['args'] == dict(url=f'https://{REGISTRY}{MANIFEST_PATH}', platform='linux/amd64',
                                        username='puller', password=REGISTRY_PASSWORD)
    assert result.leaks(*SECRETS) == []
    manager.assert_done()


def test_a_refused_image_round_falls_back_to_get_task_jobs(manager, clock, run_module):
    registry_basic_auth(manager)
    manager.expect('GET', '/oapi/v1/jobs', body=[])
    manager.expect('POST', '/oapi/v1/jobs', status=500, body={'message': 'candidate schedulers not found'})
    holders(manager, [SEED], [])

    result = run_module(evict.main, image_args(credentials=CREDENTIALS, _ansible_check_mode=True))

    assert not result.failed, result.output
    assert [row['held_by'] for row in result.output['tasks']] == [['seed-1 (10.0.0.5)'], []]
    manager.assert_done()


def test_url_prefix_entries_are_ignored_for_files(manager, clock, run_module):
    holders(manager, [], [])

    result = run_module(evict.main, args(credentials=CREDENTIALS))

    assert not result.failed, result.output
    assert result.output['credentials_used'] is None
    assert registry_calls(manager) == []
    assert all(call['path'].startswith('/oapi/') and not call['headers'].get('Authorization', '').startswith('Basic')
               for call in manager.calls)
    assert result.leaks(*SECRETS) == []


def test_a_refused_entry_fails_naming_it_without_its_password(manager, clock, run_module):
    registry_basic_auth(manager, manifest_status=401)

    result = run_module(evict.main, image_args(credentials=CREDENTIALS))

    assert result.failed
    out = result.output
    assert f"the username 'puller' of the credentials entry for {REGISTRY}" in out['msg']
    assert out['credentials_used'] == REGISTRY
    assert result.leaks(*SECRETS) == []
    assert [call for call in manager.calls if call['path'].startswith('/oapi/')] == []


@pytest.mark.parametrize('content', [dict(image=IMAGE, urls=None), dict(), dict(urls=None, task_ids=IDS)])
@pytest.mark.parametrize('entries, expected', [
    ([dict(username='x')], 'credentials[0]: set exactly one of registry'),
    ([dict(registry='https://ghcr.io')], 'credentials[0].registry: '),
    ([dict(url_prefix='http://files.test/data', ca_path='/etc/ca.pem')], 'credentials[0].ca_path: a CA does not apply'),
    ([dict(registry='docker.io'), dict(registry='Index.Docker.io')],
     "credentials[1].registry: 'Index.Docker.io' names the same registry as credentials[0]"),
    ([dict(registry=REGISTRY, password=REGISTRY_PASSWORD)], 'credentials[0]: password needs username'),
])
def test_bad_credentials_are_refused_before_any_request(manager, clock, run_module, content, entries, expected):
    result = run_module(evict.main, args(credentials=entries, **content))

    assert result.failed and expected in result.output['msg'], result.output['msg']
    assert 'credentials_used' not in result.output
    assert manager.calls == []
    assert result.leaks(REGISTRY_PASSWORD) == []
