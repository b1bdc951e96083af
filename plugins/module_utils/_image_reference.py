# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Container image references parsed as Docker does, platform strings as containerd does, and the manifest and blob
URLs a Dragonfly manager preheat job works with. Upstream code it follows: docs/dev/module-utils.md#image-reference."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re
from collections import namedtuple


DOCKER_HUB_DOMAIN = 'docker.io'
DOCKER_HUB_LEGACY_DOMAIN = 'index.docker.io'
# Docker Hub's registry API lives on a different host than its familiar domain. The default host of Docker Hub blob
# URLs (option docker_hub_host): the host is part of every task ID, and this collection's peers pull from this one.
DOCKER_HUB_REGISTRY_HOST = 'registry-1.docker.io'
# The names Docker Hub goes by: what dfdaemon falls back to (docker.io, from ?ns=), upstream's helm chart and dfinit
# default (index.docker.io), and the API host.
DOCKER_HUB_HOSTS = (DOCKER_HUB_DOMAIN, DOCKER_HUB_LEGACY_DOMAIN, DOCKER_HUB_REGISTRY_HOST)
DOCKER_HUB_OFFICIAL_PREFIX = 'library/'
DEFAULT_TAG = 'latest'
NAME_TOTAL_LENGTH_MAX = 255

MEDIA_TYPE_DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json'
MEDIA_TYPE_OCI_IMAGE_INDEX = 'application/vnd.oci.image.index.v1+json'

# distribution/reference regexp.go, built the same way.
_ALPHANUMERIC = r'[a-z0-9]+'
_SEPARATOR = r'(?:[._]|__|[-]+)'
_PATH_COMPONENT = _ALPHANUMERIC + r'(?:' + _SEPARATOR + _ALPHANUMERIC + r')*'
_REMOTE_NAME = _PATH_COMPONENT + r'(?:/' + _PATH_COMPONENT + r')*'
_DOMAIN_NAME_COMPONENT = r'(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
_DOMAIN_NAME = _DOMAIN_NAME_COMPONENT + r'(?:\.' + _DOMAIN_NAME_COMPONENT + r')*'
_IPV6_ADDRESS = r'\[(?:[a-fA-F0-9:]+)\]'
_DOMAIN_AND_PORT = r'(?:' + _DOMAIN_NAME + r'|' + _IPV6_ADDRESS + r')(?::[0-9]+)?'
_TAG = r'[\w][\w.-]{0,127}'
_DIGEST = r'[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}'
_NAME = r'(?:' + _DOMAIN_AND_PORT + r'/)?' + _REMOTE_NAME

# re.ASCII: Go's \w is ASCII only. \Z: Go's $ never matches before a trailing newline.
_REFERENCE_RE = re.compile(r'^(' + _NAME + r')(?::(' + _TAG + r'))?(?:@(' + _DIGEST + r'))?\Z', re.ASCII)
_ANCHORED_HOST_RE = re.compile(r'^' + _DOMAIN_AND_PORT + r'\Z', re.ASCII)
_ANCHORED_NAME_RE = re.compile(r'^(?:(' + _DOMAIN_AND_PORT + r')/)?(' + _REMOTE_NAME + r')\Z', re.ASCII)
_ANCHORED_TAG_RE = re.compile(r'^' + _TAG + r'\Z', re.ASCII)
_ANCHORED_IDENTIFIER_RE = re.compile(r'^[a-f0-9]{64}\Z')

# github.com/opencontainers/go-digest: hex lengths of the algorithms the manager can verify.
_DIGEST_HEX_LENGTHS = {'sha256': 64, 'sha384': 96, 'sha512': 128}
_ANCHORED_DIGEST_RE = re.compile(r'^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+\Z')

# internal/job/image.go accessURLRegexp: greedy groups and no end anchor, like the Go code.
_MANIFEST_URL_RE = re.compile(r'^(.*)://(.*)/v2/(.*)/manifests/(.*)')

