# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A peer's cache directory on disk, checked once (``CacheChecker``, for cache_assert) or again and again while a
download runs (``CacheWatcher``, for preheat), with one result per item and one explanation of an absent file for
both. The layouts and what proves a file complete: docs/dev/module-utils.md#cache."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import stat
import time

from ansible_collections.p2p.dragonfly.plugins.module_utils._hashing import hash_files
from ansible_collections.p2p.dragonfly.plugins.module_utils._placement import host_label
from ansible_collections.p2p.dragonfly.plugins.module_utils._task_id import task_content_path


LAYOUT_RUST = 'rust'
LAYOUT_LEGACY_GO = 'legacy_go'
MODE_FULL = 'full'
MODE_QUICK = 'quick'

# CacheWatcher: files up to this size are hashed whenever they changed (a few milliseconds each); larger ones
# only once they have not been written for size / WATCH_QUIET_RATE seconds, at least WATCH_QUIET_MIN and at most
# WATCH_QUIET_MAX (or when asked to hash at once). Waiting about twice as long as hashing takes (~1 GB/s) bounds the
# reads wasted on a download that pauses.
WATCH_SMALL_FILE = 4 * 1024 * 1024
WATCH_QUIET_RATE = 500 * 1000 * 1000
WATCH_QUIET_MIN = 0.2
WATCH_QUIET_MAX = 1.0
# A hash is remembered for a file state only when the file had been quiet this long when it was hashed:
# mtime moves in coarse clock ticks, so a write in the same tick as the stat would leave it unchanged.
WATCH_SETTLED_SECONDS = 0.1

STATE_VERIFIED = 'verified'
STATE_INCOMPLETE = 'incomplete'
STATE_UNKNOWN = 'unknown'


def digest_from_blob_url(url):
    """The ``sha256:<hex>`` at the end of an OCI blob URL, or ``None``."""
    match = re.search(r'/blobs/(sha256:[0-9a-f]{64})(?:\?.*)?\Z', url or '')
    return match.group(1) if match else None


def preheat_hosts_by_url(preheat_result):
    """``{url: [(hostname, ip), ...]}`` of where a registered preheat result says each URL is."""
    where = {}
    if not isinstance(preheat_result, dict):
        return where
    job = preheat_result.get('job') or {}
    named = [(url, host) for host in preheat_result.get('hosts') or [] if isinstance(host, dict)
             for url in host.get('urls') or []]
    named += [(item.get('url'), item) for item in (job.get('success_tasks') if isinstance(job, dict) else None) or []
              if isinstance(item, dict)]
    for url, host in named:
        key = (host.get('hostname'), host.get('ip'))
        if key not in where.get(url, []):
            where.setdefault(url, []).append(key)
    return where


def _labels(hosts):
    return ', '.join(host_label(hostname, ip) for hostname, ip in hosts)


def _rust_path(cache_dir, item):
    return task_content_path(cache_dir, item['task_id'])


def _legacy_candidates(cache_dir, task_id_value):
    """``[(peer dir, metadata dict or None)]`` of a Go dfdaemon task."""
    task_dir = os.path.join(cache_dir, task_id_value)
    found = []
    try:
        entries = sorted(os.listdir(task_dir))
    except OSError:
        return found
    for entry in entries:
        peer_dir = os.path.join(task_dir, entry)
        if not os.path.isdir(peer_dir):
            continue
        metadata = None
        try:
            with open(os.path.join(peer_dir, 'metadata'), 'rb') as stream:
                metadata = json.loads(stream.read().decode('utf-8'))
        except (OSError, ValueError):
            metadata = None
        found.append((peer_dir, metadata if isinstance(metadata, dict) else None))
    return found


def _legacy_tasks(cache_dir):
    """Every ``(task id, peer dir, metadata)`` under a Go dfdaemon data dir."""
    try:
        names = sorted(os.listdir(cache_dir))
    except OSError:
        return []
    tasks = []
    for name in names:
        if os.path.isdir(os.path.join(cache_dir, name)):
            for peer_dir, metadata in _legacy_candidates(cache_dir, name):
                tasks.append((name, peer_dir, metadata))
    return tasks


def disk_usage_percent(path):
    """The usage of the filesystem holding ``path`` as dfdaemon's garbage collection counts it without
    gc.policy.diskThreshold (``100 - available * 100 / total``, integer division), or None."""
    try:
        stat_result = os.statvfs(path)
    except OSError:
        return None
    if not stat_result.f_blocks:
        return None
    return 100 - stat_result.f_bavail * 100 // stat_result.f_blocks


