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
  - Run on the host of a seed peer with O(cache_dir), the module also reads that seed peer's cache itself, which settles the
    idempotence check and the wait as soon as the content is verified on disk, without the manager's delays. See O(cache_dir).

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
      - With O(cache_dir), check mode reads the local cache too. When that settles the question (see O(cache_dir)), the
        prediction is exact and RV(cached_before) is set.
  diff_mode:
    support: full
    details:
      - The diff lists, per peer (C(hostname (ip))), the expected URLs it holds before and after. In check mode the
        C(after) side names the requested peers (for example C(one seed peer)) instead of hosts.
      - With O(cache_dir), the URLs verified in that cache are listed under C(cache_dir <dir> (<seed_ip>)), or under the
        label of the peer with that IP when the manager named it.
  idempotent:
    support: full
    details:
      - Needs O(force=false). The check takes about 30 seconds, see the notes; with O(cache_dir) on a seed peer that alone
        meets O(scope), only as long as hashing the content in the cache.

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
  client_version:
    description:
      - Release of the Dragonfly client (dfdaemon) on the seed peers, for example V(1.5.10) or V(v1.4.0). It decides how
        the task IDs in RV(expected_tasks), and so the cache files the module looks for, are computed. Clients v1.5.3
        and later sort the query parameters of a URL and escape them like Go, and hash a URL as given when
        O(filtered_query_params) is empty; earlier clients keep the order. Registry blob URLs without a query, what
        image preheats create, get the same task ID from both.
      - If not set, the rules of the newest clients (v1.5.3 and later). The roles and playbooks of this collection set it
        from the release set.
    type: str
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
  cache_dir:
    description:
      - The cache directory of a seed peer on the host the module runs on (or is delegated to), that is the host directory
        mounted at the client's C(storage.dir), which holds C(content/) and C(metadata/); for example
        V(/opt/dragonfly/seed-peer/cache). Set it when the module runs on the host of a seed peer the preheat must reach.
      - The module then checks that cache itself, with the rule of C(mode=full) of M(p2p.dragonfly.cache_assert). A task is
        B(verified) when the sha256 of its content file C(content/tasks/<id[:3]>/<id>) equals the blob digest (images) or
        the sha256 given in O(checksums) (files). A file without a known sha256 is never verified locally. The client
        creates the content file at its full length when the download starts and fills it piece by piece, so the size of
        the file proves nothing.
      - B(Idempotence.) If every expected task is verified and this seed peer alone meets O(scope), the module creates no
        job and reports no change. It then takes only as long as hashing the files. This seed peer alone meets O(scope)
        with O(scope=single_seed_peer), with O(ips) naming only O(seed_ip), or with O(count=1), each with a single
        scheduler cluster. If some task is absent or incomplete and this seed peer must hold it, the module knows that
        a preheat is needed and creates it without asking the manager first (no C(get_task) jobs; about 30 seconds
        less). This seed peer must hold every task with O(scope=single_seed_peer), with O(seed_ip) among O(ips), and with
        an C(all_*) scope without O(ips), O(count) and O(percentage). In every other case the module asks the manager
        as it does without O(cache_dir).
      - B(Waiting.) While it waits for the preheat job, the module also looks at the cache five times a second. It
        returns as soon as every expected task is verified there and this seed peer alone meets O(scope), without waiting
        for the manager's refresh of the job row (RV(job.state) may then still be V(PENDING)). Otherwise it waits for the
        manager as without O(cache_dir). A job row that says V(FAILURE) when it is read before the content is verified
        fails the module.
      - A file is hashed only when it has changed since it was last hashed. A file larger than 4 MiB is hashed only once it
        has not been written for 0.2 seconds, or longer for a larger file (up to a second for 500 MB and more), so a large
        download is not read again and again while it runs. A complete file is hashed once.
      - With O(scope=single_seed_peer) the module takes this seed peer as the one that must hold the tasks. Set O(cache_dir)
        with that scope only when it is the only seed peer of the scheduler cluster (the all-in-one layout, for example).
        With several seed peers the scheduler spreads the tasks over them by consistent hashing, and a task cached on
        another seed peer would be preheated again and reported as a change. Use O(scope=all_seed_peers) with O(ips)
        instead.
      - The module trusts the files. It does not check that the seed peer's dfdaemon runs, nor that its metadata marks the
        tasks finished.
    type: path
  layout:
    description:
      - The layout of O(cache_dir). Only V(rust), the layout of the Rust client (dfdaemon v0.1.113 and later), is supported.
      - V(legacy_go), the Go dfdaemon of dragonfly 2.3 and earlier, is refused. Current schedulers preheat only Rust
        clients, which speak the dfdaemon v2 gRPC API. M(p2p.dragonfly.cache_assert) checks such an old cache.
    type: str
    choices:
      - rust
      - legacy_go
    default: rust
  seed_ip:
    description:
      - The IP that the seed peer of O(cache_dir) advertises (its C(host.ip)).
      - Tells whether that seed peer is among O(ips), and names it in the diff. Without it, O(cache_dir) settles nothing
        when O(ips) is set.
      - Only with O(cache_dir).
    type: str
  checksums:
    description:
      - The sha256 of files, a dict that maps a URL of O(urls) to the sha256 of its content, C(<hex>) or C(sha256:<hex>).
      - Lets the module verify these files in O(cache_dir). Files left out are never verified locally, and the module waits
        for the manager's answer about them.
      - Only with O(type=file) and O(cache_dir).
    type: dict