# containerd/platforms v0.2.1 platforms.go and database.go.
_PLATFORM_SPECIFIER_RE = re.compile(r'^[A-Za-z0-9_-]+\Z')
_PLATFORM_OS_AND_VERSION_RE = re.compile(r'^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.-]*)\))?\Z')
_KNOWN_OSES = frozenset((
    'aix', 'android', 'darwin', 'dragonfly', 'freebsd', 'hurd', 'illumos', 'ios', 'js', 'linux',
    'nacl', 'netbsd', 'openbsd', 'plan9', 'solaris', 'windows', 'zos',
))
_KNOWN_ARCHITECTURES = frozenset((
    '386', 'amd64', 'amd64p32', 'arm', 'armbe', 'arm64', 'arm64be', 'ppc64', 'ppc64le', 'loong64',
    'mips', 'mipsle', 'mips64', 'mips64le', 'mips64p32', 'mips64p32le', 'ppc', 'riscv', 'riscv64',
    's390', 's390x', 'sparc', 'sparc64', 'wasm',
))


class ImageReference(namedtuple('ImageReference', ['domain', 'registry', 'repository', 'tag', 'digest', 'tag_implicit'])):
    """A parsed image reference.

    ``domain`` is Docker's normalised domain (``docker.io`` for Docker Hub), ``registry`` the
    ``host[:port]`` to put in URLs (for Docker Hub the ``docker_hub_host`` it was parsed with), ``repository`` the
    full path (``library/alpine``), ``tag`` and ``digest`` as given (``tag`` is ``latest`` when
    neither was given, with ``tag_implicit`` set so callers can refuse or warn).
    """

    __slots__ = ()

    @property
    def reference(self):
        """What goes after ``/manifests/``: the digest when there is one (Docker pulls by digest then), else the tag."""
        return self.digest or self.tag


ManifestURL = namedtuple('ManifestURL', ['scheme', 'host', 'repository', 'reference'])
Platform = namedtuple('Platform', ['os', 'architecture', 'variant'])


def _split_docker_domain(name):
    # distribution/reference normalize.go splitDockerDomain.
    slash = name.find('/')
    first_component = name[:slash]
    if slash == -1 or (not any(char in first_component for char in '.:') and first_component != 'localhost'
                       and first_component.lower() == first_component):
        domain, remainder = DOCKER_HUB_DOMAIN, name
    else:
        domain, remainder = first_component, name[slash + 1:]
    if domain == DOCKER_HUB_LEGACY_DOMAIN:
        domain = DOCKER_HUB_DOMAIN
    if domain == DOCKER_HUB_DOMAIN and '/' not in remainder:
        remainder = DOCKER_HUB_OFFICIAL_PREFIX + remainder
    return domain, remainder


def validate_digest(digest):
    """Raise ValueError unless ``digest`` is a digest the manager accepts (go-digest ``Digest.Validate``)."""
    if not isinstance(digest, str):
        raise ValueError('digest must be a string, got %r' % (digest,))
    algorithm, colon, encoded = digest.partition(':')
    if not algorithm or not colon or not encoded:
        raise ValueError('invalid digest %r: expected <algorithm>:<hex>' % digest)
    if algorithm not in _DIGEST_HEX_LENGTHS:
        if _ANCHORED_DIGEST_RE.match(digest):
            raise ValueError('unsupported digest algorithm %r in %r' % (algorithm, digest))
        raise ValueError('invalid digest %r: expected <algorithm>:<hex>' % digest)
    if len(encoded) != _DIGEST_HEX_LENGTHS[algorithm]:
        raise ValueError('invalid digest %r: a %s digest has %d hex characters' % (digest, algorithm, _DIGEST_HEX_LENGTHS[algorithm]))
    if any(char not in '0123456789abcdef' for char in encoded):
        raise ValueError('invalid digest %r: only lower-case hex characters are allowed' % digest)


def validate_registry_host(host):
    """Raise ValueError unless ``host`` is a registry as image names spell it: ``host[:port]``, no scheme, no path."""
    if not isinstance(host, str) or not _ANCHORED_HOST_RE.match(host):
        raise ValueError('%r is not a registry host: give a bare host name or address, optionally with :port (for '
                         'example registry-1.docker.io or registry.example.com:5000), without scheme or path' % (host,))
    port = host.rpartition(':')[2] if ':' in host and not host.endswith(']') else None
    if port is not None and not 0 < int(port) < 65536:
        raise ValueError('%r is not a registry host: port %s is out of range (1-65535)' % (host, port))
    return host


