# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The preheat module against a simulated manager, scheduler, seed peers and registry.

The simulation keeps the manager's timing: a job row shows the state of the world at the last
refresh (creation, then 30, 90, 210 s ... later), get_task jobs answer from the simulated caches,
and a preheat fills the seed peers' caches after a download time. Time is a fake clock.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import hashlib
import json
import os
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils import _api, _hashing, _http, _jobs
from ansible_collections.p2p.dragonfly.plugins.module_utils._task_id import task_content_path, task_id as rust_task_id
from ansible_collections.p2p.dragonfly.plugins.modules import preheat

from ansible_collections.p2p.dragonfly.tests.unit.plugins.modules.conftest import MANAGER_URL


TOKEN = 'cGF0LXZhbHVlLW9mLXRoZS10ZXN0LXRva2VuLTEyMzQ1Ng'
REGISTRY = 'registry.test:5000'
# Docker Hub's names, served by the simulated registry too.
HUB_HOSTS = ('registry-1.docker.io', 'index.docker.io', 'docker.io')
REGISTRY_PASSWORD = 'Regi$try-pa55'
HEADER_SECRET = 'hdr-secret-value-42'
BEARER = 'registry-bearer-token-abcdef'
JOBS = '/oapi/v1/jobs'
SEED_1 = dict(hostname='seed-1', ip='10.0.0.5', host_type='super')
SEED_2 = dict(hostname='seed-2', ip='10.0.0.6', host_type='super')
PEER_1 = dict(hostname='peer-1', ip='10.0.0.9', host_type='normal')

INDEX_TYPE = 'application/vnd.oci.image.index.v1+json'
MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json'


def digest_of(text):
    return 'sha256:' + hashlib.sha256(text.encode()).hexdigest()


CONFIG_AMD64, LAYER_AMD64_1, LAYER_AMD64_2 = digest_of('config-amd64'), digest_of('layer-amd64-1'), digest_of('layer-amd64-2')
CONFIG_ARM64, LAYER_ARM64 = digest_of('config-arm64'), digest_of('layer-arm64')


def image_manifest(config, layers):
    return dict(schemaVersion=2, mediaType=MANIFEST_TYPE,
                config=dict(mediaType='application/vnd.oci.image.config.v1+json', digest=config, size=100),
                layers=[dict(mediaType='application/vnd.oci.image.layer.v1.tar', digest=layer, size=1000) for layer in layers])


MANIFEST_AMD64 = image_manifest(CONFIG_AMD64, [LAYER_AMD64_1, LAYER_AMD64_2])
MANIFEST_ARM64 = image_manifest(CONFIG_ARM64, [LAYER_ARM64])
DIGEST_AMD64 = digest_of(json.dumps(MANIFEST_AMD64))
DIGEST_ARM64 = digest_of(json.dumps(MANIFEST_ARM64))
INDEX = dict(schemaVersion=2, mediaType=INDEX_TYPE, manifests=[
    dict(mediaType=MANIFEST_TYPE, digest=DIGEST_AMD64, size=500, platform=dict(os='linux', architecture='amd64')),
    dict(mediaType=MANIFEST_TYPE, digest=DIGEST_ARM64, size=500,
         platform=dict(os='linux', architecture='arm64', variant='v8')),
    dict(mediaType=MANIFEST_TYPE, digest=digest_of('attestation'), size=500,
         platform=dict(os='unknown', architecture='unknown')),
])


def blob(digest, scheme='http'):
    return f'{scheme}://{REGISTRY}/v2/team/app/blobs/{digest}'


AMD64_BLOBS = [blob(CONFIG_AMD64), blob(LAYER_AMD64_1), blob(LAYER_AMD64_2)]
FILE_1 = 'http://files.test/data/one.bin'
FILE_2 = 'http://files.test/data/two.bin?X-Amz-Signature=abc&keep=1'