def _new_result(item, path, **fields):
    """The result of one item (a dict with ``url``, ``task_id``, ``sha256``) before its file is looked at."""
    result = dict(url=item.get('url'), task_id=item.get('task_id'), path=path, exists=False, size=None, sha256=None,
                  expected_sha256=item.get('sha256'), verified=False, cause=None)
    result.update(fields)
    return result


def why_absent(cache_dir, result, layout=LAYOUT_RUST, elsewhere=None, seed_ip=None, waiting=False):
    """Why the file of ``result`` is not in ``cache_dir``: a directory that is not the peer's cache first; then, unless
    ``waiting`` (a download may not have started yet), where the preheat result ``elsewhere`` (``{url: [(hostname,
    ip)]}``) says it landed, and what removes files."""
    if not os.path.isdir(cache_dir):
        return f'cache_dir {cache_dir} does not exist on this host'
    if layout == LAYOUT_RUST and not os.path.isdir(os.path.join(cache_dir, 'content', 'tasks')):
        what = ('no content/tasks directory' if os.path.isdir(os.path.join(cache_dir, 'content'))
                else 'no content/ directory at all, so no content/tasks directory')
        return (f'cache_dir {cache_dir} has {what}, which the Rust client creates when it starts: it is not the '
                "directory mounted at the seed peer's storage.dir (/var/lib/dragonfly), or this is not the seed peer's host")
    if waiting:
        return 'file absent'
    hosts = (elsewhere or {}).get(result['url']) if result['url'] else None
    removed = ('its file was removed since (GC by gc.policy.taskTTL or by disk usage' + _disk_note(cache_dir) + ', '
               'storage.keep=false wiping it at restart, or '
               "deleted by hand: then the seed's metadata still marks the task finished and a new preheat ends "
               'SUCCESS without downloading it, until the task is deleted with a delete_task job), or cache_dir is '
               'not its storage.dir')
    if hosts and not seed_ip:
        return (f"file absent; the preheat result says it landed on {_labels(hosts)}: if that is this host, "
                f'{removed}; if not, with scope single_seed_peer each task goes to one seed peer chosen by '
                'consistent hashing (set seed_ip to tell)')
    if hosts:
        others = [(hostname, ip) for hostname, ip in hosts if ip != seed_ip]
        if others:
            return (f"file absent; the preheat result says it landed on {_labels(others)} (this seed peer is "
                    f'{seed_ip}): with scope single_seed_peer each task goes to one seed peer chosen by '
                    'consistent hashing')
        return f'file absent although the preheat result names this seed peer: {removed}'
    if layout == LAYOUT_LEGACY_GO and not result['task_id']:
        return 'no finished task with this length and sha256 in the Go dfdaemon data directory'
    return ('file absent: this peer never downloaded the task (not preheated here, different task ID inputs: tag, '
            'application, filtered_query_params, piece_length, registry host), or it was removed (GC by '
            'gc.policy.taskTTL or by disk usage' + _disk_note(cache_dir) + ', storage.keep)')


def _disk_note(cache_dir):
    """The filesystem usage that matters for dfdaemon's disk garbage collection, as a parenthesis."""
    usage = disk_usage_percent(cache_dir)
    if usage is None:
        return ''
    return (f' (this filesystem is {usage}% used as dfdaemon counts it: without gc.policy.diskThreshold it evicts '
            'from gc.policy.diskHighThresholdPercent, 80 by default)')


def _size(path):
    try:
        return os.stat(path).st_size
    except OSError:
        return None


