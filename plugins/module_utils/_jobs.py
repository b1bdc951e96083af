# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Manager jobs: reading their rows (states, preheat outcome, get_task answers), reading a row only when the
manager has rewritten it, rounds of get_task jobs, and the clock the waits use. Upstream behaviour:
docs/dev/module-utils.md#jobs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re
import time

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.p2p.dragonfly.plugins.module_utils._api import REDACTED

STATE_PENDING = 'PENDING'
STATE_SUCCESS = 'SUCCESS'
STATE_FAILURE = 'FAILURE'
FINAL_STATES = (STATE_SUCCESS, STATE_FAILURE)

JOB_TYPE_PREHEAT = 'preheat'
JOB_TYPE_GET_TASK = 'get_task'
JOB_TYPE_DELETE_TASK = 'delete_task'


def _refresh_offsets(delay=30, max_delay=300, attempts=16):
    # pollingJob: the first look at once, then BackOffDelay (delay << (n-1)) capped at max_delay.
    offsets, elapsed = [], 0
    for attempt in range(1, attempts):
        elapsed += min(delay << (attempt - 1), max_delay)
        offsets.append(elapsed)
    return tuple(offsets)


# Seconds after a job's creation at which the manager rewrites its row (besides at once).
REFRESH_OFFSETS = _refresh_offsets()
# Read a row this long after a refresh is due, to leave the manager time to write it.
REFRESH_SLACK = 2
# Read a pending row at least this often even when no refresh is due (other manager versions).
MAX_POLL_GAP = 60
# How long the idempotence check waits for its get_task jobs: past the 30 s and 90 s refreshes.
CHECK_TIMEOUT = REFRESH_OFFSETS[1] + 10

BIO = 'Created by Ansible (p2p.dragonfly.%s)'


def monotonic():
    """Monotonic seconds: every wait of the preheat modules reads this clock (tests replace it)."""
    return time.monotonic()


def sleep(seconds):
    time.sleep(seconds)


_RFC3339 = re.compile(r'^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$')


def age(row):
    """Seconds since the manager created a job row (its ``created_at``, RFC 3339 with up to nanoseconds, as Go writes
    it); 0 when that cannot be read."""
    match = _RFC3339.match(str(row.get('created_at') or ''))
    if not match:
        return 0
    whole, fraction, zone = match.groups()
    zone = '+00:00' if zone == 'Z' else zone
    created = datetime.datetime.strptime(whole + zone.replace(':', ''), '%Y-%m-%dT%H:%M:%S%z')
    created += datetime.timedelta(microseconds=int((fraction or '0')[:6].ljust(6, '0')))
    return max((datetime.datetime.now(datetime.timezone.utc) - created).total_seconds(), 0)


def _job_states(row):
    result = row.get('result') if isinstance(row, dict) else None
    states = result.get('job_states') if isinstance(result, dict) else None
    return [state for state in states or [] if isinstance(state, dict)]


def get_task_peers(row):
    """``(scheduler_cluster_id, peer)`` of every answered scheduler of a get_task job row."""
    for job_state in _job_states(row):
        if job_state.get('state') != STATE_SUCCESS:
            continue
        for result in job_state.get('results') or []:
            if not isinstance(result, dict):
                continue
            cluster_id = result.get('scheduler_cluster_id')
            for peer in result.get('peers') or []:
                if isinstance(peer, dict):
                    yield cluster_id, dict(
                        id=peer.get('id'), hostname=peer.get('hostname'), ip=peer.get('ip'),
                        host_type=peer.get('host_type'), is_finished=bool(peer.get('IsFinished')),
                    )


def _task_outcome(row, fields):
    """``(success, failure, errors)`` of a job row whose schedulers answer with ``success_tasks`` and ``failure_tasks``
    (preheat, delete_task), flattened over schedulers: each item with ``fields``, ``scheduler_cluster_id``, and for a
    failure its ``description``."""
    success, failure, errors = [], [], []
    for job_state in _job_states(row):
        if job_state.get('error'):
            errors.append(to_text(job_state['error']))
        for result in job_state.get('results') or []:
            if not isinstance(result, dict):
                continue
            cluster_id = result.get('scheduler_cluster_id')
            for key, found, extra in (('success_tasks', success, ()), ('failure_tasks', failure, ('description',))):
                for item in result.get(key) or []:
                    if isinstance(item, dict):
                        entry = dict((name, item.get(name)) for name in fields + extra)
                        entry['scheduler_cluster_id'] = cluster_id
                        found.append(entry)
    return success, failure, errors