class Clock(object):
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []
        # Called with the new time after each sleep (the simulated seed peer's disk writes).
        self.hooks = []

    def time(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds
        for hook in self.hooks:
            hook(self.now)


class World(object):
    """The simulated Dragonfly cluster and registry behind ``fetch_url``."""

    def __init__(self, clock):
        self.clock = clock
        self.calls = []
        self.jobs = {}
        self.next_id = 100
        self.seeds = [SEED_1]
        self.normal_peers = []
        # task_id -> {(ip, hostname): (host dict, started_at, finished_at or None)}
        self.cache = {}
        self.download_seconds = 10
        self.fail_urls = set()
        self.job_failure = None
        self.overrides = {}
        self.registry_auth = None
        # The cache directory of one seed peer on this host (SeedDisk), written by the simulated preheats.
        self.disk = None
        self.registry_documents = {
            '/v2/team/app/manifests/1.0': INDEX,
            f'/v2/team/app/manifests/{DIGEST_AMD64}': MANIFEST_AMD64,
            f'/v2/team/app/manifests/{DIGEST_ARM64}': MANIFEST_ARM64,
            '/v2/team/single/manifests/2.0': MANIFEST_AMD64,
        }

    # --- helpers for tests -------------------------------------------------------------------

    def put(self, url, host, finished=True, **id_args):
        tid = rust_task_id(url, **id_args)
        self.cache.setdefault(tid, {})[(host['ip'], host['hostname'])] = (host, 0.0, 0.0 if finished else None)

    def requests(self):
        return [(call['method'], call['path']) for call in self.calls]

    def posts(self, job_type=None):
        return [call for call in self.calls if call['method'] == 'POST'
                and (job_type is None or call['body'].get('type') == job_type)]

    # --- transport --------------------------------------------------------------------------

    def fetch_url(self, module, url, data=None, headers=None, method=None, timeout=None, **kwargs):
        parts = urlsplit(url)
        call = dict(method=method, url=url, host=parts.netloc, path=parts.path,
                    query={key: values[0] for key, values in parse_qs(parts.query).items()},
                    headers=dict(headers or {}), body=json.loads(data) if data else None, ca_path=kwargs.get('ca_path'))
        self.calls.append(call)
        override = self.overrides.get((method, parts.path))
        if override:
            status, body = override.pop(0) if isinstance(override, list) else override
            if isinstance(override, list) and not override:
                del self.overrides[(method, parts.path)]
            return self._answer(url, status, body)
        if parts.netloc == 'manager.test:8080':
            return self._manager(call)
        if parts.netloc in (REGISTRY,) + HUB_HOSTS:
            return self._registry(call)
        if parts.netloc == 'auth.test':
            return self._token(call)
        return None, dict(url=url, status=-1, msg=f'<urlopen error [Errno -2] Name or service not known: {parts.netloc}>')

    @staticmethod
    def _answer(url, status, body, headers=None):
        if status == -1:
            return None, dict(url=url, status=-1, msg=body)
        raw = json.dumps(body).encode() if isinstance(body, (dict, list)) else (body or '').encode()
        info = dict(url=url, status=status, msg='OK' if status < 400 else f'HTTP Error {status}')
        info.update({key.lower(): value for key, value in (headers or {}).items()})

        class Body(object):
            def read(self):
                return raw

        if status >= 400:
            info['body'] = raw
            return None, info
        return Body(), info

    # --- manager ----------------------------------------------------------------------------

    def _manager(self, call):
        if call['headers'].get('Authorization') != 'Bearer ' + TOKEN:
            return self._answer(call['url'], 401, {'message': 'Unauthorized'})
        if call['path'] == JOBS and call['method'] == 'GET':
            return self._answer(call['url'], 200, self._list(call['query']))
        if call['path'] == JOBS and call['method'] == 'POST' and call['body']['type'] == 'get_image_distribution':
            return self._answer(call['url'], 200, self._distribution(call['body']))
        if call['path'] == JOBS and call['method'] == 'POST':
            return self._answer(call['url'], 200, self._create(call['body']))
        if call['path'].startswith(JOBS + '/') and call['method'] == 'GET':
            job = self.jobs.get(int(call['path'].rsplit('/', 1)[1]))
            if job is None:
                return self._answer(call['url'], 404, {'message': 'record not found'})
            return self._answer(call['url'], 200, self._visible(job))
        raise AssertionError(f"unexpected manager call {call['method']} {call['path']}")

    def _list(self, query):
        # Newest first, one page (GetJobs orders by created_at DESC).
        jobs = [job for job in self.jobs.values() if not query.get('type') or job['type'] == query['type']]
        jobs.sort(key=lambda job: job['id'], reverse=True)
        return [self._visible(job) for job in jobs[:int(query.get('per_page', 10))]]

    def _distribution(self, body):
        # CreateGetImageDistributionJob: one get_task job per blob, read by the manager until it answers (here 3 s
        # later), then the normal peers holding a blob; seed peers are left out.
        args = body['args']
        urls = self._blob_urls(args['url'], args.get('platform') or 'linux/amd64')
        jobs = []
        for url in urls:
            job = self._job(dict(type='get_task', scheduler_cluster_ids=body.get('scheduler_cluster_ids'),
                                 args=dict(url=url, tag=args.get('tag', ''), application=args.get('application', ''),
                                           piece_length=args.get('piece_length'))))
            job['task'] = rust_task_id(url, piece_length=args.get('piece_length'), tag=args.get('tag'),
                                       application=args.get('application'),
                                       filtered_query_params=args.get('filtered_query_params') or '')
            jobs.append(job)
        self.clock.sleep(3)
        peers = {}
        for job in jobs:
            job['answered'] = self.clock.now
            for host, started, finished in self.cache.get(job['task'], {}).values():
                if host['host_type'] == 'normal' and finished is not None and finished <= self.clock.now:
                    peers.setdefault(host['ip'], dict(ip=host['ip'], hostname=host['hostname'], cached_layers=[],
                                                      scheduler_cluster_id=1))['cached_layers'].append(
                                                          dict(url=job['args']['url']))
        return dict(image=dict(layers=[dict(url=url) for url in urls]), peers=list(peers.values()))

    def _create(self, body):
        job = self._job(body)
        if job['type'] == 'preheat':
            self._start_preheat(job)
        return self._row(job, 'PENDING', {})

    def _job(self, body):
        job = dict(id=self.next_id, type=body['type'], args=body['args'], created=self.clock.now,
                   clusters=body.get('scheduler_cluster_ids'), task_id=f'group_{self.next_id}')
        self.next_id += 1
        self.jobs[job['id']] = job
        return job

    @staticmethod
    def _row(job, state, result):
        return dict(id=job['id'], type=job['type'], state=state, task_id=job['task_id'], args=job['args'], result=result,
                    bio='', created_at='2026-07-01T10:00:00Z', updated_at='2026-07-01T10:00:00Z',
                    scheduler_clusters=[dict(id=cluster) for cluster in job['clusters'] or []])

    def _visible(self, job):
        # The row as of the manager's last refresh (creation, then the back-off offsets).
        if 'answered' in job:
            # A get_task job of an image distribution: final once the manager's own reads answered it.
            state, result = self._truth(job, job['answered'])
            return self._row(job, state, result)
        elapsed = self.clock.now - job['created']
        refresh = max([0] + [offset for offset in _jobs.REFRESH_OFFSETS if offset <= elapsed])
        state, result = self._truth(job, job['created'] + refresh)
        return self._row(job, state, result)

    def _truth(self, job, moment):
        if moment < job['created'] + 1:
            return 'PENDING', {'state': 'PENDING', 'job_states': [{'state': 'PENDING', 'results': None, 'error': ''}]}
        if job['type'] == 'get_task':
            peers = []
            for host, started, finished in self.cache.get(job.get('task') or job['args']['task_id'], {}).values():
                if started <= moment:
                    peers.append(dict(id=f"{host['ip']}-{host['hostname']}", hostname=host['hostname'], ip=host['ip'],
                                      host_type=host['host_type'], IsFinished=finished is not None and finished <= moment))
            job_state = dict(state='SUCCESS', error='', results=[dict(peers=peers, scheduler_cluster_id=1)])
            return 'SUCCESS', dict(state='SUCCESS', job_states=[job_state])
        if self.job_failure:
            job_state = dict(state='FAILURE', error=self.job_failure, results=None)
            return 'FAILURE', dict(state='FAILURE', job_states=[job_state])
        if moment < job['done_at']:
            return 'PENDING', {'state': 'PENDING', 'job_states': [{'state': 'PENDING', 'results': None, 'error': ''}]}
        result = dict(success_tasks=[], failure_tasks=[], scheduler_cluster_id=1)
        for url, host in job['pairs']:
            if url in self.fail_urls:
                if job['args']['scope'] != 'single_seed_peer':
                    result['failure_tasks'].append(dict(url=url, hostname=host['hostname'], ip=host['ip'],
                                                        description='download failed: connection refused'))
            else:
                result['success_tasks'].append(dict(url=url, hostname=host['hostname'], ip=host['ip']))
        job_state = dict(state='SUCCESS', error='', results=[result])
        return 'SUCCESS', dict(state='SUCCESS', job_states=[job_state])

    def _start_preheat(self, job):
        args = job['args']
        if args['type'] == 'image':
            urls = self._blob_urls(args['url'], args['platform'])
        else:
            urls = args['urls']
        if args['scope'] == 'single_seed_peer':
            hosts = [self.seeds[0]]
        elif args['scope'] == 'all_seed_peers':
            hosts = [seed for seed in self.seeds if not args.get('ips') or seed['ip'] in args['ips']]
        else:
            hosts = self.seeds + self.normal_peers
        start = job['created'] + 1
        job['done_at'] = start + self.download_seconds
        job['pairs'] = [(url, host) for url in urls for host in hosts]
        filters = args.get('filtered_query_params') or ''
        for url, host in job['pairs']:
            if url in self.fail_urls:
                continue
            tid = rust_task_id(url, piece_length=args.get('piece_length'), tag=args.get('tag'),
                               application=args.get('application'), filtered_query_params=filters)
            self.cache.setdefault(tid, {})[(host['ip'], host['hostname'])] = (host, start, job['done_at'])
            if self.disk is not None and host is self.disk.host:
                self.disk.schedule(url, tid, start, job['done_at'])

    def _blob_urls(self, manifest_url, platform):
        parts = urlsplit(manifest_url)
        document = self.registry_documents[parts.path]
        base = manifest_url.rsplit('/manifests/', 1)[0]
        if 'manifests' in document:
            os_name, architecture = platform.split('/')[:2]
            chosen = [item for item in document['manifests']
                      if item['platform']['os'] == os_name and item['platform']['architecture'] == architecture]
            document = self.registry_documents[f"{parts.path.rsplit('/', 1)[0]}/{chosen[0]['digest']}"]
        digests = [document['config']['digest']] + [layer['digest'] for layer in document['layers']]
        return [f'{base}/blobs/{digest}' for digest in digests]

    # --- registry ---------------------------------------------------------------------------

    def _registry(self, call):
        auth = call['headers'].get('Authorization')
        if self.registry_auth == 'bearer' and auth != 'Bearer ' + BEARER:
            return self._answer(call['url'], 401, {'errors': [{'code': 'UNAUTHORIZED', 'message': 'authentication required'}]},
                                {'WWW-Authenticate': 'Bearer realm="http://auth.test/token",service="registry.test",'
                                                     'scope="repository:team/app:pull"'})
        if self.registry_auth == 'basic':
            expected = 'Basic ' + base64.b64encode(f'puller:{REGISTRY_PASSWORD}'.encode()).decode()
            if auth != expected:
                return self._answer(call['url'], 401, {'errors': [{'code': 'UNAUTHORIZED', 'message': 'no'}]},
                                    {'WWW-Authenticate': 'Basic realm="Registry Realm"'})
        document = self.registry_documents.get(call['path'])
        if document is None:
            return self._answer(call['url'], 404, {'errors': [{'code': 'MANIFEST_UNKNOWN', 'message': 'manifest unknown'}]})
        return self._answer(call['url'], 200, document, {'Content-Type': document['mediaType']})

    def _token(self, call):
        expected = 'Basic ' + base64.b64encode(f'puller:{REGISTRY_PASSWORD}'.encode()).decode()
        if call['headers'].get('Authorization') != expected:
            return self._answer(call['url'], 401, {'details': 'incorrect username or password'})
        assert call['query'] == {'scope': 'repository:team/app:pull', 'service': 'registry.test'}
        return self._answer(call['url'], 200, {'token': BEARER, 'expires_in': 300})


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(_jobs, 'monotonic', fake.time)
    monkeypatch.setattr(_jobs, 'sleep', fake.sleep)
    monkeypatch.setattr(_api, '_sleep', fake.sleep)
    return fake


@pytest.fixture
def world(monkeypatch, clock):
    fake = World(clock)
    monkeypatch.setattr(_http, 'fetch_url', fake.fetch_url)
    monkeypatch.delenv('DRAGONFLY_MANAGER_URL', raising=False)
    monkeypatch.delenv('DRAGONFLY_TOKEN', raising=False)
    return fake


def image_args(**extra):
    args = dict(manager_url=MANAGER_URL, token=TOKEN, image=f'{REGISTRY}/team/app:1.0', insecure_registry=True)
    args.update(extra)
    return args


def file_args(**extra):
    args = dict(manager_url=MANAGER_URL, token=TOKEN, urls=[FILE_1, FILE_2])
    args.update(extra)
    return args


def run(run_module, args):
    return run_module(preheat.main, args)


# --- check mode ------------------------------------------------------------------------------------

def test_check_mode_creates_no_job(world, run_module):
    result = run(run_module, image_args(_ansible_check_mode=True, _ansible_diff=True))

    assert not result.failed, result.output
    assert world.posts() == []
    assert world.requests() == [
        ('GET', JOBS),
        ('GET', '/v2/team/app/manifests/1.0'),
        ('GET', f'/v2/team/app/manifests/{DIGEST_AMD64}'),
    ]
    out = result.output
    assert out['changed'] is True
    assert out['job'] is None and out['cached_before'] is None
    assert [task['url'] for task in out['expected_tasks']] == AMD64_BLOBS
    assert [task['digest'] for task in out['expected_tasks']] == [CONFIG_AMD64, LAYER_AMD64_1, LAYER_AMD64_2]
    assert out['expected_tasks'][0]['task_id'] == rust_task_id(AMD64_BLOBS[0])
    assert out['manifest_url'] == f'http://{REGISTRY}/v2/team/app/manifests/1.0'
    assert out['platform'] == 'linux/amd64'
    assert out['available_platforms'] == ['linux/amd64', 'linux/arm64/v8']
    assert out['diff'] == {'before': {}, 'after': {'one seed peer': AMD64_BLOBS}}
    # Manifest reads ask for every manifest type.
    accept = world.calls[1]['headers']['Accept']
    assert 'application/vnd.oci.image.index.v1+json' in accept
    assert 'application/vnd.docker.distribution.manifest.list.v2+json' in accept


def test_check_mode_reports_bad_token_without_posting(world, run_module):
    result = run(run_module, image_args(token='wrong', _ansible_check_mode=True))

    assert result.failed
    assert world.requests() == [('GET', JOBS)]
    assert 'token was rejected' in result.output['msg'] and 'DRAGONFLY_TOKEN' in result.output['msg']
    assert result.output['http_status'] == 401


# --- idempotence ------------------------------------------------------------------------------------

def test_cached_files_make_no_preheat(world, clock, run_module):
    world.put(FILE_1, SEED_1)
    world.put(FILE_2, SEED_1)

    result = run(run_module, file_args(_ansible_diff=True))

    assert not result.failed, result.output
    out = result.output
    assert out['changed'] is False
    assert out['cached_before'] is True and out['cached_after'] is True and out['job'] is None
    assert world.posts('preheat') == []
    gets = world.posts('get_task')
    assert [call['body']['args'] for call in gets] == [{'task_id': task['task_id']} for task in out['expected_tasks']]
    assert all(call['body']['scheduler_cluster_ids'] == [1] for call in gets)
    first, second = out['get_task_job_ids']
    assert world.requests() == [
        ('GET', JOBS), ('POST', JOBS), ('POST', JOBS),
        ('GET', f'{JOBS}/{first}'), ('GET', f'{JOBS}/{second}'),
    ]
    # The rows are read once, right after the manager's 30 s refresh.
    assert 30 <= out['elapsed'] <= 35
    assert out['hosts'] == [dict(SEED_1, scheduler_cluster_id=1, task_ids=[task['task_id'] for task in out['expected_tasks']],
                                 urls=[FILE_1, FILE_2])]
    assert out['diff']['before'] == out['diff']['after'] == {'seed-1 (10.0.0.5)': [FILE_1, FILE_2]}
    # The signed URL's signature is filtered out of the task ID, like the seed does by default.
    assert out['expected_tasks'][1]['task_id'] == rust_task_id('http://files.test/data/two.bin?keep=1')


def test_unfinished_download_is_not_cached(world, run_module):
    world.put(FILE_1, SEED_1, finished=False)
    world.put(FILE_2, SEED_1)

    result = run(run_module, file_args())

    assert not result.failed, result.output
    assert result.output['changed'] is True and result.output['cached_before'] is False
    preheats = world.posts('preheat')
    # Only the URL that is not cached is preheated.
    assert [call['body']['args']['urls'] for call in preheats] == [[FILE_1]]


def test_normal_peer_does_not_count_for_seed_scopes(world, run_module):
    world.put(FILE_1, PEER_1)

    result = run(run_module, file_args(urls=[FILE_1]))

    assert result.output['cached_before'] is False
    assert len(world.posts('preheat')) == 1


def test_all_seed_peers_with_ips_needs_each_ip(world, run_module):
    world.seeds = [SEED_1, SEED_2]
    world.put(FILE_1, SEED_1)

    result = run(run_module, file_args(urls=[FILE_1], scope='all_seed_peers', ips=[SEED_1['ip'], SEED_2['ip']]))

    assert not result.failed, result.output
    assert result.output['cached_before'] is False and result.output['cached_after'] is True
    body = world.posts('preheat')[0]['body']
    assert body['args']['ips'] == ['10.0.0.5', '10.0.0.6'] and body['args']['scope'] == 'all_seed_peers'
    assert sorted(host['ip'] for host in result.output['hosts']) == ['10.0.0.5', '10.0.0.6']


def test_all_seed_peers_counts_every_seed_seen(world, run_module):
    world.seeds = [SEED_1, SEED_2]
    world.put(FILE_1, SEED_1)
    world.put(FILE_1, SEED_2, finished=False)

    result = run(run_module, file_args(urls=[FILE_1], scope='all_seed_peers'))

    assert result.output['cached_before'] is False
    assert len(world.posts('preheat')) == 1


def test_second_run_is_idempotent(world, run_module):
    first = run(run_module, image_args())
    assert not first.failed, first.output
    assert first.output['changed'] is True
    world.calls = []

    second = run(run_module, image_args())

    assert not second.failed, second.output
    assert second.output['changed'] is False
    assert world.posts('preheat') == []
    # One image round: the manager's own get_task jobs, one per blob, answered within the request.
    assert len(world.posts('get_image_distribution')) == 1 and world.posts('get_task') == []
    assert len(second.output['get_task_job_ids']) == 3
    assert second.output['elapsed'] == 3 and second.output['image_rounds'] == 1


def test_image_round_reads_seed_peers_from_the_rows_not_from_the_answer(world, run_module):
    # The answer of get_image_distribution lists normal peers only; the seed peers are in its get_task rows.
    world.seeds = [SEED_1, SEED_2]
    for url in AMD64_BLOBS:
        world.put(url, SEED_1)
        world.put(url, SEED_2)

    result = run(run_module, image_args(scope='all_seed_peers', ips=['10.0.0.5', '10.0.0.6']))

    assert not result.failed, result.output
    assert result.output['changed'] is False and result.output['cached_before'] is True
    assert sorted(host['ip'] for host in result.output['hosts']) == ['10.0.0.5', '10.0.0.6']


def test_image_round_ignores_rows_older_than_the_request(world, run_module):
    # A get_task row of an earlier run says the blobs were there; the request's own rows say they are gone.
    for url in AMD64_BLOBS:
        world.put(url, SEED_1)
    run(run_module, image_args(force=False))
    world.cache.clear()
    world.calls = []

    result = run(run_module, image_args())

    assert result.output['cached_before'] is False and len(world.posts('preheat')) == 1


def test_image_round_refused_falls_back_to_get_task_jobs(world, run_module):
    for url in AMD64_BLOBS:
        world.put(url, SEED_1)
    world.overrides[('POST', JOBS)] = [(500, {'message': 'get image layers failed: unauthorized'})]

    result = run(run_module, image_args())

    assert not result.failed, result.output
    assert result.output['changed'] is False
    assert len(world.posts('get_image_distribution')) == 1 and len(world.posts('get_task')) == 3
    # The get_task jobs answer at their 30 s refresh.
    assert result.output['elapsed'] >= 30 and result.output['image_rounds'] == 0


# --- first run and waiting --------------------------------------------------------------------------

def test_first_run_preheats_and_waits(world, clock, run_module):
    result = run(run_module, image_args(_ansible_diff=True, tag='team', piece_length=4194304))

    assert not result.failed, result.output
    out = result.output
    assert out['changed'] is True and out['cached_before'] is False and out['cached_after'] is True
    body = world.posts('preheat')[0]['body']
    assert body['type'] == 'preheat' and body['scheduler_cluster_ids'] == [1]
    assert body['args'] == {
        'type': 'image', 'url': f'http://{REGISTRY}/v2/team/app/manifests/1.0', 'platform': 'linux/amd64',
        'scope': 'single_seed_peer', 'tag': 'team', 'piece_length': 4194304,
    }
    assert [task['task_id'] for task in out['expected_tasks']] == [
        rust_task_id(url, tag='team', piece_length=4194304) for url in AMD64_BLOBS]
    # The image rounds saw the blobs before the manager's first refresh of the job row (30 s).
    assert out['job']['state'] == 'PENDING' and out['job']['type'] == 'preheat'
    assert out['diff']['before'] == {}
    assert out['diff']['after'] == {'seed-1 (10.0.0.5)': AMD64_BLOBS}
    # Check: one image round (3 s). Then the preheat (its download ends 11 s later), and an image round every 5 s
    # after the previous one ended: at 5 s (not there yet) and 13 s (there).
    image_round = [('GET', JOBS), ('POST', JOBS), ('GET', JOBS)]
    assert world.requests() == (
        [('GET', JOBS), ('GET', '/v2/team/app/manifests/1.0'), ('GET', f'/v2/team/app/manifests/{DIGEST_AMD64}')]
        + image_round + [('POST', JOBS)] + image_round * 2)
    assert [call['body']['type'] for call in world.posts()] == ['get_image_distribution', 'preheat'] + [
        'get_image_distribution'] * 2
    assert world.posts('get_image_distribution')[0]['body']['args'] == {
        'url': f'http://{REGISTRY}/v2/team/app/manifests/1.0', 'platform': 'linux/amd64', 'tag': 'team',
        'piece_length': 4194304}
    assert len(out['get_task_job_ids']) == 9
    assert out['elapsed'] == 19


def test_image_rounds_catch_a_false_success(world, run_module):
    # The job row says SUCCESS at 30 s, a layer never arrived: the first image round after that fails the module,
    # where get_task jobs would answer 30 s later.
    world.fail_urls = {AMD64_BLOBS[2]}

    result = run(run_module, image_args())

    assert result.failed
    assert 'false success' in result.output['msg'] and AMD64_BLOBS[2] in result.output['msg']
    assert result.output['elapsed'] < 45


def test_get_task_jobs_notice_content_before_the_job_row(world, clock, run_module):
    # Check round at 0 s (answers at 32 s), preheat created at 32 s; the download ends at 91 s. The preheat row is
    # PENDING at its 30 s refresh (64 s) and would show SUCCESS only at its 90 s refresh (124 s); the get_task job
    # created at 64 s sees the content at its own 30 s refresh (96 s).
    world.download_seconds = 58

    result = run(run_module, file_args(urls=[FILE_1]))

    assert not result.failed, result.output
    out = result.output
    assert out['cached_after'] is True
    assert out['job']['state'] == 'PENDING'
    assert out['elapsed'] == 96
    check_job, job, round_job = out['get_task_job_ids'][0], out['job']['id'], out['get_task_job_ids'][1]
    assert world.requests() == [
        ('GET', JOBS), ('POST', JOBS), ('GET', f'{JOBS}/{check_job}'),
        ('POST', JOBS), ('GET', f'{JOBS}/{job}'),
        ('POST', JOBS), ('GET', f'{JOBS}/{round_job}'),
    ]
    assert [call['body']['type'] for call in world.posts()] == ['get_task', 'preheat', 'get_task']


def test_wait_false_returns_after_creating_the_job(world, run_module):
    result = run(run_module, file_args(wait=False, force=True))

    assert not result.failed, result.output
    out = result.output
    assert out['changed'] is True and out['cached_after'] is None and out['cached_before'] is None
    assert world.requests() == [('GET', JOBS), ('POST', JOBS)]
    assert out['job']['state'] == 'PENDING'


def test_force_skips_the_check(world, run_module):
    world.put(FILE_1, SEED_1)
    world.put(FILE_2, SEED_1)

    result = run(run_module, file_args(force=True))

    assert result.output['changed'] is True and result.output['cached_before'] is None
    assert world.posts()[0]['body']['type'] == 'preheat'
    assert world.posts()[0]['body']['args']['urls'] == [FILE_1, FILE_2]


def test_false_success_fails_naming_the_missing_urls(world, run_module):
    world.fail_urls = {FILE_2}

    result = run(run_module, file_args())

    assert result.failed
    msg = result.output['msg']
    assert 'ended SUCCESS' in msg and 'false success' in msg and '3699' in msg
    assert FILE_2 in msg and FILE_1 not in msg.split('ended SUCCESS')[1]
    assert [item['url'] for item in result.output['missing']] == [FILE_2]
    assert result.output['job']['state'] == 'SUCCESS'
    assert [item['url'] for item in result.output['job']['success_tasks']] == [FILE_1]


def test_all_seed_peers_false_success_lists_failure_tasks(world, run_module):
    world.seeds = [SEED_1, SEED_2]
    world.fail_urls = {FILE_2}

    result = run(run_module, file_args(scope='all_seed_peers', ips=['10.0.0.5', '10.0.0.6']))

    assert result.failed
    msg = result.output['msg']
    assert 'connection refused' in msg and 'failure_tasks' in msg
    assert [item['url'] for item in result.output['missing']] == [FILE_2]


def test_job_failure_is_reported(world, run_module):
    world.job_failure = 'cluster 1 scheduler 10.0.0.2 no available seed peer'

    result = run(run_module, file_args(force=True))

    assert result.failed
    assert 'preheat job 100 failed' in result.output['msg']
    assert 'no available seed peer' in result.output['msg']
    assert result.output['job']['state'] == 'FAILURE'


def test_timeout_says_what_is_missing(world, clock, run_module):
    world.download_seconds = 10000

    result = run(run_module, file_args(urls=[FILE_1], force=True, wait_timeout=100))

    assert result.failed
    msg = result.output['msg']
    assert 'within wait_timeout=100 s' in msg and FILE_1 in msg and 'finished on no seed peer' in msg
    assert 'job_info' in msg
    assert 100 <= result.output['elapsed'] <= 106
    # Rows are read at the refreshes, not every poll_interval.
    reads = [call for call in world.calls if call['method'] == 'GET' and call['path'].startswith(JOBS + '/')]
    assert len(reads) <= 6


# --- manager errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize('status, body, expected', [
    (401, {'message': 'Unauthorized'}, 'token was rejected'),
    (403, {'message': 'Forbidden'}, 'lacking scope `job`'),
    (500, {'message': 'candidate schedulers not found'}, 'no active scheduler with the preheat feature'),
])
def test_manager_errors_on_preheat(world, run_module, status, body, expected):
    world.overrides[('POST', JOBS)] = (status, body)

    result = run(run_module, file_args(force=True))

    assert result.failed
    assert expected in result.output['msg'] and result.output['http_status'] == status
    assert result.leaks(TOKEN) == []


