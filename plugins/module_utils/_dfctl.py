# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reads the table ``dfctl task ls`` prints (client v1.4.0 to v1.5.10, ``src/bin/dfctl/task.rs``): columns
``ID  PIECE LENGTH  CONTENT LENGTH  CREATED  FINISHED  FAILED  UPDATED``, times as ``%Y-%m-%d %H:%M:%S``, ``-``
when unset."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

_SHA256_RE = re.compile(r'^[0-9a-f]{64}\Z')
_DFCTL_COLUMNS = ('ID', 'PIECE LENGTH', 'CONTENT LENGTH', 'CREATED', 'FINISHED', 'FAILED', 'UPDATED')


def parse_dfctl_task_ls(text):
    """``{task_id: {finished, failed, content_length}}`` from ``dfctl task ls`` output."""
    lines = [line for line in (text or '').splitlines() if line.strip()]
    header_index = None
    for index, line in enumerate(lines):
        if all(column in line for column in _DFCTL_COLUMNS):
            header_index = index
            break
    if header_index is None:
        raise ValueError('no table header (ID  PIECE LENGTH  CONTENT LENGTH  CREATED  FINISHED  FAILED  UPDATED) in the output')
    header = lines[header_index]
    starts = [header.index(column) for column in _DFCTL_COLUMNS]
    tasks = {}
    for line in lines[header_index + 1:]:
        cells = []
        for position, start in enumerate(starts):
            end = starts[position + 1] if position + 1 < len(starts) else len(line)
            cells.append(line[start:end].strip())
        task_id = line.split()[0] if line.split() else ''
        if not _SHA256_RE.match(task_id):
            continue
        tasks[task_id] = dict(content_length=cells[2], finished=cells[4] not in ('', '-'), failed=cells[5] not in ('', '-'))
    return tasks
