# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the container runtime wiring writes (module_utils/_runtime_content.py, once the common role's templates
containerd-hosts.toml.j2, docker-daemon.json.j2 and containers-registries.conf.j2) is what containerd and dockerd expect.

The hosts.toml must be what upstream's dfinit writes (dragonfly-client-init src/container_runtime/containerd.rs,
identical in client v1.4.0 to v1.5.1; its unit test test_containerd_config_with_v2_config_path holds the expected
text), parse as TOML, and carry the header X-Dragonfly-Registry with exactly the `server` URL. daemon.json must keep
every other key and mirror.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest
import tomllib

from ansible_collections.p2p.dragonfly.plugins.module_utils import _runtime_content


MIRROR = 'http://127.0.0.1:65001'
RUNTIME = {'mirror_url': MIRROR, 'owner': 'p2p.dragonfly.peer, instance peer'}

# dfinit's expected hosts.toml for server https://registry.example.com and proxy http://127.0.0.1:65001,
# without its skip_verify/ca lines (test_containerd_config_with_v2_config_path, client v1.5.1).
DFINIT_HOSTS_TOML = '''server = "https://registry.example.com"

[host."http://127.0.0.1:65001"]
capabilities = ["pull", "resolve"]

[host."http://127.0.0.1:65001".header]
X-Dragonfly-Registry = "https://registry.example.com"
'''


def render(name, **variables):
    """The file the wiring writes, by the name of the template it once was."""
    runtime = variables.get('_dragonfly_runtime', RUNTIME)
    if name == 'containerd-hosts.toml.j2':
        return _runtime_content.hosts_toml(variables['_dragonfly_registry'], runtime['mirror_url'], runtime['owner'])
    if name == 'containers-registries.conf.j2':
        return _runtime_content.containers_drop_in(runtime['containers'], runtime['mirror_url'], runtime['owner'])
    return _runtime_content.daemon_json(variables['_dragonfly_docker_current'], runtime['mirror_url'],
                                        add=variables['_dragonfly_docker_mode'] == 'add')


def registry(host='registry.example.com', server='https://registry.example.com', **extra):
    entry = {'host': host, 'server': server, 'insecure': False, 'skip_verify': False,
             'capabilities': ['pull', 'resolve'], 'headers': {}}
    entry.update(extra)
    return entry


def hosts_toml(**extra):
    return render('containerd-hosts.toml.j2', _dragonfly_registry=registry(**extra), _dragonfly_runtime=RUNTIME)


def without_comments(text):
    return ''.join(line for line in text.splitlines(True) if not line.startswith('#'))


def test_hosts_toml_is_what_dfinit_writes():
    assert without_comments(hosts_toml()) == DFINIT_HOSTS_TOML


def test_hosts_toml_says_who_manages_it():
    text = hosts_toml()
    assert text.startswith('# Managed by Ansible (p2p.dragonfly.peer, instance peer)')


@pytest.mark.parametrize('server', [
    'https://registry-1.docker.io',
    'http://10.0.0.20:5000',
    'http://[fd00::20]:5000',
    'https://registry.example.com:8443',
])
def test_hosts_toml_mirror_sends_the_server_as_registry_header(server):
    parsed = tomllib.loads(hosts_toml(server=server))
    assert parsed['server'] == server
    assert list(parsed['host']) == [MIRROR]
    mirror = parsed['host'][MIRROR]
    assert mirror['capabilities'] == ['pull', 'resolve']
    assert mirror['header'] == {'X-Dragonfly-Registry': server}
    assert 'skip_verify' not in parsed and 'skip_verify' not in mirror


def test_hosts_toml_skip_verify_applies_to_the_server():
    parsed = tomllib.loads(hosts_toml(skip_verify=True))
    # Top level: containerd applies it to `server`, its direct fallback (remotes/docker/config/hosts.go
    # parseHostsFile: the root HostFileConfig goes with c.Server). The proxy is plain HTTP.
    assert parsed['skip_verify'] is True
    assert 'skip_verify' not in parsed['host'][MIRROR]


def test_hosts_toml_capabilities_as_given():
    parsed = tomllib.loads(hosts_toml(capabilities=['pull']))
    assert parsed['host'][MIRROR]['capabilities'] == ['pull']


