#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
module: task_info

short_description: Find which Dragonfly peers hold a task

version_added: 0.1.0

description:
  - Tells which peers (seed peers and others) hold a Dragonfly task, and whether they finished downloading it.
  - The task is given by O(task_id), or by O(url) with O(tag), O(application), O(filtered_query_params) and O(piece_length),
    from which the module computes the task ID the way the Rust client (dfdaemon) does.
  - The manager answers this only through a C(get_task) job; the module creates one (C(POST /oapi/v1/jobs)) and reads it
    until every scheduler answered. Each active scheduler of O(scheduler_cluster_ids) asks every peer it knows.
  - The manager writes the answer into the job row about 30 seconds after creating the job (then at 90 and 210 seconds), so
    the module usually takes about 30 seconds.

extends_documentation_fragment:
  - p2p.dragonfly.manager
  - p2p.dragonfly.attributes
  - p2p.dragonfly.attributes.actiongroup_dragonfly

attributes:
  check_mode:
    support: full
    details:
      - As an information module it does the same in check mode, including the C(POST) of the C(get_task) job. That job
        changes no cache; it only adds a row to the manager's job list.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - The module reports the same for the same cache state; its get_task job changes no cache.

options:
  url:
    description:
      - The URL the task downloads, for example a blob URL C(https://registry.example.com/v2/team/app/blobs/sha256:...)
        (not a manifest URL, since manifests are not preheated).
      - Mutually exclusive with O(task_id).
    type: str
  task_id:
    description:
      - The task ID, 64 hex characters, for example RV(p2p.dragonfly.preheat#module:expected_tasks[].task_id).
      - Mutually exclusive with O(url).
    type: str
  tag:
    description:
      - The task tag used when the task was created; part of the task ID. Only with O(url).
    type: str
    default: ''
  application:
    description:
      - The task application used when the task was created; part of the task ID. Only with O(url).
    type: str
    default: ''
  filtered_query_params:
    description:
      - Query parameters left out of the task ID. Empty means the default list of the manager and the client. Only with
        O(url).
    type: list
    elements: str
    default: []
  piece_length:
    description:
      - The piece length in bytes given when the task was created, if any; part of the task ID. Only with O(url).
    type: int
  scheduler_cluster_ids:
    description:
      - The scheduler clusters to ask.
    type: list
    elements: int
    default:
      - 1
  wait_timeout:
    description:
      - Seconds to wait for every scheduler to answer before failing.
    type: int
    default: 120
  poll_interval:
    description:
      - Longest pause, in seconds, between two looks at the job. The row is only read when the manager is expected to have
        refreshed it.
    type: int
    default: 5

notes:
  - The task ID is sent to the manager rather than the URL, since the manager computes task IDs from URLs the Go way, which
    differs from the seed peers' for URLs that need normalising or carry several query parameters.

seealso:
  - module: p2p.dragonfly.preheat
  - module: p2p.dragonfly.job_info
  - module: p2p.dragonfly.cache_assert

author:
  - p2p.dragonfly maintainers (@p2p-dragonfly)
"""

EXAMPLES = r"""
---
- name: Which peers hold a file?
  p2p.dragonfly.task_info:
    manager_url: https://manager.example.com:8080
    token: "{{ dragonfly_token }}"
    url: http://files.example.com/models/model.bin
  register: task

- name: Fail unless a seed peer finished it
  ansible.builtin.assert:
    that: task.finished_seed_peers | length > 0

- name: Look up the tasks of a preheat
  p2p.dragonfly.task_info:
    task_id: "{{ item.task_id }}"
  loop: "{{ preheat.expected_tasks }}"
"""

RETURN = r"""
task_id:
  description: The task ID asked for.
  returned: always
  type: str
  sample: 9f7c9aafbc6f30f8f41a96ca77eeae80c5b60964b3034b0ee43ccf7b2f9e52b8
url:
  description: O(url), when given.
  returned: when O(url) is set
  type: str
  sample: http://files.example.com/models/model.bin
job:
  description: The C(get_task) job the module created.
  returned: always
  type: dict
  contains:
    id:
      description: Job ID.
      type: int
    state:
      description: Job state as last read.
      type: str
  sample:
    id: 31
    state: SUCCESS
peers:
  description: The peers holding the task (finished or still downloading), from every scheduler that answered.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Host ID, C(<ip>-<hostname>[-seed]).
      type: str
    hostname:
      description: Host name of the peer.
      type: str
    ip:
      description: Advertised IP of the peer.
      type: str
    host_type:
      description: V(super) for a seed peer, V(normal) for another peer.
      type: str
    is_finished:
      description: Whether the peer finished the download.
      type: bool
    scheduler_cluster_id:
      description: The scheduler cluster that reported it.
      type: int
  sample:
    - id: 10.0.0.5-seed-1-seed
      hostname: seed-1
      ip: 10.0.0.5
      host_type: super
      is_finished: true
      scheduler_cluster_id: 1
finished_peers:
  description: The peers that finished the task, as C(hostname (ip)).
  returned: always
  type: list
  elements: str
  sample:
    - seed-1 (10.0.0.5)
finished_seed_peers:
  description: The seed peers (C(host_type=super)) that finished the task, as C(hostname (ip)).
  returned: always
  type: list
  elements: str
  sample:
    - seed-1 (10.0.0.5)
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.p2p.dragonfly.plugins.module_utils._api import ManagerClient, manager_argspec_ex
from ansible_collections.p2p.dragonfly.plugins.module_utils import _jobs
from ansible_collections.p2p.dragonfly.plugins.module_utils._jobs import GetTaskRound, wait_for_round
from ansible_collections.p2p.dragonfly.plugins.module_utils._placement import HOST_TYPE_SUPER, Observations, host_label
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat import PreheatError, exit_with, expected_tasks
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat_options import (
    check_cluster_ids,
    check_http_url,
    check_piece_length,
    check_seconds,
)


MODULE_NAME = 'task_info'
_TASK_ID_RE = re.compile(r'^[0-9a-f]{64}\Z')


def validate(module):
    params = module.params
    if params['url']:
        check_http_url('url', params['url'])
        check_piece_length(params['piece_length'])
    else:
        if not _TASK_ID_RE.match(params['task_id']):
            raise PreheatError(f"task_id must be 64 lower-case hex characters, got {params['task_id']!r}")
        for option in ('tag', 'application', 'filtered_query_params', 'piece_length'):
            if params[option]:
                raise PreheatError(f'{option} only applies with option url: it is part of the task ID computed from the URL')
    check_cluster_ids(params['scheduler_cluster_ids'])
    check_seconds(params, ('wait_timeout', 'poll_interval'))


def run(module):
    params = module.params
    validate(module)
    if params['url']:
        task = expected_tasks([(params['url'], None)], tag=params['tag'], application=params['application'],
                              filtered_query_params=params['filtered_query_params'],
                              piece_length=params['piece_length'])[0]
    else:
        task = dict(task_id=params['task_id'])
    client = ManagerClient.from_module(module)
    round_ = GetTaskRound(client, [task], params['scheduler_cluster_ids'], MODULE_NAME)
    job = round_.jobs[0]
    answered = wait_for_round(client, round_, Observations(), _jobs.monotonic() + params['wait_timeout'],
                              params['poll_interval'])
    if not answered:
        raise PreheatError(
            f"get_task job {job.id} is still {job.state} after wait_timeout={params['wait_timeout']} s. The manager writes "
            'the answer about 30 s after creating the job, then at 90 and 210 s; a job that never answers means a '
            'scheduler of the clusters is not running its job worker. Raise wait_timeout, or read the job later with '
            f'p2p.dragonfly.job_info (id {job.id})', job=dict(id=job.id, state=job.state))
    if job.state != _jobs.STATE_SUCCESS:
        errors = [state.get('error') for state in (job.row.get('result') or {}).get('job_states') or []
                  if isinstance(state, dict) and state.get('error')]
        raise PreheatError(f"get_task job {job.id} ended {job.state}: {'; '.join(errors) or 'no error given'}",
                           job=dict(id=job.id, state=job.state))
    peers = [dict(peer, scheduler_cluster_id=cluster_id) for cluster_id, peer in _jobs.get_task_peers(job.row)]
    finished = [peer for peer in peers if peer['is_finished']]
    result = dict(
        changed=False, task_id=task['task_id'], job=dict(id=job.id, state=job.state), peers=peers,
        finished_peers=[host_label(peer['hostname'], peer['ip']) for peer in finished],
        finished_seed_peers=[host_label(peer['hostname'], peer['ip']) for peer in finished
                             if peer['host_type'] == HOST_TYPE_SUPER],
    )
    if params['url']:
        result['url'] = params['url']
    return result


def main():
    argspec_ex = manager_argspec_ex()
    argument_spec = argspec_ex.pop('argspec')
    argument_spec.update(
        url=dict(type='str'),
        task_id=dict(type='str'),
        tag=dict(type='str', default=''),
        application=dict(type='str', default=''),
        filtered_query_params=dict(type='list', elements='str', default=[]),
        piece_length=dict(type='int'),
        scheduler_cluster_ids=dict(type='list', elements='int', default=[1]),
        wait_timeout=dict(type='int', default=120),
        poll_interval=dict(type='int', default=5),
    )
    argspec_ex['mutually_exclusive'].append(('url', 'task_id'))
    argspec_ex['required_one_of'].append(('url', 'task_id'))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **argspec_ex)
    exit_with(module, lambda: run(module))


if __name__ == '__main__':
    main()
