# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the container runtime wiring writes: containerd's hosts.toml per registry, the registries.conf drop-in of
CRI-O and Podman, and Docker Engine's daemon.json with the proxy as first registry mirror (or without it again).
Pure functions of their input; what upstream's dfinit writes and where they differ: docs/dev/module-utils.md#runtime-wiring.

Every string goes into TOML through json.dumps: a JSON string is a valid TOML basic string (same quotes, same
escapes; json.dumps never writes the one JSON escape TOML lacks, ``\\/``), and ASCII-only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re


MANAGED_NOTE = "# Local changes are overwritten; with runtime_state absent the original file (or none) is restored.\n"

# Docker Hub's registry API host: where the proxy fetches Docker Hub images (dragonfly_<role>_registry_mirror's
# default), and the `server` of a docker.io hosts.toml, as dfinit writes it.
DOCKER_HUB_SERVER = 'https://registry-1.docker.io'


def toml_string(value):
    return json.dumps(value)


def proxy_url(port, bind_address):
    """The proxy's URL as the host's runtime reaches it: loopback when the proxy listens on every address."""
    bind = str(bind_address or '').strip()
    if bind in ('', '0.0.0.0'):
        host = '127.0.0.1'
    elif bind == '::':
        host = '[::1]'
    elif ':' in bind:
        host = '[%s]' % bind
    else:
        host = bind
    return 'http://%s:%s' % (host, port)


def hosts_toml(registry, mirror_url, managed_by):
    """containerd's hosts.toml for one registry host namespace, as dfinit writes it but for skip_verify, which goes
    to the top level (the direct fallback). registry: {host, server, capabilities, skip_verify, headers}, with the
    defaults filled in (_runtime_settings.containerd_registry)."""
    mirror = toml_string(mirror_url)
    lines = [
        '# Managed by Ansible (%s): pulls from %s go through the local Dragonfly proxy.\n' % (managed_by, registry['host']),
        MANAGED_NOTE,
        'server = %s\n' % toml_string(registry['server']),
    ]
    if registry['skip_verify']:
        lines.append('skip_verify = true\n')
    lines += [
        '\n',
        '[host.%s]\n' % mirror,
        'capabilities = %s\n' % json.dumps(registry['capabilities']),
        '\n',
        '[host.%s.header]\n' % mirror,
        'X-Dragonfly-Registry = %s\n' % toml_string(registry['server']),
    ]
    # Sorted as Jinja's dictsort did when this was a template: by name, case-insensitively.
    for name, value in sorted(registry['headers'].items(), key=lambda item: item[0].lower()):
        # str() spells numbers and booleans as Jinja's `string` filter did (3, True).
        lines.append('%s = %s\n' % (toml_string(name), toml_string(str(value))))
    return ''.join(lines)


def containers_drop_in(registries, mirror_url, managed_by):
    """A containers-registries.conf(5) drop-in for CRI-O and Podman with the proxy as the plain-HTTP mirror of each
    registry, as dfinit writes registries.conf for CRI-O, as a drop-in. registries: [{host, insecure}]."""
    mirror_location = toml_string(re.sub(r'^[a-z]+://', '', mirror_url))
    lines = [
        '# Managed by Ansible (%s): pulls from these registries go through the local Dragonfly proxy.\n' % managed_by,
        MANAGED_NOTE,
    ]
    for registry in registries:
        host = toml_string(registry['host'])
        lines += ['\n', '[[registry]]\n', 'prefix = %s\n' % host, 'location = %s\n' % host]
        if registry['insecure']:
            lines.append('insecure = true\n')
        lines += ['\n', '[[registry.mirror]]\n', 'location = %s\n' % mirror_location, 'insecure = true\n']
    return ''.join(lines)


def is_proxy_mirror(mirror, mirror_url):
    # Docker normalises mirrors with a trailing slash: both spellings are the proxy.
    return mirror in (mirror_url, mirror_url + '/')


def daemon_json(current, mirror_url, add):
    """Docker Engine's daemon.json with the proxy first among the registry mirrors (add), or without it (not add).

    current: the parsed daemon.json ({} when missing or empty); every other key and mirror is kept in its order.
    Without the proxy "registry-mirrors" stays, maybe empty: dockerd's reload applies the key only while it is there.
    """
    others = [mirror for mirror in current.get('registry-mirrors') or [] if not is_proxy_mirror(mirror, mirror_url)]
    wanted = dict(current)
    wanted['registry-mirrors'] = [mirror_url] + others if add else others
    return json.dumps(wanted, indent=2, separators=(',', ': ')) + '\n'
