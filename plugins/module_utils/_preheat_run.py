# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One run of the preheat module once its expected tasks are known: whether they are cached already, the preheat job,
the wait for it (job rows, get_task rounds, image rounds, the local cache, upstream's false success), and the module's
result, built in one place for success and failure. Upstream behaviour: docs/dev/module-utils.md#jobs, #image-rounds
and #placement."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.p2p.dragonfly.plugins.module_utils import _jobs
from ansible_collections.p2p.dragonfly.plugins.module_utils._api import ManagerAPIError
from ansible_collections.p2p.dragonfly.plugins.module_utils._jobs import (
    CHECK_TIMEOUT,
    STATE_FAILURE,
    STATE_SUCCESS,
    GetTaskRound,
    TrackedJob,
    job_summary,
    preheat_outcome,
    wait_for_round,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._image_reference import parse_manifest_url
from ansible_collections.p2p.dragonfly.plugins.module_utils._image_round import image_round, image_round_body
from ansible_collections.p2p.dragonfly.plugins.module_utils._local_cache import POLL_INTERVAL as LOCAL_POLL_INTERVAL
from ansible_collections.p2p.dragonfly.plugins.module_utils._placement import (
    HOST_TYPE_SUPER,
    SCOPE_ALL_PEERS,
    SCOPE_SINGLE_SEED_PEER,
    Observations,
    labelled,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat import PreheatError, PreheatTimeout, preheat_post_error


MODULE_NAME = 'preheat'


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


class PreheatRun(object):
    """One preheat of the expected ``tasks`` onto the peers ``requirement`` names, through ``client``.

    ``local`` is the ``_local_cache.LocalCache`` of option cache_dir, or ``None``; ``image`` the result's keys of an
    image (manifest URL, platforms); ``cluster_ids`` the scheduler clusters the get_task jobs ask; ``registry`` and
    ``login_entry`` name an image's registry and the credentials entry of its username in a refused job's message.
    For an image the run asks who holds the blobs through image rounds (``_image_round``), which answer in seconds,
    instead of get_task jobs, which answer after 30 s: their request comes from the image's preheat job (its body, or
    the row of the job it follows).
    """

    def __init__(self, module, client, tasks, requirement, cluster_ids, poll_interval, local=None, image=None,
                 registry=None, login_entry=None):
        self.module = module
        self.client = client
        self.tasks = tasks
        self.requirement = requirement
        self.cluster_ids = cluster_ids
        self.poll_interval = poll_interval
        self.local = local
        self.image = image or {}
        self.registry = registry
        self.login_entry = login_entry
        self.observations = Observations()
        self.get_task_job_ids = []
        self.job = None
        # The wait's state: the get_task round in flight, and when the job was first seen SUCCESS.
        self.round_ = None
        self.success_seen_at = None
        self.host_type = None if requirement.scope == SCOPE_ALL_PEERS else HOST_TYPE_SUPER
        self.url_tasks = dict((task['url'], task['task_id']) for task in tasks)
        # Image rounds: None once the manager did not answer one in full (get_task jobs then, as for files).
        self.image_round = None
        self.image_round_due = None
        self.image_round_started = None
        self.image_rounds = 0
        # Whether the wait ended on the local cache rather than on the manager's answer.
        self.settled_locally = False
        self.changed = False
        self.cached_before = None
        self.cached_after = None
        # The diff: {(hostname, ip): [urls]} before; in check mode, the predicted after side.
        self.before = {}
        self.prediction = None

    def execute(self, job_body, force, wait, deadline, wait_timeout):
        """Preheat unless the tasks are where they must be; returns the result. ``job_body(urls)`` is the body of the
        preheat job for those URLs; ``deadline`` (``_jobs.monotonic`` seconds) ends a wait of ``wait_timeout``."""
        self.use_image_body(job_body([]))
        local = self.local
        to_preheat = self.tasks
        ask_manager = not force
        if local is not None and not force:
            local.poll(eager=True)
            if local.settled():
                # Every task verified on this seed peer, which alone meets the scope: nothing to do, no job.
                self.cached_before = self.cached_after = True
                self.before = local.merge_into({})
                return self.result()
            if local.lacking() and local.must_hold:
                # This seed peer lacks a task it must hold: a preheat is needed whatever get_task jobs would say.
                ask_manager = False
                self.cached_before = False
                self.before = local.merge_into({})
                if local.enough:
                    verified = set(local.verified_ids())
                    to_preheat = [task for task in self.tasks if task['task_id'] not in verified]

        if self.module.check_mode:
            self.changed = True
            self.prediction = {self.requirement.describe(): [task['url'] for task in self.tasks]}
            return self.result()

        if ask_manager:
            missing = self.check_cached()
            self.before = self.observations.cached(self.tasks)
            if local is not None:
                self.before = local.merge_into(self.before)
            self.cached_before = not missing
            if not missing:
                self.cached_after = True
                return self.result()
            missing_ids = set(item['task_id'] for item in missing)
            to_preheat = [task for task in self.tasks if task['task_id'] in missing_ids]

        self.create_job(job_body([task['url'] for task in to_preheat]))
        if wait:
            self.wait(deadline, wait_timeout)
            self.cached_after = True
            if local is not None and not self.settled_locally:
                # The manager answered first: say what the local cache holds now, and what it should but does not.
                local.poll(eager=True)
                warning = local.gap_warning(self.observations)
                if warning:
                    self.module.warn(warning)
        return self.result()

    def result(self, failed=False):
        """What the module returns. After a failure: what is known so far (no change, no diff) and the local cache as
        last seen."""
        result = dict(expected_tasks=self.tasks, get_task_job_ids=list(self.get_task_job_ids),
                      hosts=self.observations.per_host(self.tasks))
        if self.job is not None:
            result['job'] = job_summary(self.job.row)
        if self.local is not None:
            result.update(self.local.outcome(poll=not failed))
        if failed:
            return result
        result.setdefault('job', None)
        result.update(self.image, changed=self.changed, cached_before=self.cached_before, cached_after=self.cached_after,
                      image_rounds=self.image_rounds)
        after = self.prediction
        if after is None:
            after = self.observations.cached(self.tasks)
            if self.local is not None:
                after = self.local.merge_into(after)
            after = labelled(after)
        result['diff'] = dict(before=labelled(self.before), after=after)
        return result

    def missing(self):
        return self.requirement.missing(self.tasks, self.observations)

    def new_round(self, tasks):
        round_ = GetTaskRound(self.client, tasks, self.cluster_ids, MODULE_NAME)
        self.get_task_job_ids.extend(round_.ids)
        return round_

    def use_image_body(self, preheat_body):
        self.image_round = image_round(image_round_body((preheat_body or {}).get('args'), self.cluster_ids, MODULE_NAME),
                                       self.url_tasks)

    def ask_image_round(self):
        """One image round; ``False``, and get_task jobs from then on, when the manager did not answer it in full (no
        answer within its timeout, a scheduler's get_task failed, or the registry refused the manager)."""
        started = _jobs.monotonic()
        answered, row_ids = self.image_round.run(self.client, self.observations)
        self.get_task_job_ids.extend(row_ids)
        if not answered:
            self.image_round = None
            return False
        self.image_round_started = started
        self.image_round_due = _jobs.monotonic() + self.poll_interval
        self.image_rounds += 1
        return True

    def check_cached(self):
        """Ask where the expected tasks are; returns the missing ones."""
        if self.image_round is not None and self.ask_image_round():
            return self.missing()
        round_ = self.new_round(self.tasks)
        early = None
        if self.requirement.scope == SCOPE_SINGLE_SEED_PEER or self.requirement.ips:
            # Positive answers settle these scopes; with all_* and no ips every answer is needed to know the peers.
            def early():
                return not self.missing()
        answered = wait_for_round(self.client, round_, self.observations, _jobs.monotonic() + CHECK_TIMEOUT,
                                  self.poll_interval, done=early)
        missing = self.missing()
        if not answered and missing:
            pending = [job.id for job in round_.pending()]
            self.module.warn(f'get_task jobs {pending} had not answered after {CHECK_TIMEOUT} s; their tasks count as not '
                             'cached. Is every active scheduler of the clusters running its job worker?')
        return missing

    def attach(self, row):
        """Follow a preheat job created earlier (by the preheat module with wait: false) instead of creating one; ``row``
        is the job as just read. Raises as ``wait`` does when it failed."""
        now = _jobs.monotonic()
        self.job = TrackedJob(row, now - _jobs.age(row))
        self.job.last_read = now
        self.use_image_body(row)
        self.image_round_due = now
        self.absorb(row)

    def progress(self):
        """How far the expected tasks are: ``{expected, finished}`` where the scope needs them, and with cache_dir how
        many this seed peer holds verified."""
        progress = dict(expected=len(self.tasks), finished=len(self.tasks) - len(self.missing()))
        if self.local is not None:
            verified = len(self.local.verified_ids())
            progress['verified_locally'] = verified
            if self.local.enough:
                # This seed peer alone meets the scope: what it holds verified is where the scope needs it.
                progress['finished'] = max(progress['finished'], verified)
        return progress

    def create_job(self, body):
        try:
            row = self.client.create_job(body)
        except ManagerAPIError as exc:
            host = parse_manifest_url(self.image['manifest_url']).host if self.image.get('manifest_url') else None
            raise preheat_post_error(exc, self.registry, self.login_entry, host)
        self.changed = True
        self.job = TrackedJob(row, _jobs.monotonic())
        # The seed peers need a moment to download; the first round after that.
        self.image_round_due = self.job.created_at + self.poll_interval

    def wait(self, deadline, wait_timeout):
        """Wait until the expected tasks are where they must be; raises PreheatError otherwise (PreheatTimeout at the
        deadline)."""
        while True:
            now = _jobs.monotonic()
            pause = self.step(now, deadline, wait_timeout)
            if pause is None:
                return
            _jobs.sleep(max(min(pause, deadline - now), 0))

    def absorb(self, row):
        """What a read of the job's row says: the hosts its outcome names; a failed job raises."""
        outcome = preheat_outcome(row)
        self.observations.add_preheat(outcome, self.url_tasks, self.host_type)
        if self.job.state == STATE_FAILURE:
            raise PreheatError(f'preheat job {self.job.id} failed{_job_problems(outcome)}', missing=self.missing())
        if self.job.state == STATE_SUCCESS and self.success_seen_at is None:
            self.success_seen_at = _jobs.monotonic()

    def step(self, now, deadline, wait_timeout):
        """One look at the job, the local cache and the get_task round: ``None`` once the tasks are where they must be,
        else the seconds to pause before the next look. Raises as ``wait`` does."""
        if self.job.due(now):
            self.absorb(self.job.read(self.client))
            if not self.missing():
                return None
        watch_local = self.local is not None and self.local.can_settle
        if watch_local:
            self.local.poll()
            if self.local.settled():
                self.settled_locally = True
                return None
        if self.asks_images(watch_local) and now >= self.image_round_due:
            self.ask_image_round()
            now = _jobs.monotonic()
        round_ = self.round_
        if round_ is not None:
            round_.poll(self.client, self.observations, now)
        missing = self.missing()
        if not missing:
            return None
        if self.success_seen_at is not None and self.answered_since(self.success_seen_at):
            raise PreheatError(
                f'preheat job {self.job.id} ended SUCCESS, but not every expected task is finished on '
                f'{self.requirement.describe()} (a false success of the Dragonfly scheduler, see dragonfly issue 3699):'
                f'{_bullets(missing)}{_job_problems(preheat_outcome(self.job.row))}\nCheck that the seed peers reach '
                'the origin (their dfdaemon log), and run the module again to retry.', missing=missing)
        # The first round starts after the first read of the job row: one created with the job would answer at the
        # same 30 s refresh as the row itself.
        answer_by = now + _jobs.REFRESH_OFFSETS[0] + _jobs.REFRESH_SLACK
        if not self.asks_images(watch_local) and answer_by <= deadline and (
                (round_ is None and self.job.last_read > self.job.created_at) or (round_ is not None and round_.final)):
            round_ = self.round_ = self.new_round([task for task in self.tasks if task['task_id'] in
                                                   set(item['task_id'] for item in missing)])
        if now >= deadline:
            local_text = self.local.bullets() if watch_local else ''
            raise PreheatTimeout(
                f"preheat job {self.job.id} (state {self.job.state}) did not bring every expected task to "
                f"{self.requirement.describe()} within wait_timeout={wait_timeout} s; still missing:"
                f'{_bullets(missing)}{local_text}{_job_problems(preheat_outcome(self.job.row))}\nThe job goes on in '
                f'the manager; p2p.dragonfly.job_info shows it later (id {self.job.id}).', missing=missing)
        image_round_due = self.image_round_due if self.asks_images(watch_local) else None
        moments = [moment for moment in (self.job.next_due(), round_ and round_.next_due(), image_round_due)
                   if moment is not None]
        pause = min([self.poll_interval] + [max(moment - now, 0.5) for moment in moments])
        if watch_local:
            pause = min(pause, LOCAL_POLL_INTERVAL)
        return pause

    def asks_images(self, watch_local):
        """Whether the wait asks through image rounds: while it has them, unless a seed peer's own cache that can
        settle the wait is watched (read without asking anyone)."""
        return self.image_round is not None and not watch_local

    def answered_since(self, moment):
        """Whether an answer about every missing task was asked for after ``moment``."""
        if self.image_round is not None:
            return self.image_round_started is not None and self.image_round_started >= moment
        round_ = self.round_
        return round_ is not None and round_.final and round_.created_at >= moment
