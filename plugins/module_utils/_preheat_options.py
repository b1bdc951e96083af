# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The options of the preheat modules: the preheat module's argument spec with the rules Ansible checks
(``preheat_argspec_ex``), and the checks Ansible cannot state (options of one preheat type, the manager's limits, URLs
and addresses), each naming its fix. Why each rule is a check of its own: docs/dev/module-utils.md#preheat-options."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ipaddress
import os
from collections import namedtuple
from urllib.parse import urlsplit

from ansible_collections.p2p.dragonfly.plugins.module_utils._api import manager_argspec_ex
from ansible_collections.p2p.dragonfly.plugins.module_utils._cache import LAYOUT_LEGACY_GO, LAYOUT_RUST
from ansible_collections.p2p.dragonfly.plugins.module_utils._credentials import check_credentials, credentials_argspec
from ansible_collections.p2p.dragonfly.plugins.module_utils._hashing import normalize_sha256
from ansible_collections.p2p.dragonfly.plugins.module_utils._image_reference import (
    DOCKER_HUB_REGISTRY_HOST,
    format_platform,
    manifest_url,
    parse_image_reference,
    parse_manifest_url,
    parse_platform,
    validate_registry_host,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._placement import SCOPE_SINGLE_SEED_PEER, SCOPES
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat import PreheatError
from ansible_collections.p2p.dragonfly.plugins.module_utils._task_id import normalize_url, parse_client_version


MIB = 1024 * 1024

# manager/types/job.go PreheatArgs / GetTaskArgs binding rules.
PIECE_LENGTH_RANGE = (4 * MIB, 64 * MIB)
COUNT_RANGE = (1, 200)
PERCENTAGE_RANGE = (1, 100)
IPS_MAX = 100
CONCURRENT_TASK_COUNT_RANGE = (1, 100)
CONCURRENT_PEER_COUNT_RANGE = (1, 1000)

# What check_options found: the preheat type, for images the manifest URL and platform, and {url: sha256 hex} of the
# files to verify in cache_dir.
PreheatInput = namedtuple('PreheatInput', 'kind target platform checksums')


def content_argspec():
    """The options that name the content of a preheat (or of an eviction): an image, its manifest URL or file URLs, how
    to read the registry (option credentials among them), and what else goes into the task IDs."""
    return dict(
        type=dict(type='str', choices=['image', 'file']),
        image=dict(type='str'),
        url=dict(type='str'),
        urls=dict(type='list', elements='str'),
        scheme=dict(type='str', choices=['https', 'http']),
        insecure_registry=dict(type='bool', default=False),
        # Doc fragment p2p.dragonfly.image.
        docker_hub_host=dict(type='str', default=DOCKER_HUB_REGISTRY_HOST),
        platform=dict(type='str', default='linux/amd64'),
        registry_username=dict(type='str'),
        registry_password=dict(type='str', no_log=True),
        registry_ca_path=dict(type='path'),
        headers=dict(type='dict', no_log=True),
        scheduler_cluster_ids=dict(type='list', elements='int', default=[1]),
        tag=dict(type='str', default=''),
        application=dict(type='str', default=''),
        filtered_query_params=dict(type='list', elements='str', default=[]),
        piece_length=dict(type='int'),
        client_version=dict(type='str'),
        # Doc fragment p2p.dragonfly.credentials.
        **credentials_argspec()
    )


def preheat_argspec_ex():
    """The preheat module's options and the rules Ansible checks, as ``_api.manager_argspec_ex`` gives them."""
    argspec_ex = manager_argspec_ex()
    argspec_ex['argspec'].update(content_argspec())
    argspec_ex['argspec'].update(
        scope=dict(type='str', default=SCOPE_SINGLE_SEED_PEER, choices=list(SCOPES)),
        ips=dict(type='list', elements='str'),
        count=dict(type='int'),
        percentage=dict(type='int'),
        concurrent_task_count=dict(type='int'),
        concurrent_peer_count=dict(type='int'),
        preheat_timeout=dict(type='int'),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=1800),
        poll_interval=dict(type='int', default=5),
        force=dict(type='bool', default=False),
        cache_dir=dict(type='path'),
        layout=dict(type='str', default=LAYOUT_RUST, choices=[LAYOUT_RUST, LAYOUT_LEGACY_GO]),
        seed_ip=dict(type='str'),
        checksums=dict(type='dict'),
    )
    # The manifest URL built from image takes scheme; url carries its own, and files have none.
    argspec_ex['required_by']['scheme'] = ('image',)
    return argspec_ex


def check_content(module):
    """The checks of the content options (``content_argspec``); returns ``(kind, manifest URL, platform)``, the last two
    ``None`` for files."""
    params = module.params
    kind = params['type'] or ('file' if params['urls'] else 'image')
    check_docker_hub_host(params['docker_hub_host'])
    if kind == 'image':
        target, platform = _check_image(module)
    else:
        _check_files(params)
        target, platform = None, None
    check_client_version(params['client_version'])
    check_piece_length(params['piece_length'])
    check_cluster_ids(params['scheduler_cluster_ids'])
    check_credentials(params['credentials'])
    return kind, target, platform


