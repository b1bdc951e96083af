#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
module: cache_assert

short_description: Assert that content is really in a Dragonfly peer's cache on disk

version_added: 0.1.0

description:
  - Runs on the host of a Dragonfly seed peer (or any peer) and checks its cache directory, the host directory mounted at
    the client's C(storage.dir) (C(/var/lib/dragonfly) in the container), for the given content.
  - Fails listing B(every) missing or incomplete item with its URL, task ID, expected path and the most likely cause.
  - Never changes anything.
  - The content is described by O(files), O(blobs), O(task_ids) and/or O(preheat_result); the module computes the task ID of
    each URL the way the Rust client does (see O(tag), O(application), O(filtered_query_params), O(piece_length)) and looks
    for C(content/tasks/<id[:3]>/<id>).
  - The client creates the content file at its full length when a download starts and fills it piece by piece, so a file of
    the right size proves nothing. O(mode=full) compares the sha256 of each file with the expected digest.

extends_documentation_fragment:
  - p2p.dragonfly.attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads; it does the same in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - The module only reads files; it never changes anything.

options:
  cache_dir:
    description:
      - The host directory mounted at the peer's C(storage.dir), the one that holds C(content/) and C(metadata/).
    type: path
    required: true
  files:
    description:
      - Files, by the URL they were downloaded or preheated from.
    type: list
    elements: dict
    suboptions:
      url:
        description:
          - The URL of the file. Required unless O(files[].task_id) is set.
        type: str
      sha256:
        description:
          - The expected sha256 of the content, C(<hex>) or C(sha256:<hex>). Without it O(mode=full) only reports the hash.
        type: str
      size:
        description:
          - The expected size in bytes. Checked in both modes; a wrong size proves the file wrong, a right one proves nothing.
        type: int
      task_id:
        description:
          - The task ID, when it is not the one computed from O(files[].url) (for example created with other task options).
        type: str
  blobs:
    description:
      - OCI image blobs by their blob URL C(<scheme>://<host>/v2/<name>/blobs/<digest>), as preheated.
      - The content must hash to the digest.
    type: list
    elements: dict
    suboptions:
      url:
        description:
          - The blob URL.
        type: str
        required: true
      digest:
        description:
          - The blob digest C(sha256:<hex>). Defaults to the digest at the end of O(blobs[].url).
        type: str
      size:
        description:
          - The expected size in bytes (from the manifest).
        type: int
      task_id:
        description:
          - The task ID, when it is not the one computed from O(blobs[].url).
        type: str
  task_ids:
    description:
      - Task IDs to look for. Without an expected hash their content is reported but cannot be verified.
    type: list
    elements: str
  preheat_result:
    description:
      - The registered result of M(p2p.dragonfly.preheat). Its RV(p2p.dragonfly.preheat#module:expected_tasks) are checked
        (blobs against their digest), and a missing item is explained with the peer the preheat reports it on.
    type: dict
  tag:
    description:
      - The task tag used for the URLs of O(files) and O(blobs); part of the task ID.
    type: str
    default: ''
  application:
    description:
      - The task application used for the URLs of O(files) and O(blobs); part of the task ID.
    type: str
    default: ''
  filtered_query_params:
    description:
      - Query parameters left out of the task IDs of O(files) and O(blobs). Empty means the default list of the manager and
        the client.
    type: list
    elements: str
    default: []
  client_version:
    description:
      - Release of the Dragonfly client (dfdaemon) on the seed peers, for example V(1.5.10) or V(v1.4.0). It decides how the
        task IDs of O(files) and O(blobs) are computed. Clients v1.5.3 and later sort the query parameters of a URL and
        escape them like Go, and hash a URL as given when O(filtered_query_params) is empty; earlier clients keep the
        order. Registry blob URLs without a query, what image preheats create, get the same task ID from both.
      - If not set, the rules of the newest clients (v1.5.3 and later). The roles and playbooks of this collection set it
        from the release set.
    type: str
  piece_length:
    description:
      - The piece length given when the tasks were created, if any; part of the task ID.
    type: int
  mode:
    description:
      - V(full) reads and hashes every file found and compares it with the expected sha256.
      - V(quick) only checks that each file exists and, when known, has the expected size. Fast, but a download still
        running or interrupted passes, since the file is created at full length.
      - With O(container), both modes also ask the peer through C(dfctl task ls) whether each task is finished.
    type: str
    choices:
      - full
      - quick
    default: full
  layout:
    description:
      - V(rust) for the Rust client (dfdaemon v0.1.113 and later, every current release), with content files at
        C(<cache_dir>/content/tasks/<id[:3]>/<id>).
      - V(legacy_go) for the Go dfdaemon of dragonfly 2.3 and earlier, with C(<cache_dir>/<task id>/<peer id>/data) and a JSON
        C(metadata) file whose C(done) must be true. Its task IDs were computed differently, so items without
        O(files[].task_id) are found by size and, in O(mode=full), by hash.
    type: str
    choices:
      - rust
      - legacy_go
    default: rust
  container:
    description:
      - Name of the peer's container. If set, the module also runs C(docker exec <container> dfctl task ls) and requires
        each task to be listed as finished.
      - Needs the C(docker) CLI on the host and C(dfctl) in the container (the client image has it).
    type: str
  seed_ip:
    description:
      - The IP this peer advertises (its C(host.ip)). With O(preheat_result) it tells whether a missing item went to another
        seed peer.
    type: str

notes:
  - Hashing reads every byte; the module reads in 8 MiB blocks and hashes several files in parallel threads.
  - Run it where the cache is, for example with C(delegate_to) each of RV(p2p.dragonfly.preheat#module:hosts).
  - It works on any peer's cache, not only a seed peer's. After a pull through a peer's proxy, the peer holds the blobs
    under the preheat's task IDs only if the pull computed the same IDs - the same registry C(scheme://host:port) (for
    containerd the C(server) of its C(hosts.toml), sent as C(X-Dragonfly-Registry); for Docker Engine the proxy's
    registry mirror), tag, application and piece length, with C(ns) among the filtered query parameters. Then
    O(preheat_result) with the peer's O(cache_dir) proves what the pull stored; see the collection's
    docs/container-runtime.md.

seealso:
  - module: p2p.dragonfly.preheat
  - module: p2p.dragonfly.task_info

author:
  - p2p.dragonfly maintainers (@p2p-dragonfly)
"""

EXAMPLES = r"""
---
- name: Preheat an image
  p2p.dragonfly.preheat:
    image: registry.example.com:5000/team/app:1.0
  register: preheat

- name: Prove that the seed peer's cache holds every blob
  p2p.dragonfly.cache_assert:
    cache_dir: /srv/dragonfly/seed-cache
    preheat_result: "{{ preheat }}"
    seed_ip: 10.0.0.5

- name: After a pull through this host's peer, prove the peer's copy (same task IDs as the preheat)
  p2p.dragonfly.cache_assert:
    cache_dir: /srv/dragonfly/peer/cache
    preheat_result: "{{ preheat }}"

- name: Check files by hash and ask dfdaemon too
  p2p.dragonfly.cache_assert:
    cache_dir: /srv/dragonfly/seed-cache
    container: dragonfly-seed-client
    files:
      - url: http://files.example.com/models/model.bin
        sha256: 6f1ed002ab5595859014ebf0951522d9a4fb1b8d29b2f1f4d32b5de6a4f1c2d3
        size: 402653184

- name: Quick existence check of two blobs
  p2p.dragonfly.cache_assert:
    cache_dir: /srv/dragonfly/seed-cache
    mode: quick
    blobs:
      - url: http://10.0.0.20:5000/v2/team/app/blobs/sha256:4e1b6d1b4d1f4ac8e2c2d2f0e8c9a8d1b0e5f4a3c2b1a0f9e8d7c6b5a4f3e2d1
"""

RETURN = r"""
items:
  description: One entry per item checked.
  returned: always
  type: list
  elements: dict
  contains:
    url:
      description: The URL of the item, if known.
      type: str
    task_id:
      description: The task ID looked for.
      type: str
    path:
      description: Where the content file is (or was expected).
      type: str
    exists:
      description: Whether the content file exists.
      type: bool
    size:
      description: Size of the file in bytes.
      type: int
    sha256:
      description: The sha256 of the file (O(mode=full) only).
      type: str
    expected_sha256:
      description: The expected sha256, if known.
      type: str
    expected_size:
      description: The expected size, if known.
      type: int
    verified:
      description: Whether the content matched the expected sha256.
      type: bool
    dfctl_finished:
      description: Whether C(dfctl task ls) lists the task as finished (with O(container)).
      type: bool
      returned: with O(container)
    ok:
      description: Whether the item passed.
      type: bool
    cause:
      description: Why it did not pass.
      type: str
  sample:
    - url: http://files.example.com/models/model.bin
      task_id: 9f7c9aafbc6f30f8f41a96ca77eeae80c5b60964b3034b0ee43ccf7b2f9e52b8
      path: /srv/dragonfly/seed-cache/content/tasks/9f7/9f7c9aafbc6f30f8f41a96ca77eeae80c5b60964b3034b0ee43ccf7b2f9e52b8
      exists: true
      size: 402653184
      sha256: 6f1ed002ab5595859014ebf0951522d9a4fb1b8d29b2f1f4d32b5de6a4f1c2d3
      expected_sha256: 6f1ed002ab5595859014ebf0951522d9a4fb1b8d29b2f1f4d32b5de6a4f1c2d3
      expected_size: 402653184
      verified: true
      ok: true
      cause: null
summary:
  description: Counts and hashing speed.
  returned: always
  type: dict
  contains:
    total:
      description: Items checked.
      type: int
    ok:
      description: Items that passed.
      type: int
    failed:
      description: Items that did not pass.
      type: int
    missing:
      description: Items whose file does not exist.
      type: int
    verified:
      description: Items whose hash matched.
      type: int
    bytes_hashed:
      description: Bytes read for hashing.
      type: int
    seconds:
      description: Time spent checking.
      type: float
    mib_per_second:
      description: Hashing throughput.
      type: float
  sample:
    total: 4
    ok: 4
    failed: 0
    missing: 0
    verified: 4
    bytes_hashed: 13631488
    seconds: 0.011
    mib_per_second: 1181.8
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.p2p.dragonfly.plugins.module_utils._cache import (
    LAYOUT_LEGACY_GO,
    LAYOUT_RUST,
    MODE_FULL,
    MODE_QUICK,
    CacheChecker,
    digest_from_blob_url,
    preheat_hosts_by_url,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._dfctl import parse_dfctl_task_ls
from ansible_collections.p2p.dragonfly.plugins.module_utils._hashing import normalize_sha256
from ansible_collections.p2p.dragonfly.plugins.module_utils._task_id import task_id as compute_task_id


class InputError(Exception):
    pass


def _task_id(url, params, explicit, label):
    if explicit:
        return explicit.strip().lower()
    if params['layout'] == LAYOUT_LEGACY_GO:
        # Go dfdaemon task IDs are not the Rust ones; the checker finds these items by size and hash.
        return None
    try:
        return compute_task_id(url, piece_length=params['piece_length'], tag=params['tag'],
                               application=params['application'],
                               filtered_query_params='&'.join(params['filtered_query_params'] or []),
                               client_version=params['client_version'])
    except ValueError as exc:
        raise InputError(f'{label}: cannot compute the task ID of {url!r}: {exc}')


def build_items(params):
    items = []
    for index, entry in enumerate(params['files'] or []):
        label = f'files[{index}]'
        if not entry.get('url') and not entry.get('task_id'):
            raise InputError(f'{label} needs url or task_id')
        items.append(dict(url=entry.get('url'), sha256=_sha(entry.get('sha256'), f'{label}.sha256'), size=entry.get('size'),
                          task_id=_task_id(entry.get('url'), params, entry.get('task_id'), label)))
    for index, entry in enumerate(params['blobs'] or []):
        label = f'blobs[{index}]'
        digest = entry.get('digest') or digest_from_blob_url(entry['url'])
        if not digest:
            raise InputError(f"{label}: {entry['url']!r} does not end in /blobs/sha256:<hex>; give digest")
        items.append(dict(url=entry['url'], sha256=_sha(digest, f'{label}.digest'), size=entry.get('size'),
                          task_id=_task_id(entry['url'], params, entry.get('task_id'), label)))
    for value in params['task_ids'] or []:
        items.append(dict(url=None, sha256=None, size=None, task_id=value.strip().lower()))
    preheat_result = params['preheat_result']
    if preheat_result is not None:
        tasks = preheat_result.get('expected_tasks')
        if not isinstance(tasks, list):
            raise InputError('preheat_result has no expected_tasks: pass the registered result of p2p.dragonfly.preheat')
        for index, task in enumerate(tasks):
            if not isinstance(task, dict) or not task.get('task_id'):
                raise InputError(f'preheat_result.expected_tasks[{index}] has no task_id')
            digest = task.get('digest') or digest_from_blob_url(task.get('url'))
            items.append(dict(url=task.get('url'), size=None, sha256=_sha(digest, f'preheat_result.expected_tasks[{index}]'),
                              task_id=None if params['layout'] == LAYOUT_LEGACY_GO else task['task_id']))
    if not items:
        raise InputError('nothing to check: give files, blobs, task_ids or preheat_result')
    for item in items:
        if item['task_id'] is not None and (len(item['task_id']) < 3 or '/' in item['task_id']):
            raise InputError(f"invalid task ID {item['task_id']!r}")
        if params['layout'] == LAYOUT_LEGACY_GO and item['task_id'] is None and not (
                item['sha256'] and params['mode'] == MODE_FULL):
            raise InputError(f"layout legacy_go needs the task_id of {item['url']!r}, or its sha256 with mode full: Go "
                             'dfdaemon task IDs cannot be computed from the URL here')
    return items


def _sha(value, label):
    try:
        return normalize_sha256(value, label)
    except ValueError as exc:
        raise InputError(str(exc))


def dfctl_tasks(module, container):
    docker = module.get_bin_path('docker', required=True)
    rc, out, err = module.run_command([docker, 'exec', container, 'dfctl', 'task', 'ls'])
    if rc != 0:
        module.fail_json(msg=f'docker exec {container} dfctl task ls failed (rc {rc}): {(err or out).strip()}: is the '
                             'container running the Dragonfly client, with dfctl?')
    try:
        return parse_dfctl_task_ls(out)
    except ValueError as exc:
        module.fail_json(msg=f'cannot read the output of dfctl task ls in container {container}: {exc}', stdout=out)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            cache_dir=dict(type='path', required=True),
            files=dict(type='list', elements='dict', options=dict(
                url=dict(type='str'),
                sha256=dict(type='str'),
                size=dict(type='int'),
                task_id=dict(type='str'),
            )),
            blobs=dict(type='list', elements='dict', options=dict(
                url=dict(type='str', required=True),
                digest=dict(type='str'),
                size=dict(type='int'),
                task_id=dict(type='str'),
            )),
            task_ids=dict(type='list', elements='str'),
            preheat_result=dict(type='dict'),
            tag=dict(type='str', default=''),
            application=dict(type='str', default=''),
            filtered_query_params=dict(type='list', elements='str', default=[]),
            piece_length=dict(type='int'),
            client_version=dict(type='str'),
            mode=dict(type='str', default=MODE_FULL, choices=[MODE_FULL, MODE_QUICK]),
            layout=dict(type='str', default=LAYOUT_RUST, choices=[LAYOUT_RUST, LAYOUT_LEGACY_GO]),
            container=dict(type='str'),
            seed_ip=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    cache_dir = params['cache_dir']
    try:
        items = build_items(params)
    except InputError as exc:
        module.fail_json(msg=str(exc))
    if not os.path.isdir(cache_dir):
        module.fail_json(msg=f'cache_dir {cache_dir} does not exist or is not a directory on this host: give the host '
                             "directory mounted at the peer's storage.dir, and run the module on the peer's host")
    tasks_listed = dfctl_tasks(module, params['container']) if params['container'] else None
    checker = CacheChecker(cache_dir, layout=params['layout'], mode=params['mode'],
                           elsewhere=preheat_hosts_by_url(params['preheat_result']), seed_ip=params['seed_ip'],
                           dfctl_tasks=tasks_listed, container=params['container'])
    results, summary = checker.check(items)
    failed = [result for result in results if not result['ok']]
    if failed:
        lines = ''.join(f"\n- {result['url'] or '(no URL)'} (task {result['task_id'] or 'unknown'}) at {result['path']}: "
                        f"{result['cause']}" for result in failed)
        module.fail_json(msg=f'{len(failed)} of {len(results)} items are not complete in the cache at {cache_dir}:{lines}',
                         items=results, summary=summary, changed=False)
    module.exit_json(changed=False, items=results, summary=summary)


if __name__ == '__main__':
    main()
