# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Eviction of tasks from the peers, the evict module's engine: through the manager (who holds each task, from a
get_task round; one delete_task job per held task, read until the schedulers answered) and in one peer's cache
directory on this host (what is still on disk; ``dfctl task rm`` in its container). For an image, who holds its blobs
comes from an image round (``_image_round``), which answers in seconds. Upstream behaviour:
docs/dev/module-utils.md#evict."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.p2p.dragonfly.plugins.module_utils import _jobs
from ansible_collections.p2p.dragonfly.plugins.module_utils._jobs import (
    JOB_TYPE_DELETE_TASK,
    STATE_SUCCESS,
    GetTaskRound,
    TrackedJob,
    create_task_job,
    delete_outcome,
    wait_for_round,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._image_round import image_round, image_round_body
from ansible_collections.p2p.dragonfly.plugins.module_utils._placement import Observations, host_label
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat import PreheatError
from ansible_collections.p2p.dragonfly.plugins.module_utils._task_id import task_content_path

MODULE_NAME = 'evict'
VIA_MANAGER = 'manager'
VIA_LOCAL = 'local'

# Why a file can outlive delete_task; part of the error and of docs/dev/module-utils.md#evict.
SCHEDULER_BLIND = ('the scheduler does not know this peer holds it (clients 1.4.2 and later download tasks of 4 MiB or '
                   'less without the scheduler), so delete_task cannot reach it')


class Eviction(object):
    """Evict ``tasks`` (``{task_id, url?}``) through ``client`` (when ``via`` has manager) and from ``cache_dir`` on this
    host (when ``via`` has local), ``dfctl task rm`` running in ``container`` when it is given. ``image_args``: the
    image's arguments as a preheat job has them, for an image round instead of get_task jobs."""

    def __init__(self, module, tasks, via, client=None, cluster_ids=None, poll_interval=5, cache_dir=None,
                 container=None, image_args=None):
        self.module = module
        self.tasks = tasks
        self.via = via
        self.client = client
        self.cluster_ids = cluster_ids or []
        self.poll_interval = poll_interval
        self.cache_dir = cache_dir
        self.container = container
        self.held = {}  # task_id -> [host labels] the schedulers say hold it (finished)
        self.on_disk = []  # task IDs with a file in cache_dir before anything was done
        self.jobs = []  # TrackedJob of each delete_task job
        self.removed_locally = []  # task IDs dfctl task rm removed
        url_tasks = dict((task['url'], task['task_id']) for task in tasks if task.get('url'))
        self.image_round = None
        if len(url_tasks) == len(tasks):
            self.image_round = image_round(image_round_body(image_args, self.cluster_ids, MODULE_NAME), url_tasks)

    # --- what is there -----------------------------------------------------------------------------------------

    def find_holders(self, deadline):
        observations = Observations()
        if not self.ask_image_round(observations):
            self.ask_get_task_jobs(observations, deadline)
        for task in self.tasks:
            hosts = observations.finished.get(task['task_id'], {}).values()
            if hosts:
                self.held[task['task_id']] = sorted(host_label(host['hostname'], host['ip']) for host in hosts)

    def ask_image_round(self, observations):
        """Whether an image round answered about every task (the get_task jobs of one that did not are ignored)."""
        if self.image_round is None:
            return False
        answered, _row_ids = self.image_round.run(self.client, observations)
        if not answered:
            observations.finished.clear()
        return answered

    def ask_get_task_jobs(self, observations, deadline):
        round_ = GetTaskRound(self.client, self.tasks, self.cluster_ids, MODULE_NAME)
        if not wait_for_round(self.client, round_, observations, deadline, self.poll_interval):
            pending = ', '.join(str(job.id) for job in round_.pending())
            raise PreheatError(f'get_task jobs {pending} had no answer within wait_timeout: the schedulers of clusters '
                               f"{', '.join(str(i) for i in self.cluster_ids)} are not running their job workers, or "
                               'wait_timeout is too short (the manager writes the answer about 30 s after the job)')

    def path(self, task):
        return task_content_path(self.cache_dir, task['task_id'])

    def files_left(self):
        return [task['task_id'] for task in self.tasks if os.path.lexists(self.path(task))]

    # --- eviction ----------------------------------------------------------------------------------------------

    def delete_through_manager(self, deadline):
        for task in self.tasks:
            if task['task_id'] in self.held:
                row = create_task_job(self.client, JOB_TYPE_DELETE_TASK, task['task_id'], self.cluster_ids, MODULE_NAME)
                self.jobs.append(TrackedJob(row, _jobs.monotonic(), task=task))
        while True:
            now = _jobs.monotonic()
            for job in self.jobs:
                if job.due(now):
                    job.read(self.client)
            if all(job.final for job in self.jobs):
                return
            if now >= deadline:
                pending = ', '.join(str(job.id) for job in self.jobs if not job.final)
                raise PreheatError(f'delete_task jobs {pending} are still pending after wait_timeout; the manager writes '
                                   'their rows about 30 s after creating them (then at 90 and 210 s). Raise wait_timeout, '
                                   'or read them later with p2p.dragonfly.job_info', **self.result(changed=self.acted))
            wakes = [moment for moment in (job.next_due() for job in self.jobs) if moment is not None]
            pause = self.poll_interval if not wakes else max(min(min(wakes) - now, self.poll_interval), 0.5)
            _jobs.sleep(max(min(pause, deadline - now), 0))

    def remove_locally(self, deadline):
        """``dfctl task rm`` in the container for each task still on disk: what delete_task could not reach."""
        docker = self.module.get_bin_path('docker', required=True)
        for task_id in self.files_left():
            rc, out, err = self.module.run_command([docker, 'exec', self.container, 'dfctl', 'task', 'rm', task_id])
            if rc != 0:
                raise PreheatError(f'docker exec {self.container} dfctl task rm {task_id} failed (rc {rc}): '
                                   f'{(err or out).strip()}: is the container running a Dragonfly client with dfctl task '
                                   'rm (client 1.5 and later)?', **self.result(changed=self.acted))
            self.removed_locally.append(task_id)
        # dfdaemon removes the content when it answers; a slow disk may take a moment.
        while self.files_left() and _jobs.monotonic() < deadline:
            _jobs.sleep(0.5)

    def execute(self, deadline):
        if VIA_MANAGER in self.via:
            self.find_holders(deadline)
        if VIA_LOCAL in self.via:
            self.on_disk = self.files_left()
        changed = bool(self.held or self.on_disk)
        if self.module.check_mode or not changed:
            return self.result(changed=changed)
        if self.held:
            self.delete_through_manager(deadline)
        problems = self.job_problems()
        if problems:
            raise PreheatError('delete_task did not evict everything:\n' + '\n'.join(problems), **self.result(changed=self.acted))
        if VIA_LOCAL in self.via and self.container and self.files_left():
            self.remove_locally(deadline)
        left = self.files_left() if VIA_LOCAL in self.via else []
        if left:
            fix = ('the files are still there after dfctl task rm' if self.container else
                   f'{SCHEDULER_BLIND}: set option container to remove them with dfctl task rm in the peer\'s container')
            raise PreheatError(f'still on disk in {self.cache_dir}: ' + ', '.join(left) + f'. {fix}',
                               **self.result(changed=self.acted))
        return self.result(changed=True)

    # --- result ------------------------------------------------------------------------------------------------

    def job_problems(self):
        problems = []
        for job in self.jobs:
            outcome = delete_outcome(job.row)
            if job.state != STATE_SUCCESS:
                problems.append(f"delete_task job {job.id} ({job.task['task_id']}) ended {job.state}: "
                                f"{'; '.join(outcome['errors']) or 'no error given'}")
            for item in outcome['failed']:
                problems.append(f"{job.task['task_id']} on {host_label(item['hostname'], item['ip'])}: "
                                f"{item['description']}")
        return problems

    @property
    def acted(self):
        """Whether anything was asked to go: a failure after that still changed the cache."""
        return bool(self.jobs or self.removed_locally)

    def result(self, changed=False):
        by_task = dict((job.task['task_id'], delete_outcome(job.row)) for job in self.jobs)
        local = VIA_LOCAL in self.via
        left = self.files_left() if local else []
        tasks = []
        for task in self.tasks:
            task_id = task['task_id']
            outcome = by_task.get(task_id, dict(deleted=[], failed=[]))
            row = dict(task_id=task_id, held_by=self.held.get(task_id, []),
                       deleted_from=[host_label(item['hostname'], item['ip']) for item in outcome['deleted']],
                       failed_on=[dict(host=host_label(item['hostname'], item['ip']), description=item['description'])
                                  for item in outcome['failed']])
            if task.get('url'):
                row['url'] = task['url']
            if local:
                row.update(on_disk=task_id in self.on_disk, removed_locally=task_id in self.removed_locally,
                           left_on_disk=task_id in left)
            tasks.append(row)
        result = dict(changed=changed, tasks=tasks, via=list(self.via),
                      jobs=[dict(id=job.id, state=job.state, task_id=job.task['task_id']) for job in self.jobs])
        if local:
            result.update(cache_dir=self.cache_dir, left_on_disk=left)
        return result
