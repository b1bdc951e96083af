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
  - p2p.dragonfly.image
  - p2p.dragonfly.credentials
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
      - Needs O(force=false). The check takes a few seconds for an image and about 30 seconds for files, see the notes;
        with O(cache_dir) on a seed peer that alone meets O(scope), only as long as hashing the content in the cache.

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
        O(insecure_registry). For a Docker Hub image the registry is O(docker_hub_host).
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
      - The manager verifies the registry with its own C(job.preheat.tls) settings, which the manager role of this
        collection sets from C(dragonfly_manager_preheat_ca_bundle); a job the manager refuses for the registry's
        certificate fails naming that variable.
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
        a preheat is needed and creates it without asking the manager first (no C(get_task) jobs). This seed peer must
        hold every task with O(scope=single_seed_peer), with O(seed_ip) among O(ips), and with an C(all_*) scope without
        O(ips), O(count) and O(percentage). In every other case the module asks the manager as it does without
        O(cache_dir).
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
    5 minutes. The preheat job's own row therefore reports at the earliest 30 seconds after it is created.
  - For an image, the module asks who holds its blobs with a C(get_image_distribution) request. The manager creates a
    C(get_task) job for each blob, reads it every 3 to 5 seconds, and answers once each has answered; the module then
    reads those jobs' rows from the job list (the request's own answer leaves seed peers out). A run that finds the image
    cached takes a few seconds, and while waiting for a preheat the module asks again O(poll_interval) seconds after
    each answer, so it returns within seconds of the content's arrival, before the job row reports. When the manager
    does not answer such a request in full within 30 seconds, the module goes on as for files.
  - For files, the module creates a C(get_task) job for each task, which answers about 30 seconds later; a run that finds
    everything cached takes about 30 seconds. While waiting for a preheat, it creates a new C(get_task) job for each
    still-missing task whenever the previous ones have answered, so it notices the content within about 30 seconds of its
    arrival even when the preheat job itself reports later. Run on a seed peer's host with O(cache_dir), the module avoids
    these waits when that seed peer alone meets O(scope).
  - Each C(get_task) job adds a row to the manager's job list, also those of a C(get_image_distribution) request; they
    change no cache.
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

- name: Preheat images and files with one list of credentials for all of them
  p2p.dragonfly.preheat:
    manager_url: https://manager.example.com:8080
    token: "{{ dragonfly_token }}"
    image: "{{ item }}"
    credentials: "{{ preheat_credentials }}"
  loop:
    - registry.example.com:5000/team/app:1.0
    - team/tool:2.1
  vars:
    preheat_credentials:
      - registry: registry.example.com:5000
        username: puller
        password: "{{ vault_registry_password }}"
        ca_path: /etc/dragonfly/registry-ca.crt
      - registry: docker.io
        username: team-bot
        password: "{{ vault_docker_hub_token }}"
      - url_prefix: https://files.example.com/models/
        username: models
        password: "{{ vault_models_password }}"

- name: Preheat a Docker Hub image for peers set up by upstream's helm chart (registry mirror index.docker.io)
  p2p.dragonfly.preheat:
    manager_url: https://manager.example.com:8080
    token: "{{ dragonfly_token }}"
    image: alpine:3.20
    docker_hub_host: index.docker.io

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
  description:
    - IDs of the C(get_task) jobs whose answers the module read, those it created and those the manager created for its
      C(get_image_distribution) requests.
  returned: always
  type: list
  elements: int
  sample:
    - 13
    - 14
image_rounds:
  description:
    - How many C(get_image_distribution) requests answered about every blob of the image, see the notes. V(0) for files,
      and when the module asked with C(get_task) jobs of its own instead.
  returned: success
  type: int
  sample: 2
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
credentials_used:
  description:
    - The entry of O(credentials) the module used, by its O(credentials[].registry) or O(credentials[].url_prefix) (never
      a secret); V(null) when it used none (no entry matched, or the explicit options won).
  returned: success, and failure after the credentials were chosen
  type: str
  sample: registry.example.com:5000