notes:
  - The manager refreshes a job's state and result only about 0, 30, 90, 210 and 450 seconds after creating it, then every
    5 minutes. A C(get_task) job therefore answers about 30 seconds after it is created, and so a run that finds everything
    cached takes about 30 seconds. While waiting for a preheat, the module creates a new C(get_task) job for each
    still-missing task whenever the previous ones have answered, so it notices the content within about 30 seconds of its
    arrival even when the preheat job itself reports later. Run on a seed peer's host with O(cache_dir), the module avoids
    both delays when that seed peer alone meets O(scope).
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
    manager_url: https://manager.example.com:8080
    # The CA the manager role generated (<manager dir>/tls/ca.crt on the manager host), copied here.
    ca_path: /etc/dragonfly/manager-ca.crt
    token: "{{ dragonfly_token }}"
    image: registry.example.com:5000/team/app:1.0
    platform: linux/amd64
  register: preheat

- name: Preheat an image from a plain-HTTP registry on two given seed peers
  p2p.dragonfly.preheat:
    manager_url: https://manager.example.com:8080
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
      manager_url: https://manager.example.com:8080
      token: "{{ dragonfly_token }}"
  p2p.dragonfly.preheat:
    type: file
    urls:
      - http://files.example.com/models/model.bin
      - http://files.example.com/models/tokenizer.json
    scope: all_seed_peers
    wait_timeout: 3600

- name: On the all-in-one host, preheat an image and return as soon as the seed peer's cache holds every blob
  p2p.dragonfly.preheat:
    manager_url: https://manager.example.com:8080
    token: "{{ dragonfly_token }}"
    image: 10.0.0.20:5000/team/app:1.0
    insecure_registry: true
    cache_dir: /opt/dragonfly/seed-peer/cache
  register: preheat

- name: Preheat a file on two seed peers; on seed peer 10.0.0.5, verify it locally by its sha256
  p2p.dragonfly.preheat:
    manager_url: https://manager.example.com:8080
    token: "{{ dragonfly_token }}"
    type: file
    urls:
      - http://files.example.com/models/model.bin
    checksums:
      http://files.example.com/models/model.bin: sha256:6f1ed002ab5595859014ebf0951522d9a4fb1b8d29b2f1f4d32b5de6a4f1c2d3
    scope: all_seed_peers
    ips:
      - 10.0.0.5
      - 10.0.0.6
    cache_dir: /opt/dragonfly/seed-peer/cache
    seed_ip: 10.0.0.5
  delegate_to: seed-1.example.com

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
      description:
        - Job state as last read, V(PENDING), V(SUCCESS) or V(FAILURE).
        - When the module returned because the content was verified in O(cache_dir), the row may not have been refreshed by
          the manager yet, and the state is then V(PENDING) although the content is there.
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
  description:
    - Per peer, the expected tasks it holds finished, as the manager reported them last.
    - Empty when the module did not ask the manager, because O(cache_dir) settled the run (see RV(local)).
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
  description:
    - Whether every expected task was already finished on the requested peers. V(null) in check mode and with O(force=true).
    - With O(cache_dir), check mode sets it when the local cache settles the question (see O(cache_dir)).
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
verified_locally:
  description:
    - Whether every expected task was verified in O(cache_dir) (its sha256 matched) when the module returned.
    - V(true) also when the module returned on the manager's answer and the local cache was complete too.
  returned: when O(cache_dir) is set
  type: bool
  sample: true