def test_hosts_toml_extra_headers_are_quoted():
    headers = {'X-Dragonfly-Tag': 'team "a"', 'X-Dragonfly-Application': 'ci\\build', 'X-Number': 3}
    parsed = tomllib.loads(hosts_toml(headers=headers))
    assert parsed['host'][MIRROR]['header'] == {
        'X-Dragonfly-Registry': 'https://registry.example.com',
        'X-Dragonfly-Tag': 'team "a"',
        'X-Dragonfly-Application': 'ci\\build',
        'X-Number': '3',
    }


def test_hosts_toml_other_proxy_address():
    text = render('containerd-hosts.toml.j2', _dragonfly_registry=registry(),
                  _dragonfly_runtime=dict(RUNTIME, mirror_url='http://[::1]:4001'))
    assert list(tomllib.loads(text)['host']) == ['http://[::1]:4001']


def daemon_json(current, mode='add', mirror=MIRROR):
    text = render('docker-daemon.json.j2', _dragonfly_docker_current=current, _dragonfly_docker_mode=mode,
                  _dragonfly_runtime=dict(RUNTIME, mirror_url=mirror))
    return text, json.loads(text)


def test_daemon_json_new():
    text, parsed = daemon_json({})
    assert parsed == {'registry-mirrors': [MIRROR]}
    assert text.startswith('{\n  "registry-mirrors"')


def test_daemon_json_keeps_other_keys_in_their_order():
    current = {'log-driver': 'json-file', 'live-restore': True, 'max-concurrent-downloads': 6,
               'default-address-pools': [{'base': '172.80.0.0/16', 'size': 24}]}
    parsed = daemon_json(current)[1]
    assert list(parsed) == list(current) + ['registry-mirrors']
    assert {k: v for k, v in parsed.items() if k != 'registry-mirrors'} == current


def test_daemon_json_proxy_first_other_mirrors_kept():
    parsed = daemon_json({'registry-mirrors': ['https://mirror.example', MIRROR + '/']})[1]
    assert parsed['registry-mirrors'] == [MIRROR, 'https://mirror.example']


def test_daemon_json_idempotent():
    text, parsed = daemon_json({'registry-mirrors': ['https://mirror.example']})
    again = daemon_json(parsed)[0]
    assert again == text


def test_daemon_json_remove_keeps_the_key_for_reload():
    # dockerd reloads registry-mirrors on SIGHUP only when the key is present (moby daemon/reload.go).
    parsed = daemon_json({'debug': True, 'registry-mirrors': [MIRROR + '/', 'https://mirror.example']}, mode='remove')[1]
    assert parsed == {'debug': True, 'registry-mirrors': ['https://mirror.example']}
    parsed = daemon_json({'registry-mirrors': [MIRROR]}, mode='remove')[1]
    assert parsed == {'registry-mirrors': []}


# dfinit's registries.conf for CRI-O with prefix/location registry.example.com and proxy http://127.0.0.1:65001
# (dragonfly-client-init src/container_runtime/crio.rs, test_crio_config, client v1.4.0), without its
# unqualified-search-registries: the role writes a drop-in and leaves that list to registries.conf.
DFINIT_CRIO_REGISTRY = [{'prefix': 'registry.example.com', 'location': 'registry.example.com',
                         'mirror': [{'insecure': True, 'location': '127.0.0.1:65001'}]}]


def test_containers_drop_in_is_what_dfinit_writes_for_crio():
    text = render('containers-registries.conf.j2',
                  _dragonfly_runtime=dict(RUNTIME, containers=[{'host': 'registry.example.com', 'insecure': False}]))
    assert tomllib.loads(text)['registry'] == DFINIT_CRIO_REGISTRY
    assert 'unqualified-search-registries' not in text
    assert text.startswith('# Managed by Ansible (p2p.dragonfly.peer, instance peer)')


def test_containers_drop_in_marks_insecure_registries_for_the_fallback():
    text = render('containers-registries.conf.j2', _dragonfly_runtime=dict(RUNTIME, containers=[
        {'host': '10.0.0.20:5000', 'insecure': True}, {'host': 'docker.io', 'insecure': False}]))
    registries = tomllib.loads(text)['registry']
    assert [(r['prefix'], r.get('insecure', False)) for r in registries] == [('10.0.0.20:5000', True), ('docker.io', False)]
    assert all(r['mirror'] == [{'location': '127.0.0.1:65001', 'insecure': True}] for r in registries)