def check_options(module):
    """Every check of the preheat module's options the argument spec does not make; returns a ``PreheatInput``."""
    params = module.params
    kind, target, platform = check_content(module)
    check_selection(params['scope'], params['ips'], params['count'], params['percentage'])
    check_range('concurrent_task_count', params['concurrent_task_count'], CONCURRENT_TASK_COUNT_RANGE)
    check_range('concurrent_peer_count', params['concurrent_peer_count'], CONCURRENT_PEER_COUNT_RANGE)
    check_seconds(params, ('wait_timeout', 'poll_interval', 'preheat_timeout'))
    return PreheatInput(kind, target, platform, _check_local(module, kind))


def _check_image(module):
    """The manifest URL and the platform of a preheat of type image."""
    params = module.params
    if params['urls']:
        raise PreheatError('urls is for type=file; an image takes image (a reference) or url (its manifest URL)')
    if not params['image'] and not params['url']:
        raise PreheatError('type=image needs option image (for example registry.example.com/team/app:1.0) or option url '
                           '(the manifest URL)')
    if params['image']:
        if params['insecure_registry'] and params['scheme'] == 'https':
            raise PreheatError('insecure_registry=true means scheme http: do not also set scheme=https')
        scheme = 'http' if params['insecure_registry'] else (params['scheme'] or 'https')
        try:
            reference = parse_image_reference(params['image'], params['docker_hub_host'])
        except ValueError as exc:
            raise PreheatError(f'image: {exc}')
        if reference.tag_implicit:
            module.warn(f"image {params['image']!r} names no tag: preheating tag 'latest'")
        target = manifest_url(reference, scheme=scheme)
    else:
        if params['insecure_registry']:
            raise PreheatError('insecure_registry only applies to option image; option url carries its own scheme')
        target = check_http_url('url', params['url'])
        try:
            parse_manifest_url(target)
        except ValueError:
            raise PreheatError(f'url: {target!r} is not a manifest URL: it must look like '
                               'https://registry.example.com/v2/<name>/manifests/<tag or digest> (or use option image)')
    check_registry_host('image' if params['image'] else 'url', parse_manifest_url(target).host)
    try:
        platform = format_platform(parse_platform(params['platform']))
    except ValueError as exc:
        raise PreheatError(f'platform: {exc}; use os/arch[/variant], for example linux/amd64 or linux/arm64/v8')
    return target, platform


def check_docker_hub_host(value):
    """Raise unless option docker_hub_host is a bare ``host[:port]``; returns it."""
    try:
        return validate_registry_host(value)
    except ValueError as exc:
        raise PreheatError(f'docker_hub_host: {exc}. It is the host Docker Hub blob URLs use: registry-1.docker.io (this '
                           "collection's peers), index.docker.io (upstream's helm chart and dfinit) or docker.io "
                           '(dfdaemon without an X-Dragonfly-Registry header)')


def _check_files(params):
    if params['image'] or params['url']:
        raise PreheatError('type=file takes option urls (a list of http(s) URLs), not image or url')
    if not params['urls']:
        raise PreheatError('type=file needs option urls, a list of http(s) URLs')
    for url in params['urls']:
        check_http_url('urls', url)
    for option in ('registry_username', 'registry_password'):
        if params[option]:
            raise PreheatError(f'{option} only applies to type=image; for files pass credentials in option headers')


def _check_local(module, kind):
    """Check cache_dir, layout, seed_ip and checksums; returns ``{url: sha256 hex}`` of the files."""
    params = module.params
    if params['layout'] == LAYOUT_LEGACY_GO:
        raise PreheatError('layout=legacy_go is not supported by preheat: the Go dfdaemon (dragonfly 2.3 and earlier) cannot '
                           'be preheated by current schedulers, which only reach Rust clients (dfdaemon v2 gRPC). Use '
                           'layout rust, or check an old cache with p2p.dragonfly.cache_assert (layout legacy_go)')
    cache_dir = params['cache_dir']
    if not cache_dir:
        for option in ('seed_ip', 'checksums'):
            if params[option]:
                raise PreheatError(f"{option} only applies with cache_dir (the seed peer's cache directory on this host)")
        return {}
    if params['seed_ip']:
        try:
            ipaddress.ip_address(params['seed_ip'])
        except ValueError:
            raise PreheatError(f"seed_ip: {params['seed_ip']!r} is not an IP address: give the IP the seed peer advertises "
                               '(host.ip of its dfdaemon)')
    checksums = {}
    if params['checksums']:
        if kind != 'file':
            raise PreheatError('checksums only applies to type=file: the blobs of an image are verified against their digests')
        for url, value in params['checksums'].items():
            if url not in params['urls']:
                raise PreheatError(f'checksums: {url!r} is not one of urls (give the URLs exactly as in urls)')
            try:
                checksums[url] = normalize_sha256(str(value), f'checksums[{url!r}]')
            except ValueError as exc:
                raise PreheatError(str(exc))
    if not os.path.isdir(cache_dir):
        raise PreheatError(f'cache_dir {cache_dir} does not exist or is not a directory on this host: give the host directory '
                           "mounted at the seed peer's storage.dir, and run the module on the seed peer's host (delegate_to)")
    if not os.path.isdir(os.path.join(cache_dir, 'content', 'tasks')):
        module.warn(f"cache_dir {cache_dir} has no content/tasks directory, which the Rust client creates when it starts: is it "
                    "the host directory mounted at the seed peer's storage.dir?")
    return checksums


