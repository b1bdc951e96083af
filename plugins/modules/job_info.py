#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
module: job_info

short_description: Read jobs of the Dragonfly manager

version_added: 0.1.0

description:
  - Reads jobs (preheat, C(get_task), C(delete_task), ...) of the Dragonfly manager by ID through the open API
    (C(GET /oapi/v1/jobs/<id>)) and returns their state, raw result and a summary per peer.
  - The manager refreshes a job's state and result only about 0, 30, 90, 210 and 450 seconds after creating it, then every
    5 minutes, so a row can lag behind what the peers already did.
  - A preheat job's V(SUCCESS) does not prove the content is cached (dragonfly issue 3699); compare RV(jobs[].summary) with
    what you expected, or use M(p2p.dragonfly.preheat), which does.

extends_documentation_fragment:
  - p2p.dragonfly.manager
  - p2p.dragonfly.attributes
  - p2p.dragonfly.attributes.actiongroup_dragonfly

attributes:
  check_mode:
    support: full
    details:
      - The module only reads; it behaves the same in check mode.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - The module only reads.

options:
  id:
    description:
      - IDs of the jobs to read, for example RV(p2p.dragonfly.preheat#module:job.id).
    type: list
    elements: int
    required: true
    aliases:
      - ids

seealso:
  - module: p2p.dragonfly.preheat
  - module: p2p.dragonfly.task_info

author:
  - p2p.dragonfly maintainers (@p2p-dragonfly)
"""

EXAMPLES = r"""
---
- name: Read a preheat job
  p2p.dragonfly.job_info:
    manager_url: https://manager.example.com:8080
    token: "{{ dragonfly_token }}"
    id: 12
  register: job

- name: Show where each URL went
  ansible.builtin.debug:
    var: job.jobs[0].summary.per_host
"""

RETURN = r"""
jobs:
  description: The jobs, in the order of O(id).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Job ID.
      type: int
    type:
      description: Job type, for example V(preheat), V(get_task), V(delete_task).
      type: str
    state:
      description: V(PENDING), V(SUCCESS) or V(FAILURE) as the manager last wrote it.
      type: str
    task_id:
      description: The job group in the job queue, C(group_<uuid>).
      type: str
    bio:
      description: Description of the job.
      type: str
    created_at:
      description: Creation time as the manager reports it.
      type: str
    updated_at:
      description: Time of the last refresh of the row.
      type: str
    scheduler_cluster_ids:
      description: IDs of the scheduler clusters the job was sent to.
      type: list
      elements: int
    args:
      description: The job's arguments; the registry C(password) and every C(headers) value are replaced by C(********).
      type: dict
    result:
      description: The raw result (C(state), C(job_states) with one entry per scheduler and their C(results)).
      type: dict
    summary:
      description: The result flattened over the schedulers.
      type: dict
      contains:
        errors:
          description: Errors of the job's scheduler tasks.
          type: list
          elements: str
        success_tasks:
          description: For preheat jobs, the (URL, peer) pairs reported done.
          type: list
          elements: dict
          returned: for preheat jobs
        failure_tasks:
          description: For preheat jobs, the (URL, peer) pairs reported failed, with C(description).
          type: list
          elements: dict
          returned: for preheat jobs
        per_host:
          description: For preheat jobs, per peer (C(hostname (ip))) the URLs reported done.
          type: dict
          returned: for preheat jobs
        peers:
          description:
            - For C(get_task) jobs, the peers holding the task, with C(is_finished) and C(scheduler_cluster_id).
            - Only from schedulers that answered; see RV(jobs[].state).
          type: list
          elements: dict
          returned: for get_task jobs
        deleted:
          description: For C(delete_task) jobs, the peers the task was deleted from (C(hostname), C(ip), C(host_type)).
          type: list
          elements: dict
          returned: for delete_task jobs
          version_added: 0.2.0
        failed:
          description: For C(delete_task) jobs, the peers the scheduler could not delete it from, with C(description).
          type: list
          elements: dict
          returned: for delete_task jobs
          version_added: 0.2.0
  sample:
    - id: 12
      type: preheat
      state: SUCCESS
      task_id: group_2d8a9b7c-0b5e-4c3a-8f1e-1f3f0c7d9e21
      bio: Created by Ansible (p2p.dragonfly.preheat)
      created_at: "2026-07-01T10:00:00Z"
      updated_at: "2026-07-01T10:00:30Z"
      scheduler_cluster_ids: [1]
      args:
        type: image
        url: https://registry.example.com/v2/team/app/manifests/1.0
        password: "********"
      result:
        state: SUCCESS
        job_states: []
      summary:
        errors: []
        success_tasks:
          - url: https://registry.example.com/v2/team/app/blobs/sha256:3f1a...
            hostname: seed-1
            ip: 10.0.0.5
            scheduler_cluster_id: 1
        failure_tasks: []
        per_host:
          seed-1 (10.0.0.5):
            - https://registry.example.com/v2/team/app/blobs/sha256:3f1a...
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.p2p.dragonfly.plugins.module_utils._api import (
    ManagerAPIError,
    ManagerClient,
    manager_argspec_ex,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._jobs import (
    JOB_TYPE_DELETE_TASK,
    JOB_TYPE_GET_TASK,
    JOB_TYPE_PREHEAT,
    delete_outcome,
    get_task_peers,
    preheat_outcome,
    redact_job_args,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._placement import host_label


def summarize(row):
    outcome = preheat_outcome(row)
    summary = dict(errors=outcome['errors'])
    if row.get('type') == JOB_TYPE_PREHEAT:
        per_host = {}
        for item in outcome['success_tasks']:
            per_host.setdefault(host_label(item['hostname'], item['ip']), []).append(item['url'])
        summary.update(success_tasks=outcome['success_tasks'], failure_tasks=outcome['failure_tasks'], per_host=per_host)
    elif row.get('type') == JOB_TYPE_GET_TASK:
        summary['peers'] = [dict(peer, scheduler_cluster_id=cluster_id) for cluster_id, peer in get_task_peers(row)]
    elif row.get('type') == JOB_TYPE_DELETE_TASK:
        outcome = delete_outcome(row)
        summary.update(deleted=outcome['deleted'], failed=outcome['failed'])
    return summary


def describe(row):
    clusters = [cluster.get('id') for cluster in row.get('scheduler_clusters') or [] if isinstance(cluster, dict)]
    return dict(
        id=row.get('id'), type=row.get('type'), state=row.get('state'), task_id=row.get('task_id'), bio=row.get('bio'),
        created_at=row.get('created_at'), updated_at=row.get('updated_at'), scheduler_cluster_ids=clusters,
        args=redact_job_args(row.get('args')), result=row.get('result'), summary=summarize(row),
    )


def main():
    argspec_ex = manager_argspec_ex()
    argument_spec = argspec_ex.pop('argspec')
    argument_spec.update(
        id=dict(type='list', elements='int', required=True, aliases=['ids']),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **argspec_ex)
    ids = module.params['id']
    if not ids or any(job_id < 1 for job_id in ids):
        module.fail_json(msg=f'id must list job IDs (1 or more), got {ids}')
    try:
        client = ManagerClient.from_module(module)
        jobs = [describe(client.get_job(job_id)) for job_id in ids]
    except ManagerAPIError as exc:
        module.fail_json(msg=str(exc), http_status=exc.status)
    module.exit_json(changed=False, jobs=jobs)


if __name__ == '__main__':
    main()
