# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Preheat logic shared by the preheat, task_info and job_info modules.

Checked against d7y.io/dragonfly/v2 v2.5.0 and dragonfly-client v1.4.0:

* Expected tasks. For files each URL is one task. For images the manager
  (``internal/job/image.go``) reads the manifest, follows a manifest list for the requested platform
  (``filterManifests``: OS and architecture only) and preheats every blob of the selected manifests
  (config first, then layers) as ``<scheme>://<host>/v2/<name>/blobs/<digest>``.
* The seed names the task. The scheduler (``scheduler/job/job.go`` ``preheatV2SingleSeedPeerByURL``,
  ``PreheatAllSeedPeers``, ``PreheatAllPeers``) sends ``DownloadTask`` with the URL, ``piece_length``,
  ``tag`` and ``application`` of the job (pointers to possibly empty strings, for images and files
  alike) and the parsed ``filtered_query_params``. The seed (``dfdaemon_upload.rs`` ``download_task``)
  computes the task ID itself with ``IDGenerator::task_id`` URL-based mode (no blob-digest mode: the
  scheduler never sets ``enable_task_id_based_blob_digest``); an empty tag or application adds
  nothing to the hash. ``_task_id.task_id`` reproduces that.
* Finding cached content. The only manager API that reaches the peers is a ``get_task`` job:
  each active scheduler of the clusters calls ``StatLocalTask`` on every host it knows and lists the
  hosts holding the task, with ``IsFinished`` = the task's ``finished_at`` is set
  (``scheduler/job/job.go`` ``GetTask``). It is asked by task ID here: with a URL the manager would
  compute the Go task ID (``idgen.TaskIDV2ByURLBased``), which differs from the seed's for URLs that
  need normalising or carry several query parameters.
* Job rows lag. ``GET /oapi/v1/jobs/:id`` only reads the database; the manager writes a job's state
  and result from Redis at creation and then with back-off (``manager/service/job.go``
  ``pollingJob(..., 30s, 300s, 16)`` with retry-go v5 ``BackOffDelay``): at about 0, 30, 90, 210,
  450 s, then every 300 s, and marks the job FAILURE after the 16th look (~62 min). Preheat,
  get_task and delete_task jobs all follow it. Jobs are therefore read when a refresh is due, not
  every few seconds.
* False successes. With ``single_seed_peer`` a URL whose download failed is only logged and the job
  still ends SUCCESS without it in ``success_tasks``; with ``all_*`` scopes ``success_tasks`` leaves out
  every host that failed any URL (``PreheatAllSeedPeers``), and the job succeeds when any pair did.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.p2p.dragonfly.plugins.module_utils._task_id import (
    FILTERED_QUERY_PARAMS_SEPARATOR,
    task_id as compute_task_id,
)


class PreheatError(Exception):
    """A failure with a message for the user (no secrets); ``details`` go into the module result."""

    def __init__(self, message, **details):
        super(PreheatError, self).__init__(message)
        self.message = message
        self.details = details


def filtered_query_params_text(names):
    """The manager's form of filtered_query_params: ``&``-separated, ``''`` for its default list."""
    return FILTERED_QUERY_PARAMS_SEPARATOR.join(names or [])


# --- expected tasks ------------------------------------------------------------------------------

def expected_tasks(entries, tag=None, application=None, filtered_query_params=None, piece_length=None, client_version=None):
    """``entries``: ``(url, digest or None)``; returns ``[{url, task_id[, digest]}]`` without repeats.

    The task ID is the one the seed peer of ``client_version`` computes (see the module docstring).
    """
    filters = filtered_query_params_text(filtered_query_params)
    tasks, seen = [], set()
    for url, digest in entries:
        if url in seen:
            continue
        seen.add(url)
        task_id_value = compute_task_id(url, piece_length=piece_length, tag=tag, application=application,
                                        filtered_query_params=filters, client_version=client_version)
        task = dict(url=url, task_id=task_id_value)
        if digest:
            task['digest'] = digest
        tasks.append(task)
    return tasks


# --- job rows --------------------------------------------------------------------------------------

def manager_error_hint(exc):
    """Extra advice for a failed preheat POST, beyond what the client says."""
    text = exc.server_message or ''
    if exc.status and exc.status >= 500 and ('ip ' in text and 'is invalid' in text):
        return (' The manager refuses registries at loopback or link-local addresses (127.0.0.1, localhost): use an '
                'address of the host the manager can reach.')
    if exc.status and exc.status >= 500 and 'no matching manifest' in text:
        return ' The manager found no manifest for the platform: check option platform.'
    return ''
