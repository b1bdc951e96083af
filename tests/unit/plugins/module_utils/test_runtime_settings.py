# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The wiring's settings and their checks: defaults as the roles documented them, and refusals that name the role's
variables with the words the roles' Jinja checks used."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils._runtime_content import proxy_url
from ansible_collections.p2p.dragonfly.plugins.module_utils._runtime_settings import (
    RuntimeWiringError,
    Settings,
    check_containerd_registries,
    check_containers_registries,
    check_proxy_rules,
)


def registry(host, **extra):
    entry = dict(host=host, server=None, insecure=False, skip_verify=False, capabilities=['pull', 'resolve'], headers={})
    entry.update(extra)
    return entry


def settings(**extra):
    params = dict(
        state='present', managed_by='p2p.dragonfly.peer, instance peer', backup_dir='/opt/dragonfly/runtime-backup/x',
        proxy_port=4001, proxy_bind_address='127.0.0.1', containerd_registries=[], containerd_config_file='/c.toml',
        containerd_hosts_dir='', docker_mirror=False, docker_config_file='/d.json', containers_registries=[],
        containers_registries_file='/etc/containers/registries.conf.d/99-dragonfly-peer.conf', proxy_rules=[],
        registry_mirror='https://registry-1.docker.io', variable_prefix='dragonfly_peer_')
    params.update(extra)
    return Settings(params)


def test_registry_defaults():
    found = settings(containerd_registries=[
        registry('docker.io'), registry('10.0.0.20:5000', insecure=True), registry('r.example', server=' https://r.example:8443// '),
        registry('q.example', capabilities=[], headers=None)]).registries
    assert [entry['server'] for entry in found] == [
        'https://registry-1.docker.io', 'http://10.0.0.20:5000', 'https://r.example:8443', 'https://q.example']
    assert found[3]['capabilities'] == ['pull', 'resolve'] and found[3]['headers'] == {}


def test_what_is_wanted():
    wanted = settings(containerd_registries=[registry('docker.io')], docker_mirror=True)
    assert wanted.want_containerd and wanted.want_docker and not wanted.want_containers
    unwanted = settings(state='absent', containerd_registries=[registry('docker.io')], docker_mirror=True,
                        containers_registries=[dict(host='docker.io', insecure=False)])
    assert not (unwanted.want_containerd or unwanted.want_docker or unwanted.want_containers)
    assert settings(containerd_hosts_dir=' /etc/containerd/certs.d// ').hosts_dir_setting == '/etc/containerd/certs.d'


@pytest.mark.parametrize('bind, url', [('127.0.0.1', 'http://127.0.0.1:4001'), ('', 'http://127.0.0.1:4001'),
                                       ('0.0.0.0', 'http://127.0.0.1:4001'), ('::', 'http://[::1]:4001'),
                                       ('fd00::1', 'http://[fd00::1]:4001'), ('10.0.0.5', 'http://10.0.0.5:4001')])
def test_proxy_url(bind, url):
    assert proxy_url(4001, bind) == url


def test_containerd_registries_refusal_names_every_fault():
    with pytest.raises(RuntimeWiringError) as refused:
        check_containerd_registries(settings(containerd_registries=[
            registry(''), registry('docker.io', server='docker.io'), registry('r.example', capabilities=['push']),
            registry('q.example', headers={'X-Dragonfly-Registry': 'x'})]))
    assert str(refused.value) == (
        'dragonfly_peer_containerd_registries: every entry needs a distinct `host`, the registry host namespace as images '
        'name it (docker.io, registry.example.com:5000; no scheme, no path): wrong: (empty); `server` is '
        'scheme://host[:port] without a path (wrong: https://, docker.io); `capabilities` only pull and resolve (push goes to the '
        'registry itself) (wrong: push); `headers` cannot replace X-Dragonfly-Registry, which is always `server` '
        '(x-dragonfly-registry).')


def test_containerd_registries_twice():
    with pytest.raises(RuntimeWiringError, match=r'distinct `host`.*no path\); `server`'):
        check_containerd_registries(settings(containerd_registries=[registry('Docker.io'), registry('docker.io')]))
    check_containerd_registries(settings(containerd_registries=[registry('docker.io'), registry('[fd00::20]:5000')]))


def test_proxy_rules_must_keep_ns():
    check_proxy_rules(settings(proxy_rules=[dict(regex='a'), dict(regex='b', filteredQueryParams=['ns', 'X'])]))
    with pytest.raises(RuntimeWiringError) as refused:
        check_proxy_rules(settings(proxy_rules=[dict(regex='blobs/sha256.*', filteredQueryParams=[]), dict(regex='c')]))
    assert str(refused.value).startswith(
        'dragonfly_peer_proxy_rules: the rules blobs/sha256.* set filteredQueryParams without `ns`. containerd adds ')


def test_containers_registries_only_the_mirrors_registry():
    check_containers_registries(settings(containers_registries=[dict(host='docker.io', insecure=False)]))
    with pytest.raises(RuntimeWiringError) as refused:
        check_containers_registries(settings(containers_registries=[dict(host='quay.io', insecure=False)],
                                             containers_registries_file='/etc/x.toml'))
    assert str(refused.value) == (
        'dragonfly_peer_containers_registries: CRI-O and Podman send the proxy no registry name, so it forwards their '
        'requests to dragonfly_peer_registry_mirror (https://registry-1.docker.io), and quay.io would be fetched from '
        'there. List only registry-1.docker.io (docker.io), or set the registry mirror to the registry these hosts pull '
        'from; other registries are pulled directly (or through containerd, whose hosts.toml names its registry). '
        'dragonfly_peer_containers_registries_file must be an absolute path ending in .conf (containers/image reads only '
        '*.conf drop-ins). Nothing was changed.')


def test_containers_registries_of_an_internal_mirror():
    check_containers_registries(settings(containers_registries=[dict(host='mirror.example:5000', insecure=True)],
                                         registry_mirror='http://Mirror.example:5000/v2'))
