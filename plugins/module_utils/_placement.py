# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the tasks of a preheat are and where they must be: what get_task answers and preheat results say each host
holds (``Observations``, hosts keyed by data), which hosts the scope and peer selection require (``Requirement``), and
host labels, made only for output. Upstream behaviour: docs/dev/module-utils.md#placement."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.p2p.dragonfly.plugins.module_utils._jobs import get_task_peers


SCOPE_SINGLE_SEED_PEER = 'single_seed_peer'
SCOPE_ALL_SEED_PEERS = 'all_seed_peers'
SCOPE_ALL_PEERS = 'all_peers'
SCOPES = (SCOPE_SINGLE_SEED_PEER, SCOPE_ALL_SEED_PEERS, SCOPE_ALL_PEERS)
HOST_TYPE_SUPER = 'super'


def host_label(hostname, ip):
    """How a host is named in messages and results: ``hostname (ip)``, or the name alone without an address."""
    return f'{hostname} ({ip})' if ip else hostname


def labelled(view):
    """``{(hostname, ip): value}`` as results show it: ``{host label: value}``."""
    return dict((host_label(hostname, ip), value) for (hostname, ip), value in view.items())


class Observations(object):
    """What is known about which host holds which task, from get_task answers and preheat results."""

    def __init__(self):
        # task_id -> {(ip, hostname): host dict}
        self.finished = {}
        # (ip, hostname) -> host dict: every host seen anywhere (holding something, or named by a job).
        self.hosts = {}

    def _host(self, hostname, ip, host_type, cluster_id):
        key = (ip or '', hostname or '')
        host = self.hosts.get(key)
        if host is None:
            host = dict(hostname=hostname or '', ip=ip or '', host_type=host_type, scheduler_cluster_id=cluster_id)
            self.hosts[key] = host
        else:
            if host_type and not host.get('host_type'):
                host['host_type'] = host_type
            if cluster_id and not host.get('scheduler_cluster_id'):
                host['scheduler_cluster_id'] = cluster_id
        return key, host

    def add_finished(self, task_id, hostname, ip, host_type=None, cluster_id=None):
        key, host = self._host(hostname, ip, host_type, cluster_id)
        self.finished.setdefault(task_id, {})[key] = host

    def add_seen(self, hostname, ip, host_type=None, cluster_id=None):
        self._host(hostname, ip, host_type, cluster_id)

    def add_get_task(self, task_id, row):
        """Record what a get_task job row says (answered schedulers only)."""
        for cluster_id, peer in get_task_peers(row):
            if peer['is_finished']:
                self.add_finished(task_id, peer['hostname'], peer['ip'], peer['host_type'], cluster_id)
            else:
                self.add_seen(peer['hostname'], peer['ip'], peer['host_type'], cluster_id)

    def add_preheat(self, outcome, url_tasks, host_type=None):
        """Record the success/failure tasks of a preheat job (see ``preheat_outcome``)."""
        for item in outcome['success_tasks']:
            task = url_tasks.get(item['url'])
            if task is not None:
                self.add_finished(task, item['hostname'], item['ip'], host_type, item['scheduler_cluster_id'])
        for item in outcome['failure_tasks']:
            self.add_seen(item['hostname'], item['ip'], host_type, item['scheduler_cluster_id'])

    def cached(self, tasks):
        """``{(hostname, ip): [urls]}`` of the finished tasks among ``tasks``."""
        view = {}
        for task in tasks:
            for host in self.finished.get(task['task_id'], {}).values():
                view.setdefault((host['hostname'], host['ip']), []).append(task['url'])
        return view

    def per_host(self, tasks):
        """``[{hostname, ip, host_type, scheduler_cluster_id, task_ids, urls}]`` for the finished tasks."""
        rows = {}
        for task in tasks:
            for key, host in self.finished.get(task['task_id'], {}).items():
                row = rows.setdefault(key, dict(host, task_ids=[], urls=[]))
                row['task_ids'].append(task['task_id'])
                row['urls'].append(task['url'])
        return [rows[key] for key in sorted(rows)]