def test_rate_limit_is_retried_then_reported(world, clock, run_module):
    world.overrides[('POST', JOBS)] = (429, 'rate limit exceeded')

    result = run(run_module, file_args(force=True))

    assert result.failed
    assert 'rate limited' in result.output['msg'] and 'scheduler_cluster_ids' in result.output['msg']
    assert len(world.posts()) == 4
    assert clock.sleeps[:3] == [2, 4, 8]


def test_loopback_registry_hint(world, run_module):
    world.overrides[('POST', JOBS)] = (500, {'message': 'Get "http://127.0.0.1:5000/v2/": dial tcp: ip 127.0.0.1 is invalid'})

    result = run(run_module, image_args(force=True))

    assert result.failed and 'loopback' in result.output['msg']


def test_manager_unreachable(world, run_module):
    result = run(run_module, file_args(manager_url='http://nowhere.test:8080'))

    assert result.failed
    assert 'manager unreachable' in result.output['msg'] and 'manager_url' in result.output['msg']


def test_missing_token_names_the_environment_variable(world, run_module):
    args = file_args()
    del args['token']

    result = run(run_module, args)

    assert result.failed
    assert 'DRAGONFLY_TOKEN' in result.output['msg']
    assert world.calls == []


# --- registry ---------------------------------------------------------------------------------------

