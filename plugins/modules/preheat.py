#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
module: preheat

short_description: Ensure an image or files are cached on Dragonfly seed peers

version_added: 0.1.0

description:
  - Ensures that the blobs of a container image, or a list of files, are in the cache of the Dragonfly seed peers chosen by
    O(scope), using preheat jobs of the manager's open API (C(/oapi/v1/jobs)).
  - The module first works out the B(expected tasks). For files, each URL is one task. For an image, the module reads the
    manifest from the registry itself (from the host it runs on), selects the manifest for O(platform) from a manifest list
    or OCI index like the manager does, and lists the blobs the manager will preheat (the config and every layer) as
    C(<scheme>://<host>/v2/<name>/blobs/<digest>). Each task gets the task ID the seed peer computes for it (from the URL,
    O(tag), O(application), O(filtered_query_params) and O(piece_length)); it names the cache file on the seed peer.
  - Unless O(force=true), the module then asks the manager which peers hold each task (one C(get_task) job per task) and
    does nothing when every task is already finished on the requested peers.
  - Otherwise it creates one preheat job and, with O(wait=true), waits until every expected task is finished on the
    requested peers. It watches both the preheat job and fresh C(get_task) jobs, so it finishes as soon as the content is
    there, without waiting for the manager's slow job-state refresh.
  - A preheat job that ends V(SUCCESS) although some expected task is missing on the requested peers (upstream's false
    success, dragonfly issue 3699) makes the module fail, naming what is missing.
  - For files, only the URLs not yet cached are preheated. For images the manager always preheats every blob of the image;
    blobs already cached are finished at once.

extends_documentation_fragment:
  - p2p.dragonfly.manager
  - p2p.dragonfly.attributes
  - p2p.dragonfly.attributes.actiongroup_dragonfly

attributes:
  check_mode:
    support: partial
    details:
      - Check mode creates no job at all (no C(POST)). It reads the manifest from the registry and sends one C(GET) to the
        manager's job list to check the connection and O(token).
      - The manager can only tell which peers hold content through a C(get_task) job, which is a C(POST). So check mode
        cannot know whether the content is cached and always predicts a change; RV(cached_before) is V(null).
  diff_mode:
    support: full
    details:
      - The diff lists, per peer (C(hostname (ip))), the expected URLs it holds before and after. In check mode the
        C(after) side names the requested peers (for example C(one seed peer)) instead of hosts.
  idempotent:
    support: full
    details:
      - Needs O(force=false). The check takes about 30 seconds, see the notes.