local:
  description:
    - Per expected task, what the module found in O(cache_dir) when it looked last.
  returned: when O(cache_dir) is set
  type: list
  elements: dict
  contains:
    task_id:
      description: The task ID.
      type: str
    url:
      description: The URL of the task.
      type: str
    path:
      description: The content file of the task in O(cache_dir).
      type: str
    verified:
      description: Whether the sha256 of the file equals the expected one.
      type: bool
    cause:
      description:
        - Why the task is not verified (absent, being written, sha256 differs, no expected sha256); V(null) when it is.
      type: str
  sample:
    - task_id: 9f7c9aafbc6f30f8f41a96ca77eeae80c5b60964b3034b0ee43ccf7b2f9e52b8
      url: https://registry.example.com/v2/team/app/blobs/sha256:3f1a...
      path: /opt/dragonfly/seed-peer/cache/content/tasks/9f7/9f7c9aafbc6f30f8f41a96ca77eeae80c5b60964b3034b0ee43ccf7b2f9e52b8
      verified: true
      cause: null
elapsed:
  description: Seconds the module ran.
  returned: always
  type: float
  sample: 31.7
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.p2p.dragonfly.plugins.module_utils import _jobs
from ansible_collections.p2p.dragonfly.plugins.module_utils._api import ManagerAPIError, ManagerClient
from ansible_collections.p2p.dragonfly.plugins.module_utils._cache import STATE_INCOMPLETE, STATE_UNKNOWN, CacheWatcher
from ansible_collections.p2p.dragonfly.plugins.module_utils._hashing import normalize_sha256
from ansible_collections.p2p.dragonfly.plugins.module_utils._jobs import (
    CHECK_TIMEOUT,
    STATE_FAILURE,
    STATE_SUCCESS,
    GetTaskRound,
    TrackedJob,
    check_jobs_access,
    job_summary,
    preheat_outcome,
    wait_for_round,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._placement import (
    HOST_TYPE_SUPER,
    SCOPE_ALL_PEERS,
    SCOPE_SINGLE_SEED_PEER,
    Observations,
    Requirement,
    labelled,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat import (
    PreheatError,
    expected_tasks,
    filtered_query_params_text,
    manager_error_hint,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat_options import check_options, preheat_argspec_ex
from ansible_collections.p2p.dragonfly.plugins.module_utils._registry import Registry, resolve_image

MODULE_NAME = 'preheat'
NANOSECONDS = 1000000000
# Seconds between two looks at the local cache (cache_dir) while waiting: a stat per task, hashing only changed files.
LOCAL_POLL_INTERVAL = 0.2


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
    return dict(type=MODULE_NAME, bio=_jobs.BIO % MODULE_NAME, scheduler_cluster_ids=list(params['scheduler_cluster_ids']),
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


class LocalCache(object):
    """The cache of the seed peer on this host (option cache_dir), and what it can settle on its own."""

    def __init__(self, params, tasks, requirement, checksums):
        self.cache_dir = params['cache_dir']
        self.seed_ip = params['seed_ip'] or None
        self.tasks = tasks
        items = []
        for task in tasks:
            expected = checksums.get(task['url'])
            if task.get('digest'):
                try:
                    expected = normalize_sha256(task['digest'], 'digest')
                except ValueError:
                    # Not a sha256 digest (sha512, say): this blob cannot be verified here.
                    expected = None
            items.append(dict(url=task['url'], task_id=task['task_id'], sha256=expected))
        self.watcher = CacheWatcher(self.cache_dir, items)
        # This seed peer holding every task is enough (single_seed_peer, ips == [seed_ip], count 1).
        self.enough = requirement.met_by_one_peer(self.seed_ip)
        # This seed peer must hold every task, so lacking one means a preheat is needed.
        self.must_hold = requirement.includes(self.seed_ip)
        # This cache in a view of which host holds what, until a manager answer names its host.
        self.key = (f'cache_dir {self.cache_dir}', self.seed_ip or '')

    @property
    def can_settle(self):
        """Whether the local cache alone can end the run: every task verifiable, and this seed peer enough."""
        return self.enough and self.watcher.verifiable

    def poll(self, eager=False):
        self.watcher.poll(eager=eager)

    @property
    def polled(self):
        return self.watcher.polls > 0

    def settled(self):
        return self.enough and self.watcher.complete

    def lacking(self):
        """The tasks known not to be complete here (absent, being written, or a different sha256)."""
        return self.watcher.in_state(STATE_INCOMPLETE)

    def verified_ids(self):
        return [result['task_id'] for result in self.watcher.results() if result['verified']]

    def results(self):
        return [dict(task_id=result['task_id'], url=result['url'], path=result['path'], verified=result['verified'],
                     cause=result['cause']) for result in self.watcher.results()]

    def merge_into(self, view):
        """``view`` (``{(hostname, ip): [urls]}``) with the URLs verified here added to this seed peer's entry."""
        merged = dict((label, list(urls)) for label, urls in view.items())
        verified = set(self.verified_ids())
        urls = [task['url'] for task in self.tasks if task['task_id'] in verified]
        if not urls:
            return merged
        key = self.key
        if self.seed_ip:
            key = next((known for known in merged if known[1] == self.seed_ip), key)
        entry = merged.setdefault(key, [])
        entry.extend(url for url in urls if url not in entry)
        order = dict((task['url'], index) for index, task in enumerate(self.tasks))
        entry.sort(key=lambda url: order.get(url, len(order)))
        return merged

    def bullets(self):
        return ''.join(f"\n- {result['url']} (task {result['task_id']}) in cache_dir: {result['cause']}"
                       for result in self.watcher.results() if not result['verified'])


class Preheat(object):
    """One run of the module: expected tasks, idempotence check, job, wait."""

    def __init__(self, module, client, requirement, tasks, local=None):
        self.module = module
        self.params = module.params
        self.client = client
        self.requirement = requirement
        self.tasks = tasks
        self.observations = Observations()
        self.get_task_job_ids = []
        self.job = None
        self.host_type = None if requirement.scope == SCOPE_ALL_PEERS else HOST_TYPE_SUPER
        self.url_tasks = dict((task['url'], task['task_id']) for task in tasks)
        self.local = local
        # Whether the wait ended on the local cache rather than on the manager's answer.
        self.settled_locally = False

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
        answered = wait_for_round(self.client, round_, self.observations, _jobs.monotonic() + CHECK_TIMEOUT,
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
            now = _jobs.monotonic()
            if self.job.due(now):
                row = self.job.read(self.client)
                outcome = preheat_outcome(row)
                self.observations.add_preheat(outcome, self.url_tasks, self.host_type)
                if self.job.state == STATE_FAILURE:
                    raise PreheatError(f'preheat job {self.job.id} failed{_job_problems(outcome)}', missing=self.missing())
                if self.job.state == STATE_SUCCESS and success_seen_at is None:
                    success_seen_at = _jobs.monotonic()
                if not self.missing():
                    return
            watch_local = self.local is not None and self.local.can_settle
            if watch_local:
                self.local.poll()
                if self.local.settled():
                    self.settled_locally = True
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
            answer_by = now + _jobs.REFRESH_OFFSETS[0] + _jobs.REFRESH_SLACK
            if answer_by <= deadline and (
                    (round_ is None and self.job.last_read > self.job.created_at) or (round_ is not None and round_.final)):
                round_ = self.new_round([task for task in self.tasks if task['task_id'] in
                                         set(item['task_id'] for item in missing)])
            if now >= deadline:
                local_text = self.local.bullets() if watch_local else ''
                raise PreheatError(
                    f"preheat job {self.job.id} (state {self.job.state}) did not bring every expected task to "
                    f"{self.requirement.describe()} within wait_timeout={params['wait_timeout']} s; still missing:"
                    f'{_bullets(missing)}{local_text}{_job_problems(preheat_outcome(self.job.row))}\nThe job goes on in '
                    f'the manager; p2p.dragonfly.job_info shows it later (id {self.job.id}).', missing=missing)
            moments = [moment for moment in (self.job.next_due(), round_ and round_.next_due()) if moment is not None]
            pause = min([params['poll_interval']] + [max(moment - now, 0.5) for moment in moments])
            if watch_local:
                pause = min(pause, LOCAL_POLL_INTERVAL)
            _jobs.sleep(max(min(pause, deadline - now), 0))


def run(module, started, state):
    """Do the work; ``state`` keeps the result and the run, for what a failure still returns."""
    params = module.params
    kind, target, platform, checksums = check_options(module)
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
                           filtered_query_params=params['filtered_query_params'], piece_length=params['piece_length'],
                           client_version=params['client_version'])
    result['expected_tasks'] = tasks
    requirement = Requirement(params['scope'], params['ips'], params['count'], params['percentage'],
                              params['scheduler_cluster_ids'])
    local = LocalCache(params, tasks, requirement, checksums) if params['cache_dir'] else None
    run_ = state['run'] = Preheat(module, client, requirement, tasks, local=local)

    to_preheat = tasks
    before = {}
    ask_manager = not params['force']
    if local is not None and not params['force']:
        local.poll(eager=True)
        if local.settled():
            # Every task verified on this seed peer, which alone meets the scope: nothing to do, no job.
            result.update(cached_before=True, cached_after=True)
            finish(result, run_, local.merge_into({}))
            return result
        if local.lacking() and local.must_hold:
            # This seed peer lacks a task it must hold: a preheat is needed whatever get_task jobs would say.
            ask_manager = False
            result['cached_before'] = False
            before = local.merge_into({})
            if local.enough:
                verified = set(local.verified_ids())
                to_preheat = [task for task in tasks if task['task_id'] not in verified]

    if module.check_mode:
        result['changed'] = True
        result['diff'] = dict(before=labelled(before), after={requirement.describe(): [task['url'] for task in tasks]})
        if local is not None:
            local_outcome(result, run_)
        return result

    if ask_manager:
        missing = run_.check_cached()
        before = run_.observations.cached(tasks)
        if local is not None:
            before = local.merge_into(before)
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
    run_.job = TrackedJob(row, _jobs.monotonic())
    if params['wait']:
        run_.wait(started + params['wait_timeout'])
        result['cached_after'] = True
        if local is not None and not run_.settled_locally:
            # The manager answered first: say what the local cache holds now, and what it should but does not.
            local.poll(eager=True)
            warn_local_gaps(module, run_)
    finish(result, run_, before)
    return result


def warn_local_gaps(module, run_):
    """Warn about tasks not verified in cache_dir that the manager reports on this seed peer, or that belong there."""
    local = run_.local
    gaps = []
    for item in local.watcher.results():
        if item['verified'] or item['state'] == STATE_UNKNOWN:
            continue
        holders = run_.observations.finished.get(item['task_id'], {}).values()
        named_here = local.seed_ip is not None and any(host['ip'] == local.seed_ip for host in holders)
        if named_here or local.can_settle:
            gaps.append(item)
    if gaps:
        module.warn(f'the manager reports the preheat done, but cache_dir {local.cache_dir} lacks a verified copy of '
                    + '; '.join(f"{item['url']} (task {item['task_id']}: {item['cause']})" for item in gaps)
                    + ". Either the scheduler placed them on another seed peer (scope single_seed_peer with several seed "
                    "peers), or cache_dir is not this seed peer's storage.dir, or their files were removed by hand while "
                    "the seed peer's metadata still marks them finished (remove them with a delete_task job instead)")


def local_outcome(result, run_):
    local = run_.local
    if not local.polled:
        local.poll()
    result['verified_locally'] = local.watcher.complete
    result['local'] = local.results()


def finish(result, run_, before):
    result['hosts'] = run_.observations.per_host(run_.tasks)
    result['get_task_job_ids'] = list(run_.get_task_job_ids)
    if run_.job is not None:
        result['job'] = job_summary(run_.job.row)
    after = run_.observations.cached(run_.tasks)
    if run_.local is not None:
        local_outcome(result, run_)
        after = run_.local.merge_into(after)
    result['diff'] = dict(before=labelled(before), after=labelled(after))


def main():
    argspec_ex = preheat_argspec_ex()
    module = AnsibleModule(argument_spec=argspec_ex.pop('argspec'), supports_check_mode=True, **argspec_ex)
    started = _jobs.monotonic()
    state = {}
    try:
        result = run(module, started, state)
    except PreheatError as exc:
        module.fail_json(msg=exc.message, elapsed=round(_jobs.monotonic() - started, 1), **partial(state, exc.details))
    except ManagerAPIError as exc:
        module.fail_json(msg=str(exc), http_status=exc.status, elapsed=round(_jobs.monotonic() - started, 1),
                         **partial(state, {}))
    result['elapsed'] = round(_jobs.monotonic() - started, 1)
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
        if run_.local is not None:
            extra['verified_locally'] = run_.local.watcher.complete
            extra['local'] = run_.local.results()
    return extra


if __name__ == '__main__':
    main()