class CacheChecker(object):
    """Checks items (dicts with ``url``, ``task_id``, ``sha256``, ``size``) in a cache directory."""

    def __init__(self, cache_dir, layout=LAYOUT_RUST, mode=MODE_FULL, elsewhere=None, seed_ip=None, dfctl_tasks=None,
                 container=None):
        self.cache_dir = cache_dir
        self.layout = layout
        self.mode = mode
        self.elsewhere = elsewhere or {}
        self.seed_ip = seed_ip
        self.dfctl_tasks = dfctl_tasks
        self.container = container
        self.bytes_hashed = 0

    def check(self, items):
        started = time.monotonic()
        results = [self._locate(item) for item in items]
        if self.mode == MODE_FULL:
            paths = [result['path'] for result in results if result['exists'] and result['path']]
            hashes = hash_files(paths)
            for result in results:
                answer = hashes.get(result['path']) if result['exists'] else None
                if isinstance(answer, OSError):
                    result['ok'] = False
                    result['cause'] = f'cannot read the file: {answer}'
                elif answer is not None:
                    result['sha256'], read = answer
                    self.bytes_hashed += read
        for result in results:
            self._judge(result)
        seconds = time.monotonic() - started
        return results, self._summary(results, seconds)

    def _locate(self, item):
        result = _new_result(item, None, expected_size=item.get('size'), ok=None)
        if self.layout == LAYOUT_RUST:
            result['path'] = _rust_path(self.cache_dir, item)
            result['size'] = _size(result['path'])
            result['exists'] = result['size'] is not None and os.path.isfile(result['path'])
            return result
        return self._locate_legacy(item, result)

    def _locate_legacy(self, item, result):
        if item.get('task_id'):
            candidates = _legacy_candidates(self.cache_dir, item['task_id'])
            result['path'] = os.path.join(self.cache_dir, item['task_id'], '<peer id>', 'data')
        else:
            # Go task IDs were computed differently: find the task by its length and, below, its hash.
            candidates = [(peer_dir, metadata) for dummy, peer_dir, metadata in _legacy_tasks(self.cache_dir)
                          if metadata and (item.get('size') is None or metadata.get('contentLength') == item.get('size'))]
            result['path'] = os.path.join(self.cache_dir, '<task id>', '<peer id>', 'data')
            if self.mode == MODE_FULL and item.get('sha256') and candidates:
                hashes = hash_files([os.path.join(peer_dir, 'data') for peer_dir, dummy in candidates])
                candidates = [(peer_dir, metadata) for peer_dir, metadata in candidates
                              if not isinstance(hashes.get(os.path.join(peer_dir, 'data')), OSError)
                              and hashes[os.path.join(peer_dir, 'data')][0] == item['sha256']]
        done = [(peer_dir, metadata) for peer_dir, metadata in candidates if metadata and metadata.get('done')]
        chosen = done[0] if done else (candidates[0] if candidates else None)
        if chosen is None:
            return result
        peer_dir, metadata = chosen
        data = os.path.join(peer_dir, 'data')
        result['path'] = data
        result['task_id'] = result['task_id'] or os.path.basename(os.path.dirname(peer_dir))
        result['size'] = _size(data)
        result['exists'] = result['size'] is not None
        result['legacy_metadata'] = dict(done=bool(metadata and metadata.get('done')),
                                         content_length=(metadata or {}).get('contentLength'))
        return result

    def _judge(self, result):
        if result['ok'] is False:
            return
        if not result['exists']:
            result['ok'] = False
            result['cause'] = why_absent(self.cache_dir, result, self.layout, self.elsewhere, self.seed_ip)
            return
        problems = []
        if result['expected_size'] is not None and result['size'] != result['expected_size']:
            problems.append(f"its size is {result['size']} bytes, not {result['expected_size']}")
        legacy = result.get('legacy_metadata')
        if legacy is not None:
            if not legacy['done']:
                problems.append('its metadata says the download is not done')
            elif legacy['content_length'] is not None and legacy['content_length'] != result['size']:
                problems.append(f"its data has {result['size']} bytes but the metadata says {legacy['content_length']}")
        if self.mode == MODE_FULL and result['expected_sha256']:
            if result['sha256'] == result['expected_sha256']:
                result['verified'] = True
            else:
                problems.append('its sha256 differs from the expected one: the download is incomplete or still running (the '
                                'file is created at full length when the task starts, so its size proves nothing), or the '
                                'origin content changed')
        if self.dfctl_tasks is not None and self.layout == LAYOUT_RUST:
            state = self.dfctl_tasks.get(result['task_id'])
            result['dfctl_finished'] = bool(state and state['finished'])
            if state is None:
                problems.append(f'dfctl task ls in container {self.container} does not list the task')
            elif not state['finished']:
                problems.append(f'dfctl task ls in container {self.container} shows the task unfinished'
                                + (' (failed)' if state['failed'] else ''))
        result['ok'] = not problems
        if problems:
            result['cause'] = 'present, but ' + '; '.join(problems)

    def _summary(self, results, seconds):
        ok = sum(1 for result in results if result['ok'])
        throughput = (self.bytes_hashed / seconds / (1024 * 1024)) if seconds > 0 and self.bytes_hashed else None
        return dict(total=len(results), ok=ok, failed=len(results) - ok,
                    missing=sum(1 for result in results if not result['exists']),
                    verified=sum(1 for result in results if result['verified']),
                    bytes_hashed=self.bytes_hashed, seconds=round(seconds, 3),
                    mib_per_second=round(throughput, 1) if throughput else None)


def _file_state(stat_result):
    return (stat_result.st_ino, stat_result.st_size, stat_result.st_mtime_ns, stat_result.st_ctime_ns)


