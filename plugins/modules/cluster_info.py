#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
module: cluster_info

short_description: Read the schedulers and peers of a Dragonfly scheduler cluster from the manager

version_added: 0.1.0

description:
  - Returns the schedulers and the peers the Dragonfly manager knows in one scheduler cluster, as the manager reports them,
    and two digests for health checks, RV(active_preheat_schedulers) and RV(super_peers).
  - With O(sync_peers=true) the module first asks the manager to synchronise its peer table with the scheduler
    (C(POST /api/v1/jobs) of type C(sync_peers)). Without that, the manager refreshes the peer table only once a day
    (its C(job.syncPeers.interval)), so new and vanished peers show late.
  - The module acts as a manager user, since schedulers and peers are not part of the open API that personal access tokens
    reach. It uses the session O(jwt) when it is set, otherwise it signs in as O(admin_user) with O(admin_password).

extends_documentation_fragment:
  - p2p.dragonfly.manager
  - p2p.dragonfly.manager.admin
  - p2p.dragonfly.attributes
  - p2p.dragonfly.attributes.actiongroup_dragonfly

attributes:
  check_mode:
    support: full
    details:
      - The module changes nothing and runs the same in check mode, including the peer synchronisation of O(sync_peers=true).
  diff_mode:
    support: N/A
    details:
      - The module changes nothing.
  idempotent:
    support: full

options:
  scheduler_cluster_id:
    description:
      - ID of the scheduler cluster. V(1) is the cluster the manager creates on its first start.
    type: int
    default: 1
  sync_peers:
    description:
      - Whether to have the manager synchronise its peer table with the scheduler before reading it.
      - The manager asks the first active scheduler of the cluster for the hosts it knows, then adds, updates and deletes rows
        of its peer table to match, before it answers. It changes no configuration and creates no job row, so the module
        still reports no change; it does change what the manager's console lists as peers, as the manager's own daily
        synchronisation does.
      - The manager waits for the scheduler's answer up to its C(job.syncPeers.timeout) (10 minutes by default), so a
        scheduler that does not take jobs makes the request run into O(timeout).
      - When the cluster has no active scheduler, or another synchronisation is running in the manager, the module warns,
        returns RV(peers_synced=false) and lists the peer table as it is.
    type: bool
    default: true
  token:
    description:
      - Not used by this module, since the manager serves schedulers and peers to signed-in users only. Accepted so that
        C(module_defaults) for the group C(group/p2p.dragonfly.dragonfly) can set it.
    type: str

notes:
  - The manager reports what its database holds. A scheduler is V(active) while it keeps its connection to the manager;
    a peer row is V(active) once a synchronisation found it.
  - The manager serves repeated identical reads from a cache for up to 30 seconds (Dragonfly manager v2.5.0 and v2.5.1), so a change
    may show a few seconds late; poll with C(until), as in the examples.

seealso:
  - module: p2p.dragonfly.user_password
  - module: p2p.dragonfly.personal_access_token

author:
  - p2p.dragonfly maintainers (@p2p-dragonfly)
"""

EXAMPLES = r"""
---
- name: Sign in once, and keep the session
  p2p.dragonfly.user_password:
    manager_url: https://manager.example.com:8080
    password: "{{ dragonfly_root_password }}"
  register: manager_session
  no_log: true

- name: Wait until a scheduler with the preheat feature is active in cluster 1
  p2p.dragonfly.cluster_info:
    manager_url: https://manager.example.com:8080
    jwt: "{{ manager_session.jwt }}"
    sync_peers: false
  register: cluster
  until: cluster.active_preheat_schedulers | length > 0
  retries: 30
  delay: 2

- name: Wait until the seed peer seed-1 shows as a super peer
  p2p.dragonfly.cluster_info:
    manager_url: https://manager.example.com:8080
    jwt: "{{ manager_session.jwt }}"
  register: cluster
  until: cluster.super_peers | selectattr('host_name', 'equalto', 'seed-1') | list | length > 0
  retries: 12
  delay: 5