def preheat_outcome(row):
    """``{success_tasks, failure_tasks, errors}`` of a preheat job row (flattened over schedulers)."""
    success, failure, errors = _task_outcome(row, ('url', 'hostname', 'ip'))
    return dict(success_tasks=success, failure_tasks=failure, errors=errors)


def delete_outcome(row):
    """``{deleted, failed, errors}`` of a delete_task job row (flattened over schedulers): the peers each scheduler
    deleted the task from, and those it could not reach or that refused."""
    deleted, failed, errors = _task_outcome(row, ('hostname', 'ip', 'host_type'))
    return dict(deleted=deleted, failed=failed, errors=errors)


def job_summary(row):
    """What a module returns about a job row: no args (they may hold registry credentials)."""
    summary = dict(id=row.get('id'), type=row.get('type'), state=row.get('state'), task_id=row.get('task_id'))
    if row.get('type') == JOB_TYPE_PREHEAT:
        summary.update(preheat_outcome(row))
    elif row.get('type') == JOB_TYPE_DELETE_TASK:
        summary.update(delete_outcome(row))
    return summary


def redact_job_args(args):
    """A job's args with the registry password and header values replaced."""
    if not isinstance(args, dict):
        return args
    shown = dict(args)
    if shown.get('password'):
        shown['password'] = REDACTED
    if isinstance(shown.get('headers'), dict):
        shown['headers'] = dict((name, REDACTED) for name in shown['headers'])
    return shown


class TrackedJob(object):
    """A job whose row is read only when the manager is expected to have refreshed it."""

    def __init__(self, row, created_at, task=None):
        self.row = row
        self.id = row.get('id')
        self.created_at = created_at
        self.last_read = created_at
        self.task = task

    @property
    def state(self):
        return self.row.get('state')

    @property
    def final(self):
        return self.state in FINAL_STATES

    def due(self, now):
        if self.final:
            return False
        if now - self.last_read >= MAX_POLL_GAP:
            return True
        for offset in REFRESH_OFFSETS:
            moment = self.created_at + offset + REFRESH_SLACK
            if moment > now:
                return False
            if moment > self.last_read:
                return True
        return False

    def next_due(self):
        """When ``due`` will next be true (monotonic seconds)."""
        if self.final:
            return None
        for offset in REFRESH_OFFSETS:
            moment = self.created_at + offset + REFRESH_SLACK
            if moment > self.last_read:
                return min(moment, self.last_read + MAX_POLL_GAP)
        return self.last_read + MAX_POLL_GAP

    def read(self, client):
        row = client.get_job(self.id)
        self.row = row
        self.last_read = monotonic()
        return row


def check_jobs_access(client):
    """One read of the jobs API: proves the manager is reachable and the token usable, creates nothing."""
    client.list_jobs(JOB_TYPE_PREHEAT, per_page=1)


def create_task_job(client, job_type, task_id_value, cluster_ids, module_name):
    """A job about one task by its ID: ``get_task`` (who holds it) or ``delete_task`` (evict it from them)."""
    body = dict(type=job_type, bio=BIO % module_name, args=dict(task_id=task_id_value))
    if cluster_ids:
        body['scheduler_cluster_ids'] = list(cluster_ids)
    return client.create_job(body)


class GetTaskRound(object):
    """One get_task job per task, created together and read as their rows refresh."""

    def __init__(self, client, tasks, cluster_ids, module_name):
        self.jobs = []
        self.created_at = monotonic()
        for task in tasks:
            row = create_task_job(client, JOB_TYPE_GET_TASK, task['task_id'], cluster_ids, module_name)
            self.jobs.append(TrackedJob(row, monotonic(), task=task))

    @property
    def ids(self):
        return [job.id for job in self.jobs]

    @property
    def final(self):
        return all(job.final for job in self.jobs)

    def poll(self, client, observations, now):
        """Read the rows that are due and record what they say."""
        for job in self.jobs:
            if job.due(now):
                observations.add_get_task(job.task['task_id'], job.read(client))

    def next_due(self):
        moments = [moment for moment in (job.next_due() for job in self.jobs) if moment is not None]
        return min(moments) if moments else None

    def pending(self):
        return [job for job in self.jobs if not job.final]


def wait_for_round(client, round_, observations, deadline, poll_interval, done=None):
    """Read a round's rows until all are final, ``done()`` is true, or ``deadline`` passes."""
    while True:
        now = monotonic()
        round_.poll(client, observations, now)
        if round_.final or (done is not None and done()):
            return True
        if now >= deadline:
            return False
        wake = round_.next_due()
        pause = poll_interval if wake is None else max(min(wake - now, poll_interval), 0.5)
        sleep(max(min(pause, deadline - now), 0))