def test_bearer_token_flow_with_credentials(world, run_module):
    world.registry_auth = 'bearer'
    args = image_args(registry_username='puller', registry_password=REGISTRY_PASSWORD, headers={'X-Trace': HEADER_SECRET},
                      _ansible_check_mode=True)

    result = run(run_module, args)

    assert not result.failed, result.output
    hosts = [(call['host'], call['path']) for call in world.calls]
    assert hosts == [
        ('manager.test:8080', JOBS),
        (REGISTRY, '/v2/team/app/manifests/1.0'),
        ('auth.test', '/token'),
        (REGISTRY, '/v2/team/app/manifests/1.0'),
        (REGISTRY, f'/v2/team/app/manifests/{DIGEST_AMD64}'),
    ]
    assert world.calls[3]['headers']['Authorization'] == 'Bearer ' + BEARER
    assert world.calls[3]['headers']['X-Trace'] == HEADER_SECRET
    assert result.leaks(TOKEN, REGISTRY_PASSWORD, HEADER_SECRET, BEARER) == []


def test_bearer_token_sends_credentials_to_the_manager_not_the_token(world, run_module):
    world.registry_auth = 'bearer'
    args = image_args(registry_username='puller', registry_password=REGISTRY_PASSWORD, force=True, wait=False)

    result = run(run_module, args)

    assert not result.failed, result.output
    job_args = world.posts('preheat')[0]['body']['args']
    assert job_args['username'] == 'puller' and job_args['password'] == REGISTRY_PASSWORD
    assert 'headers' not in job_args
    assert result.leaks(TOKEN, REGISTRY_PASSWORD, BEARER) == []


def test_anonymous_token_refused(world, run_module):
    world.registry_auth = 'bearer'

    result = run(run_module, image_args(_ansible_check_mode=True))

    assert result.failed
    assert 'refused an anonymous token' in result.output['msg'] and 'registry_username' in result.output['msg']


