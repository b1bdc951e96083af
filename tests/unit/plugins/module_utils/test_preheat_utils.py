# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils import _jobs
from ansible_collections.p2p.dragonfly.plugins.module_utils._jobs import (
    TrackedJob,
    get_task_peers,
    preheat_outcome,
    redact_job_args,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._image_round import image_round, image_round_body
from ansible_collections.p2p.dragonfly.plugins.module_utils._placement import Observations, Requirement
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat import PreheatError, expected_tasks
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat_options import check_registry_host, check_selection
from ansible_collections.p2p.dragonfly.plugins.module_utils._registry import parse_challenge
from ansible_collections.p2p.dragonfly.plugins.module_utils._task_id import task_id


BLOB = 'https://registry.example.com/v2/team/app/blobs/sha256:' + 'a' * 64
SEED_1 = ('10.0.0.5', 'seed-1')
SEED_2 = ('10.0.0.6', 'seed-2')


def test_refresh_offsets_follow_the_manager_back_off():
    # pollingJob(30 s, max 300 s, 16 attempts), retry-go BackOffDelay: 30 << (n-1), capped.
    assert _jobs.REFRESH_OFFSETS[:6] == (30, 90, 210, 450, 750, 1050)
    assert len(_jobs.REFRESH_OFFSETS) == 15
    assert _jobs.REFRESH_OFFSETS[-1] == 3750


def test_tracked_job_is_read_only_after_refreshes(monkeypatch):
    job = TrackedJob(dict(id=1, state='PENDING'), created_at=100.0)
    assert not job.due(101.0)
    assert not job.due(131.0)
    assert job.due(132.0)
    job.last_read = 132.0
    assert not job.due(150.0)
    assert job.next_due() == 192.0
    # At least every MAX_POLL_GAP seconds, even when no refresh is due.
    job.last_read = 200.0
    assert job.next_due() == 260.0
    assert job.due(260.0)
    job.row = dict(id=1, state='SUCCESS')
    assert not job.due(10000.0) and job.next_due() is None


def test_expected_tasks_use_the_seed_task_id():
    tasks = expected_tasks([(BLOB, 'sha256:' + 'a' * 64), (BLOB, 'sha256:' + 'a' * 64)], tag='t', application='app',
                           piece_length=4194304)
    assert tasks == [dict(url=BLOB, task_id=task_id(BLOB, tag='t', application='app', piece_length=4194304),
                          digest='sha256:' + 'a' * 64)]
    # Empty tag and application add nothing, like Some("") in the client.
    assert expected_tasks([(BLOB, None)], tag='', application='')[0]['task_id'] == task_id(BLOB)


def test_expected_tasks_filters():
    url = 'https://files.example.com/a?Expires=1&b=2'
    default = expected_tasks([(url, None)])[0]['task_id']
    assert default == task_id('https://files.example.com/a?b=2', filtered_query_params=[])
    custom = expected_tasks([(url, None)], filtered_query_params=['b'])[0]['task_id']
    assert custom == task_id('https://files.example.com/a?Expires=1', filtered_query_params=[])


def test_expected_tasks_follow_the_client_version():
    # A file URL whose query clients v1.5.3+ sort: the seed peer's ID, so its cache file, depends on its release.
    url = 'https://files.example.com/a?z=1&b=2'
    newer = expected_tasks([(url, None)], client_version='1.5.10')[0]['task_id']
    older = expected_tasks([(url, None)], client_version='1.4.0')[0]['task_id']
    sorted_id = task_id('https://files.example.com/a?b=2&z=1', filtered_query_params=['none'])
    assert newer == expected_tasks([(url, None)])[0]['task_id'] == sorted_id
    assert older == task_id(url, client_version='1.4.0') != newer


def test_parse_challenge():
    scheme, params = parse_challenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
                                     'scope="repository:library/alpine:pull"')
    assert scheme == 'bearer'
    assert params == dict(realm='https://auth.docker.io/token', service='registry.docker.io',
                          scope='repository:library/alpine:pull')
    assert parse_challenge('Basic realm="Registry Realm"') == ('basic', dict(realm='Registry Realm'))
    assert parse_challenge(None) == (None, {})


@pytest.mark.parametrize('scope, ips, count, percentage, message', [
    ('all_seed_peers', ['10.0.0.1'], 2, None, 'ips and count are mutually exclusive'),
    ('all_seed_peers', None, 2, 50, 'count and percentage are mutually exclusive'),
    ('single_seed_peer', None, 2, None, 'count only applies to scope all_seed_peers or all_peers'),
    ('all_peers', ['10.0.0.%d' % index for index in range(101)], None, None, 'at most 100 peers'),
    ('all_peers', None, None, 101, 'percentage must be between 1 and 100'),
])
def test_check_selection(scope, ips, count, percentage, message):
    with pytest.raises(PreheatError) as exc_info:
        check_selection(scope, ips, count, percentage)
    assert message in exc_info.value.message