class Requirement(object):
    """Which hosts must hold a task, following the preheat scope and peer selection."""

    def __init__(self, scope, ips=None, count=None, percentage=None, cluster_ids=None):
        self.scope = scope
        self.ips = list(ips or [])
        self.count = count
        self.percentage = percentage
        self.cluster_ids = list(cluster_ids or [])

    @property
    def peer_word(self):
        return 'peer' if self.scope == SCOPE_ALL_PEERS else 'seed peer'

    def describe(self):
        word = self.peer_word
        if self.ips:
            return f"the {word}s {', '.join(self.ips)}"
        if self.scope == SCOPE_SINGLE_SEED_PEER:
            text = 'one seed peer'
        elif self.count:
            text = f'{self.count} {word}s (or all of them, if fewer)'
        elif self.percentage:
            text = f'{self.percentage}% of the {word}s'
        else:
            text = f'every {word}'
        if len(self.cluster_ids) > 1:
            text += ' in each scheduler cluster'
        return text

    def _type_ok(self, host):
        return self.scope == SCOPE_ALL_PEERS or host.get('host_type') in (None, HOST_TYPE_SUPER)

    def _in_cluster(self, host, cluster_id):
        return (len(self.cluster_ids) <= 1 or not host.get('scheduler_cluster_id')
                or host['scheduler_cluster_id'] == cluster_id)

    def unmet(self, task_id, observations):
        """``None`` when the task is where it must be, else what is missing (text)."""
        finished = [host for host in observations.finished.get(task_id, {}).values() if self._type_ok(host)]
        known = [host for host in observations.hosts.values() if self._type_ok(host)]
        word = self.peer_word
        if self.ips:
            done_ips = set(host['ip'] for host in finished)
            lacking = [ip for ip in self.ips if ip not in done_ips]
            lacking += [host_label(host['hostname'], host['ip']) for host in known
                        if host['ip'] in self.ips and host['ip'] not in lacking and host not in finished]
            return f"not finished on {', '.join(lacking)}" if lacking else None
        problems = []
        for cluster_id in self.cluster_ids or [None]:
            done = [host for host in finished if self._in_cluster(host, cluster_id)]
            pool = [host for host in known if self._in_cluster(host, cluster_id)]
            where = f' of scheduler cluster {cluster_id}' if len(self.cluster_ids) > 1 else ''
            if self.scope == SCOPE_SINGLE_SEED_PEER:
                if not done:
                    problems.append(f'finished on no seed peer{where}')
                continue
            if self.count:
                needed = max(1, min(self.count, len(pool)))
            elif self.percentage:
                needed = max(1, len(pool) * self.percentage // 100)
            else:
                needed = max(1, len(pool))
            if len(done) < needed:
                lacking = [host_label(host['hostname'], host['ip']) for host in pool if host not in done]
                text = f'finished on {len(done)} of the {needed} {word}s needed{where}'
                if lacking and not (self.count or self.percentage):
                    text += f" (not on {', '.join(lacking)})"
                problems.append(text)
        return '; '.join(problems) or None

    def met_by_one_peer(self, ip=None):
        """Whether one peer (the one with ``ip``, if known) holding every task meets the requirement.

        True for ``single_seed_peer``, ``ips`` naming only ``ip``, and ``count=1``, each with one scheduler
        cluster (with several clusters every cluster needs its own peers). The preheat module uses it to let
        a seed peer's own cache settle the requirement.
        """
        if len(self.cluster_ids) > 1:
            return False
        if self.scope == SCOPE_SINGLE_SEED_PEER:
            return True
        if self.ips:
            return ip is not None and set(self.ips) == set([ip])
        return self.count == 1

    def includes(self, ip=None):
        """Whether the seed peer with ``ip`` (``None``: IP unknown) must hold every task itself.

        True for ``single_seed_peer`` (taken as the only seed peer: with several, the scheduler spreads the
        tasks over them by consistent hashing), ``ips`` naming ``ip``, and the ``all_*`` scopes without
        ``ips``, ``count`` or ``percentage``.
        """
        if self.scope == SCOPE_SINGLE_SEED_PEER:
            return True
        if self.ips:
            return ip is not None and ip in self.ips
        return not self.count and not self.percentage

    def missing(self, tasks, observations):
        """``[{url, task_id, missing}]`` for the tasks not yet where they must be."""
        result = []
        for task in tasks:
            reason = self.unmet(task['task_id'], observations)
            if reason:
                result.append(dict(url=task['url'], task_id=task['task_id'], missing=reason))
        return result