def test_wrong_registry_credentials(world, run_module):
    world.registry_auth = 'bearer'

    result = run(run_module, image_args(registry_username='puller', registry_password='wrong-password',
                                        _ansible_check_mode=True))

    assert result.failed
    assert "refused registry_username 'puller'" in result.output['msg']
    assert result.leaks('wrong-password') == []


def test_basic_auth_is_forwarded_to_the_seed_peers(world, run_module):
    world.registry_auth = 'basic'

    result = run(run_module, image_args(registry_username='puller', registry_password=REGISTRY_PASSWORD, force=True,
                                        wait=False))

    assert not result.failed, result.output
    basic = 'Basic ' + base64.b64encode(f'puller:{REGISTRY_PASSWORD}'.encode()).decode()
    assert world.posts('preheat')[0]['body']['args']['headers'] == {'Authorization': basic}
    assert result.leaks(TOKEN, REGISTRY_PASSWORD, basic) == []


def test_platform_not_in_index(world, run_module):
    result = run(run_module, image_args(platform='linux/s390x', _ansible_check_mode=True))

    assert result.failed
    msg = result.output['msg']
    assert 'platform linux/s390x is not in the image index' in msg
    assert 'linux/amd64, linux/arm64/v8' in msg and 'unknown' not in msg
    assert result.output['available_platforms'] == ['linux/amd64', 'linux/arm64/v8']


def test_platform_arm64(world, run_module):
    result = run(run_module, image_args(platform='linux/arm64', _ansible_check_mode=True))

    assert not result.failed, result.output
    assert [task['url'] for task in result.output['expected_tasks']] == [blob(CONFIG_ARM64), blob(LAYER_ARM64)]


def test_single_platform_manifest(world, run_module):
    result = run(run_module, image_args(image=f'{REGISTRY}/team/single:2.0', _ansible_check_mode=True))

    assert not result.failed, result.output
    assert result.output['available_platforms'] == []
    assert len(result.output['expected_tasks']) == 3


def test_manifest_url_option(world, run_module):
    url = f'http://{REGISTRY}/v2/team/app/manifests/1.0'

    result = run(run_module, dict(manager_url=MANAGER_URL, token=TOKEN, url=url, _ansible_check_mode=True))

    assert not result.failed, result.output
    assert result.output['manifest_url'] == url


def test_unknown_tag(world, run_module):
    result = run(run_module, image_args(image=f'{REGISTRY}/team/app:9.9', _ansible_check_mode=True))

    assert result.failed
    assert 'manifest not found' in result.output['msg'] and 'MANIFEST_UNKNOWN' in result.output['msg']


def test_registry_unreachable(world, run_module):
    result = run(run_module, image_args(image='nowhere.test:5000/team/app:1.0', _ansible_check_mode=True))

    assert result.failed
    assert 'registry unreachable' in result.output['msg'] and 'insecure_registry' in result.output['msg']


# --- docker_hub_host ---------------------------------------------------------------------------------

@pytest.mark.parametrize('extra, host', [
    ({}, 'registry-1.docker.io'),
    (dict(docker_hub_host='index.docker.io'), 'index.docker.io'),
    (dict(docker_hub_host='docker.io'), 'docker.io'),
])
def test_docker_hub_host_names_the_blob_urls_of_docker_hub_images(world, run_module, extra, host):
    result = run(run_module, dict(manager_url=MANAGER_URL, token=TOKEN, image='team/app:1.0', _ansible_check_mode=True,
                                  **extra))

    assert not result.failed, result.output
    out = result.output
    assert out['manifest_url'] == f'https://{host}/v2/team/app/manifests/1.0'
    urls = [f'https://{host}/v2/team/app/blobs/{digest}' for digest in (CONFIG_AMD64, LAYER_AMD64_1, LAYER_AMD64_2)]
    assert [task['url'] for task in out['expected_tasks']] == urls
    # The host is part of the task ID: each host gives other IDs.
    assert [task['task_id'] for task in out['expected_tasks']] == [rust_task_id(url) for url in urls]
    assert {call['host'] for call in world.calls[1:]} == {host}


def test_docker_hub_host_leaves_other_registries_and_urls_alone(world, run_module):
    result = run(run_module, image_args(docker_hub_host='index.docker.io', _ansible_check_mode=True))

    assert not result.failed, result.output
    assert [task['url'] for task in result.output['expected_tasks']] == AMD64_BLOBS

    url = 'https://registry-1.docker.io/v2/team/app/manifests/1.0'
    result = run(run_module, dict(manager_url=MANAGER_URL, token=TOKEN, url=url, docker_hub_host='index.docker.io',
                                  _ansible_check_mode=True))

    assert not result.failed, result.output
    assert result.output['manifest_url'] == url
    assert all(task['url'].startswith('https://registry-1.docker.io/') for task in result.output['expected_tasks'])


@pytest.mark.parametrize('value', ['https://index.docker.io', 'index.docker.io/v2', 'hub:99999', ''])
def test_bad_docker_hub_host(world, run_module, value):
    result = run(run_module, dict(manager_url=MANAGER_URL, token=TOKEN, image='alpine:3.20', docker_hub_host=value))

    assert result.failed
    assert result.output['msg'].startswith('docker_hub_host: ') and 'registry-1.docker.io' in result.output['msg']
    assert world.calls == []


# --- credentials -------------------------------------------------------------------------------------

BASIC = 'Basic ' + base64.b64encode(f'puller:{REGISTRY_PASSWORD}'.encode()).decode()
FILES_PASSWORD = 'f1les-Pa55word'
FILES_BASIC = 'Basic ' + base64.b64encode(f'fetcher:{FILES_PASSWORD}'.encode()).decode()
CREDENTIALS = [
    dict(registry='ghcr.io', username='other', password='other-password'),
    dict(registry=REGISTRY, username='puller', password=REGISTRY_PASSWORD, ca_path='/etc/ssl/registry-ca.pem'),
    dict(registry='docker.io', username='puller', password=REGISTRY_PASSWORD),
    dict(url_prefix='http://files.test/', username='wrong', password='wrong-password'),
    dict(url_prefix='http://files.test/data', username='fetcher', password=FILES_PASSWORD),
]
SECRETS = (TOKEN, REGISTRY_PASSWORD, BASIC, FILES_PASSWORD, FILES_BASIC, BEARER, 'other-password', 'wrong-password')


def test_credentials_entry_of_the_image_registry(world, run_module):
    world.registry_auth = 'bearer'

    result = run(run_module, image_args(credentials=CREDENTIALS, force=True, wait=False))

    assert not result.failed, result.output
    assert result.output['credentials_used'] == REGISTRY
    job_args = world.posts('preheat')[0]['body']['args']
    assert job_args['username'] == 'puller' and job_args['password'] == REGISTRY_PASSWORD
    assert {call['ca_path'] for call in world.calls if call['host'] in (REGISTRY, 'auth.test')} == {'/etc/ssl/registry-ca.pem'}
    assert result.leaks(*SECRETS) == []
    # Names and URLs stay visible.
    assert result.output['invocation']['module_args']['credentials'][1]['registry'] == REGISTRY
    assert result.output['invocation']['module_args']['credentials'][4]['url_prefix'] == 'http://files.test/data'


def test_explicit_registry_options_win_over_the_entry(world, run_module):
    world.registry_auth = 'basic'
    credentials = [dict(registry=REGISTRY, username='puller', password='wrong-password')]

    result = run(run_module, image_args(credentials=credentials, registry_username='puller',
                                        registry_password=REGISTRY_PASSWORD, force=True, wait=False))

    assert not result.failed, result.output
    assert result.output['credentials_used'] is None
    assert world.posts('preheat')[0]['body']['args']['headers'] == {'Authorization': BASIC}
    assert result.leaks(*SECRETS) == []


def test_docker_io_entry_applies_whatever_docker_hub_host_says(world, run_module):
    world.registry_auth = 'basic'

    result = run(run_module, dict(manager_url=MANAGER_URL, token=TOKEN, image='team/app:1.0', docker_hub_host='index.docker.io',
                                  credentials=CREDENTIALS, force=True, wait=False))

    assert not result.failed, result.output
    assert result.output['credentials_used'] == 'docker.io'
    job_args = world.posts('preheat')[0]['body']['args']
    assert job_args['url'] == 'https://index.docker.io/v2/team/app/manifests/1.0'
    assert job_args['headers'] == {'Authorization': BASIC}
    assert result.leaks(*SECRETS) == []


def test_no_matching_entry_reads_anonymously(world, run_module):
    result = run(run_module, image_args(credentials=CREDENTIALS[:1] + CREDENTIALS[3:], _ansible_check_mode=True))

    assert not result.failed, result.output
    assert result.output['credentials_used'] is None
    assert all('Authorization' not in call['headers'] for call in world.calls[1:])