def is_docker_hub_host(host):
    """Whether ``host`` is one of the names of Docker Hub (``DOCKER_HUB_HOSTS``), case aside."""
    return isinstance(host, str) and host.lower() in DOCKER_HUB_HOSTS


def parse_image_reference(reference, docker_hub_host=DOCKER_HUB_REGISTRY_HOST):
    """Parse a Docker image reference (``alpine``, ``ghcr.io/org/app:v1``, ``host:5000/app@sha256:...``).

    Returns an ``ImageReference`` whose ``registry`` is ``docker_hub_host`` for references that normalise to Docker
    Hub. Raises ValueError with Docker's reason for invalid references.
    """
    validate_registry_host(docker_hub_host)
    if not isinstance(reference, str):
        raise ValueError('image reference must be a string, got %r' % (reference,))
    if reference == '':
        raise ValueError('invalid image reference: it is empty')
    if _ANCHORED_IDENTIFIER_RE.match(reference):
        raise ValueError('invalid image reference %r: a 64 character hex string is an image ID, not a repository name' % reference)

    domain, remainder = _split_docker_domain(reference)
    repository_part = remainder.split(':', 1)[0]
    if repository_part.lower() != repository_part:
        raise ValueError('invalid image reference %r: repository name %r must be lowercase' % (reference, repository_part))

    full_reference = domain + '/' + remainder
    match = _REFERENCE_RE.match(full_reference)
    if not match:
        raise ValueError('invalid image reference %r: %s' % (reference, _explain_invalid_reference(remainder)))
    name, tag, digest = match.groups()
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise ValueError('invalid image reference %r: repository name must not be more than %d characters' % (reference, NAME_TOTAL_LENGTH_MAX))
    if digest is not None:
        validate_digest(digest)
    name_match = _ANCHORED_NAME_RE.match(name)
    domain, repository = name_match.group(1), name_match.group(2)

    tag_implicit = tag is None and digest is None
    if tag_implicit:
        tag = DEFAULT_TAG
    registry = docker_hub_host if domain == DOCKER_HUB_DOMAIN else domain
    return ImageReference(domain, registry, repository, tag, digest, tag_implicit)


def _explain_invalid_reference(remainder):
    # Docker only says "invalid reference format"; point at the part that is wrong.
    name_and_tag, at_sign, digest = remainder.partition('@')
    last_slash = name_and_tag.rfind('/')
    colon = name_and_tag.find(':', last_slash + 1)
    name, tag = (name_and_tag[:colon], name_and_tag[colon + 1:]) if colon != -1 else (name_and_tag, None)
    if not re.match(r'^' + _REMOTE_NAME + r'\Z', name):
        return ('invalid repository name %r (path components of lower-case letters and digits, '
                'separated by ".", "_", "__" or "-")' % name_and_tag)
    if tag is not None and not _ANCHORED_TAG_RE.match(tag):
        return 'invalid tag %r (up to 128 characters from [A-Za-z0-9_.-], not starting with "." or "-")' % tag
    if at_sign and not re.match(r'^' + _DIGEST + r'\Z', digest):
        return 'invalid digest %r' % digest
    return 'invalid reference format'


def _registry_matches(registry, domain, entries):
    candidates = set((registry.lower(), domain.lower()))
    return any(isinstance(entry, str) and entry.lower() in candidates for entry in entries)


def manifest_url(reference, scheme='https', insecure_registries=(), docker_hub_host=DOCKER_HUB_REGISTRY_HOST):
    """Return ``<scheme>://<registry>/v2/<repository>/manifests/<tag or digest>`` for an image reference.

    ``reference`` is a string or an ``ImageReference``. The scheme becomes ``http`` when
    ``scheme`` is ``http`` or when the registry (as written, e.g. ``registry.local:5000``, or
    ``docker.io``) is listed in ``insecure_registries``. ``docker_hub_host`` is the host of a Docker Hub reference
    given as a string (an ``ImageReference`` carries its own).
    """
    if scheme not in ('http', 'https'):
        raise ValueError('scheme must be "http" or "https", got %r' % (scheme,))
    if insecure_registries is None:
        insecure_registries = ()
    elif isinstance(insecure_registries, str):
        insecure_registries = [insecure_registries]
    parsed = reference if isinstance(reference, ImageReference) else parse_image_reference(reference, docker_hub_host)
    if _registry_matches(parsed.registry, parsed.domain, insecure_registries):
        scheme = 'http'
    return '%s://%s/v2/%s/manifests/%s' % (scheme, parsed.registry, parsed.repository, parsed.reference)