options:
  type:
    description:
      - What to preheat. V(image) takes O(image) or O(url), V(file) takes O(urls).
      - If not set, V(file) when O(urls) is set, else V(image).
    type: str
    choices:
      - image
      - file
  image:
    description:
      - An image reference as C(docker pull) takes it, for example V(registry.example.com:5000/team/app:1.0),
        V(alpine:3.20) (Docker Hub) or V(ghcr.io/org/app@sha256:...).
      - Turned into the manifest URL C(<scheme>://<registry>/v2/<name>/manifests/<tag or digest>); see O(scheme) and
        O(insecure_registry).
      - Mutually exclusive with O(url) and O(urls).
    type: str
  url:
    description:
      - The manifest URL of the image, C(<scheme>://<host>/v2/<name>/manifests/<tag or digest>), as the manager takes it.
      - The blob URLs, and so the task IDs, reuse its scheme and host exactly. Use the registry address the peers pull from,
        or the pulls will not find the preheated content.
      - Mutually exclusive with O(image) and O(urls).
    type: str
  urls:
    description:
      - The http(s) URLs of the files to preheat (O(type=file)).
    type: list
    elements: str
  scheme:
    description:
      - Scheme of the manifest URL built from O(image). V(http) for a registry served over plain HTTP.
      - Only with O(image). The default is V(https), or V(http) with O(insecure_registry=true).
    type: str
    choices:
      - https
      - http
  insecure_registry:
    description:
      - Shorthand for O(scheme=http), for a registry of O(image) served over plain HTTP.
    type: bool
    default: false
  platform:
    description:
      - The platform whose manifest is taken from a manifest list or OCI index, as C(os/arch[/variant]).
      - The manager compares only the OS and the architecture, and preheats every manifest that matches.
      - Always sent to the manager, because the manager's own default is the platform it runs on, which need not be the
        platform of the peers that pull the image.
      - A single-platform image is preheated whatever this says, like the manager does.
    type: str
    default: linux/amd64
  registry_username:
    description:
      - User name for the registry, for O(type=image). Used by the module to read the manifest and sent to the manager.
      - The manager forwards a bearer token it gets with it to the seed peers. For a registry with basic authentication
        the module also sends the C(Authorization) header with the basic credentials in O(headers), since the manager would
        not forward basic credentials to the seed peers.
    type: str
  registry_password:
    description:
      - Password for O(registry_username).
      - The manager stores it in the job's C(args), readable by every manager user; prefer a read-only token.
    type: str
  registry_ca_path:
    description:
      - A PEM file of CA certificates to verify the registry with when the module reads the manifest.
      - The manager verifies the registry with its own C(job.preheat.tls) settings.
      - O(validate_certs) applies to the registry too.
    type: path
  headers:
    description:
      - HTTP headers for the downloads, sent in the job to the manager; it forwards them to the seed peers (and, for images,
        uses C(Authorization) itself instead of signing in to the registry).
      - All values are treated as secrets, hidden in the module's output.
    type: dict
  scope:
    description:
      - Which peers preheat.
      - V(single_seed_peer) one seed peer per task, chosen by the scheduler by consistent hashing, so with several seed peers
        the tasks of an image spread over them.
      - V(all_seed_peers) every seed peer, or those selected by O(ips), O(count) or O(percentage).
      - V(all_peers) every peer, seed or not, or those selected by O(ips), O(count) or O(percentage).
      - Seed peers are the dfdaemon instances with C(seedPeer.type=super).
    type: str
    choices:
      - single_seed_peer
      - all_seed_peers
      - all_peers
    default: single_seed_peer
  ips:
    description:
      - Preheat only the peers with these IPs (their advertised C(host.ip)), 1 to 100 of them.
      - Only with O(scope=all_seed_peers) or O(scope=all_peers). Mutually exclusive with O(count) and O(percentage).
      - Names the requested peers exactly; without it, see the notes on how the module finds all seed peers.
    type: list
    elements: str
  count:
    description:
      - Preheat this many peers (1 to 200); all of them when there are fewer.
      - Only with O(scope=all_seed_peers) or O(scope=all_peers). Mutually exclusive with O(ips) and O(percentage).
    type: int
  percentage:
    description:
      - Preheat this percentage of the peers (1 to 100, rounded down, at least one peer).
      - Only with O(scope=all_seed_peers) or O(scope=all_peers). Mutually exclusive with O(ips) and O(count).
    type: int
  scheduler_cluster_ids:
    description:
      - The scheduler clusters whose peers preheat; each must have an active scheduler with the C(preheat) feature.
      - An unknown cluster ID makes the manager v2.5 answer HTTP 429 C(rate limit exceeded).
    type: list
    elements: int
    default:
      - 1
  tag:
    description:
      - The task tag. It is part of the task ID, so a pull finds the preheated content only with the same tag.
    type: str
    default: ''
  application:
    description:
      - The task application. It is part of the task ID like O(tag).
    type: str
    default: ''
  filtered_query_params:
    description:
      - Query parameters left out of the task ID (for signed URLs).
      - Empty means the manager's default list (S3, GCS, OSS, OBS, COS signature parameters and C(ns)), the same default as
        the client's proxy and C(dfget).
    type: list
    elements: str
    default: []
  piece_length:
    description:
      - Piece length in bytes, 4194304 (4 MiB) to 67108864 (64 MiB). It is part of the task ID, so pulls must use the same.
      - If not set, the seed peer chooses it from the file size, and the task ID does not include it.
    type: int
  concurrent_task_count:
    description:
      - How many tasks (blobs or files) the scheduler preheats at a time, 1 to 100. The manager's default is 8.
    type: int
  concurrent_peer_count:
    description:
      - How many peers preheat one task at a time with the C(all_*) scopes, 1 to 1000. The manager's default is 500.
    type: int
  preheat_timeout:
    description:
      - Seconds the scheduler lets the preheat run before giving up. The manager's default is 3600.
    type: int
  wait:
    description:
      - Whether to wait until every expected task is finished on the requested peers.
      - With V(false) the module returns once the job is created (or once it found everything cached).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait with O(wait=true) before failing. The preheat job goes on in the manager after that.
    type: int
    default: 1800
  poll_interval:
    description:
      - Longest pause, in seconds, between two looks at the jobs while waiting.
      - A job's row is only read when the manager is expected to have refreshed it, see the notes.
    type: int
    default: 5
  force:
    description:
      - Preheat without first checking whether the content is cached. The module then always reports a change.
    type: bool
    default: false

notes:
  - The manager refreshes a job's state and result only about 0, 30, 90, 210 and 450 seconds after creating it, then every
    5 minutes. A C(get_task) job therefore answers about 30 seconds after it is created, and so a run that finds everything
    cached takes about 30 seconds. While waiting for a preheat, the module creates a new C(get_task) job for each
    still-missing task whenever the previous ones have answered, so it notices the content within about 30 seconds of its
    arrival even when the preheat job itself reports later.
  - Each C(get_task) job adds a row to the manager's job list; it changes no cache.
  - Without O(ips), O(scope=all_seed_peers) and O(scope=all_peers) mean every peer the scheduler knows. The open API cannot
    list peers, so the module counts the peers that hold any expected task or that the preheat job names. A seed peer that
    holds none of them is invisible to the idempotence check; name the peers with O(ips) to make the check exact.
  - The manager refuses registries at loopback or link-local addresses (127.0.0.1, localhost); the module fails early for
    such an address. Use an address of the registry host that the manager and the seed peers reach.
  - The module reads the manifest with the same credentials as the manager, from the host it runs on. Use C(delegate_to) when
    only another host reaches the registry.
  - Job creation is rate limited by the manager (10 per second per scheduler cluster by default); answers HTTP 429 are retried.

seealso:
  - module: p2p.dragonfly.cache_assert
  - module: p2p.dragonfly.task_info
  - module: p2p.dragonfly.job_info
  - module: p2p.dragonfly.personal_access_token
  - name: Dragonfly preheat
    description: The upstream guide to preheating through the open API.
    link: https://d7y.io/docs/advanced-guides/open-api/preheat/

author:
  - p2p.dragonfly maintainers (@p2p-dragonfly)
"""

EXAMPLES = r"""
---
- name: Preheat an image on one seed peer and wait until it is cached
  p2p.dragonfly.preheat:
    manager_url: http://manager.example.com:8080
    token: "{{ dragonfly_token }}"
    image: registry.example.com:5000/team/app:1.0
    platform: linux/amd64
  register: preheat

- name: Preheat an image from a plain-HTTP registry on two given seed peers
  p2p.dragonfly.preheat:
    manager_url: http://manager.example.com:8080
    token: "{{ dragonfly_token }}"
    image: 10.0.0.20:5000/team/app:1.0
    insecure_registry: true
    scope: all_seed_peers
    ips:
      - 10.0.0.5
      - 10.0.0.6

- name: Preheat files on every seed peer, with the connection set once for the collection
  module_defaults:
    group/p2p.dragonfly.dragonfly:
      manager_url: http://manager.example.com:8080
      token: "{{ dragonfly_token }}"
  p2p.dragonfly.preheat:
    type: file
    urls:
      - http://files.example.com/models/model.bin
      - http://files.example.com/models/tokenizer.json
    scope: all_seed_peers
    wait_timeout: 3600

- name: Verify the cache of the seed peer that got the content
  p2p.dragonfly.cache_assert:
    cache_dir: /srv/dragonfly/seed
    preheat_result: "{{ preheat }}"
  delegate_to: "{{ item.ip }}"
  loop: "{{ preheat.hosts }}"
"""

RETURN = r"""
expected_tasks:
  description:
    - The tasks the preheat must create, in the manager's order. For images the config blob comes first, then the layers.
  returned: success and failure after the expected tasks were computed
  type: list
  elements: dict
  contains:
    url:
      description: The URL the seed peer downloads.
      type: str
      sample: https://registry.example.com/v2/team/app/blobs/sha256:3f1a...
    task_id:
      description: The task ID the seed peer computes; its cache file is C(content/tasks/<task_id[:3]>/<task_id>).
      type: str
      sample: 9f7c9aafbc6f30f8f41a96ca77eeae80c5b60964b3034b0ee43ccf7b2f9e52b8
    digest:
      description: The blob digest, for images.
      type: str
      returned: for images
      sample: sha256:3f1a...
  sample:
    - url: https://registry.example.com/v2/team/app/blobs/sha256:3f1a...
      task_id: 9f7c9aafbc6f30f8f41a96ca77eeae80c5b60964b3034b0ee43ccf7b2f9e52b8
      digest: sha256:3f1a...
manifest_url:
  description: The manifest URL sent to the manager.
  returned: for images
  type: str
  sample: https://registry.example.com/v2/team/app/manifests/1.0
platform:
  description: The platform sent to the manager.
  returned: for images
  type: str
  sample: linux/amd64
available_platforms:
  description: The platforms the image index offers (empty for a single-platform image).
  returned: for images
  type: list
  elements: str
  sample:
    - linux/amd64
    - linux/arm64/v8
job:
  description:
    - The preheat job, or V(null) when none was created (everything cached, or check mode).
    - RV(job.success_tasks) and RV(job.failure_tasks) are as the job row showed them last; the row may lag behind the cache.
  returned: always
  type: dict
  contains:
    id:
      description: Job ID in the manager.
      type: int
    type:
      description: Always V(preheat).
      type: str
    state:
      description: Job state as last read, V(PENDING), V(SUCCESS) or V(FAILURE).
      type: str
    task_id:
      description: The job group, C(group_<uuid>).
      type: str
    success_tasks:
      description: The (URL, peer) pairs the job reports done.
      type: list
      elements: dict
    failure_tasks:
      description: The (URL, peer) pairs the job reports failed, with C(description).
      type: list
      elements: dict
    errors:
      description: Errors of the job's scheduler tasks.
      type: list
      elements: str
  sample:
    id: 12
    type: preheat
    state: SUCCESS
    task_id: group_2d8a9b7c-0b5e-4c3a-8f1e-1f3f0c7d9e21
    success_tasks:
      - url: https://registry.example.com/v2/team/app/blobs/sha256:3f1a...
        hostname: seed-1
        ip: 10.0.0.5
        scheduler_cluster_id: 1
    failure_tasks: []
    errors: []
hosts:
  description: Per peer, the expected tasks it holds finished, as last seen.
  returned: success and failure after the manager was asked
  type: list
  elements: dict
  contains:
    hostname:
      description: Host name of the peer.
      type: str
    ip:
      description: Advertised IP of the peer.
      type: str
    host_type:
      description: V(super) for seed peers, V(normal) for other peers; V(null) when only the preheat job named the peer.
      type: str
    scheduler_cluster_id:
      description: Scheduler cluster of the peer, when known.
      type: int
    task_ids:
      description: Task IDs of the expected tasks it holds.
      type: list
      elements: str
    urls:
      description: URLs of the expected tasks it holds.
      type: list
      elements: str
  sample:
    - hostname: seed-1
      ip: 10.0.0.5
      host_type: super
      scheduler_cluster_id: 1
      task_ids:
        - 9f7c9aafbc6f30f8f41a96ca77eeae80c5b60964b3034b0ee43ccf7b2f9e52b8
      urls:
        - https://registry.example.com/v2/team/app/blobs/sha256:3f1a...
cached_before:
  description: Whether every expected task was already finished on the requested peers. V(null) in check mode and with O(force=true).
  returned: always
  type: bool
  sample: false
cached_after:
  description: Whether every expected task is finished on the requested peers at the end. V(null) when not waited for.
  returned: always
  type: bool
  sample: true
missing:
  description: The expected tasks not finished on the requested peers, with what is missing.
  returned: on failure, when the content is missing
  type: list
  elements: dict
  sample:
    - url: https://registry.example.com/v2/team/app/blobs/sha256:3f1a...
      task_id: 9f7c9aafbc6f30f8f41a96ca77eeae80c5b60964b3034b0ee43ccf7b2f9e52b8
      missing: finished on no seed peer
get_task_job_ids:
  description: IDs of the C(get_task) jobs the module created.
  returned: always
  type: list
  elements: int
  sample:
    - 13
    - 14
elapsed:
  description: Seconds the module ran.
  returned: always
  type: float
  sample: 31.7
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.p2p.dragonfly.plugins.module_utils import _preheat
from ansible_collections.p2p.dragonfly.plugins.module_utils._api import (
    ManagerAPIError,
    ManagerClient,
    manager_argument_spec,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._image_reference import (
    format_platform,
    manifest_url,
    parse_image_reference,
    parse_manifest_url,
    parse_platform,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat import (
    CHECK_TIMEOUT,
    SCOPE_ALL_PEERS,
    SCOPE_SINGLE_SEED_PEER,
    SCOPES,
    STATE_FAILURE,
    STATE_SUCCESS,
    GetTaskRound,
    Observations,
    PreheatError,
    Registry,
    Requirement,
    TrackedJob,
    check_http_url,
    check_jobs_access,
    check_piece_length,
    check_range,
    check_registry_host,
    check_selection,
    expected_tasks,
    filtered_query_params_text,
    job_summary,
    manager_error_hint,
    preheat_outcome,
    resolve_image,
    wait_for_round,
)


MODULE_NAME = 'preheat'
NANOSECONDS = 1000000000


def validate(module):
    """Check the options; returns the preheat type and, for images, the manifest URL and platform."""
    params = module.params
    kind = params['type'] or ('file' if params['urls'] else 'image')
    if kind == 'image':
        if params['urls']:
            raise PreheatError('urls is for type=file; an image takes image (a reference) or url (its manifest URL)')
        if not params['image'] and not params['url']:
            raise PreheatError('type=image needs option image (for example registry.example.com/team/app:1.0) or option url '
                               '(the manifest URL)')
        if params['image']:
            if params['insecure_registry'] and params['scheme'] == 'https':
                raise PreheatError('insecure_registry=true means scheme http: do not also set scheme=https')
            scheme = 'http' if params['insecure_registry'] else (params['scheme'] or 'https')
            try:
                reference = parse_image_reference(params['image'])
            except ValueError as exc:
                raise PreheatError(f'image: {exc}')
            if reference.tag_implicit:
                module.warn(f"image {params['image']!r} names no tag: preheating tag 'latest'")
            target = manifest_url(reference, scheme=scheme)
        else:
            if params['scheme'] or params['insecure_registry']:
                raise PreheatError('scheme and insecure_registry only apply to option image; option url carries its own scheme')
            target = check_http_url('url', params['url'])
            try:
                parse_manifest_url(target)
            except ValueError:
                raise PreheatError(f'url: {target!r} is not a manifest URL: it must look like '
                                   'https://registry.example.com/v2/<name>/manifests/<tag or digest> (or use option image)')
        check_registry_host('image' if params['image'] else 'url', parse_manifest_url(target).host)
        try:
            platform = format_platform(parse_platform(params['platform']))
        except ValueError as exc:
            raise PreheatError(f'platform: {exc}; use os/arch[/variant], for example linux/amd64 or linux/arm64/v8')
    else:
        if params['image'] or params['url']:
            raise PreheatError('type=file takes option urls (a list of http(s) URLs), not image or url')
        if not params['urls']:
            raise PreheatError('type=file needs option urls, a list of http(s) URLs')
        for url in params['urls']:
            check_http_url('urls', url)
        for option in ('registry_username', 'registry_password', 'scheme'):
            if params[option]:
                raise PreheatError(f'{option} only applies to type=image; for files pass credentials in option headers')
        target, platform = None, None

    check_selection(params['scope'], params['ips'], params['count'], params['percentage'])
    check_piece_length(params['piece_length'])
    check_range('concurrent_task_count', params['concurrent_task_count'], _preheat.CONCURRENT_TASK_COUNT_RANGE)
    check_range('concurrent_peer_count', params['concurrent_peer_count'], _preheat.CONCURRENT_PEER_COUNT_RANGE)
    if not params['scheduler_cluster_ids'] or any(cluster_id < 1 for cluster_id in params['scheduler_cluster_ids']):
        raise PreheatError('scheduler_cluster_ids must name at least one scheduler cluster ID (1 or more); the first cluster '
                           'the manager creates has ID 1')
    for option in ('wait_timeout', 'poll_interval', 'preheat_timeout'):
        if params[option] is not None and params[option] < 1:
            raise PreheatError(f'{option} must be at least 1 second, got {params[option]}')
    return kind, target, platform


def preheat_body(params, kind, target, platform, urls, headers):
    args = dict(type=kind, scope=params['scope'])
    if kind == 'image':
        args.update(url=target, platform=platform)
        if params['registry_username']:
            args['username'] = params['registry_username']
        if params['registry_password']:
            args['password'] = params['registry_password']
    else:
        args['urls'] = urls
    for option in ('tag', 'application'):
        if params[option]:
            args[option] = params[option]
    if params['filtered_query_params']:
        args['filtered_query_params'] = filtered_query_params_text(params['filtered_query_params'])
    for option in ('piece_length', 'count', 'percentage', 'concurrent_task_count', 'concurrent_peer_count'):
        if params[option] is not None:
            args[option] = params[option]
    if params['ips']:
        args['ips'] = list(params['ips'])
    if params['preheat_timeout']:
        args['timeout'] = params['preheat_timeout'] * NANOSECONDS
    if headers:
        args['headers'] = headers
    return dict(type=MODULE_NAME, bio=_preheat.BIO % MODULE_NAME, scheduler_cluster_ids=list(params['scheduler_cluster_ids']),
                args=args)


def _bullets(items):
    return ''.join(f"\n- {item['url']} (task {item['task_id']}): {item['missing']}" for item in items)


def _job_problems(outcome):
    parts = []
    if outcome['errors']:
        parts.append('errors: ' + '; '.join(outcome['errors']))
    if outcome['failure_tasks']:
        parts.append('failure_tasks: ' + '; '.join(
            f"{item['url']} on {item['hostname']} ({item['ip']}): {item['description']}" for item in outcome['failure_tasks']))
    return ('\n' + '\n'.join(parts)) if parts else ''


class Preheat(object):
    """One run of the module: expected tasks, idempotence check, job, wait."""

    def __init__(self, module, client, requirement, tasks):
        self.module = module
        self.params = module.params
        self.client = client
        self.requirement = requirement
        self.tasks = tasks
        self.observations = Observations()
        self.get_task_job_ids = []
        self.job = None
        self.host_type = None if requirement.scope == SCOPE_ALL_PEERS else _preheat.HOST_TYPE_SUPER
        self.url_tasks = dict((task['url'], task['task_id']) for task in tasks)

    def missing(self, tasks=None):
        return self.requirement.missing(self.tasks if tasks is None else tasks, self.observations)

    def new_round(self, tasks):
        round_ = GetTaskRound(self.client, tasks, self.params['scheduler_cluster_ids'], MODULE_NAME)
        self.get_task_job_ids.extend(round_.ids)
        return round_

    def check_cached(self):
        """Ask where the expected tasks are; returns the missing ones."""
        round_ = self.new_round(self.tasks)
        early = None
        if self.requirement.scope == SCOPE_SINGLE_SEED_PEER or self.requirement.ips:
            # Positive answers settle these scopes; with all_* and no ips every answer is needed to know the peers.
            def early():
                return not self.missing()
        answered = wait_for_round(self.client, round_, self.observations, _preheat._now() + CHECK_TIMEOUT,
                                  self.params['poll_interval'], done=early)
        missing = self.missing()
        if not answered and missing:
            pending = [job.id for job in round_.pending()]
            self.module.warn(f'get_task jobs {pending} had not answered after {CHECK_TIMEOUT} s; their tasks count as not '
                             'cached. Is every active scheduler of the clusters running its job worker?')
        return missing

    def wait(self, deadline):
        """Wait until the expected tasks are where they must be; raises PreheatError otherwise."""
        params = self.params
        round_ = None
        success_seen_at = None
        while True:
            now = _preheat._now()
            if self.job.due(now):
                row = self.job.read(self.client)
                outcome = preheat_outcome(row)
                self.observations.add_preheat(outcome, self.url_tasks, self.host_type)
                if self.job.state == STATE_FAILURE:
                    raise PreheatError(f'preheat job {self.job.id} failed{_job_problems(outcome)}', missing=self.missing())
                if self.job.state == STATE_SUCCESS and success_seen_at is None:
                    success_seen_at = _preheat._now()
                if not self.missing():
                    return
            if round_ is not None:
                round_.poll(self.client, self.observations, now)
            missing = self.missing()
            if not missing:
                return
            if success_seen_at is not None and round_ is not None and round_.final and round_.created_at >= success_seen_at:
                raise PreheatError(
                    f'preheat job {self.job.id} ended SUCCESS, but not every expected task is finished on '
                    f'{self.requirement.describe()} (a false success of the Dragonfly scheduler, see dragonfly issue 3699):'
                    f'{_bullets(missing)}{_job_problems(preheat_outcome(self.job.row))}\nCheck that the seed peers reach '
                    'the origin (their dfdaemon log), and run the module again to retry.', missing=missing)
            # The first round starts after the first read of the job row: one created with the job would answer at the
            # same 30 s refresh as the row itself.
            answer_by = now + _preheat.REFRESH_OFFSETS[0] + _preheat.REFRESH_SLACK
            if answer_by <= deadline and (
                    (round_ is None and self.job.last_read > self.job.created_at) or (round_ is not None and round_.final)):
                round_ = self.new_round([task for task in self.tasks if task['task_id'] in
                                         set(item['task_id'] for item in missing)])
            if now >= deadline:
                raise PreheatError(
                    f"preheat job {self.job.id} (state {self.job.state}) did not bring every expected task to "
                    f"{self.requirement.describe()} within wait_timeout={params['wait_timeout']} s; still missing:"
                    f'{_bullets(missing)}{_job_problems(preheat_outcome(self.job.row))}\nThe job goes on in the manager; '
                    f'p2p.dragonfly.job_info shows it later (id {self.job.id}).', missing=missing)
            moments = [moment for moment in (self.job.next_due(), round_ and round_.next_due()) if moment is not None]
            pause = min([params['poll_interval']] + [max(moment - now, 0.5) for moment in moments])
            _preheat._sleep(max(min(pause, deadline - now), 0))


def run(module, started, state):
    """Do the work; ``state`` keeps the result and the run, for what a failure still returns."""
    params = module.params
    kind, target, platform = validate(module)
    result = state['result'] = dict(changed=False, job=None, cached_before=None, cached_after=None, get_task_job_ids=[],
                                    hosts=[])
    client = ManagerClient.from_module(module)
    # One read first: a wrong manager_url or token fails here, before the registry is read.
    check_jobs_access(client)
    headers = dict((str(name), str(value)) for name, value in (params['headers'] or {}).items())
    if kind == 'image':
        registry = Registry(module, params['registry_username'], params['registry_password'], headers,
                            timeout=params['timeout'], ca_path=params['registry_ca_path'])
        entries, offered = resolve_image(registry, target, platform)
        if registry.basic_auth and not any(name.lower() == 'authorization' for name in headers):
            headers['Authorization'] = registry.authorization
        result.update(manifest_url=target, platform=platform, available_platforms=offered)
    else:
        entries = [(url, None) for url in params['urls']]
    tasks = expected_tasks(entries, tag=params['tag'], application=params['application'],
                           filtered_query_params=params['filtered_query_params'], piece_length=params['piece_length'])
    result['expected_tasks'] = tasks
    requirement = Requirement(params['scope'], params['ips'], params['count'], params['percentage'],
                              params['scheduler_cluster_ids'])
    run_ = state['run'] = Preheat(module, client, requirement, tasks)

    if module.check_mode:
        result['changed'] = True
        result['diff'] = dict(before={}, after={requirement.describe(): [task['url'] for task in tasks]})
        return result

    to_preheat = tasks
    before = {}
    if not params['force']:
        missing = run_.check_cached()
        before = run_.observations.cached(tasks)
        result['cached_before'] = not missing
        if not missing:
            result['cached_after'] = True
            finish(result, run_, before)
            return result
        missing_ids = set(item['task_id'] for item in missing)
        to_preheat = [task for task in tasks if task['task_id'] in missing_ids]

    body = preheat_body(params, kind, target, platform, [task['url'] for task in to_preheat], headers)
    try:
        row = client.create_job(body)
    except ManagerAPIError as exc:
        raise ManagerAPIError(str(exc) + manager_error_hint(exc), status=exc.status, method=exc.method, path=exc.path,
                              server_message=exc.server_message)
    result['changed'] = True
    run_.job = TrackedJob(row, _preheat._now())
    if params['wait']:
        run_.wait(started + params['wait_timeout'])
        result['cached_after'] = True
    finish(result, run_, before)
    return result


def finish(result, run_, before):
    result['hosts'] = run_.observations.per_host(run_.tasks)
    result['get_task_job_ids'] = list(run_.get_task_job_ids)
    if run_.job is not None:
        result['job'] = job_summary(run_.job.row)
    result['diff'] = dict(before=before, after=run_.observations.cached(run_.tasks))


def main():
    argument_spec = manager_argument_spec()
    argument_spec.update(
        type=dict(type='str', choices=['image', 'file']),
        image=dict(type='str'),
        url=dict(type='str'),
        urls=dict(type='list', elements='str'),
        scheme=dict(type='str', choices=['https', 'http']),
        insecure_registry=dict(type='bool', default=False),
        platform=dict(type='str', default='linux/amd64'),
        registry_username=dict(type='str'),
        registry_password=dict(type='str', no_log=True),
        registry_ca_path=dict(type='path'),
        headers=dict(type='dict', no_log=True),
        scope=dict(type='str', default=SCOPE_SINGLE_SEED_PEER, choices=list(SCOPES)),
        ips=dict(type='list', elements='str'),
        count=dict(type='int'),
        percentage=dict(type='int'),
        scheduler_cluster_ids=dict(type='list', elements='int', default=[1]),
        tag=dict(type='str', default=''),
        application=dict(type='str', default=''),
        filtered_query_params=dict(type='list', elements='str', default=[]),
        piece_length=dict(type='int'),
        concurrent_task_count=dict(type='int'),
        concurrent_peer_count=dict(type='int'),
        preheat_timeout=dict(type='int'),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=1800),
        poll_interval=dict(type='int', default=5),
        force=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    started = _preheat._now()
    state = {}
    try:
        result = run(module, started, state)
    except PreheatError as exc:
        module.fail_json(msg=exc.message, elapsed=round(_preheat._now() - started, 1), **partial(state, exc.details))
    except ManagerAPIError as exc:
        module.fail_json(msg=str(exc), http_status=exc.status, elapsed=round(_preheat._now() - started, 1),
                         **partial(state, {}))
    result['elapsed'] = round(_preheat._now() - started, 1)
    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**result)


def partial(state, details):
    """What a failed run still returns: expected tasks, job, hosts seen, plus the error's details."""
    extra = dict(details)
    if state.get('result', {}).get('expected_tasks') is not None:
        extra.setdefault('expected_tasks', state['result']['expected_tasks'])
    run_ = state.get('run')
    if run_ is not None:
        extra['get_task_job_ids'] = list(run_.get_task_job_ids)
        extra['hosts'] = run_.observations.per_host(run_.tasks)
        if run_.job is not None:
            extra['job'] = job_summary(run_.job.row)
    return extra


if __name__ == '__main__':
    main()
