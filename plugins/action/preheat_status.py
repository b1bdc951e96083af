# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action of p2p.dragonfly.preheat_status: runs the module on the host in rounds and prints each preheat's
progress on the controller between them, until every preheat has ended or wait_timeout has passed."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()

MODULE = 'p2p.dragonfly.preheat_status'
RUNNING = 'running'


def progress_line(host, row):
    progress = row.get('progress') or {}
    parts = ['%s/%s tasks where the scope needs them' % (progress.get('finished', '?'), progress.get('expected', '?'))]
    if 'verified_locally' in progress:
        parts.append('%s verified on this seed peer' % progress['verified_locally'])
    parts.append('%.0f s since the job started' % (row.get('elapsed') or 0))
    return '[%s] preheat %s (job %s): %s, %s' % (host, row.get('name'), row.get('job_id'), row.get('status'), ', '.join(parts))


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # not used
        args = dict(self._task.args)
        wait_timeout = int(args.get('wait_timeout') or 1800)
        round_seconds = int(args.get('round_seconds') or 60)
        deadline = time.monotonic() + wait_timeout
        host = task_vars.get('inventory_hostname', '') if task_vars else ''
        pending = list(enumerate(args.get('preheats') or []))
        rows = {}
        while True:
            remaining = deadline - time.monotonic()
            module_args = dict(args, preheats=[entry for index, entry in pending],
                               round_seconds=max(1, int(min(round_seconds, remaining))))
            answer = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
            if answer.get('failed'):
                result.update(answer)
                return result
            still = []
            for (index, entry), row in zip(pending, answer.get('preheats') or []):
                rows[index] = row
                display.display(progress_line(host, row))
                if row.get('status') == RUNNING:
                    still.append((index, entry))
            pending = still
            if not pending or time.monotonic() >= deadline:
                break
        ordered = [rows[index] for index in sorted(rows)]
        failed = [row for row in ordered if row.get('status') != 'finished']
        result.update(changed=False, done=not pending, preheats=ordered,
                      failed_preheats=[row['name'] for row in ordered if row.get('status') == 'failed'])
        if failed:
            lines = []
            for row in failed:
                if row.get('status') == RUNNING:
                    lines.append('%s (job %s): not finished within wait_timeout=%s s; the job goes on in the manager'
                                 % (row['name'], row['job_id'], wait_timeout))
                else:
                    lines.append('%s (job %s): %s' % (row['name'], row['job_id'], row.get('msg')))
            result.update(failed=True, msg='%d of %d preheats did not finish:\n%s' % (len(failed), len(ordered), '\n'.join(lines)))
        return result