def parse_manifest_url(url):
    """Split a manifest URL like the manager's ``parseManifestURL`` into a ``ManifestURL``.

    The groups are greedy and the reference runs to the end of the string (a query string
    would end up in it, as in the manager). Raises ValueError unless every part is non-empty.
    """
    if not isinstance(url, str):
        raise ValueError('manifest URL must be a string, got %r' % (url,))
    match = _MANIFEST_URL_RE.match(url)
    if not match or not all(match.groups()):
        raise ValueError('%r does not look like a manifest URL <scheme>://<host>/v2/<name>/manifests/<tag or digest>' % url)
    return ManifestURL(*match.groups())


def blob_url(scheme, host, repository, digest):
    """Return ``<scheme>://<host>/v2/<repository>/blobs/<digest>``, the URL the manager preheats for a blob."""
    for label, value in (('scheme', scheme), ('host', host), ('repository', repository)):
        if not isinstance(value, str) or not value:
            raise ValueError('%s must be a non-empty string, got %r' % (label, value))
    validate_digest(digest)
    return '%s://%s/v2/%s/blobs/%s' % (scheme, host, repository, digest)


def _load_json_object(document, what):
    if isinstance(document, (bytes, bytearray)):
        document = document.decode('utf-8')
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError as exc:
            raise ValueError('%s is not valid JSON: %s' % (what, exc))
    if not isinstance(document, dict):
        raise ValueError('%s must be a JSON object' % what)
    return document


def manifest_references(manifest):
    """Return the blob digests of an image manifest in the order the manager preheats them.

    Mirrors ``References()`` of github.com/docker/distribution v2.8.3: schema 2 and OCI
    manifests give the config then the layers, schema 1 gives its ``fsLayers`` blob sums.
    ``manifest`` is a dict or JSON text.
    """
    manifest = _load_json_object(manifest, 'manifest')
    if 'manifests' in manifest:
        raise ValueError('this is a manifest list / image index, select a platform manifest first')
    if manifest.get('schemaVersion') == 1:
        return [layer.get('blobSum') for layer in manifest.get('fsLayers') or []]
    config = manifest.get('config')
    if not isinstance(config, dict) or not config.get('digest'):
        raise ValueError('manifest has no config descriptor')
    return [config['digest']] + [layer.get('digest') for layer in manifest.get('layers') or []]


def preheat_blob_urls(manifest_url_value, manifests):
    """Return the blob URLs a preheat of ``manifest_url_value`` creates, given the resolved image manifests.

    Mirrors ``buildPreheatRequestFromManifests``: no de-duplication, so a blob shared by two
    selected platform manifests appears twice.
    """
    parsed = parse_manifest_url(manifest_url_value)
    urls = []
    for manifest in manifests:
        for digest in manifest_references(manifest):
            urls.append(blob_url(parsed.scheme, parsed.host, parsed.repository, digest))
    return urls


def _normalize_os(os_name):
    os_name = os_name.lower()
    return 'darwin' if os_name == 'macos' else os_name


def _normalize_architecture(architecture, variant):
    # containerd/platforms database.go normalizeArch.
    architecture, variant = architecture.lower(), variant.lower()
    if architecture == 'i386':
        return '386', ''
    if architecture in ('x86_64', 'x86-64', 'amd64'):
        return 'amd64', '' if variant == 'v1' else variant
    if architecture in ('aarch64', 'arm64'):
        return 'arm64', '' if variant in ('8', 'v8') else variant
    if architecture == 'armhf':
        return 'arm', 'v7'
    if architecture == 'armel':
        return 'arm', 'v6'
    if architecture == 'arm':
        if variant in ('', '7'):
            return 'arm', 'v7'
        if variant in ('5', '6', '8'):
            return 'arm', 'v' + variant
    return architecture, variant