- name: List the peers with a password instead of a session
  p2p.dragonfly.cluster_info:
    manager_url: https://manager.example.com:8080
    admin_password: "{{ dragonfly_root_password }}"
    scheduler_cluster_id: 2
  register: cluster_2
"""

RETURN = r"""
scheduler_cluster_id:
  description: ID of the scheduler cluster.
  returned: success
  type: int
  sample: 1
peers_synced:
  description:
    - Whether the manager synchronised its peer table with the scheduler before the peers were read.
    - V(false) when O(sync_peers=false), and when the synchronisation could not run (see the warning).
    - V(true) does not prove that the scheduler answered. The manager skips a scheduler that fails to answer and only logs
      that, so the peer table may still be old.
  returned: success
  type: bool
  sample: true
schedulers:
  description: The schedulers of the cluster, in any state, with the fields the manager returns.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: ID of the scheduler in the manager.
      type: int
      sample: 1
    host_name:
      description: Host name the scheduler registered with.
      type: str
      sample: scheduler-1
    ip:
      description: IP address the scheduler registered with.
      type: str
      sample: 10.0.0.11
    port:
      description: gRPC port of the scheduler.
      type: int
      sample: 8002
    state:
      description: V(active) while the scheduler keeps its connection to the manager, else V(inactive).
      type: str
      sample: active
    features:
      description: Features of the scheduler, V(schedule) and V(preheat) by default.
      type: list
      elements: str
      sample:
        - schedule
        - preheat
    last_keep_alive_at:
      description: When the scheduler last reported to the manager (RFC 3339).
      type: str
      sample: "2026-01-01T10:00:00Z"
    scheduler_cluster_id:
      description: ID of the scheduler cluster.
      type: int
      sample: 1
  sample:
    - id: 1
      host_name: scheduler-1
      idc: ""
      location: ""
      ip: 10.0.0.11
      port: 8002
      state: active
      features:
        - schedule
        - preheat
      config: null
      last_keep_alive_at: "2026-01-01T10:00:00Z"
      scheduler_cluster_id: 1
      created_at: "2026-01-01T09:00:00Z"
      updated_at: "2026-01-01T10:00:00Z"
      is_del: 0
peers:
  description:
    - The rows of the manager's peer table for the cluster, with the fields the manager returns.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: ID of the row.
      type: int
      sample: 4
    host_name:
      description: Host name of the peer.
      type: str
      sample: seed-1
    ip:
      description: IP address of the peer.
      type: str
      sample: 10.0.0.21
    port:
      description: gRPC port of the peer.
      type: int
      sample: 4000
    download_port:
      description: Port the peer serves pieces on.
      type: int
      sample: 4001
    type:
      description: V(super) for a seed peer, V(normal) for other peers.
      type: str
      sample: super
    state:
      description: V(active) or V(inactive).
      type: str
      sample: active
    git_version:
      description: Version of the Dragonfly client.
      type: str
      sample: v1.0.0
    scheduler_cluster_id:
      description: ID of the scheduler cluster.
      type: int
      sample: 1
  sample:
    - id: 4
      host_name: seed-1
      type: super
      ip: 10.0.0.21
      port: 4000
      download_port: 4001
      proxy_port: 4001
      object_storage_port: 0
      state: active
      os: linux
      platform: debian
      git_version: v1.0.0
      scheduler_cluster_id: 1
active_preheat_schedulers:
  description: The V(active) schedulers whose features include V(preheat), the ones a preheat job can use.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: ID of the scheduler.
      type: int
    host_name:
      description: Host name of the scheduler.
      type: str
    ip:
      description: IP address of the scheduler.
      type: str
    port:
      description: gRPC port of the scheduler.
      type: int
  sample:
    - id: 1
      host_name: scheduler-1
      ip: 10.0.0.11
      port: 8002
