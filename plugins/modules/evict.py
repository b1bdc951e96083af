#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
module: evict

short_description: Evict images and files from the Dragonfly peers' caches

version_added: 0.2.0

description:
  - Removes the tasks of an image (every blob of the platform's manifest), of files, or given by task ID from the
    peers that hold them, and confirms it.
  - Through the manager (O(via) V(manager)) it asks every scheduler of O(scheduler_cluster_ids) which peers hold each
    task (a C(get_task) job), then creates one C(delete_task) job per held task and reads it until the schedulers
    answered. A scheduler deletes a task from every peer it knows holds it, seed peers and other peers alike.
  - In a peer's cache directory on this host (O(via) V(local), with O(cache_dir)) it checks that no file of the tasks
    is left, and with O(container) removes what is left with C(dfctl task rm) in the peer's container. This is needed
    for tasks the scheduler does not know about, which C(delete_task) cannot reach. Clients 1.4.2 and later download
    tasks of 4 MiB or less without the scheduler (image configs and small layers among them), so a preheat leaves such
    files that only the local step removes. Removing the files by hand is not enough, because the client's metadata
    still marks the task finished.
  - The task IDs are computed the way the Rust client (dfdaemon) computes them, as M(p2p.dragonfly.preheat) does. Give
    the same O(tag), O(application), O(filtered_query_params), O(piece_length) and O(client_version) as the preheat.

extends_documentation_fragment:
  - p2p.dragonfly.manager
  - p2p.dragonfly.image
  - p2p.dragonfly.credentials
  - p2p.dragonfly.attributes
  - p2p.dragonfly.attributes.actiongroup_dragonfly

attributes:
  check_mode:
    support: full
    details:
      - In check mode the module reports which peers hold each task (RV(tasks[].held_by)) and which files are on disk
        (RV(tasks[].on_disk)), and deletes nothing. Its C(get_task) jobs change no cache; they only add rows to the
        manager's job list.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - Once nothing holds the tasks, the module reports no change and creates no C(delete_task) job.

options:
  manager_url:
    description:
      - Base URL of the Dragonfly manager REST API, V(https://host[:port]) without a path.
      - If not set, the value of the E(DRAGONFLY_MANAGER_URL) environment variable is used.
      - Required when O(via) contains V(manager); not used otherwise.
    type: str
    required: false
  via:
    description:
      - V(manager) evicts through the schedulers (C(get_task) and C(delete_task) jobs); V(local) checks the cache
        directory O(cache_dir) on this host and, with O(container), removes what is left there.
      - The default is V(manager) and, when O(cache_dir) is set, V(local) as well.
    type: list
    elements: str
    choices: [manager, local]
  type:
    description:
      - What the content is. The default is V(file) when O(urls) or O(task_ids) is given, otherwise V(image).
    type: str
    choices: [image, file]
  image:
    description:
      - The image whose blobs to evict, for example V(registry.example.com/team/app:1.0), read from its registry as
        M(p2p.dragonfly.preheat) reads it (the manifest of O(platform)).
    type: str
  url:
    description:
      - The manifest URL of the image, instead of O(image).
    type: str
  scheme:
    description:
      - Scheme of the manifest URL built from O(image). Only with O(image).
    type: str
    choices: [https, http]
  insecure_registry:
    description:
      - The registry of O(image) serves plain HTTP.
    type: bool
    default: false
  platform:
    description:
      - The platform whose manifest names the blobs of a multi-platform image, V(os/arch[/variant]).
    type: str
    default: linux/amd64
  registry_username:
    description:
      - User name for the registry of O(image). Wins over the entry of O(credentials).
    type: str
  registry_password:
    description:
      - Password for the registry of O(image).
    type: str
  registry_ca_path:
    description:
      - PEM file of the CA that signed the registry's certificate. Wins over the entry of O(credentials).
    type: path
  headers:
    description:
      - HTTP headers sent to the registry when reading the manifests of O(image).
    type: dict
  urls:
    description:
      - File URLs whose tasks to evict, as they were preheated.
    type: list
    elements: str
  task_ids:
    description:
      - Task IDs to evict (64 hex characters), for example RV(p2p.dragonfly.preheat#module:expected_tasks[].task_id),
        instead of content the module resolves.
    type: list
    elements: str
  scheduler_cluster_ids:
    description:
      - The scheduler clusters whose peers to evict from.
    type: list
    elements: int
    default: [1]
  tag:
    description:
      - The task tag of the preheat; part of the task ID.
    type: str
    default: ''
  application:
    description:
      - The application of the preheat; part of the task ID.
    type: str
    default: ''
  filtered_query_params:
    description:
      - Query parameters left out of the task ID, as in the preheat.
    type: list
    elements: str
    default: []
  piece_length:
    description:
      - The piece length of the preheat, when one was set; part of the task ID.
    type: int
  client_version:
    description:
      - The release of the peers' client (for example V(1.5.10)), which decides how task IDs are computed. Unset, the
        newest rules apply.
    type: str
  cache_dir:
    description:
      - A peer's cache directory on this host (the host directory mounted at the client's C(storage.dir)), for O(via)
        V(local).
    type: path
  container:
    description:
      - The name of that peer's container. With it, files of the tasks still in O(cache_dir) after the eviction through
        the manager are removed with C(docker exec <container> dfctl task rm <task ID>) (client 1.5 and later).
      - Without it, such files fail the module, naming them.
    type: str
  wait_timeout:
    description:
      - Seconds to wait for the manager's jobs and the files to go.
    type: int
    default: 600
  poll_interval:
    description:
      - Seconds between reads of the jobs.
    type: int
    default: 5

notes:
  - The manager writes the answer of a job into its row about 30 seconds after creating it, so an eviction through the
    manager takes about a minute for files (one round of C(get_task) jobs, then the C(delete_task) jobs). For an image,
    who holds its blobs is known within seconds (a C(get_image_distribution) request, see M(p2p.dragonfly.preheat)), so
    only the C(delete_task) jobs take 30 seconds.
  - C(delete_task) reaches only the peers the scheduler knows hold a task (C(scheduler/job/job.go), C(deleteTask)).

seealso:
  - module: p2p.dragonfly.preheat
  - module: p2p.dragonfly.task_info
  - module: p2p.dragonfly.cache_assert

author:
  - p2p.dragonfly maintainers (@p2p-dragonfly)
"""

EXAMPLES = r"""
---
- name: Which peers hold an image (check mode deletes nothing)
  p2p.dragonfly.evict:
    manager_url: https://manager.example.com:8080
    ca_path: /etc/dragonfly/manager-ca.crt
    token: "{{ dragonfly_token }}"
    image: registry.example.com/team/app:1.0
  check_mode: true
  register: holders

- name: Evict it through the schedulers
  p2p.dragonfly.evict:
    manager_url: https://manager.example.com:8080
    ca_path: /etc/dragonfly/manager-ca.crt
    token: "{{ dragonfly_token }}"
    image: registry.example.com/team/app:1.0
  register: evicted

- name: Evict images of private registries with the list of credentials the preheats took
  p2p.dragonfly.evict:
    manager_url: https://manager.example.com:8080
    ca_path: /etc/dragonfly/manager-ca.crt
    token: "{{ dragonfly_token }}"
    image: "{{ item }}"
    # The module reads each manifest with the entry of the image's registry; url_prefix entries are ignored.
    credentials: "{{ preheat_credentials }}"
  loop:
    - registry.example.com:5000/team/app:1.0
    - team/private:2.1
  vars:
    preheat_credentials:
      - registry: registry.example.com:5000
        username: puller
        password: "{{ vault_registry_password }}"
        ca_path: /etc/dragonfly/registry-ca.crt
      - registry: docker.io
        username: hub-user
        password: "{{ vault_hub_token }}"

- name: On each seed peer host, remove what the schedulers did not know about and confirm the cache is empty of it
  p2p.dragonfly.evict:
    via: [local]
    task_ids: "{{ evicted.tasks | map(attribute='task_id') | list }}"
    cache_dir: /opt/dragonfly/seed-peer/cache
    container: dragonfly-seed-peer-dfdaemon-1
"""

RETURN = r"""
changed:
  description: Whether a task was held by a peer or on disk (in check mode, whether it would be evicted).
  returned: always
  type: bool
via:
  description: The ways the module evicted (O(via)).
  returned: always
  type: list
  elements: str
tasks:
  description: One entry per task.
  returned: always
  type: list
  elements: dict
  contains:
    task_id:
      description: The task ID.
      type: str
    url:
      description: The blob or file URL of the task, when the module resolved the content.
      type: str
      returned: with O(image), O(url) or O(urls)
    held_by:
      description: The peers (C(hostname (ip))) the schedulers said held the task, finished, before the eviction.
      type: list
      elements: str
    deleted_from:
      description: The peers the schedulers deleted the task from.
      type: list
      elements: str
    failed_on:
      description: The peers a scheduler could not delete it from, with C(host) and C(description).
      type: list
      elements: dict
    on_disk:
      description: Whether its file was in O(cache_dir) before the eviction.
      type: bool
      returned: with O(via) V(local)
    removed_locally:
      description: Whether C(dfctl task rm) removed it from O(cache_dir).
      type: bool
      returned: with O(via) V(local)
    left_on_disk:
      description: Whether its file is still in O(cache_dir).
      type: bool
      returned: with O(via) V(local)
  sample:
    - task_id: 3b5f0d2c9f1e4a0b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b
      url: https://registry.example.com/v2/team/app/blobs/sha256:4e1b...
      held_by: [seed-1 (10.0.0.5), node-3 (10.0.0.23)]
      deleted_from: [seed-1 (10.0.0.5), node-3 (10.0.0.23)]
      failed_on: []
jobs:
  description: The C(delete_task) jobs, with C(id), C(state) and C(task_id).
  returned: always
  type: list
  elements: dict
cache_dir:
  description: O(cache_dir).
  returned: with O(via) V(local)
  type: str
left_on_disk:
  description: Task IDs whose file is still in O(cache_dir) (empty on success).
  returned: with O(via) V(local)
  type: list
  elements: str
credentials_used:
  description:
    - The entry of O(credentials) the module read the manifests with, by its O(credentials[].registry) (never a
      secret); V(null) when it used none (no entry matched, the explicit options won, or it read no manifest, as for files
      and O(task_ids)).
  returned: success, and failure after the credentials were chosen
  type: str
  sample: registry.example.com:5000
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.p2p.dragonfly.plugins.module_utils import _jobs
from ansible_collections.p2p.dragonfly.plugins.module_utils._api import ManagerClient, manager_argspec_ex
from ansible_collections.p2p.dragonfly.plugins.module_utils._credentials import (
    check_credentials,
    choose as choose_credentials,
    registry_reader,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._evict import VIA_LOCAL, VIA_MANAGER, Eviction
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat import (
    PreheatError,
    exit_with,
    expected_tasks,
    filtered_query_params_text,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat_options import check_content, check_seconds, content_argspec
from ansible_collections.p2p.dragonfly.plugins.module_utils._registry import resolve_image

_TASK_ID_RE = re.compile(r'^[0-9a-f]{64}\Z')


class Evict(object):
    """Reads the options, works out the tasks and runs the eviction (module_utils/_evict.py)."""

    def __init__(self, module):
        self.module = module
        self.started = _jobs.monotonic()
        # What _credentials.choose chose for an image (None until then, and for files and task IDs).
        self.credentials = None
        # An image's manifest URL and platform, for the image round that finds who holds its blobs.
        self.image = None

    @property
    def credentials_used(self):
        return self.credentials.used if self.credentials is not None else None

    def failure_fields(self):
        """What a failure reports besides its message: the credentials entry, once one was chosen."""
        return dict(credentials_used=self.credentials_used) if self.credentials is not None else {}

    def via(self):
        params = self.module.params
        via = params['via'] or ([VIA_MANAGER, VIA_LOCAL] if params['cache_dir'] else [VIA_MANAGER])
        if VIA_MANAGER in via and not params['manager_url']:
            raise PreheatError('via manager needs option manager_url (or DRAGONFLY_MANAGER_URL)')
        if VIA_LOCAL in via and not params['cache_dir']:
            raise PreheatError("via local needs option cache_dir, the peer's cache directory on this host")
        if params['container'] and VIA_LOCAL not in via:
            raise PreheatError('container only applies with via local (and cache_dir)')
        return via

    def tasks(self):
        params = self.module.params
        if params['task_ids']:
            for option in ('image', 'url', 'urls'):
                if params[option]:
                    raise PreheatError(f'task_ids names the tasks itself: do not also set {option}')
            bad = [value for value in params['task_ids'] if not _TASK_ID_RE.match(value)]
            if bad:
                raise PreheatError(f'task_ids must be 64 lower-case hex characters each, got {bad!r}')
            # Nothing to read, but a list given to every call is checked in every call.
            check_credentials(params['credentials'])
            return [dict(task_id=value) for value in params['task_ids']]
        kind, target, platform = check_content(self.module)
        if kind == 'image':
            self.credentials = choose_credentials(self.module, kind, target)
            registry = registry_reader(self.module, self.credentials, params['headers'] or {})
            entries, _offered = resolve_image(registry, target, platform)
            self.image = (target, platform)
        else:
            # Files: nothing is read, so url_prefix entries do not apply (documented in the credentials fragment).
            entries = [(url, None) for url in params['urls']]
        return expected_tasks(entries, tag=params['tag'], application=params['application'],
                              filtered_query_params=params['filtered_query_params'], piece_length=params['piece_length'],
                              client_version=params['client_version'])

    def image_args(self):
        """The image's arguments as a preheat of it would send them (``_image_round`` takes its rounds' from them)."""
        if self.image is None:
            return None
        params = self.module.params
        target, platform = self.image
        return dict(type='image', url=target, platform=platform, username=self.credentials.username,
                    password=self.credentials.password, tag=params['tag'], application=params['application'],
                    filtered_query_params=filtered_query_params_text(params['filtered_query_params']),
                    piece_length=params['piece_length'])

    def execute(self):
        params = self.module.params
        check_seconds(params, ('wait_timeout', 'poll_interval'))
        via = self.via()
        tasks = self.tasks()
        client = ManagerClient.from_module(self.module) if VIA_MANAGER in via else None
        eviction = Eviction(self.module, tasks, via, client=client, cluster_ids=params['scheduler_cluster_ids'],
                            poll_interval=params['poll_interval'], cache_dir=params['cache_dir'],
                            container=params['container'], image_args=self.image_args())
        result = eviction.execute(self.started + params['wait_timeout'])
        result['credentials_used'] = self.credentials_used
        return result


def argspec_ex():
    spec_ex = manager_argspec_ex()
    spec_ex['argspec'].update(content_argspec())
    # Not needed when only this host's cache directory is checked (via: [local]).
    spec_ex['argspec']['manager_url'] = dict(spec_ex['argspec']['manager_url'], required=False)
    spec_ex['argspec'].update(
        via=dict(type='list', elements='str', choices=[VIA_MANAGER, VIA_LOCAL]),
        task_ids=dict(type='list', elements='str'),
        cache_dir=dict(type='path'),
        container=dict(type='str'),
        wait_timeout=dict(type='int', default=600),
        poll_interval=dict(type='int', default=5),
    )
    spec_ex['required_one_of'].append(('image', 'url', 'urls', 'task_ids'))
    spec_ex['required_by']['scheme'] = ('image',)
    return spec_ex


def main():
    spec_ex = argspec_ex()
    module = AnsibleModule(argument_spec=spec_ex.pop('argspec'), supports_check_mode=True, **spec_ex)
    evict = Evict(module)
    exit_with(module, evict.execute, failure_fields=evict.failure_fields)


if __name__ == '__main__':
    main()