class CacheWatcher(object):
    """Watches a Rust client's cache (``layout=rust``) until every item holds exactly its expected content.

    Items are dicts with ``task_id``, ``url`` and ``sha256`` (hex, or ``None`` when unknown). The rule is
    the one of ``CacheChecker`` in mode ``full``: an item is verified when the sha256 of
    ``content/tasks/<id[:3]>/<id>`` equals its expected digest, and never without one (neither the file's
    existence nor its size tells that the download finished: docs/dev/module-utils.md#cache).

    ``poll()`` stats every item and hashes a file only when

    * it exists as a regular file, and its state (inode, size, mtime, ctime) differs from the state last
      hashed: a file is hashed once per state, so a complete file, which no longer changes, is hashed at
      most once;
    * and it is at most ``small_file`` bytes, or it has not been written for ``quiet_seconds(size)``, or
      ``eager`` is set: while a large download runs its pieces keep arriving, and hashing it at every
      poll would read it again and again.

    Every item ends in one of three states: ``verified``; ``incomplete`` (absent, being written, or its
    hash differs); ``unknown`` (present, but no expected digest to compare with).
    """

    def __init__(self, cache_dir, items, small_file=WATCH_SMALL_FILE, quiet_min=WATCH_QUIET_MIN, quiet_max=WATCH_QUIET_MAX,
                 clock=None):
        self.cache_dir = cache_dir
        self.small_file = small_file
        self.quiet_min = quiet_min
        self.quiet_max = quiet_max
        self.clock = clock or time.time
        self.bytes_hashed = 0
        self.files_hashed = 0
        self.polls = 0
        self._hashed_state = {}
        self._results = []
        for item in items:
            self._results.append(_new_result(item, _rust_path(cache_dir, item), state=STATE_INCOMPLETE,
                                             cause='not looked at yet'))

    def quiet_seconds(self, size):
        """How long a file of ``size`` bytes must not have been written before it is hashed (unless small)."""
        return max(self.quiet_min, min(self.quiet_max, size / WATCH_QUIET_RATE))

    @property
    def verifiable(self):
        """Whether every item has an expected digest, so that the watcher can verify them all."""
        return all(result['expected_sha256'] for result in self._results)

    @property
    def complete(self):
        return all(result['verified'] for result in self._results)

    def results(self):
        return [dict(result) for result in self._results]

    def in_state(self, state):
        return [dict(result) for result in self._results if result['state'] == state]

    def poll(self, eager=False):
        """Look at every item once; returns ``results()``."""
        self.polls += 1
        due = []
        for result in self._results:
            path = result['path']
            try:
                found = os.stat(path)
            except OSError:
                self._hashed_state.pop(result['task_id'], None)
                result.update(exists=False, size=None, sha256=None, verified=False, state=STATE_INCOMPLETE,
                              cause=why_absent(self.cache_dir, result, waiting=True))
                continue
            if not stat.S_ISREG(found.st_mode):
                self._hashed_state.pop(result['task_id'], None)
                result.update(exists=False, size=None, sha256=None, verified=False, state=STATE_INCOMPLETE,
                              cause='not a regular file')
                continue
            state = _file_state(found)
            result.update(exists=True, size=found.st_size)
            if self._hashed_state.get(result['task_id']) == state:
                # Hashed in this very state already: the verdict stands.
                continue
            result.update(sha256=None, verified=False)
            if not result['expected_sha256']:
                result.update(state=STATE_UNKNOWN, cause='present, but without an expected sha256 it cannot be verified '
                                                         '(the client creates the file at its full length when the download '
                                                         'starts, so its size proves nothing)')
                continue
            age = self.clock() - found.st_mtime_ns / 1e9
            if not eager and found.st_size > self.small_file and age < self.quiet_seconds(found.st_size):
                result.update(state=STATE_INCOMPLETE, cause=f'being written (modified {max(age, 0):.1f} s ago)')
                continue
            due.append((result, state, age))
        if due:
            hashes = hash_files([result['path'] for result, dummy, dummy in due])
            for result, state, age in due:
                answer = hashes.get(result['path'])
                if isinstance(answer, OSError):
                    result.update(state=STATE_INCOMPLETE, cause=f'cannot read the file: {answer}')
                    continue
                result['sha256'], read = answer
                self.bytes_hashed += read
                self.files_hashed += 1
                if age >= WATCH_SETTLED_SECONDS:
                    self._hashed_state[result['task_id']] = state
                if result['sha256'] == result['expected_sha256']:
                    result.update(verified=True, state=STATE_VERIFIED, cause=None)
                else:
                    result.update(state=STATE_INCOMPLETE,
                                  cause='its sha256 differs from the expected one (download still running or interrupted, '
                                        'or the origin content changed)')
        return self.results()