super_peers:
  description: The V(active) peers of type V(super) (seed peers), with the fields of RV(peers).
  returned: success
  type: list
  elements: dict
  sample:
    - id: 4
      host_name: seed-1
      type: super
      ip: 10.0.0.21
      port: 4000
      state: active
      scheduler_cluster_id: 1
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.p2p.dragonfly.plugins.module_utils._api import (
    PEER_TYPE_SUPER,
    SCHEDULER_FEATURE_PREHEAT,
    STATE_ACTIVE,
    ManagerAPIError,
    ManagerClient,
    manager_argspec_ex,
)


# manager/job/sync_peers.go CreateSyncPeers: a second synchronisation while one runs fails with this (HTTP 500).
SYNC_RUNNING = 'sync peers job is running'


def active_preheat_schedulers(schedulers):
    return [
        dict(id=row.get('id'), host_name=row.get('host_name'), ip=row.get('ip'), port=row.get('port'))
        for row in schedulers
        if isinstance(row, dict) and row.get('state') == STATE_ACTIVE and SCHEDULER_FEATURE_PREHEAT in (row.get('features') or [])
    ]


def super_peers(peers):
    return [row for row in peers if isinstance(row, dict) and row.get('type') == PEER_TYPE_SUPER and row.get('state') == STATE_ACTIVE]


def sync_peers(module, client, cluster_id):
    """Whether the manager synchronised its peer table; warns when it could not, raises on real failures."""
    try:
        client.sync_peers([cluster_id])
    except ManagerAPIError as exc:
        if exc.status == 404 or (exc.status == 500 and SYNC_RUNNING in (exc.server_message or '')):
            if exc.status == 500:
                reason = ('another synchronisation is running in the manager (its daily job or another caller)'
                          f' ({exc.method} {exc.path}: HTTP 500 {exc.server_message})')
            else:
                reason = str(exc)
            module.warn(f'peers of scheduler cluster {cluster_id} were not synchronised, peers lists the manager\'s '
                        f'table as it was: {reason}')
            return False
        if exc.status == -1 and exc.method == 'POST' and 'no answer' in exc.message:
            raise ManagerAPIError(
                f'{exc.message}. The manager answers a peer synchronisation only when the scheduler has (it waits up to '
                'its job.syncPeers.timeout, 10 minutes by default): does the scheduler of cluster '
                f'{cluster_id} take jobs (job.enable, Redis reachable)? Set sync_peers=false to read without synchronising',
                status=exc.status, method=exc.method, path=exc.path)
        raise
    return True


def cluster_info(module, client):
    params = module.params
    cluster_id = params['scheduler_cluster_id']
    client.log_in(params['admin_user'], params['admin_password'], jwt=params['jwt'])
    synced = sync_peers(module, client, cluster_id) if params['sync_peers'] else False
    schedulers = client.list_schedulers(scheduler_cluster_id=cluster_id)
    peers = client.list_peers(scheduler_cluster_id=cluster_id)
    return dict(
        changed=False,
        scheduler_cluster_id=cluster_id,
        peers_synced=synced,
        schedulers=schedulers,
        peers=peers,
        active_preheat_schedulers=active_preheat_schedulers(schedulers),
        super_peers=super_peers(peers),
    )


def main():
    argspec_ex = manager_argspec_ex(admin=True)
    argument_spec = argspec_ex.pop('argspec')
    argument_spec.update(
        scheduler_cluster_id=dict(type='int', default=1),
        sync_peers=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **argspec_ex)
    if module.params['scheduler_cluster_id'] < 1:
        module.fail_json(msg=f"scheduler_cluster_id must be a scheduler cluster ID (1 or more), got {module.params['scheduler_cluster_id']}")
    try:
        client = ManagerClient.from_module(module)
        result = cluster_info(module, client)
    except ManagerAPIError as exc:
        module.fail_json(msg=str(exc), http_status=exc.status)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