def get_task_row(peers, state='SUCCESS', cluster=1):
    return dict(id=5, type='get_task', state=state, result=dict(state=state, job_states=[
        dict(state=state, error='', results=[dict(scheduler_cluster_id=cluster, peers=peers)]),
    ]))


def peer(address, host_type='super', finished=True):
    ip, hostname = address
    return dict(id=f'{ip}-{hostname}', hostname=hostname, ip=ip, host_type=host_type, IsFinished=finished)


def test_get_task_peers_only_from_answered_schedulers():
    row = get_task_row([peer(SEED_1)])
    row['result']['job_states'].append(dict(state='PENDING', results=None, error=''))
    assert list(get_task_peers(row)) == [(1, dict(id='10.0.0.5-seed-1', hostname='seed-1', ip='10.0.0.5', host_type='super',
                                                  is_finished=True))]
    assert list(get_task_peers(get_task_row([peer(SEED_1)], state='PENDING'))) == []
    assert list(get_task_peers(dict(id=1, result=None))) == []


def observations(*answers):
    seen = Observations()
    for task, peers in answers:
        seen.add_get_task(task, get_task_row(peers))
    return seen


def test_single_seed_peer_needs_one_finished_seed():
    requirement = Requirement('single_seed_peer', cluster_ids=[1])
    assert requirement.unmet('t', observations(('t', [peer(SEED_1)]))) is None
    assert requirement.unmet('t', observations(('t', [peer(SEED_1, finished=False)]))) == 'finished on no seed peer'
    assert requirement.unmet('t', observations(('t', [peer(SEED_1, host_type='normal')]))) == 'finished on no seed peer'
    assert requirement.describe() == 'one seed peer'


def test_all_seed_peers_needs_every_seed_seen():
    requirement = Requirement('all_seed_peers', cluster_ids=[1])
    seen = observations(('t1', [peer(SEED_1)]), ('t2', [peer(SEED_1), peer(SEED_2)]))
    assert requirement.unmet('t2', seen) is None
    assert requirement.unmet('t1', seen) == 'finished on 1 of the 2 seed peers needed (not on seed-2 (10.0.0.6))'


def test_ips_need_each_ip():
    requirement = Requirement('all_seed_peers', ips=['10.0.0.5', '10.0.0.6'], cluster_ids=[1])
    assert requirement.unmet('t', observations(('t', [peer(SEED_1)]))) == 'not finished on 10.0.0.6'
    assert requirement.unmet('t', observations(('t', [peer(SEED_1), peer(SEED_2)]))) is None


def test_count_and_percentage():
    seen = observations(('t1', [peer(SEED_1)]), ('t2', [peer(SEED_2, finished=False)]))
    assert Requirement('all_seed_peers', count=1, cluster_ids=[1]).unmet('t1', seen) is None
    assert Requirement('all_seed_peers', count=5, cluster_ids=[1]).unmet('t1', seen) == \
        'finished on 1 of the 2 seed peers needed'
    assert Requirement('all_seed_peers', percentage=50, cluster_ids=[1]).unmet('t1', seen) is None
    assert Requirement('all_seed_peers', percentage=100, cluster_ids=[1]).unmet('t1', seen) == \
        'finished on 1 of the 2 seed peers needed'


def test_all_peers_counts_normal_peers():
    requirement = Requirement('all_peers', cluster_ids=[1])
    seen = observations(('t', [peer(SEED_1), peer(('10.0.0.9', 'peer-1'), host_type='normal', finished=False)]))
    assert requirement.unmet('t', seen) == 'finished on 1 of the 2 peers needed (not on peer-1 (10.0.0.9))'


def test_each_cluster_needs_its_seed():
    requirement = Requirement('single_seed_peer', cluster_ids=[1, 2])
    seen = Observations()
    seen.add_get_task('t', get_task_row([peer(SEED_1)], cluster=1))
    assert requirement.unmet('t', seen) == 'finished on no seed peer of scheduler cluster 2'
    seen.add_get_task('t', get_task_row([peer(SEED_2)], cluster=2))
    assert requirement.unmet('t', seen) is None
    assert requirement.describe() == 'one seed peer in each scheduler cluster'


def preheat_row(success=(), failure=(), error=''):
    result = dict(scheduler_cluster_id=1, success_tasks=[dict(url=url, hostname=host, ip=ip) for url, ip, host in success],
                  failure_tasks=[dict(url=url, hostname=host, ip=ip, description='boom') for url, ip, host in failure])
    return dict(id=9, type='preheat', state='SUCCESS', task_id='group_x', args={},
                result=dict(state='SUCCESS', job_states=[dict(state='SUCCESS', error=error, results=[result])]))