elapsed:
  description: Seconds the module ran.
  returned: always
  type: float
  sample: 31.7
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.p2p.dragonfly.plugins.module_utils import _jobs
from ansible_collections.p2p.dragonfly.plugins.module_utils._api import ManagerAPIError, ManagerClient
from ansible_collections.p2p.dragonfly.plugins.module_utils._credentials import choose as choose_credentials, registry_reader
from ansible_collections.p2p.dragonfly.plugins.module_utils._jobs import check_jobs_access
from ansible_collections.p2p.dragonfly.plugins.module_utils._local_cache import LocalCache
from ansible_collections.p2p.dragonfly.plugins.module_utils._placement import Requirement
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat import PreheatError, expected_tasks, preheat_body
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat_options import check_options, preheat_argspec_ex
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat_run import PreheatRun
from ansible_collections.p2p.dragonfly.plugins.module_utils._registry import resolve_image


class Preheat(object):
    """Reads the options, works out the expected tasks and runs the preheat with them (module_utils/_preheat_run.py)."""

    def __init__(self, module):
        self.module = module
        self.started = _jobs.monotonic()
        self.run = None
        self.credentials = None

    def execute(self):
        module, params = self.module, self.module.params
        request = check_options(module)
        client = ManagerClient.from_module(module)
        # One read first: a wrong manager_url or token fails here, before the registry is read.
        check_jobs_access(client)
        headers = dict((str(name), str(value)) for name, value in (params['headers'] or {}).items())
        self.credentials = choice = choose_credentials(module, request.kind, request.target, params['urls'], headers)
        image = {}
        if request.kind == 'image':
            registry = registry_reader(module, choice, headers)
            entries, offered = resolve_image(registry, request.target, request.platform)
            if registry.basic_auth and not any(name.lower() == 'authorization' for name in headers):
                headers['Authorization'] = registry.authorization
            image = dict(manifest_url=request.target, platform=request.platform, available_platforms=offered)
        else:
            if choice.authorization:
                headers['Authorization'] = choice.authorization
            entries = [(url, None) for url in params['urls']]
        tasks = expected_tasks(entries, tag=params['tag'], application=params['application'],
                               filtered_query_params=params['filtered_query_params'], piece_length=params['piece_length'],
                               client_version=params['client_version'])
        requirement = Requirement(params['scope'], params['ips'], params['count'], params['percentage'],
                                  params['scheduler_cluster_ids'])
        local = None
        if params['cache_dir']:
            local = LocalCache(params['cache_dir'], params['seed_ip'], tasks, requirement, request.checksums)
        self.run = PreheatRun(module, client, tasks, requirement, params['scheduler_cluster_ids'], params['poll_interval'],
                              local=local, image=image, registry=choice.registry, login_entry=choice.login_entry)
        return self.run.execute(
            lambda urls: preheat_body(params, request.kind, request.target, request.platform, urls, headers,
                                      username=choice.username, password=choice.password),
            force=params['force'], wait=params['wait'], deadline=self.started + params['wait_timeout'],
            wait_timeout=params['wait_timeout'])

    def elapsed(self):
        return round(_jobs.monotonic() - self.started, 1)

    def fail(self, exc):
        """Fail with what the run knows so far: expected tasks, job, hosts seen, the local cache."""
        fields = self.run.result(failed=True) if self.run is not None else {}
        if self.credentials is not None:
            fields['credentials_used'] = self.credentials.used
        if isinstance(exc, ManagerAPIError):
            self.module.fail_json(msg=str(exc), http_status=exc.status, elapsed=self.elapsed(), **fields)
        fields.update(exc.details)
        self.module.fail_json(msg=exc.message, elapsed=self.elapsed(), **fields)


def main():
    argspec_ex = preheat_argspec_ex()
    module = AnsibleModule(argument_spec=argspec_ex.pop('argspec'), supports_check_mode=True, **argspec_ex)
    preheat = Preheat(module)
    try:
        result = preheat.execute()
    except (PreheatError, ManagerAPIError) as exc:
        preheat.fail(exc)
    result['elapsed'] = preheat.elapsed()
    result['credentials_used'] = preheat.credentials.used
    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