def test_file_entry_becomes_the_authorization_header_of_the_job(world, run_module):
    result = run(run_module, file_args(credentials=CREDENTIALS, force=True, wait=False))

    assert not result.failed, result.output
    assert result.output['credentials_used'] == 'http://files.test/data'
    job_args = world.posts('preheat')[0]['body']['args']
    assert job_args['headers'] == {'Authorization': FILES_BASIC}
    assert 'username' not in job_args and 'password' not in job_args
    assert result.leaks(*SECRETS) == []


def test_headers_authorization_wins_over_a_file_entry(world, run_module):
    result = run(run_module, file_args(credentials=CREDENTIALS, headers={'Authorization': 'Bearer ' + HEADER_SECRET},
                                       force=True, wait=False))

    assert not result.failed, result.output
    assert result.output['credentials_used'] is None
    assert world.posts('preheat')[0]['body']['args']['headers'] == {'Authorization': 'Bearer ' + HEADER_SECRET}


def test_file_urls_of_different_entries_fail_naming_them(world, run_module):
    urls = [FILE_1, 'http://files.test/other/three.bin', 'http://elsewhere.test/four.bin']

    result = run(run_module, file_args(urls=urls, credentials=CREDENTIALS))

    assert result.failed
    msg = result.output['msg']
    assert 'match different credentials entries' in msg
    assert f'http://files.test/data: {FILE_1}' in msg
    assert 'http://files.test/: http://files.test/other/three.bin' in msg
    assert 'no entry: http://elsewhere.test/four.bin' in msg
    assert world.posts() == []
    assert result.leaks(*SECRETS) == []


@pytest.mark.parametrize('entries, expected', [
    ([dict(username='x')], 'credentials[0]: set exactly one of registry'),
    ([dict(registry='ghcr.io'), dict(registry=REGISTRY, url_prefix='http://files.test/')],
     'credentials[1]: set exactly one of registry'),
    ([dict(registry='https://ghcr.io')], 'credentials[0].registry: '),
    ([dict(url_prefix='files.test/data')], "credentials[0].url_prefix: 'files.test/data' must be an http:// or https://"),
    ([dict(url_prefix='http://files.test/data', ca_path='/etc/ca.pem')],
     'credentials[0].ca_path: a CA does not apply to files (url_prefix http://files.test/data): the seed peers do not verify'),
    ([dict(registry='docker.io'), dict(registry='Index.Docker.io')],
     "credentials[1].registry: 'Index.Docker.io' names the same registry as credentials[0]"),
    ([dict(url_prefix='http://files.test/data/'), dict(url_prefix='http://FILES.test:80/data')],
     'credentials[1].url_prefix'),
    ([dict(registry=REGISTRY, password=REGISTRY_PASSWORD)], 'credentials[0]: password needs username'),
])
def test_bad_credentials(world, run_module, entries, expected):
    result = run(run_module, image_args(credentials=entries))

    assert result.failed
    assert expected in result.output['msg'], result.output['msg']
    assert world.calls == []
    assert result.leaks(REGISTRY_PASSWORD) == []


def test_url_prefix_with_credentials_in_it_is_not_echoed(world, run_module):
    result = run(run_module, file_args(credentials=[dict(url_prefix=f'http://u:{FILES_PASSWORD}@files.test/')]))

    assert result.failed and 'must not contain credentials' in result.output['msg']
    assert FILES_PASSWORD not in result.output['msg']


# --- TLS and registry refusals ----------------------------------------------------------------------

CERT_ERROR = ('<urlopen error [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer '
              'certificate (_ssl.c:1006)>')


@pytest.mark.parametrize('extra, name', [
    ({}, REGISTRY),
    (dict(image='team/app:1.0', insecure_registry=False, docker_hub_host='index.docker.io'), 'docker.io'),
])
def test_registry_certificate_the_module_cannot_verify(world, run_module, extra, name):
    world.overrides[('GET', '/v2/team/app/manifests/1.0')] = (-1, CERT_ERROR)

    result = run(run_module, image_args(_ansible_check_mode=True, **extra))

    assert result.failed
    msg = result.output['msg']
    assert 'CERTIFICATE_VERIFY_FAILED' in msg and 'could not verify' in msg
    assert f'set registry_ca_path (or ca_path of the credentials entry for {name})' in msg
    assert 'unreachable' not in msg


def test_token_service_certificate_the_module_cannot_verify(world, run_module):
    world.registry_auth = 'bearer'
    world.overrides[('GET', '/token')] = (-1, CERT_ERROR)

    result = run(run_module, image_args(registry_username='puller', registry_password=REGISTRY_PASSWORD,
                                        _ansible_check_mode=True))

    assert result.failed
    msg = result.output['msg']
    assert "token service at http://auth.test/token presented a TLS certificate" in msg
    assert f'set registry_ca_path (or ca_path of the credentials entry for {REGISTRY})' in msg
    assert result.leaks(*SECRETS) == []


def test_manager_cannot_verify_the_registry(world, run_module):
    error = (f'Get "https://{REGISTRY}/v2/team/app/manifests/1.0": tls: failed to verify certificate: x509: '
             'certificate signed by unknown authority')
    world.overrides[('POST', JOBS)] = (500, {'message': error})

    result = run(run_module, image_args(force=True, wait=False))

    assert result.failed
    msg = result.output['msg']
    assert f"the manager could not verify {REGISTRY}'s certificate: {error}" in msg
    assert 'job.preheat.tls.caCert' in msg and 'dragonfly_manager_preheat_ca_bundle' in msg
    assert 'dragonfly_manager_preheat_insecure_skip_verify, not recommended' in msg
    assert "read the manager's log" not in msg
    assert result.output['http_status'] == 500


@pytest.mark.parametrize('extra, fields', [
    (dict(registry_username='puller', registry_password=REGISTRY_PASSWORD),
     f'registry_username and registry_password (or the credentials entry for {REGISTRY})'),
    (dict(credentials=CREDENTIALS), f'the username and password of the credentials entry for {REGISTRY}'),
])
def test_registry_refuses_the_manager(world, run_module, extra, fields):
    world.registry_auth = 'basic'
    # A body that echoes the secrets: none of them may reach the output.
    error = f'unexpected status code 401 Unauthorized: {BASIC} {REGISTRY_PASSWORD}'
    world.overrides[('POST', JOBS)] = (500, {'message': error})

    result = run(run_module, image_args(force=True, wait=False, **extra))

    assert result.failed
    msg = result.output['msg']
    assert f"the registry {REGISTRY} refused the manager's request for the manifest (unexpected status code 401" in msg
    assert fields in msg
    assert result.leaks(*SECRETS) == []


def test_file_job_refused_keeps_the_generic_advice(world, run_module):
    world.overrides[('POST', JOBS)] = (500, {'message': 'x509: something'})

    result = run(run_module, file_args(force=True, wait=False))

    assert result.failed
    assert "read the manager's log" in result.output['msg'] and 'caCert' not in result.output['msg']


# --- input validation --------------------------------------------------------------------------------

@pytest.mark.parametrize('extra, expected', [
    (dict(scope='all_seed_peers', ips=['10.0.0.5'], percentage=50), 'ips and percentage are mutually exclusive'),
    (dict(ips=['10.0.0.5']), 'only applies to scope all_seed_peers or all_peers'),
    (dict(scope='all_seed_peers', count=201), 'count must be between 1 and 200'),
    (dict(scope='all_seed_peers', percentage=0), 'percentage must be between 1 and 100'),
    (dict(scope='all_peers', ips=['10.0.0.300']), "ips: '10.0.0.300' is not an IP address"),
    (dict(scope='somewhere'), 'value of scope must be one of: single_seed_peer, all_seed_peers, all_peers'),
    (dict(urls=['ftp://files.test/a']), 'must be an http:// or https:// URL'),
    (dict(urls=['not a url']), "urls: 'not a url' is not a valid URL"),
    (dict(piece_length=1024), 'piece_length must be between 4194304 (4 MiB) and 67108864 (64 MiB)'),
    (dict(concurrent_task_count=101), 'concurrent_task_count must be between 1 and 100'),
    (dict(scheduler_cluster_ids=[]), 'scheduler_cluster_ids must name at least one'),
    (dict(type='image'), 'urls is for type=file'),
    (dict(registry_username='x'), 'registry_username only applies to type=image'),
    (dict(client_version='latest'), 'client_version: client_version must look like "1.4.0"'),
])
def test_bad_file_input(world, run_module, extra, expected):
    result = run(run_module, file_args(**extra))

    assert result.failed
    assert expected in result.output['msg'], result.output['msg']
    assert world.calls == []