def test_preheat_outcome_and_observations():
    row = preheat_row(success=[(BLOB,) + SEED_1], failure=[(BLOB,) + SEED_2], error='partly failed')
    outcome = preheat_outcome(row)
    assert outcome == dict(
        success_tasks=[dict(url=BLOB, hostname='seed-1', ip='10.0.0.5', scheduler_cluster_id=1)],
        failure_tasks=[dict(url=BLOB, hostname='seed-2', ip='10.0.0.6', description='boom', scheduler_cluster_id=1)],
        errors=['partly failed'],
    )
    seen = Observations()
    seen.add_preheat(outcome, {BLOB: 't'}, 'super')
    # seed-2 is known from the failure, so "every seed peer" is not met.
    assert Requirement('all_seed_peers', cluster_ids=[1]).unmet('t', seen).startswith('finished on 1 of the 2')
    assert Requirement('single_seed_peer', cluster_ids=[1]).unmet('t', seen) is None
    assert seen.cached([dict(url=BLOB, task_id='t')]) == {('seed-1', '10.0.0.5'): [BLOB]}
    assert seen.per_host([dict(url=BLOB, task_id='t')]) == [dict(hostname='seed-1', ip='10.0.0.5', host_type='super',
                                                                 scheduler_cluster_id=1, task_ids=['t'], urls=[BLOB])]


@pytest.mark.parametrize('requirement, ip, enough, must_hold', [
    (Requirement('single_seed_peer', cluster_ids=[1]), None, True, True),
    (Requirement('single_seed_peer', cluster_ids=[1, 2]), None, False, True),
    (Requirement('all_seed_peers', ips=['10.0.0.5'], cluster_ids=[1]), '10.0.0.5', True, True),
    (Requirement('all_seed_peers', ips=['10.0.0.5'], cluster_ids=[1]), None, False, False),
    (Requirement('all_seed_peers', ips=['10.0.0.5', '10.0.0.6'], cluster_ids=[1]), '10.0.0.5', False, True),
    (Requirement('all_peers', ips=['10.0.0.6'], cluster_ids=[1]), '10.0.0.5', False, False),
    (Requirement('all_seed_peers', count=1, cluster_ids=[1]), None, True, False),
    (Requirement('all_seed_peers', count=2, cluster_ids=[1]), '10.0.0.5', False, False),
    (Requirement('all_seed_peers', percentage=50, cluster_ids=[1]), '10.0.0.5', False, False),
    (Requirement('all_seed_peers', cluster_ids=[1]), None, False, True),
    (Requirement('all_peers', cluster_ids=[1, 2]), '10.0.0.5', False, True),
])
def test_requirement_and_one_local_peer(requirement, ip, enough, must_hold):
    assert requirement.met_by_one_peer(ip) is enough
    assert requirement.includes(ip) is must_hold


def test_redact_job_args():
    args = dict(type='image', url='u', password='secret', username='me', headers={'Authorization': 'Bearer x'})
    assert redact_job_args(args) == dict(type='image', url='u', password='********', username='me',
                                         headers={'Authorization': '********'})
    assert redact_job_args(dict(password='')) == dict(password='')
    assert redact_job_args(None) is None


@pytest.mark.parametrize('host', ['localhost:5000', '127.0.0.1:5000', '[::1]:5000', '169.254.1.1', 'registry.localhost'])
def test_registry_host_refused(host):
    with pytest.raises(PreheatError, match='loopback or link-local'):
        check_registry_host('image', host)


@pytest.mark.parametrize('host', ['10.0.0.20:5000', '192.168.1.5', 'registry.example.com', '[2001:db8::1]:5000'])
def test_registry_host_accepted(host):
    check_registry_host('image', host)


def test_image_round_body_takes_only_what_names_the_blobs():
    args = dict(type='image', url='http://registry.test:5000/v2/team/app/manifests/1.0', platform='linux/amd64',
                username='puller', password='secret', headers={'Authorization': 'Basic x'}, tag='', scope='all_seed_peers',
                ips=['10.0.0.5'], piece_length=4194304, timeout=60 * 10 ** 9)
    body = image_round_body(args, [1], 'preheat')
    assert body == dict(type='get_image_distribution', bio='Created by Ansible (p2p.dragonfly.preheat)',
                        scheduler_cluster_ids=[1], args=dict(
                            url=args['url'], platform='linux/amd64', username='puller', password='secret',
                            headers={'Authorization': 'Basic x'}, piece_length=4194304))
    assert image_round_body(dict(type='file', urls=['http://files.test/a']), [1], 'preheat') is None
    assert image_round_body(None, [1], 'preheat') is None


@pytest.mark.parametrize('url, used', [
    ('http://registry.test:5000/v2/team/app/blobs/sha256:' + 'a' * 64, True),
    # The manager's (Go) task ID of these differs from the seed peer's: no image round.
    ('http://Registry.test:5000/v2/team/app/blobs/sha256:' + 'a' * 64, False),
    ('https://registry.test:443/v2/team/app/blobs/sha256:' + 'a' * 64, False),
    ('http://registry.test:5000/v2/team/app/blobs/sha256:' + 'a' * 64 + '?ns=docker.io', False),
])
def test_image_round_only_where_both_task_ids_agree(url, used):
    body = dict(type='get_image_distribution', args=dict(url='http://registry.test:5000/v2/team/app/manifests/1.0'))
    assert (image_round(body, {url: task_id(url)}) is not None) is used
    assert image_round(None, {url: task_id(url)}) is None
