# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cache of the seed peer on the preheat module's host (option cache_dir) during a preheat: which expected tasks it
holds verified, whether this seed peer alone meets the scope (its cache can settle the run) or must hold every task,
and what the result says of it. Watching the files is _cache.CacheWatcher's."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.p2p.dragonfly.plugins.module_utils._cache import STATE_INCOMPLETE, STATE_UNKNOWN, CacheWatcher
from ansible_collections.p2p.dragonfly.plugins.module_utils._hashing import normalize_sha256


# Seconds between two looks at the cache while waiting: a stat per task, hashing only changed files.
POLL_INTERVAL = 0.2


class LocalCache(object):
    """The cache of the seed peer with ``seed_ip`` (``None``: IP unknown) in ``cache_dir``, for the expected ``tasks``;
    files are verified by the sha256 in ``checksums`` (``{url: hex}``), blobs by their digest."""

    def __init__(self, cache_dir, seed_ip, tasks, requirement, checksums):
        self.cache_dir = cache_dir
        self.seed_ip = seed_ip or None
        self.tasks = tasks
        items = []
        for task in tasks:
            expected = checksums.get(task['url'])
            if task.get('digest'):
                try:
                    expected = normalize_sha256(task['digest'], 'digest')
                except ValueError:
                    # Not a sha256 digest (sha512, say): this blob cannot be verified here.
                    expected = None
            items.append(dict(url=task['url'], task_id=task['task_id'], sha256=expected))
        self.watcher = CacheWatcher(self.cache_dir, items)
        # This seed peer holding every task is enough (single_seed_peer, ips == [seed_ip], count 1).
        self.enough = requirement.met_by_one_peer(self.seed_ip)
        # This seed peer must hold every task, so lacking one means a preheat is needed.
        self.must_hold = requirement.includes(self.seed_ip)
        # This cache in a view of which host holds what, until a manager answer names its host.
        self.key = (f'cache_dir {self.cache_dir}', self.seed_ip or '')

    @property
    def can_settle(self):
        """Whether the local cache alone can end the run: every task verifiable, and this seed peer enough."""
        return self.enough and self.watcher.verifiable

    def poll(self, eager=False):
        self.watcher.poll(eager=eager)

    def settled(self):
        return self.enough and self.watcher.complete

    def lacking(self):
        """The tasks known not to be complete here (absent, being written, or a different sha256)."""
        return self.watcher.in_state(STATE_INCOMPLETE)

    def verified_ids(self):
        return [result['task_id'] for result in self.watcher.results() if result['verified']]

    def outcome(self, poll=True):
        """The result's ``verified_locally`` and ``local``; with ``poll``, after a first look if none was taken yet."""
        if poll and not self.watcher.polls:
            self.poll()
        local = [dict(task_id=result['task_id'], url=result['url'], path=result['path'], verified=result['verified'],
                      cause=result['cause']) for result in self.watcher.results()]
        return dict(verified_locally=self.watcher.complete, local=local)

    def merge_into(self, view):
        """``view`` (``{(hostname, ip): [urls]}``) with the URLs verified here added to this seed peer's entry."""
        merged = dict((label, list(urls)) for label, urls in view.items())
        verified = set(self.verified_ids())
        urls = [task['url'] for task in self.tasks if task['task_id'] in verified]
        if not urls:
            return merged
        key = self.key
        if self.seed_ip:
            key = next((known for known in merged if known[1] == self.seed_ip), key)
        entry = merged.setdefault(key, [])
        entry.extend(url for url in urls if url not in entry)
        order = dict((task['url'], index) for index, task in enumerate(self.tasks))
        entry.sort(key=lambda url: order.get(url, len(order)))
        return merged

    def bullets(self):
        return ''.join(f"\n- {result['url']} (task {result['task_id']}) in cache_dir: {result['cause']}"
                       for result in self.watcher.results() if not result['verified'])

    def gap_warning(self, observations):
        """After the manager reported the preheat done: the warning about tasks not verified here that the manager
        reports on this seed peer, or that belong here; ``None`` without such tasks."""
        gaps = []
        for item in self.watcher.results():
            if item['verified'] or item['state'] == STATE_UNKNOWN:
                continue
            holders = observations.finished.get(item['task_id'], {}).values()
            named_here = self.seed_ip is not None and any(host['ip'] == self.seed_ip for host in holders)
            if named_here or self.can_settle:
                gaps.append(item)
        if not gaps:
            return None
        return (f'the manager reports the preheat done, but cache_dir {self.cache_dir} lacks a verified copy of '
                + '; '.join(f"{item['url']} (task {item['task_id']}: {item['cause']})" for item in gaps)
                + ". Either the scheduler placed them on another seed peer (scope single_seed_peer with several seed "
                "peers), or cache_dir is not this seed peer's storage.dir, or their files were removed by hand while "
                "the seed peer's metadata still marks them finished (remove them with a delete_task job instead)")
