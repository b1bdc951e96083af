# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Who holds an image's blobs, answered in seconds: one ``get_image_distribution`` request, for which the manager
creates a get_task job per blob and reads it every 3 to 5 s until it answers (a get_task job created on its own is
read after 30 s), then those jobs' rows from the job list, since the request's own answer leaves seed peers out.
Upstream behaviour: docs/dev/module-utils.md#image-rounds."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.p2p.dragonfly.plugins.module_utils._api import ManagerAPIError
from ansible_collections.p2p.dragonfly.plugins.module_utils._jobs import BIO, JOB_TYPE_GET_TASK, STATE_SUCCESS
from ansible_collections.p2p.dragonfly.plugins.module_utils._task_id import normalize_url


JOB_TYPE_IMAGE_DISTRIBUTION = 'get_image_distribution'
# The manager answers once every blob's get_task job has. A scheduler that never answers would hold the request for
# its 60 reads; after this many seconds the module goes on with get_task jobs of its own.
REQUEST_TIMEOUT = 30
# The arguments of an image preheat that name the same blobs, and give them the same task IDs, in this request.
_SHARED_ARGS = ('url', 'platform', 'username', 'password', 'headers', 'tag', 'application', 'filtered_query_params',
                'piece_length')


def image_round_body(preheat_args, cluster_ids, module_name):
    """The ``get_image_distribution`` body for the image of a preheat job's ``args`` (as sent, or as its row keeps
    them); ``None`` for a file preheat."""
    if not isinstance(preheat_args, dict) or preheat_args.get('type') != 'image' or not preheat_args.get('url'):
        return None
    args = dict((key, preheat_args[key]) for key in _SHARED_ARGS if preheat_args.get(key))
    body = dict(type=JOB_TYPE_IMAGE_DISTRIBUTION, bio=BIO % module_name, args=args)
    if cluster_ids:
        body['scheduler_cluster_ids'] = list(cluster_ids)
    return body


def image_round(body, url_tasks):
    """An ``ImageRound`` for ``body`` (``None``: a file preheat) and ``url_tasks``, or ``None`` when the manager's task
    ID of a blob could differ from the seed peer's: the manager computes it from the URL as it is, the seed peer from
    the normalised URL, so only a URL in normal form without a query gives both the same ID."""
    if body is None or not url_tasks:
        return None
    if any('?' in url or normalize_url(url, []) != url for url in url_tasks):
        return None
    return ImageRound(body, url_tasks)


class ImageRound(object):
    """Asks who holds the blobs of ``url_tasks`` (``{blob URL: task ID}``) with the request ``body``."""

    def __init__(self, body, url_tasks):
        self.body = body
        self.url_tasks = url_tasks

    def run(self, client, observations):
        """Records each blob's answer in ``observations``; returns ``(answered, row_ids)``: whether every blob has an
        answer, and the get_task rows read. A request the manager refused or did not answer in time answers nothing."""
        try:
            # Rows are told apart from older ones by their ID: the manager numbers every job in one sequence.
            newest = client.list_jobs(per_page=1)
            floor = max([row.get('id') or 0 for row in newest] + [0])
            client.create_job(self.body, timeout=REQUEST_TIMEOUT)
            # Other runs may add rows meanwhile (the role preheats its entries at once): read well past this image's own.
            rows = client.list_jobs(JOB_TYPE_GET_TASK, per_page=max(50, 4 * len(self.url_tasks)))
        except ManagerAPIError:
            return False, []
        latest = {}
        for row in rows:
            row_id = row.get('id') or 0
            url = (row.get('args') or {}).get('url') if isinstance(row.get('args'), dict) else None
            if row_id <= floor or row.get('state') != STATE_SUCCESS or url not in self.url_tasks:
                continue
            if url not in latest or row_id > latest[url]['id']:
                latest[url] = row
        for url, row in latest.items():
            observations.add_get_task(self.url_tasks[url], row)
        return len(latest) == len(self.url_tasks), sorted(row['id'] for row in latest.values())
