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

import ipaddress
from urllib.parse import urlsplit

from ansible_collections.p2p.dragonfly.plugins.module_utils._placement import SCOPE_SINGLE_SEED_PEER
from ansible_collections.p2p.dragonfly.plugins.module_utils._task_id import (
    FILTERED_QUERY_PARAMS_SEPARATOR,
    normalize_url,
    parse_client_version,
    task_id as compute_task_id,
)


MIB = 1024 * 1024

# manager/types/job.go PreheatArgs / GetTaskArgs binding rules.
PIECE_LENGTH_RANGE = (4 * MIB, 64 * MIB)
COUNT_RANGE = (1, 200)
PERCENTAGE_RANGE = (1, 100)
IPS_MAX = 100
CONCURRENT_TASK_COUNT_RANGE = (1, 100)
CONCURRENT_PEER_COUNT_RANGE = (1, 1000)


class PreheatError(Exception):
    """A failure with a message for the user (no secrets); ``details`` go into the module result."""

    def __init__(self, message, **details):
        super(PreheatError, self).__init__(message)
        self.message = message
        self.details = details


# --- option checks -------------------------------------------------------------------------------

def check_range(option, value, limits, unit=''):
    """Raise unless ``value`` (when set) lies within the manager's limits."""
    if value is None:
        return
    low, high = limits
    if not low <= value <= high:
        raise PreheatError(f'{option} must be between {low}{unit} and {high}{unit} (the limits of the Dragonfly manager), '
                           f'got {value}')


def check_piece_length(piece_length):
    if piece_length is None:
        return
    if not PIECE_LENGTH_RANGE[0] <= piece_length <= PIECE_LENGTH_RANGE[1]:
        raise PreheatError(f'piece_length must be between {PIECE_LENGTH_RANGE[0]} (4 MiB) and {PIECE_LENGTH_RANGE[1]} '
                           f'(64 MiB) bytes, the limits of the Dragonfly manager; got {piece_length}. Leave it unset to let '
                           'the seed peer choose from the file size')


def check_http_url(option, url):
    """Raise unless ``url`` is an http(s) URL the client can parse; returns it unchanged."""
    try:
        scheme = urlsplit(url).scheme.lower()
        normalize_url(url)
    except ValueError as exc:
        raise PreheatError(f'{option}: {url!r} is not a valid URL ({exc}): give a full http:// or https:// URL')
    if scheme not in ('http', 'https'):
        raise PreheatError(f'{option}: {url!r} must be an http:// or https:// URL (got scheme {scheme or "none"!r})')
    return url


def check_registry_host(option, host):
    """Refuse registry addresses the manager cannot dial.

    The manager reads manifests through ``pkg/net/http.NewSafeDialer``, which refuses every address
    that is not global unicast (loopback, link-local, unspecified, multicast; private ranges are fine).
    """
    name = host.rsplit(':', 1)[0] if not host.endswith(']') else host
    name = name.strip('[]').lower()
    refused = name == 'localhost' or name.endswith('.localhost')
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None:
        refused = address.is_loopback or address.is_link_local or address.is_unspecified or address.is_multicast
    if refused:
        raise PreheatError(f'{option}: the registry address {host} is a loopback or link-local address, which the Dragonfly '
                           "manager refuses to connect to (its registry client only dials global unicast addresses; "
                           'private ranges such as 10.x or 192.168.x work): use an address of the registry host the '
                           'manager and the seed peers can reach')


def check_ips(ips):
    if len(ips) > IPS_MAX:
        raise PreheatError(f'ips may name at most {IPS_MAX} peers (the limit of the Dragonfly manager), got {len(ips)}')
    for ip in ips:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise PreheatError(f'ips: {ip!r} is not an IP address: give the IPs the peers advertise (host.ip of dfdaemon)')


def check_client_version(client_version):
    if client_version is None:
        return
    try:
        parse_client_version(client_version)
    except ValueError as exc:
        raise PreheatError(f'client_version: {exc}; give the client release of the seed peers, for example 1.5.10')


def check_selection(scope, ips, count, percentage):
    """Validate scope/ips/count/percentage like the manager, with the reason when refused."""
    given = [name for name, value in (('ips', ips), ('count', count), ('percentage', percentage)) if value]
    if len(given) > 1:
        raise PreheatError(f"{' and '.join(given)} are mutually exclusive: set only one of ips, count and percentage "
                           '(the scheduler would use ips first, then count, then percentage)')
    if given and scope == SCOPE_SINGLE_SEED_PEER:
        raise PreheatError(f'{given[0]} only applies to scope all_seed_peers or all_peers; with scope single_seed_peer the '
                           'scheduler picks one seed peer per task by consistent hashing. Set scope: all_seed_peers')
    if ips:
        check_ips(ips)
    check_range('count', count, COUNT_RANGE)
    check_range('percentage', percentage, PERCENTAGE_RANGE)


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
