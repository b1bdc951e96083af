# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Option credentials of the modules that read image manifests (preheat, evict): one list of per-registry and
per-URL-prefix credentials that a playbook passes to every call, its checks, and which entry one call uses (images by
registry, files by the longest url_prefix; evict uses registry entries only). Why files get theirs as a header and no
CA: docs/dev/module-utils.md#credentials."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections import namedtuple
from urllib.parse import urlsplit

from ansible_collections.p2p.dragonfly.plugins.module_utils._http import origin
from ansible_collections.p2p.dragonfly.plugins.module_utils._image_reference import (
    DOCKER_HUB_DOMAIN,
    is_docker_hub_host,
    parse_image_reference,
    parse_manifest_url,
    validate_registry_host,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat import PreheatError
from ansible_collections.p2p.dragonfly.plugins.module_utils._registry import Registry, basic_authorization


# What one preheat uses: the registry credentials and CA (images), the Authorization header for the seed peers
# (files), the entry used (its registry or url_prefix, never a secret; None when no entry was used) and, for images,
# the name of the registry as an entry would spell it and the entry the username came from (for messages).
Choice = namedtuple('Choice', 'username password ca_path authorization used registry login_entry')


def credentials_argspec():
    """The option credentials (doc fragment p2p.dragonfly.credentials), part of ``_preheat_options.content_argspec``."""
    return dict(credentials=dict(type='list', elements='dict', options=dict(
        registry=dict(type='str'),
        url_prefix=dict(type='str'),
        username=dict(type='str'),
        password=dict(type='str', no_log=True),
        ca_path=dict(type='path'),
    )))


def _registry_key(registry):
    # Docker Hub's names are one registry.
    return DOCKER_HUB_DOMAIN if is_docker_hub_host(registry) else registry.lower()


def _prefix_key(url_prefix):
    return origin(url_prefix) + (urlsplit(url_prefix).path.rstrip('/'),)


def check_credentials(entries):
    """Raise PreheatError, naming the entry and its field, unless every entry of option credentials makes sense."""
    seen = {}
    for index, entry in enumerate(entries or []):
        where = f'credentials[{index}]'
        given = [field for field in ('registry', 'url_prefix') if entry.get(field)]
        if len(given) != 1:
            found = 'both' if given else 'neither'
            raise PreheatError(f'{where}: set exactly one of registry (an image registry host[:port], for example '
                               'registry.example.com:5000 or docker.io) and url_prefix (a URL prefix of files, for '
                               f'example https://files.example.com/models/); found {found}')
        if entry.get('password') and not entry.get('username'):
            raise PreheatError(f'{where}: password needs username (basic credentials)')
        if entry.get('registry'):
            try:
                validate_registry_host(entry['registry'])
            except ValueError as exc:
                raise PreheatError(f'{where}.registry: {exc}')
            key = ('registry', _registry_key(entry['registry']))
        else:
            _check_url_prefix(where, entry['url_prefix'])
            if entry.get('ca_path'):
                raise PreheatError(
                    f"{where}.ca_path: a CA does not apply to files (url_prefix {entry['url_prefix']}): the seed peers do "
                    'not verify the certificates of file origins (the Dragonfly client downloads back-to-source with a '
                    'TLS verifier that accepts any certificate) and the module does not read the files; remove ca_path')
            key = ('url_prefix', _prefix_key(entry['url_prefix']))
        if key in seen:
            raise PreheatError(f'{where}.{key[0]}: {entry[key[0]]!r} names the same {key[0].replace("_", " ")} as '
                               f'credentials[{seen[key]}]: give each one once')
        seen[key] = index


def _check_url_prefix(where, url_prefix):
    parts = urlsplit(url_prefix)
    if '@' in parts.netloc:
        # Not echoed: it holds credentials.
        raise PreheatError(f'{where}.url_prefix must not contain credentials (user:password@): set username and password')
    try:
        parts.port
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ('http', 'https') or not parts.hostname or parts.query or parts.fragment:
        raise PreheatError(f'{where}.url_prefix: {url_prefix!r} must be an http:// or https:// URL without query, for '
                           'example https://files.example.com/models/')


def _prefix_length(url_prefix, url):
    """How long a match ``url_prefix`` is for ``url`` (its path's length), or -1. Scheme, host and port must be equal;
    the path matches whole segments: /models matches /models and /models/a, not /models-old."""
    if origin(url_prefix) != origin(url):
        return -1
    prefix, path = urlsplit(url_prefix).path or '/', urlsplit(url).path or '/'
    if prefix.endswith('/'):
        return len(prefix) if path.startswith(prefix) else -1
    return len(prefix) if path == prefix or path.startswith(prefix + '/') else -1


def _entry_for_url(entries, url):
    best, best_length = None, -1
    for index, entry in enumerate(entries):
        if entry.get('url_prefix'):
            length = _prefix_length(entry['url_prefix'], url)
            if length > best_length:
                best, best_length = index, length
    return best


def _entry_for_registry(entries, host, docker_hub):
    """The entry whose registry is ``host``; for a Docker Hub image (``docker_hub``) else one naming Docker Hub."""
    for entry in entries:
        if entry.get('registry') and entry['registry'].lower() == host.lower():
            return entry
    if docker_hub:
        for entry in entries:
            if entry.get('registry') and is_docker_hub_host(entry['registry']):
                return entry
    return None


def choose(module, kind, target=None, urls=None, headers=None):
    """What the preheat of ``kind`` uses: for images (manifest URL ``target``, checked) the entry of its registry under
    the explicit registry_* options, which win; for files (``urls``) the
    entry all URLs match by their longest url_prefix, as the header ``Authorization`` unless ``headers`` give one.
    Returns a ``Choice``; every secret it holds is in ``module.no_log_values``."""
    params = module.params
    entries = params.get('credentials') or []
    if kind == 'image':
        host = parse_manifest_url(target).host
        # An image that normalises to Docker Hub is Docker Hub's whatever docker_hub_host says; a URL by its host.
        docker_hub = is_docker_hub_host(host) or bool(params.get('image') and parse_image_reference(
            params['image'], params['docker_hub_host']).domain == DOCKER_HUB_DOMAIN)
        entry = _entry_for_registry(entries, host, docker_hub) or {}
        name = DOCKER_HUB_DOMAIN if docker_hub and not entry else (entry.get('registry') or host)
        used, login_entry = False, None
        username, password = params['registry_username'], params['registry_password']
        if not (username or password) and entry.get('username'):
            username, password, used, login_entry = entry['username'], entry.get('password'), True, entry['registry']
        ca_path = params['registry_ca_path']
        if not ca_path and entry.get('ca_path'):
            ca_path, used = entry['ca_path'], True
        return Choice(username, password, ca_path, None, entry['registry'] if used else None, name, login_entry)

    chosen = {}
    for url in urls:
        chosen.setdefault(_entry_for_url(entries, url), []).append(url)
    if len(chosen) > 1:
        described = '; '.join(
            f"{entries[index]['url_prefix'] if index is not None else 'no entry'}: {', '.join(matched)}"
            for index, matched in chosen.items())
        raise PreheatError('credentials: the urls of this preheat match different credentials entries (by url_prefix) '
                           f'or none ({described}). One preheat job carries one set of headers for all its URLs: preheat '
                           'them in separate calls, one per entry')
    index = next(iter(chosen)) if chosen else None
    entry = entries[index] if index is not None else {}
    given = any(name.lower() == 'authorization' for name in headers or {})
    if not entry.get('username') or given:
        # Nothing to send, or option headers' Authorization wins.
        return Choice(None, None, None, None, None, None, None)
    authorization = basic_authorization(entry['username'], entry.get('password'))
    module.no_log_values.add(authorization)
    return Choice(None, None, None, authorization, entry['url_prefix'], None, None)


def registry_reader(module, choice, headers):
    """The client that reads the manifests of an image with what ``choose`` chose for it (``choice``), sending
    ``headers``; its messages name the registry and the credentials entry as the user gave them."""
    return Registry(module, choice.username, choice.password, headers, timeout=module.params['timeout'],
                    ca_path=choice.ca_path, name=choice.registry, login_entry=choice.login_entry)
