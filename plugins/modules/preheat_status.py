#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
module: preheat_status

short_description: Wait for preheat jobs of the Dragonfly manager that run at the same time, showing their progress

version_added: 0.2.0

description:
  - Follows preheat jobs that M(p2p.dragonfly.preheat) created with O(p2p.dragonfly.preheat#module:wait=false), all at
    once, until each has its tasks where its scope says or has failed, and prints a progress line per preheat (tasks
    where the scope needs them / expected, verified on this seed peer, seconds since the job started) as it goes.
  - It waits the way the preheat module does (the job's row, rounds of C(get_task) jobs, this seed peer's cache with
    O(cache_dir)) and takes a job as failed the same way (job C(FAILURE), or C(SUCCESS) without the tasks, which is
    upstream's false success). A failed preheat does not stop the others; the task fails at the end, naming each failed one.
  - The action plugin runs the module on the host in rounds of O(round_seconds) and prints the progress between them,
    so a long wait shows on the controller's output and in AWX job events while it runs.

extends_documentation_fragment:
  - p2p.dragonfly.manager
  - p2p.dragonfly.attributes
  - p2p.dragonfly.attributes.actiongroup_dragonfly

attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the
      controller.
    support: full
    details:
      - The action plugin calls the module repeatedly and prints progress on the controller.
  async:
    description: Supports being used with the C(async) keyword.
    support: none
  check_mode:
    support: full
    details:
      - It changes nothing and does the same in check mode. Its C(get_task) jobs only add rows to the manager's job list.
  diff_mode:
    support: none
  idempotent:
    support: full

options:
  preheats:
    description:
      - The preheats to follow. Each takes C(job_id) (RV(p2p.dragonfly.preheat#module:job.id)) and C(expected_tasks)
        (RV(p2p.dragonfly.preheat#module:expected_tasks)), and may override O(scope), O(ips), O(count) and
        O(percentage), and give C(checksums) for files, as in that preheat; C(name) labels it in the output.
      - A result of M(p2p.dragonfly.preheat) registered in a loop can be given as it is; its C(job.id), C(expected_tasks)
        and C(item) (as the name) are read from it.
    type: list
    elements: dict
    required: true
  scope:
    description:
      - The scope of the preheats, unless an entry of O(preheats) says otherwise.
    type: str
    choices: [single_seed_peer, all_seed_peers, all_peers]
    default: single_seed_peer
  ips:
    description:
      - The peers the preheats named, if any, unless an entry says otherwise.
    type: list
    elements: str
  count:
    description:
      - The number of peers the preheats named, if any, unless an entry says otherwise.
    type: int
  percentage:
    description:
      - The percentage of peers the preheats named, if any, unless an entry says otherwise.
    type: int
  scheduler_cluster_ids:
    description:
      - The scheduler clusters of the preheats.
    type: list
    elements: int
    default: [1]
  cache_dir:
    description:
      - This seed peer's cache directory on the host the module runs on, as in the preheats. Its files are checked
        (sha256 against the blob digests or C(checksums)) and counted in RV(preheats[].progress) as C(verified_locally).
    type: path
  seed_ip:
    description:
      - The IP this seed peer advertises, as in the preheats.
    type: str
  wait_timeout:
    description:
      - Seconds to wait for all of them, counted from the start of this task.
    type: int
    default: 1800
  round_seconds:
    description:
      - Seconds one run of the module on the host follows the jobs before the action plugin prints their progress. At
        least 40 lets a round tell a false success from a job still running for files (a C(get_task) answer comes about
        30 seconds after its job); an image's answers come within seconds (see M(p2p.dragonfly.preheat)).
    type: int
    default: 60
  poll_interval:
    description:
      - Most seconds between two looks at a job.
    type: int
    default: 5

seealso:
  - module: p2p.dragonfly.preheat
  - module: p2p.dragonfly.job_info

author:
  - p2p.dragonfly maintainers (@p2p-dragonfly)
"""

EXAMPLES = r"""
---
- name: Start the preheats; each returns as soon as its job exists
  p2p.dragonfly.preheat:
    image: "{{ item }}"
    scope: all_seed_peers
    wait: false
  loop: [registry.example.com/team/app:1.2, registry.example.com/team/base:3.1]
  register: started

# The registered results can be given as they are: job.id, expected_tasks and item (the name) are read from them.
- name: Wait for all of them at once, printing their progress
  p2p.dragonfly.preheat_status:
    preheats: "{{ started.results | selectattr('job') | list }}"
    scope: all_seed_peers
"""

RETURN = r"""
done:
  description: Whether every preheat has ended (its tasks where its scope says, or failed).
  returned: always
  type: bool
preheats:
  description: One entry per preheat, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Its label.
      type: str
    job_id:
      description: The preheat job.
      type: int
    status:
      description: V(finished) (its tasks are where the scope says), V(running) or V(failed).
      type: str
    progress:
      description: C(expected) tasks, how many are C(finished) where the scope needs them and, with O(cache_dir),
        C(verified_locally) on this seed peer.
      type: dict
    elapsed:
      description: Seconds since the manager created the job.
      type: float
    msg:
      description: Why it failed.
      type: str
      returned: when it failed
    missing:
      description: The expected tasks not yet where the scope says, with C(url), C(task_id) and C(missing) (why).
      type: list
      elements: dict
    job:
      description: The job's ID, state and outcome, as RV(p2p.dragonfly.preheat#module:job).
      type: dict
failed_preheats:
  description: The names of the preheats that failed.
  returned: always
  type: list
  elements: str
"""
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.p2p.dragonfly.plugins.module_utils import _jobs
from ansible_collections.p2p.dragonfly.plugins.module_utils._api import ManagerClient, manager_argspec_ex
from ansible_collections.p2p.dragonfly.plugins.module_utils._hashing import normalize_sha256
from ansible_collections.p2p.dragonfly.plugins.module_utils._local_cache import LocalCache
from ansible_collections.p2p.dragonfly.plugins.module_utils._placement import SCOPE_SINGLE_SEED_PEER, SCOPES, Requirement
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat import PreheatError, PreheatTimeout, exit_with
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat_options import check_seconds, check_selection
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat_run import PreheatRun

STATUS_RUNNING = 'running'
STATUS_FINISHED = 'finished'
STATUS_FAILED = 'failed'


class Followed(object):
    """One preheat being followed: its ``PreheatRun`` attached to the job, and how it stands."""

    def __init__(self, name, run):
        self.name = name
        self.run = run
        self.status = STATUS_RUNNING
        self.msg = None
        self.pause = 0

    def look(self, now, deadline, wait_timeout):
        try:
            pause = self.run.step(now, deadline, wait_timeout)
        except PreheatTimeout:
            return
        except PreheatError as exc:
            self.status, self.msg = STATUS_FAILED, exc.message
            return
        if pause is None:
            self.status = STATUS_FINISHED
        else:
            self.pause = now + pause

    def result(self):
        run = self.run
        row = dict(name=self.name, job_id=run.job.id, status=self.status, progress=run.progress(),
                   elapsed=round(_jobs.monotonic() - run.job.created_at, 1), job=_jobs.job_summary(run.job.row),
                   missing=[] if self.status == STATUS_FINISHED else run.missing())
        if self.msg:
            row['msg'] = self.msg
        return row


class PreheatStatus(object):
    """Reads the options and follows every preheat for one round (module_utils/_preheat_run.py does each look)."""

    def __init__(self, module):
        self.module = module
        self.params = module.params

    def entry_value(self, entry, key):
        value = entry.get(key)
        return self.params[key] if value is None else value

    def follow(self, client, entry, index):
        params = self.params
        job_id = entry.get('job_id') or (entry.get('job') or {}).get('id')
        tasks = entry.get('expected_tasks')
        if not job_id or not isinstance(tasks, list) or not all(
                isinstance(task, dict) and task.get('url') and task.get('task_id') for task in tasks):
            raise PreheatError(f'preheats[{index}] needs job_id (or job.id) and expected_tasks, the job and the '
                               'expected_tasks of a p2p.dragonfly.preheat result')
        tasks = [dict((key, task[key]) for key in ('url', 'task_id', 'digest') if task.get(key)) for task in tasks]
        name = entry.get('name') or (entry['item'] if isinstance(entry.get('item'), str) else None) or f'job {job_id}'
        scope, ips, count, percentage = (self.entry_value(entry, key) for key in ('scope', 'ips', 'count', 'percentage'))
        if scope not in SCOPES:
            raise PreheatError(f'preheats[{index}] ({name}): scope must be one of {", ".join(SCOPES)}, got {scope!r}')
        check_selection(scope, ips, count, percentage)
        requirement = Requirement(scope, ips, count, percentage, params['scheduler_cluster_ids'])
        local = None
        if params['cache_dir']:
            try:
                checksums = dict((url, normalize_sha256(str(value), f'checksums[{url!r}]'))
                                 for url, value in (entry.get('checksums') or {}).items())
            except ValueError as exc:
                raise PreheatError(f'preheats[{index}] ({name}): {exc}')
            local = LocalCache(params['cache_dir'], params['seed_ip'], tasks, requirement, checksums)
        run = PreheatRun(self.module, client, tasks, requirement, params['scheduler_cluster_ids'],
                         params['poll_interval'], local=local)
        followed = Followed(name, run)
        try:
            run.attach(client.get_job(int(job_id)))
        except PreheatError as exc:
            followed.status, followed.msg = STATUS_FAILED, exc.message
        return followed

    def execute(self):
        params = self.params
        check_seconds(params, ('wait_timeout', 'round_seconds', 'poll_interval'))
        client = ManagerClient.from_module(self.module)
        followed = [self.follow(client, entry, index) for index, entry in enumerate(params['preheats'])]
        deadline = _jobs.monotonic() + params['round_seconds']
        while True:
            now = _jobs.monotonic()
            for item in followed:
                if item.status == STATUS_RUNNING and item.pause <= now:
                    item.look(now, deadline, params['round_seconds'])
            running = [item for item in followed if item.status == STATUS_RUNNING]
            if not running or now >= deadline:
                break
            _jobs.sleep(max(min(min(item.pause for item in running), deadline) - now, 0.2))
        results = [item.result() for item in followed]
        return dict(changed=False, done=not running, preheats=results,
                    failed_preheats=[row['name'] for row in results if row['status'] == STATUS_FAILED])


def argspec_ex():
    spec_ex = manager_argspec_ex()
    spec_ex['argspec'].update(
        preheats=dict(type='list', elements='dict', required=True),
        scope=dict(type='str', default=SCOPE_SINGLE_SEED_PEER, choices=list(SCOPES)),
        ips=dict(type='list', elements='str'),
        count=dict(type='int'),
        percentage=dict(type='int'),
        scheduler_cluster_ids=dict(type='list', elements='int', default=[1]),
        cache_dir=dict(type='path'),
        seed_ip=dict(type='str'),
        wait_timeout=dict(type='int', default=1800),
        round_seconds=dict(type='int', default=60),
        poll_interval=dict(type='int', default=5),
    )
    spec_ex['required_by']['seed_ip'] = ('cache_dir',)
    return spec_ex


def main():
    spec_ex = argspec_ex()
    module = AnsibleModule(argument_spec=spec_ex.pop('argspec'), supports_check_mode=True, **spec_ex)
    exit_with(module, PreheatStatus(module).execute)


if __name__ == '__main__':
    main()