def parse_platform(platform, default_os='linux', default_architecture='amd64'):
    """Parse ``os[/arch[/variant]]`` (or a lone arch) like the manager, returning a normalised ``Platform``.

    ``linux/aarch64`` becomes ``(linux, arm64, '')``, ``linux/arm64/v8`` ``(linux, arm64, v8)``,
    ``linux/arm/v7`` ``(linux, arm, v7)``. A lone OS or architecture is completed with the
    manager's own OS/architecture, given here as ``default_os``/``default_architecture``.
    An OS version (``windows(10.0.17763)``) is accepted and ignored, as the manager ignores it.
    """
    if not isinstance(platform, str):
        raise ValueError('platform must be a string, got %r' % (platform,))
    if '*' in platform:
        raise ValueError('invalid platform %r: wildcards are not supported' % platform)
    parts = platform.split('/', 3)
    os_match = _PLATFORM_OS_AND_VERSION_RE.match(parts[0])
    if not os_match:
        raise ValueError('invalid platform %r: %r is not a valid OS, use letters, digits, "_" or "-"' % (platform, parts[0]))
    for part in parts[1:]:
        if not _PLATFORM_SPECIFIER_RE.match(part):
            raise ValueError('invalid platform %r: %r is not a valid component, use letters, digits, "_" or "-"' % (platform, part))
    os_name = _normalize_os(os_match.group(1))

    if len(parts) == 1:
        if os_name in _KNOWN_OSES:
            return Platform(os_name, default_architecture, '')
        architecture, variant = _normalize_architecture(parts[0], '')
        if architecture == 'arm' and variant == 'v7':
            variant = ''
        if architecture in _KNOWN_ARCHITECTURES:
            return Platform(default_os, architecture, variant)
        raise ValueError('invalid platform %r: unknown operating system or architecture' % platform)
    if len(parts) == 2:
        architecture, variant = _normalize_architecture(parts[1], '')
        if architecture == 'arm' and variant == 'v7':
            variant = ''
        return Platform(os_name, architecture, variant)
    if len(parts) == 3:
        architecture, variant = _normalize_architecture(parts[1], parts[2])
        if architecture == 'arm64' and variant == '':
            variant = 'v8'
        return Platform(os_name, architecture, variant)
    raise ValueError('invalid platform %r: expected os[/arch[/variant]]' % platform)


def format_platform(platform):
    """Return ``os/arch[/variant]`` for a ``Platform``."""
    return '/'.join(part for part in platform if part)


def is_manifest_list(document):
    """Whether a manifest document (dict or JSON text) is a Docker manifest list or an OCI image index."""
    document = _load_json_object(document, 'manifest')
    media_type = document.get('mediaType')
    if media_type in (MEDIA_TYPE_DOCKER_MANIFEST_LIST, MEDIA_TYPE_OCI_IMAGE_INDEX):
        return True
    return media_type is None and isinstance(document.get('manifests'), list)


def select_manifests(index, platform=None, default_os='linux', default_architecture='amd64'):
    """Return the descriptors of a manifest list / image index that the manager preheats for ``platform``.

    Mirrors ``filterManifests``: a descriptor matches when its ``platform.os`` and
    ``platform.architecture`` equal the parsed platform's, compared as written in the index; the
    variant and OS version are ignored, so every match is returned (the manager preheats them
    all, resolving nested indexes the same way). ``platform`` is a string, a ``Platform`` or
    ``None`` for the manager's own platform (``default_os``/``default_architecture``).
    """
    index = _load_json_object(index, 'manifest list')
    if not is_manifest_list(index):
        raise ValueError('not a manifest list or image index (mediaType %r)' % (index.get('mediaType'),))
    if platform is None:
        wanted = Platform(default_os, default_architecture, '')
    elif isinstance(platform, Platform):
        wanted = platform
    else:
        wanted = parse_platform(platform, default_os, default_architecture)
    matches = []
    for descriptor in index.get('manifests') or []:
        descriptor_platform = descriptor.get('platform') or {}
        if descriptor_platform.get('architecture', '') == wanted.architecture and descriptor_platform.get('os', '') == wanted.os:
            matches.append(descriptor)
    return matches