def check_range(option, value, limits, unit=''):
    """Raise unless ``value`` (when set) lies within the manager's limits."""
    if value is None:
        return
    low, high = limits
    if not low <= value <= high:
        raise PreheatError(f'{option} must be between {low}{unit} and {high}{unit} (the limits of the Dragonfly manager), '
                           f'got {value}')


def check_piece_length(piece_length):
    if piece_length is None:
        return
    if not PIECE_LENGTH_RANGE[0] <= piece_length <= PIECE_LENGTH_RANGE[1]:
        raise PreheatError(f'piece_length must be between {PIECE_LENGTH_RANGE[0]} (4 MiB) and {PIECE_LENGTH_RANGE[1]} '
                           f'(64 MiB) bytes, the limits of the Dragonfly manager; got {piece_length}. Leave it unset to let '
                           'the seed peer choose from the file size')


def check_cluster_ids(cluster_ids):
    if not cluster_ids or any(cluster_id < 1 for cluster_id in cluster_ids):
        raise PreheatError('scheduler_cluster_ids must name at least one scheduler cluster ID (1 or more); the first cluster '
                           'the manager creates has ID 1')


def check_seconds(params, options):
    """Raise unless each of ``options`` that is set is at least one second."""
    for option in options:
        if params[option] is not None and params[option] < 1:
            raise PreheatError(f'{option} must be at least 1 second, got {params[option]}')


def check_http_url(option, url):
    """Raise unless ``url`` is an http(s) URL the client can parse; returns it unchanged."""
    try:
        scheme = urlsplit(url).scheme.lower()
        normalize_url(url)
    except ValueError as exc:
        raise PreheatError(f'{option}: {url!r} is not a valid URL ({exc}): give a full http:// or https:// URL')
    if scheme not in ('http', 'https'):
        raise PreheatError(f'{option}: {url!r} must be an http:// or https:// URL (got scheme {scheme or "none"!r})')
    return url


def check_registry_host(option, host):
    """Refuse registry addresses the manager cannot dial: its registry client (``pkg/net/http.NewSafeDialer``) only
    dials global unicast addresses (no loopback, link-local, unspecified or multicast; private ranges are fine)."""
    name = host.rsplit(':', 1)[0] if not host.endswith(']') else host
    name = name.strip('[]').lower()
    refused = name == 'localhost' or name.endswith('.localhost')
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None:
        refused = address.is_loopback or address.is_link_local or address.is_unspecified or address.is_multicast
    if refused:
        raise PreheatError(f'{option}: the registry address {host} is a loopback or link-local address, which the Dragonfly '
                           "manager refuses to connect to (its registry client only dials global unicast addresses; "
                           'private ranges such as 10.x or 192.168.x work): use an address of the registry host the '
                           'manager and the seed peers can reach')


def check_ips(ips):
    if len(ips) > IPS_MAX:
        raise PreheatError(f'ips may name at most {IPS_MAX} peers (the limit of the Dragonfly manager), got {len(ips)}')
    for ip in ips:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise PreheatError(f'ips: {ip!r} is not an IP address: give the IPs the peers advertise (host.ip of dfdaemon)')


def check_client_version(client_version):
    if client_version is None:
        return
    try:
        parse_client_version(client_version)
    except ValueError as exc:
        raise PreheatError(f'client_version: {exc}; give the client release of the seed peers, for example 1.5.10')


def check_selection(scope, ips, count, percentage):
    """Validate scope/ips/count/percentage like the manager, with the reason when refused."""
    given = [name for name, value in (('ips', ips), ('count', count), ('percentage', percentage)) if value]
    if len(given) > 1:
        raise PreheatError(f"{' and '.join(given)} are mutually exclusive: set only one of ips, count and percentage "
                           '(the scheduler would use ips first, then count, then percentage)')
    if given and scope == SCOPE_SINGLE_SEED_PEER:
        raise PreheatError(f'{given[0]} only applies to scope all_seed_peers or all_peers; with scope single_seed_peer the '
                           'scheduler picks one seed peer per task by consistent hashing. Set scope: all_seed_peers')
    if ips:
        check_ips(ips)
    check_range('count', count, COUNT_RANGE)
    check_range('percentage', percentage, PERCENTAGE_RANGE)
