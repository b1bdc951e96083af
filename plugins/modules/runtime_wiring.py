#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The module's interface only: the wiring itself is module_utils/_runtime_wiring.py (with _runtime_settings.py,
# _runtime_content.py and _containerd_config.py).

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
module: runtime_wiring

short_description: Wire a host's container runtimes to pull through the local Dragonfly proxy, or undo it

version_added: 0.1.0

description:
  - Points the host's containerd (a C(hosts.toml) per registry, and C(config_path) in C(config.toml) when its CRI plugin
    has none), Docker Engine (the proxy first in C(registry-mirrors) of C(daemon.json)) and CRI-O and Podman (a
    C(registries.conf) drop-in) at the local dfdaemon proxy of a peer or seed peer. What is written is what upstream's
    C(dfinit) writes, with the deviations the collection's C(docs/container-runtime.md) explains.
  - Before its first change to a file it keeps the original below O(backup_dir) and lists it in C(state.json) there.
    Whatever is listed there and no longer wanted (O(state=absent), a registry taken off a list, O(docker_mirror=false))
    is restored byte for byte, mode and owner included, or deleted if it did not exist. A C(config.toml) or
    C(daemon.json) that someone else changed since the module wrote it keeps those changes and loses only the module's
    own. Directories it created are removed when empty.
  - Every check is made before anything changes, so that a refusal leaves the host untouched. Run it in check mode to
    make only the checks, for example before deploying the proxy the runtimes will use.
  - It restarts and reloads nothing. RV(restart) and RV(reload) name the daemons whose configuration changed, for a
    handler (the roles P(p2p.dragonfly.peer#role) and P(p2p.dragonfly.seed_peer#role) notify theirs with it).
  - C(config.toml) and C(daemon.json) can hold registry credentials or proxy passwords. Nothing of their content
    leaves the module, neither in a message nor in the result or the diff; only the lines the module itself writes
    there are shown.

extends_documentation_fragment:
  - p2p.dragonfly.attributes

attributes:
  check_mode:
    support: full
    details:
      - Makes every check, including containerd's own reading of C(config.toml), and tells what would change; writes
        nothing, not even the backups.
  diff_mode:
    support: full
    details:
      - Shows the C(hosts.toml) files and the drop-in whole, created and removed directories, and for C(config.toml)
        and C(daemon.json) only the lines the module adds; files restored, removed or edited back are shown by path and
        state, without content.
  idempotent:
    support: full
  platform:
    description: Target operating systems the module runs on.
    support: full
    platforms: posix

options:
  state:
    description:
      - V(present) wires the runtimes that O(containerd_registries), O(docker_mirror) and O(containers_registries) name,
        and undoes the wiring of whatever was wired before and is no longer named.
      - V(absent) undoes everything wired before (nothing to do when nothing was).
    type: str
    choices: [present, absent]
    default: present
  managed_by:
    description:
      - Who manages the wiring, written into the head of each C(hosts.toml) and the drop-in, and into C(state.json).
    type: str
    required: true
  backup_dir:
    description:
      - Directory of this wiring's backups and C(state.json); one per proxy instance, the same on every run.
      - Created (mode C(0700), as is its parent, which holds the backups of every instance) before the first change,
        deleted when nothing is wired any more.
    type: path
    required: true
  proxy_port:
    description:
      - Port of the local dfdaemon proxy.
    type: int
    default: 4001
  proxy_bind_address:
    description:
      - Address the proxy listens on. The runtimes reach it at C(127.0.0.1) when it is empty or C(0.0.0.0), at C([::1])
        for C(::), else at this address.
    type: str
    default: 127.0.0.1
  containerd_registries:
    description:
      - Registries containerd pulls through the proxy, one C(<hosts dir>/<host>/hosts.toml) each.
      - The hosts directory is the first directory of containerd's registry C(config_path) when that is set, else
        O(containerd_hosts_dir). When C(config_path) is empty and the CRI plugin is enabled, the module sets it in
        O(containerd_config_file) (in the table of the file's C(version)); containerd checks the candidate file before it
        replaces the real one, and RV(restart) then names C(containerd).
      - Refused before any change when the CRI registry still uses the deprecated C(mirrors) or C(configs.*.tls), when
        O(proxy_rules) would keep C(ns) in the task IDs, or when C(containerd --version) or C(containerd config dump)
        fails.
      - Empty with O(state=present), containerd is not wired (what was wired before is undone).
    type: list
    elements: dict
    default: []
    suboptions:
      host:
        description:
          - The registry as image names spell it (C(docker.io), C(registry.example.com:5000), C([fd00::1]:5000)), and the
            name of its directory below the hosts directory. Each host once.
        type: str
        required: true
      server:
        description:
          - The registry's URL, C(scheme://host[:port]) without a path; also the value of the header
            C(X-Dragonfly-Registry), which tells the proxy where to download from.
          - Default C(https://registry-1.docker.io) for C(docker.io), else C(https://<host>), or C(http://<host>) with
            O(containerd_registries[].insecure).
        type: str
      insecure:
        description:
          - The registry speaks plain HTTP (the default O(containerd_registries[].server) is then C(http://<host>)).
        type: bool
        default: false
      skip_verify:
        description:
          - containerd does not verify the registry's certificate when it falls back to the registry directly
            (top-level C(skip_verify) of C(hosts.toml)).
        type: bool
        default: false
      capabilities:
        description:
          - What containerd may ask the proxy for; only C(pull) and C(resolve) (push goes to the registry itself).
            Empty means both.
        type: list
        elements: str
        default: [pull, resolve]
      headers:
        description:
          - More headers sent to the proxy, such as C(X-Dragonfly-Tag); not C(X-Dragonfly-Registry).
        type: dict
        default: {}
  containerd_config_file:
    description:
      - containerd's configuration file. Read with C(containerd config dump) (the effective configuration) and with
        Python's C(tomllib) (where to place the edit); a missing file is created with C(version = 2).
    type: path
    default: /etc/containerd/config.toml
  containerd_hosts_dir:
    description:
      - Directory of the C(hosts.toml) files when containerd has no C(config_path) yet; empty means
        C(/etc/containerd/certs.d). Refused when it differs from an existing C(config_path), which the module never
        changes.
    type: str
    default: ''
  docker_mirror:
    description:
      - Puts the proxy first in C(registry-mirrors) of O(docker_config_file), every other key and mirror kept (the file is
        rewritten with two-space indentation). Docker uses mirrors for Docker Hub images only.
    type: bool
    default: false
  docker_config_file:
    description:
      - Docker Engine's C(daemon.json).
    type: path
    default: /etc/docker/daemon.json
  containers_registries:
    description:
      - Registries CRI-O and Podman pull through the proxy, one C([[registry]]) each in O(containers_registries_file),
        with the proxy as its plain-HTTP mirror.
      - These runtimes send no registry name, so the proxy forwards all their requests to O(registry_mirror); each host
        must be that registry (C(docker.io) for Docker Hub). Any other host is refused.
    type: list
    elements: dict
    default: []
    suboptions:
      host:
        description:
          - The registry as image references name it, each host once.
        type: str
        required: true
      insecure:
        description:
          - The registry is plain HTTP or its certificate is not verified (C(insecure = true) on its C([[registry]]),
            which applies to the direct fallback).
        type: bool
        default: false
  containers_registries_file:
    description:
      - The drop-in for CRI-O and Podman, an absolute path ending in C(.conf).
    type: str
    default: /etc/containers/registries.conf.d/99-dragonfly.conf
  proxy_rules:
    description:
      - The proxy's rules (dfdaemon's C(proxy.rules)); only C(regex) and C(filteredQueryParams) are read. With
        O(containerd_registries), a rule's C(filteredQueryParams) must contain C(ns), which containerd adds to every
        request to a mirror.
    type: list
    elements: dict
    default: []
  registry_mirror:
    description:
      - The registry the proxy forwards requests without C(X-Dragonfly-Registry) to (C(proxy.registryMirror.addr)); the
        only registry O(containers_registries) may name.
    type: str
    default: https://registry-1.docker.io
  variable_prefix:
    description:
      - Put before an option's name in messages, so that a role's refusal names its own variable (V(dragonfly_peer_) gives
        C(dragonfly_peer_proxy_rules) for O(proxy_rules)).
    type: str
    default: ''

requirements:
  - For containerd (O(containerd_registries), or undoing a C(config_path) the module set in a C(config.toml) changed
    since), Python 3.11 or newer on the target, whose standard library C(tomllib) reads C(config.toml), or on an older
    Python the C(tomli) package (C(python3-tomli)); and the C(containerd) binary on the PATH. Without them the module
    refuses with a message that names them, before any change. Docker, CRI-O and Podman need neither.

notes:
  - containerd reads C(hosts.toml) at every pull (no restart), C(config.toml) only at start. dockerd reloads
    C(registry-mirrors) on SIGHUP only while the key is in C(daemon.json); restoring one without it needs a restart
    (RV(restart) then names C(docker)). CRI-O reads the drop-in at start and on SIGHUP; Podman at every command.
  - One wiring per host and runtime; two (with different O(backup_dir)) would back up each other's files.

seealso:
  - name: containerd registry host configuration
    description: The C(hosts.toml) format and C(config_path).
    link: https://github.com/containerd/containerd/blob/main/docs/hosts.md
  - module: ansible.builtin.service

author:
  - p2p.dragonfly maintainers (@p2p-dragonfly)
"""

EXAMPLES = r"""
---
- name: Wire containerd and Docker Engine to the peer's proxy
  p2p.dragonfly.runtime_wiring:
    managed_by: site.yml, peer
    backup_dir: /opt/dragonfly/runtime-backup/dragonfly-peer
    proxy_port: 4001
    containerd_registries:
      - host: docker.io
      - host: "10.0.0.20:5000"
        insecure: true
    docker_mirror: true
  register: wiring
  notify: Apply the container runtime configuration

- name: Only the checks, before the proxy is deployed
  p2p.dragonfly.runtime_wiring:
    managed_by: site.yml, peer
    backup_dir: /opt/dragonfly/runtime-backup/dragonfly-peer
    containerd_registries:
      - host: docker.io
  check_mode: true
  changed_when: false

- name: Undo the wiring, restoring the original files
  p2p.dragonfly.runtime_wiring:
    state: absent
    managed_by: site.yml, peer
    backup_dir: /opt/dragonfly/runtime-backup/dragonfly-peer
  register: unwiring

- name: Restart containerd when its config.toml changed
  ansible.builtin.service:
    name: containerd
    state: restarted
  when: "'containerd' in unwiring.restart"
"""

RETURN = r"""
files:
  description: Paths of the files written, restored, removed or edited back (in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample:
    - /etc/containerd/certs.d/docker.io/hosts.toml
    - /etc/containerd/config.toml
dirs:
  description: Directories created or removed (in check mode, that would be); the backup directory is not listed.
  returned: always
  type: list
  elements: str
  sample:
    - /etc/containerd/certs.d/docker.io
restart:
  description:
    - Daemons whose new configuration needs a restart; C(containerd) after a change of C(config.toml), C(docker) after
      C(daemon.json) was restored to a version without C(registry-mirrors) or removed.
  returned: always
  type: list
  elements: str
  sample: [containerd]
reload:
  description:
    - Daemons whose new configuration needs a reload (SIGHUP); C(docker) after any other change of C(daemon.json),
      C(crio) after a change of the drop-in while CRI-O runs (its socket C(/var/run/crio/crio.sock) exists).
  returned: always
  type: list
  elements: str
  sample: [docker]
mirror_url:
  description: The proxy's URL as the runtimes reach it.
  returned: always
  type: str
  sample: http://127.0.0.1:4001
wired:
  description: What is wired after the run.
  returned: always
  type: dict
  contains:
    containerd:
      description: The registry hosts with a C(hosts.toml) of the module.
      type: list
      elements: str
      returned: always
    docker:
      description: Whether C(daemon.json) names the proxy as first registry mirror.
      type: bool
      returned: always
    containers:
      description: The registry hosts of the CRI-O and Podman drop-in.
      type: list
      elements: str
      returned: always
  sample:
    containerd: [docker.io, "10.0.0.20:5000"]
    docker: true
    containers: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.p2p.dragonfly.plugins.module_utils._containerd_config import ContainerdConfigError
from ansible_collections.p2p.dragonfly.plugins.module_utils._runtime_settings import RuntimeWiringError, Settings
from ansible_collections.p2p.dragonfly.plugins.module_utils._runtime_wiring import Wiring


ARGUMENT_SPEC = dict(
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    managed_by=dict(type='str', required=True),
    backup_dir=dict(type='path', required=True),
    proxy_port=dict(type='int', default=4001),
    proxy_bind_address=dict(type='str', default='127.0.0.1'),
    containerd_registries=dict(type='list', elements='dict', default=[], options=dict(
        host=dict(type='str', required=True),
        server=dict(type='str'),
        insecure=dict(type='bool', default=False),
        skip_verify=dict(type='bool', default=False),
        capabilities=dict(type='list', elements='str', default=['pull', 'resolve']),
        headers=dict(type='dict', default={}),
    )),
    containerd_config_file=dict(type='path', default='/etc/containerd/config.toml'),
    containerd_hosts_dir=dict(type='str', default=''),
    docker_mirror=dict(type='bool', default=False),
    docker_config_file=dict(type='path', default='/etc/docker/daemon.json'),
    containers_registries=dict(type='list', elements='dict', default=[], options=dict(
        host=dict(type='str', required=True),
        insecure=dict(type='bool', default=False),
    )),
    containers_registries_file=dict(type='str', default='/etc/containers/registries.conf.d/99-dragonfly.conf'),
    proxy_rules=dict(type='list', elements='dict', default=[]),
    registry_mirror=dict(type='str', default='https://registry-1.docker.io'),
    variable_prefix=dict(type='str', default=''),
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = Wiring(module, Settings(module.params)).run()
    except (RuntimeWiringError, ContainerdConfigError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