@pytest.mark.parametrize('extra, expected', [
    (dict(image='Team/App:1.0'), 'image: invalid image reference'),
    (dict(platform='linux/amd64/v2/x'), 'platform: invalid platform'),
    (dict(scheme='https'), 'insecure_registry=true means scheme http'),
    (dict(image=None, insecure_registry=False, url='http://registry.test/v2/team/app/tags/list'), 'is not a manifest URL'),
    (dict(image=None, insecure_registry=False), 'needs option image'),
    (dict(image='localhost:5000/team/app:1.0'), 'image: the registry address localhost:5000 is a loopback'),
    (dict(image=None, insecure_registry=False, url='http://127.0.0.1:5000/v2/team/app/manifests/1.0'),
     'url: the registry address 127.0.0.1:5000 is a loopback'),
    (dict(image='[::1]:5000/team/app:1.0'), 'loopback or link-local'),
    (dict(image=None, insecure_registry=False, url='http://registry.test/v2/team/app/manifests/1.0', scheme='http'),
     "missing parameter(s) required by 'scheme': image"),
    (dict(image=None, url='http://registry.test/v2/team/app/manifests/1.0'), 'insecure_registry only applies to option image'),
])
def test_bad_image_input(world, run_module, extra, expected):
    args = image_args(**extra)
    args = dict((key, value) for key, value in args.items() if value is not None)

    result = run(run_module, args)

    assert result.failed
    assert expected in result.output['msg'], result.output['msg']
    assert world.calls == []


def test_secrets_never_in_output(world, run_module):
    world.registry_auth = 'basic'
    args = image_args(registry_username='puller', registry_password=REGISTRY_PASSWORD,
                      headers={'X-Trace': HEADER_SECRET}, _ansible_diff=True)

    result = run(run_module, args)

    assert not result.failed, result.output
    basic = 'Basic ' + base64.b64encode(f'puller:{REGISTRY_PASSWORD}'.encode()).decode()
    assert result.leaks(TOKEN, REGISTRY_PASSWORD, HEADER_SECRET, basic) == []


def test_given_authorization_header_is_used_for_the_manifest(world, run_module):
    world.registry_auth = 'bearer'

    result = run(run_module, image_args(headers={'Authorization': 'Bearer ' + BEARER}, _ansible_check_mode=True))

    assert not result.failed, result.output
    assert [call['host'] for call in world.calls] == ['manager.test:8080', REGISTRY, REGISTRY]
    assert result.leaks(BEARER) == []


def test_given_authorization_header_refused(world, run_module):
    world.registry_auth = 'bearer'

    result = run(run_module, image_args(headers={'Authorization': 'Bearer expired'}, _ansible_check_mode=True))

    assert result.failed
    assert 'refused the Authorization header given in option headers' in result.output['msg']


# --- local cache (cache_dir) ------------------------------------------------------------------------

# The content of every simulated blob: the test digests are the sha256 of these texts.
BLOB_CONTENT = dict((digest_of(text), text.encode()) for text in (
    'config-amd64', 'layer-amd64-1', 'layer-amd64-2', 'config-arm64', 'layer-arm64'))
FILE_CONTENT = {FILE_1: b'one' * 1000, FILE_2: b'two' * 1000}
FILE_SHA256 = dict((url, hashlib.sha256(data).hexdigest()) for url, data in FILE_CONTENT.items())


def content_of(url):
    if '/blobs/' in url:
        return BLOB_CONTENT[url.rsplit('/', 1)[1]]
    return FILE_CONTENT[url]


