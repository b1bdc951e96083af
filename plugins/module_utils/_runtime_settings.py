# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The container runtime wiring's settings: the module's options with their defaults filled in, and the refusals
about them, made before anything is read from the host or changed. Messages name an option as the role's variable
when the role gave its prefix (variable_prefix), with the words the roles' Jinja checks used. Why each refusal:
docs/dev/module-utils.md#runtime-wiring.

Private to this collection; used by module_utils/_runtime_wiring.py.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.p2p.dragonfly.plugins.module_utils._runtime_content import DOCKER_HUB_SERVER, proxy_url


# host[:port] or [IPv6][:port], as image names spell a registry. Not `_default`: dfinit's catch-all sends no
# X-Dragonfly-Registry, and dfdaemon then takes https://<ns> as upstream, which breaks plain-HTTP registries and
# Docker Hub task IDs.
REGISTRY_HOST = re.compile(r'^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]+)?$')
REGISTRY_SERVER = re.compile(r'^https?://[^/?#\s]+$')
CAPABILITIES = ['pull', 'resolve']
DOCKER_HUB_HOSTS = ('docker.io', 'registry-1.docker.io', 'index.docker.io')


class RuntimeWiringError(Exception):
    """A refusal or a failure; the message names paths and settings, never the content of a runtime's file."""


def containerd_registry(entry):
    """One entry of containerd_registries with every default filled in."""
    host = str(entry['host'] or '').strip()
    insecure = bool(entry['insecure'])
    default_server = DOCKER_HUB_SERVER if host == 'docker.io' else ('http://' if insecure else 'https://') + host
    return dict(
        host=host,
        server=re.sub(r'/+$', '', str(entry['server'] or '').strip()) or default_server,
        insecure=insecure,
        skip_verify=bool(entry['skip_verify']),
        capabilities=list(entry['capabilities'] or CAPABILITIES),
        headers=dict(entry['headers'] or {}),
    )


def has_duplicates(hosts):
    # Case-insensitive, as registry host names are (and as the roles' Jinja `unique` compared them).
    return len(set(host.lower() for host in hosts)) != len(hosts)


class Settings(object):
    """The module's options as the wiring uses them."""

    def __init__(self, params):
        self.prefix = params['variable_prefix']
        want = params['state'] == 'present'
        self.managed_by = params['managed_by']
        self.backup_dir = params['backup_dir']
        self.mirror_url = proxy_url(params['proxy_port'], params['proxy_bind_address'])
        self.registries = [containerd_registry(entry) for entry in params['containerd_registries']]
        self.containers = [dict(host=str(entry['host'] or '').strip(), insecure=bool(entry['insecure']))
                           for entry in params['containers_registries']]
        self.containerd_config_file = params['containerd_config_file']
        self.hosts_dir_setting = re.sub(r'(.)/+$', r'\1', str(params['containerd_hosts_dir'] or '').strip())
        self.docker_config_file = params['docker_config_file']
        self.containers_file = str(params['containers_registries_file'] or '').strip()
        self.proxy_rules = params['proxy_rules']
        self.registry_mirror = params['registry_mirror']
        self.want_containerd = want and bool(self.registries)
        self.want_docker = want and params['docker_mirror']
        self.want_containers = want and bool(self.containers)

    def name(self, option):
        """How a message names an option: as the role's variable when the role gave its prefix."""
        return self.prefix + option


def check_containerd_registries(settings):
    registries = settings.registries
    bad_hosts = [registry['host'] or '(empty)' for registry in registries if not REGISTRY_HOST.match(registry['host'])]
    bad_servers = [registry['server'] for registry in registries if not REGISTRY_SERVER.match(registry['server'])]
    bad_capabilities = [str(capability) for registry in registries for capability in registry['capabilities']
                        if capability not in CAPABILITIES]
    bad_headers = [name.lower() for registry in registries for name in registry['headers']
                   if name.lower() == 'x-dragonfly-registry']
    if not (bad_hosts or bad_servers or bad_capabilities or bad_headers
            or has_duplicates([registry['host'] for registry in registries])):
        return
    raise RuntimeWiringError(
        '%s: every entry needs a distinct `host`, the registry host namespace as images name it (docker.io, '
        'registry.example.com:5000; no scheme, no path)%s; `server` is scheme://host[:port] without a path%s; '
        '`capabilities` only pull and resolve (push goes to the registry itself)%s; `headers` cannot replace '
        'X-Dragonfly-Registry, which is always `server`%s.' % (
            settings.name('containerd_registries'),
            (': wrong: ' + ', '.join(bad_hosts)) if bad_hosts else '',
            (' (wrong: %s)' % ', '.join(bad_servers)) if bad_servers else '',
            (' (wrong: %s)' % ', '.join(bad_capabilities)) if bad_capabilities else '',
            (' (%s)' % ', '.join(bad_headers)) if bad_headers else ''))


def check_proxy_rules(settings):
    """containerd adds ?ns=<registry host> to every mirror request: a rule's filteredQueryParams without ns puts it in
    the task IDs, and every pull misses what a preheat cached."""
    rules = [rule for rule in settings.proxy_rules
             if 'filteredQueryParams' in rule and 'ns' not in (rule['filteredQueryParams'] or [])]
    if rules:
        raise RuntimeWiringError(
            "%s: the rules %s set filteredQueryParams without `ns`. containerd adds ?ns=<registry> to every request to "
            "a mirror, so the pulls' task IDs would contain it and never match a preheat. Add `ns` to "
            "filteredQueryParams, or drop the key to keep the client's default list (which has it)."
            % (settings.name('proxy_rules'), ', '.join(str(rule.get('regex')) for rule in rules)))


def check_containers_registries(settings):
    """CRI-O and Podman send the proxy no registry name: it fetches whatever they ask from registry_mirror, so only
    that registry can go through it."""
    hosts = [registry['host'] for registry in settings.containers]
    bad_hosts = [host or '(empty)' for host in hosts if not REGISTRY_HOST.match(host)]
    mirror_host = re.sub(r'/.*$', '', re.sub(r'^[A-Za-z]+://', '', settings.registry_mirror)).lower()
    hub = mirror_host in DOCKER_HUB_HOSTS
    wrong_registry = [host for host in hosts if host not in [mirror_host] + (['docker.io'] if hub else [])]
    problems = []
    if bad_hosts or has_duplicates(hosts):
        problems.append('every entry needs a distinct `host`, the registry as images name it (docker.io, '
                        'registry.example.com:5000; no scheme, no path)%s.'
                        % ((': wrong: ' + ', '.join(bad_hosts)) if bad_hosts else ''))
    if wrong_registry:
        problems.append(
            'CRI-O and Podman send the proxy no registry name, so it forwards their requests to %s (%s), and %s would '
            'be fetched from there. List only %s%s, or set the registry mirror to the registry these hosts pull from; '
            'other registries are pulled directly (or through containerd, whose hosts.toml names its registry).'
            % (settings.name('registry_mirror'), settings.registry_mirror, ', '.join(wrong_registry), mirror_host,
               ' (docker.io)' if hub else ''))
    if not re.match(r'^/.+\.conf$', settings.containers_file):
        problems.append('%s must be an absolute path ending in .conf (containers/image reads only *.conf drop-ins).'
                        % settings.name('containers_registries_file'))
    if problems:
        raise RuntimeWiringError('%s: %s Nothing was changed.' % (settings.name('containers_registries'), ' '.join(problems)))