class SeedDisk(object):
    """SEED_1's cache directory on this host. Like the Rust client, a simulated preheat creates the content file at its
    full length (zeros) when the download starts and has the content in it when the download ends; a task the seed
    holds as finished (``keep``) is not downloaded again, whatever its file holds."""

    def __init__(self, root, clock):
        self.root = str(root)
        self.host = SEED_1
        self.pending = []
        self.keep = set()
        os.makedirs(os.path.join(self.root, 'content', 'tasks'))
        clock.hooks.append(self.advance)

    def path(self, url, **id_args):
        return task_content_path(self.root, rust_task_id(url, **id_args))

    @staticmethod
    def _write(path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as stream:
            stream.write(data)
        # Written a while ago: the module remembers its hash for this state of the file.
        past = time.time() - 10
        os.utime(path, (past, past))

    def put(self, url, data=None, **id_args):
        path = self.path(url, **id_args)
        self._write(path, content_of(url) if data is None else data)
        return path

    def schedule(self, url, tid, start, end):
        if url in self.keep:
            return
        path = task_content_path(self.root, tid)
        self.pending.append((start, path, None, len(content_of(url))))
        self.pending.append((end, path, content_of(url), None))

    def advance(self, now):
        due = [item for item in self.pending if item[0] <= now]
        self.pending = [item for item in self.pending if item[0] > now]
        for dummy, path, data, length in due:
            if data is not None:
                self._write(path, data)
            elif not os.path.exists(path):
                self._write(path, b'\0' * length)


@pytest.fixture
def disk(world, clock, tmp_path):
    world.disk = SeedDisk(tmp_path / 'seed-cache', clock)
    return world.disk


def local_args(disk, **extra):
    return image_args(cache_dir=disk.root, **extra)


def test_local_cache_complete_makes_no_job(world, disk, run_module):
    for url in AMD64_BLOBS:
        disk.put(url)

    result = run(run_module, local_args(disk, _ansible_diff=True))

    assert not result.failed, result.output
    out = result.output
    assert out['changed'] is False and out['cached_before'] is True and out['cached_after'] is True
    assert out['verified_locally'] is True and out['job'] is None
    assert world.posts() == []
    assert world.requests() == [('GET', JOBS), ('GET', '/v2/team/app/manifests/1.0'),
                                ('GET', f'/v2/team/app/manifests/{DIGEST_AMD64}')]
    assert [(item['url'], item['verified'], item['cause']) for item in out['local']] == [
        (url, True, None) for url in AMD64_BLOBS]
    assert out['local'][0]['path'] == disk.path(AMD64_BLOBS[0])
    assert out['elapsed'] < 1
    assert out['diff']['before'] == out['diff']['after'] == {f'cache_dir {disk.root}': AMD64_BLOBS}
    assert out['get_task_job_ids'] == [] and out['hosts'] == []


def test_local_cache_incomplete_preheats_without_get_task_and_returns_on_disk(world, clock, disk, run_module):
    disk.put(AMD64_BLOBS[0])
    disk.put(AMD64_BLOBS[1])

    result = run(run_module, local_args(disk, _ansible_diff=True))

    assert not result.failed, result.output
    out = result.output
    assert out['changed'] is True and out['cached_before'] is False and out['cached_after'] is True
    assert out['verified_locally'] is True and all(item['verified'] for item in out['local'])
    # No get_task job, no read of the job row: the content is on disk 11 s after the job was created (download
    # 10 s), long before the manager's 30 s refresh of the row.
    assert [call['body']['type'] for call in world.posts()] == ['preheat']
    assert out['get_task_job_ids'] == []
    assert world.requests()[-1] == ('POST', JOBS)
    assert out['job']['state'] == 'PENDING'
    assert 11 <= out['elapsed'] <= 11.2
    # The local cache is looked at five times a second.
    assert set(clock.sleeps) == {0.2}
    assert out['diff'] == {'before': {f'cache_dir {disk.root}': AMD64_BLOBS[:2]},
                           'after': {f'cache_dir {disk.root}': AMD64_BLOBS}}


def test_local_files_with_checksums(world, clock, disk, run_module):
    disk.put(FILE_2)
    args = file_args(cache_dir=disk.root, checksums={FILE_1: FILE_SHA256[FILE_1], FILE_2: 'sha256:' + FILE_SHA256[FILE_2]})

    result = run(run_module, args)

    assert not result.failed, result.output
    out = result.output
    # Only the file missing here is preheated; the wait ends on the disk.
    assert [call['body']['args']['urls'] for call in world.posts()] == [[FILE_1]]
    assert out['verified_locally'] is True and out['job']['state'] == 'PENDING'
    assert out['elapsed'] < 12

    world.calls = []
    again = run(run_module, args)

    assert again.output['changed'] is False and world.posts() == []


def test_local_file_without_checksum_is_asked_to_the_manager(world, disk, run_module):
    world.put(FILE_1, SEED_1)
    disk.put(FILE_1)

    result = run(run_module, file_args(urls=[FILE_1], cache_dir=disk.root))

    assert not result.failed, result.output
    out = result.output
    # Present but not verifiable (its size proves nothing): the manager decides.
    assert out['changed'] is False and out['verified_locally'] is False
    assert 'without an expected sha256' in out['local'][0]['cause']
    assert [call['body']['type'] for call in world.posts()] == ['get_task']


def test_corrupt_local_file_is_not_accepted(world, clock, disk, run_module, monkeypatch):
    for url in AMD64_BLOBS:
        disk.put(url)
    corrupt = disk.put(AMD64_BLOBS[2], data=b'x' * len(content_of(AMD64_BLOBS[2])))
    # The seed's metadata still marks the task finished: the preheat does not download it again.
    disk.keep.add(AMD64_BLOBS[2])
    hashed = []
    real_sha256_file = _hashing.sha256_file
    monkeypatch.setattr(_hashing, 'sha256_file', lambda path, *args: hashed.append(path) or real_sha256_file(path, *args))

    result = run(run_module, local_args(disk, seed_ip=SEED_1['ip']))

    assert not result.failed, result.output
    out = result.output
    assert out['changed'] is True and out['cached_before'] is False
    assert out['verified_locally'] is False
    bad = out['local'][2]
    assert bad['verified'] is False and 'sha256 differs' in bad['cause'] and bad['path'] == corrupt
    # Without a local verification the module waited for the job row (SUCCESS at its 30 s refresh), and says what is
    # wrong on this seed peer.
    assert out['job']['state'] == 'SUCCESS' and out['elapsed'] == 32
    warnings = result.output['warnings']
    assert len(warnings) == 1 and AMD64_BLOBS[2] in warnings[0] and 'sha256 differs' in warnings[0]
    # The unchanged corrupt file was hashed once, not at every look.
    assert hashed.count(corrupt) == 1


def test_failure_row_fails_before_the_disk_completes(world, disk, run_module):
    world.job_failure = 'cluster 1 scheduler 10.0.0.2 no available seed peer'
    world.download_seconds = 60

    result = run(run_module, local_args(disk))

    assert result.failed
    out = result.output
    assert 'preheat job 100 failed' in out['msg'] and 'no available seed peer' in out['msg']
    assert out['job']['state'] == 'FAILURE' and out['elapsed'] == 32
    assert out['verified_locally'] is False and not any(item['verified'] for item in out['local'])


def test_timeout_names_the_local_state(world, disk, run_module):
    world.download_seconds = 10000

    result = run(run_module, file_args(urls=[FILE_1], cache_dir=disk.root, checksums={FILE_1: FILE_SHA256[FILE_1]},
                                       wait_timeout=20))

    assert result.failed
    msg = result.output['msg']
    assert 'within wait_timeout=20 s' in msg and 'in cache_dir: its sha256 differs' in msg


@pytest.mark.parametrize('present, changed, cached_before', [(3, False, True), (1, True, False)])
def test_local_check_mode_creates_nothing(world, disk, run_module, present, changed, cached_before):
    for url in AMD64_BLOBS[:present]:
        disk.put(url)

    result = run(run_module, local_args(disk, _ansible_check_mode=True, _ansible_diff=True))

    assert not result.failed, result.output
    out = result.output
    assert world.posts() == [] and all(method == 'GET' for method, path in world.requests())
    assert out['changed'] is changed and out['cached_before'] is cached_before and out['job'] is None
    assert out['diff']['before'] == {f'cache_dir {disk.root}': AMD64_BLOBS[:present]}


def test_local_check_mode_without_a_local_answer_predicts_a_change(world, disk, run_module):
    disk.put(FILE_1)

    result = run(run_module, file_args(urls=[FILE_1], cache_dir=disk.root, scope='all_seed_peers', count=2,
                                       _ansible_check_mode=True))

    assert result.output['changed'] is True and result.output['cached_before'] is None
    assert world.posts() == []


def test_local_cache_with_other_ips_asks_the_manager(world, disk, run_module):
    world.seeds = [SEED_1, SEED_2]
    args = file_args(urls=[FILE_1], cache_dir=disk.root, seed_ip=SEED_1['ip'], scope='all_seed_peers',
                     ips=[SEED_1['ip'], SEED_2['ip']], checksums={FILE_1: FILE_SHA256[FILE_1]}, _ansible_diff=True)
    disk.put(FILE_1)
    world.put(FILE_1, SEED_1)

    result = run(run_module, args)

    # This seed peer alone is not enough: get_task jobs find the file missing on 10.0.0.6, the preheat goes on, and the
    # manager's answer ends the wait.
    assert not result.failed, result.output
    out = result.output
    assert [call['body']['type'] for call in world.posts()] == ['get_task', 'preheat']
    assert out['cached_before'] is False and out['verified_locally'] is True
    assert out['diff']['before'] == {'seed-1 (10.0.0.5)': [FILE_1]}
    assert out['diff']['after'] == {'seed-1 (10.0.0.5)': [FILE_1], 'seed-2 (10.0.0.6)': [FILE_1]}
    assert 'warnings' not in out


def test_local_cache_lacking_a_file_of_its_ips_skips_get_task(world, disk, run_module):
    world.seeds = [SEED_1, SEED_2]
    args = file_args(cache_dir=disk.root, seed_ip=SEED_1['ip'], scope='all_seed_peers', ips=[SEED_1['ip'], SEED_2['ip']],
                     checksums={FILE_1: FILE_SHA256[FILE_1], FILE_2: FILE_SHA256[FILE_2]})
    disk.put(FILE_1)

    result = run(run_module, args)

    assert not result.failed, result.output
    # This seed peer lacks FILE_2: a preheat is needed without asking. Both URLs go, since the other seed peer's state
    # is unknown.
    assert [call['body']['type'] for call in world.posts()] == ['preheat']
    assert world.posts()[0]['body']['args']['urls'] == [FILE_1, FILE_2]
    assert result.output['verified_locally'] is True and result.output['job']['state'] == 'SUCCESS'


def test_several_scheduler_clusters_are_not_settled_locally(world, disk, run_module):
    for url in AMD64_BLOBS:
        disk.put(url)
    for url in AMD64_BLOBS:
        world.put(url, SEED_1)

    result = run(run_module, local_args(disk, scheduler_cluster_ids=[1, 2], force=False))

    # The manager is asked (an image round), though the disk holds every blob.
    assert [call['body']['type'] for call in world.posts()][:1] == ['get_image_distribution']


def test_count_one_is_settled_locally(world, disk, run_module):
    for url in AMD64_BLOBS:
        disk.put(url)

    result = run(run_module, local_args(disk, scope='all_seed_peers', count=1))

    assert result.output['changed'] is False and world.posts() == []


def test_force_with_cache_dir_still_returns_on_disk(world, disk, run_module):
    for url in AMD64_BLOBS:
        disk.put(url)

    result = run(run_module, local_args(disk, force=True))

    assert not result.failed, result.output
    out = result.output
    assert out['changed'] is True and out['cached_before'] is None
    assert [call['body']['type'] for call in world.posts()] == ['preheat']
    # Already complete at the first look after the job was created.
    assert out['verified_locally'] is True and out['elapsed'] == 0


def test_local_secrets_never_in_output(world, disk, run_module):
    world.registry_auth = 'basic'
    args = local_args(disk, registry_username='puller', registry_password=REGISTRY_PASSWORD,
                      headers={'X-Trace': HEADER_SECRET}, _ansible_diff=True)

    result = run(run_module, args)

    assert not result.failed, result.output
    assert result.output['verified_locally'] is True
    basic = 'Basic ' + base64.b64encode(f'puller:{REGISTRY_PASSWORD}'.encode()).decode()
    assert result.leaks(TOKEN, REGISTRY_PASSWORD, HEADER_SECRET, basic) == []


def test_without_cache_dir_no_local_keys(world, run_module):
    result = run(run_module, file_args(force=True, wait=False))

    assert 'verified_locally' not in result.output and 'local' not in result.output


@pytest.mark.parametrize('extra, expected', [
    (dict(layout='legacy_go'), 'layout=legacy_go is not supported'),
    (dict(seed_ip='10.0.0.5'), 'seed_ip only applies with cache_dir'),
    (dict(checksums={FILE_1: 'a' * 64}), 'checksums only applies with cache_dir'),
    (dict(cache_dir='/nonexistent/seed-cache'), 'cache_dir /nonexistent/seed-cache does not exist'),
    (dict(cache_dir='{disk}', seed_ip='seed-1'), "seed_ip: 'seed-1' is not an IP address"),
    (dict(cache_dir='{disk}', checksums={'http://files.test/other': 'a' * 64}), 'is not one of urls'),
    (dict(cache_dir='{disk}', checksums={FILE_1: 'md5:abc'}), 'is not a sha256 digest'),
])
def test_bad_local_input(world, disk, run_module, extra, expected):
    extra = dict((key, disk.root if value == '{disk}' else value) for key, value in extra.items())

    result = run(run_module, file_args(**extra))

    assert result.failed
    assert expected in result.output['msg'], result.output['msg']
    assert world.calls == []


def test_checksums_refused_for_images(world, disk, run_module):
    result = run(run_module, local_args(disk, checksums={AMD64_BLOBS[0]: 'a' * 64}))

    assert result.failed and 'checksums only applies to type=file' in result.output['msg']
    assert world.calls == []


def test_cache_dir_without_content_tasks_warns(world, tmp_path, run_module):
    result = run(run_module, file_args(cache_dir=str(tmp_path), force=True, wait=False))

    assert not result.failed, result.output
    assert any('has no content/tasks directory' in warning for warning in result.output['warnings'])
    assert 'no content/tasks directory' in result.output['local'][0]['cause']
