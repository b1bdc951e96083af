# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils._image_reference import (
    ImageReference,
    ManifestURL,
    Platform,
    blob_url,
    format_platform,
    is_docker_hub_host,
    is_manifest_list,
    manifest_references,
    manifest_url,
    parse_image_reference,
    parse_manifest_url,
    parse_platform,
    preheat_blob_urls,
    select_manifests,
    validate_digest,
    validate_registry_host,
)


DIGEST = 'sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582'
OTHER_DIGEST = 'sha256:' + 'a' * 64
CONFIG_DIGEST = 'sha256:' + 'c' * 64
LAYER_DIGESTS = ['sha256:' + '1' * 64, 'sha256:' + '2' * 64]


@pytest.mark.parametrize('reference, expected', [
    ('alpine', ImageReference('docker.io', 'registry-1.docker.io', 'library/alpine', 'latest', None, True)),
    ('alpine:3.20', ImageReference('docker.io', 'registry-1.docker.io', 'library/alpine', '3.20', None, False)),
    ('library/alpine', ImageReference('docker.io', 'registry-1.docker.io', 'library/alpine', 'latest', None, True)),
    ('docker.io/library/alpine:3.20', ImageReference('docker.io', 'registry-1.docker.io', 'library/alpine', '3.20', None, False)),
    ('docker.io/alpine', ImageReference('docker.io', 'registry-1.docker.io', 'library/alpine', 'latest', None, True)),
    ('index.docker.io/bitnami/redis:7.2', ImageReference('docker.io', 'registry-1.docker.io', 'bitnami/redis', '7.2', None, False)),
    ('ghcr.io/org/app:v1', ImageReference('ghcr.io', 'ghcr.io', 'org/app', 'v1', None, False)),
    ('registry.local:5000/team/app@' + DIGEST, ImageReference('registry.local:5000', 'registry.local:5000', 'team/app', None, DIGEST, False)),
    ('localhost:5000/app:tag', ImageReference('localhost:5000', 'localhost:5000', 'app', 'tag', None, False)),
    ('localhost/app', ImageReference('localhost', 'localhost', 'app', 'latest', None, True)),
    ('[fc00::1]:5000/docker/docker', ImageReference('[fc00::1]:5000', '[fc00::1]:5000', 'docker/docker', 'latest', None, True)),
    ('gcr.io/library/busybox:latest@' + DIGEST, ImageReference('gcr.io', 'gcr.io', 'library/busybox', 'latest', DIGEST, False)),
    # An upper-case first component is a registry (distribution/reference splitDockerDomain).
    ('Docker/docker', ImageReference('Docker', 'Docker', 'docker', 'latest', None, True)),
    # No slash: everything is a Docker Hub name, so the ":5000" is a tag.
    ('192.168.0.1:80', ImageReference('docker.io', 'registry-1.docker.io', 'library/192.168.0.1', '80', None, False)),
])
def test_parse_image_reference(reference, expected):
    assert parse_image_reference(reference) == expected


def test_reference_property_prefers_the_digest():
    assert parse_image_reference('alpine:3.20').reference == '3.20'
    assert parse_image_reference('alpine').reference == 'latest'
    assert parse_image_reference('alpine:3.20@' + DIGEST).reference == DIGEST


# distribution/reference v0.5.0 (vendored by docker/distribution v2.8.3) normalize_test.go
# TestValidateReferenceName and TestValidateRemoteName.
@pytest.mark.parametrize('reference', [
    'docker/docker', 'library/debian', 'debian', 'docker.io/docker/docker', 'docker.io/library/debian',
    'docker.io/debian', 'index.docker.io/docker/docker', 'index.docker.io/library/debian', 'index.docker.io/debian',
    '127.0.0.1:5000/docker/docker', '127.0.0.1:5000/library/debian', '127.0.0.1:5000/debian', '192.168.0.1',
    '192.168.0.1:80', '192.168.0.1:8/debian', '192.168.0.2:25000/debian',
    'thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev',
    '[fc00::1]:5000/docker', '[fc00::1]:5000/docker/docker', '[fc00:1:2:3:4:5:6:7]:5000/library/debian',
    'docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a', 'Docker/docker', 'DOCKER/docker',
    'docker-rules/docker', 'docker---rules/docker', 'doc/docker', 'd/docker', 'jess/t', 'dock__er/docker',
])
def test_upstream_valid_references(reference):
    parse_image_reference(reference)


@pytest.mark.parametrize('reference', [
    'https://github.com/docker/docker', 'docker/Docker', '-docker', '-docker/docker', '-docker.io/docker/docker',
    'docker///docker', 'docker.io/docker/Docker', 'docker.io/docker///docker', '[fc00::1]', '[fc00::1]:5000',
    'fc00::1:5000/debian', '[fe80::1%eth0]:5000/debian', '[2001:db8:3:4::192.0.2.33]:5000/debian',
    '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a',
    'docker-/docker', '-docker-/docker', '____/____', '_docker/_docker', 'dock..er/docker', 'dock_.er/docker',
    'dock-.er/docker', 'docker/',
    'this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255'
    '_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker',
])
def test_upstream_invalid_references(reference):
    with pytest.raises(ValueError, match='invalid image reference'):
        parse_image_reference(reference)


@pytest.mark.parametrize('reference, message', [
    ('', 'it is empty'),
    ('Alpine', "repository name 'library/Alpine' must be lowercase"),
    ('ghcr.io/Org/app:v1', "repository name 'Org/app' must be lowercase"),
    ('alpine:bad tag', "invalid tag 'bad tag'"),
    ('alpine:-bad', "invalid tag '-bad'"),
    ('alpine:' + 'a' * 129, 'invalid tag'),
    ('alpine@sha256:1234', "invalid digest 'sha256:1234'"),
    ('alpine@sha256:' + 'A' * 64, 'only lower-case hex characters'),
    ('alpine@sha256:' + 'a' * 63 + 'a' * 2, 'a sha256 digest has 64 hex characters'),
    ('alpine@md5:' + 'a' * 32, "unsupported digest algorithm 'md5'"),
    ('a' * 64, 'is an image ID, not a repository name'),
    ('docker///docker', 'invalid repository name'),
    ('my_registry/app' + '/x' * 130, 'must not be more than 255 characters'),
    (42, 'image reference must be a string'),
])
def test_parse_image_reference_errors(reference, message):
    with pytest.raises(ValueError, match=message):
        parse_image_reference(reference)


@pytest.mark.parametrize('reference, kwargs, expected', [
    ('alpine:3.20', {}, 'https://registry-1.docker.io/v2/library/alpine/manifests/3.20'),
    ('alpine', {}, 'https://registry-1.docker.io/v2/library/alpine/manifests/latest'),
    ('ghcr.io/org/app:v1', {}, 'https://ghcr.io/v2/org/app/manifests/v1'),
    ('registry.local:5000/team/app@' + DIGEST, {}, 'https://registry.local:5000/v2/team/app/manifests/' + DIGEST),
    ('registry.local:5000/team/app:1', {'insecure_registries': ['registry.local:5000']}, 'http://registry.local:5000/v2/team/app/manifests/1'),
    ('registry.local:5000/team/app:1', {'insecure_registries': 'REGISTRY.local:5000'}, 'http://registry.local:5000/v2/team/app/manifests/1'),
    ('registry.local:5000/team/app:1', {'insecure_registries': ['registry.local']}, 'https://registry.local:5000/v2/team/app/manifests/1'),
    ('localhost:5000/app:tag', {'scheme': 'http'}, 'http://localhost:5000/v2/app/manifests/tag'),
    ('alpine:3.20', {'insecure_registries': ['docker.io']}, 'http://registry-1.docker.io/v2/library/alpine/manifests/3.20'),
    ('alpine:3.20', {'insecure_registries': None}, 'https://registry-1.docker.io/v2/library/alpine/manifests/3.20'),
])
def test_manifest_url(reference, kwargs, expected):
    assert manifest_url(reference, **kwargs) == expected


def test_manifest_url_accepts_a_parsed_reference():
    parsed = parse_image_reference('ghcr.io/org/app:v1')
    assert manifest_url(parsed) == 'https://ghcr.io/v2/org/app/manifests/v1'


def test_manifest_url_rejects_other_schemes():
    with pytest.raises(ValueError, match='scheme must be "http" or "https"'):
        manifest_url('alpine', scheme='ftp')


@pytest.mark.parametrize('url, expected', [
    ('https://registry-1.docker.io/v2/library/alpine/manifests/3.20',
     ManifestURL('https', 'registry-1.docker.io', 'library/alpine', '3.20')),
    ('http://registry.local:5000/v2/team/app/manifests/' + DIGEST,
     ManifestURL('http', 'registry.local:5000', 'team/app', DIGEST)),
    # Greedy like the manager's accessURLRegexp: the last "/manifests/" splits name and reference.
    ('https://r.example/v2/a/manifests/b/manifests/c', ManifestURL('https', 'r.example', 'a/manifests/b', 'c')),
    # Kept as written, the manager does not normalise case or ports.
    ('HTTPS://Registry.Example:443/v2/app/manifests/v1', ManifestURL('HTTPS', 'Registry.Example:443', 'app', 'v1')),
])
def test_parse_manifest_url(url, expected):
    assert parse_manifest_url(url) == expected


@pytest.mark.parametrize('url', [
    'registry.example/v2/app/manifests/v1',
    'https://registry.example/app/manifests/v1',
    'https://registry.example/v2/app/blobs/' + DIGEST,
    'https://registry.example/v2/app/manifests/',
    'https:///v2/app/manifests/v1',
    '',
])
def test_parse_manifest_url_errors(url):
    with pytest.raises(ValueError, match='does not look like a manifest URL'):
        parse_manifest_url(url)


def test_manifest_url_round_trip():
    url = manifest_url('registry.local:5000/team/app:1')
    assert parse_manifest_url(url) == ManifestURL('https', 'registry.local:5000', 'team/app', '1')


def test_blob_url():
    assert blob_url('https', 'registry-1.docker.io', 'library/alpine', DIGEST) == \
        'https://registry-1.docker.io/v2/library/alpine/blobs/' + DIGEST


@pytest.mark.parametrize('args, message', [
    (('', 'h', 'r', DIGEST), 'scheme must be a non-empty string'),
    (('https', None, 'r', DIGEST), 'host must be a non-empty string'),
    (('https', 'h', '', DIGEST), 'repository must be a non-empty string'),
    (('https', 'h', 'r', 'latest'), 'invalid digest'),
])
def test_blob_url_errors(args, message):
    with pytest.raises(ValueError, match=message):
        blob_url(*args)


@pytest.mark.parametrize('digest', [DIGEST, 'sha384:' + 'b' * 96, 'sha512:' + 'c' * 128])
def test_validate_digest_accepts(digest):
    validate_digest(digest)


@pytest.mark.parametrize('digest, message', [
    ('sha256', 'expected <algorithm>:<hex>'),
    (':abc', 'expected <algorithm>:<hex>'),
    ('sha256:', 'expected <algorithm>:<hex>'),
    ('SHA256:' + 'a' * 64, 'expected <algorithm>:<hex>'),
    ('blake3:' + 'a' * 64, "unsupported digest algorithm 'blake3'"),
    (None, 'digest must be a string'),
])
def test_validate_digest_errors(digest, message):
    with pytest.raises(ValueError, match=message):
        validate_digest(digest)


SCHEMA2_MANIFEST = {
    'schemaVersion': 2,
    'mediaType': 'application/vnd.docker.distribution.manifest.v2+json',
    'config': {'mediaType': 'application/vnd.docker.container.image.v1+json', 'size': 1, 'digest': CONFIG_DIGEST},
    'layers': [{'mediaType': 'application/vnd.docker.image.rootfs.diff.tar.gzip', 'size': 1, 'digest': digest} for digest in LAYER_DIGESTS],
}


def test_manifest_references_schema2_and_oci():
    assert manifest_references(SCHEMA2_MANIFEST) == [CONFIG_DIGEST] + LAYER_DIGESTS
    oci = dict(SCHEMA2_MANIFEST, mediaType='application/vnd.oci.image.manifest.v1+json')
    assert manifest_references(json.dumps(oci)) == [CONFIG_DIGEST] + LAYER_DIGESTS


def test_manifest_references_schema1():
    manifest = {'schemaVersion': 1, 'fsLayers': [{'blobSum': digest} for digest in LAYER_DIGESTS]}
    assert manifest_references(manifest) == LAYER_DIGESTS


@pytest.mark.parametrize('manifest, message', [
    ({'schemaVersion': 2, 'manifests': []}, 'select a platform manifest first'),
    ({'schemaVersion': 2, 'layers': []}, 'has no config descriptor'),
    ('{not json', 'manifest is not valid JSON'),
    ('[]', 'manifest must be a JSON object'),
])
def test_manifest_references_errors(manifest, message):
    with pytest.raises(ValueError, match=message):
        manifest_references(manifest)


def test_preheat_blob_urls_reuse_the_manifest_url_parts_and_keep_duplicates():
    urls = preheat_blob_urls('http://Registry.local:5000/v2/team/app/manifests/1', [SCHEMA2_MANIFEST, SCHEMA2_MANIFEST])
    expected = ['http://Registry.local:5000/v2/team/app/blobs/' + digest for digest in [CONFIG_DIGEST] + LAYER_DIGESTS]
    assert urls == expected + expected


# containerd/platforms v0.2.1 platforms_test.go TestParseSelector (defaults: linux/amd64).
@pytest.mark.parametrize('platform, expected', [
    ('linux/arm64', Platform('linux', 'arm64', '')),
    ('linux/arm64/v8', Platform('linux', 'arm64', 'v8')),
    ('linux/arm', Platform('linux', 'arm', '')),
    ('linux/arm/v6', Platform('linux', 'arm', 'v6')),
    ('linux/arm/v7', Platform('linux', 'arm', 'v7')),
    ('arm', Platform('linux', 'arm', '')),
    ('armel', Platform('linux', 'arm', 'v6')),
    ('armhf', Platform('linux', 'arm', '')),
    ('Aarch64', Platform('linux', 'arm64', '')),
    ('x86_64', Platform('linux', 'amd64', '')),
    ('Linux/x86_64', Platform('linux', 'amd64', '')),
    ('i386', Platform('linux', '386', '')),
    ('linux', Platform('linux', 'amd64', '')),
    ('s390x', Platform('linux', 's390x', '')),
    ('linux/s390x', Platform('linux', 's390x', '')),
    ('macOS', Platform('darwin', 'amd64', '')),
    ('windows', Platform('windows', 'amd64', '')),
    ('windows()', Platform('windows', 'amd64', '')),
    ('windows(10.0.17763)', Platform('windows', 'amd64', '')),
    ('linux/amd64/v1', Platform('linux', 'amd64', '')),
    ('linux/amd64/v3', Platform('linux', 'amd64', 'v3')),
    ('linux/aarch64/8', Platform('linux', 'arm64', 'v8')),
])
def test_parse_platform(platform, expected):
    assert parse_platform(platform) == expected


def test_parse_platform_uses_the_given_defaults_for_a_single_component():
    assert parse_platform('linux', default_architecture='arm64') == Platform('linux', 'arm64', '')
    assert parse_platform('arm64', default_os='windows') == Platform('windows', 'arm64', '')


@pytest.mark.parametrize('platform, message', [
    ('', "'' is not a valid OS"),
    ('/linux/arm', "'' is not a valid OS"),
    ('linux/arm/', "'' is not a valid component"),
    ('linux /arm', "'linux ' is not a valid OS"),
    ('linux/&arm', "'&arm' is not a valid component"),
    ('linux/arm/foo/bar', r'expected os\[/arch\[/variant\]\]'),
    ('linux/*', 'wildcards are not supported'),
    ('plan10', 'unknown operating system or architecture'),
    (None, 'platform must be a string'),
])
def test_parse_platform_errors(platform, message):
    with pytest.raises(ValueError, match=message):
        parse_platform(platform)


def test_format_platform():
    assert format_platform(Platform('linux', 'arm64', 'v8')) == 'linux/arm64/v8'
    assert format_platform(Platform('linux', 'amd64', '')) == 'linux/amd64'


def _descriptor(digest, os_name, architecture, variant=None):
    platform = {'os': os_name, 'architecture': architecture}
    if variant:
        platform['variant'] = variant
    return {'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'size': 1, 'digest': digest, 'platform': platform}


AMD64 = _descriptor('sha256:' + '3' * 64, 'linux', 'amd64')
ARM64 = _descriptor('sha256:' + '4' * 64, 'linux', 'arm64', 'v8')
ARM_V6 = _descriptor('sha256:' + '5' * 64, 'linux', 'arm', 'v6')
ARM_V7 = _descriptor('sha256:' + '6' * 64, 'linux', 'arm', 'v7')
ATTESTATION = _descriptor('sha256:' + '7' * 64, 'unknown', 'unknown')
INDEX = {
    'schemaVersion': 2,
    'mediaType': 'application/vnd.oci.image.index.v1+json',
    'manifests': [AMD64, ARM64, ARM_V6, ARM_V7, ATTESTATION],
}


@pytest.mark.parametrize('platform, expected', [
    ('linux/amd64', [AMD64]),
    ('linux/arm64', [ARM64]),
    # The manager compares OS and architecture only, so any variant selects every arm64 / arm entry.
    ('linux/arm64/v8', [ARM64]),
    ('linux/arm/v7', [ARM_V6, ARM_V7]),
    ('linux/arm', [ARM_V6, ARM_V7]),
    ('linux/aarch64', [ARM64]),
    ('linux/riscv64', []),
    (None, [AMD64]),
    (Platform('linux', 'arm64', ''), [ARM64]),
])
def test_select_manifests(platform, expected):
    assert select_manifests(INDEX, platform) == expected


def test_select_manifests_accepts_json_and_docker_manifest_lists():
    docker_list = dict(INDEX, mediaType='application/vnd.docker.distribution.manifest.list.v2+json')
    assert select_manifests(json.dumps(docker_list), 'linux/amd64') == [AMD64]
    without_media_type = {'schemaVersion': 2, 'manifests': [AMD64]}
    assert select_manifests(json.dumps(without_media_type).encode('utf-8'), 'linux/amd64') == [AMD64]


def test_select_manifests_uses_the_given_default_platform():
    assert select_manifests(INDEX, None, default_architecture='arm64') == [ARM64]


def test_select_manifests_rejects_image_manifests():
    assert not is_manifest_list(SCHEMA2_MANIFEST)
    with pytest.raises(ValueError, match='not a manifest list or image index'):
        select_manifests(SCHEMA2_MANIFEST, 'linux/amd64')


# --- docker_hub_host ---------------------------------------------------------------------------------

@pytest.mark.parametrize('reference', ['alpine:3.20', 'library/alpine:3.20', 'docker.io/library/alpine:3.20',
                                       'index.docker.io/library/alpine:3.20'])
@pytest.mark.parametrize('host', ['index.docker.io', 'docker.io', 'hub-mirror.example.com:5000'])
def test_docker_hub_host_replaces_the_registry_of_docker_hub_references(reference, host):
    parsed = parse_image_reference(reference, host)

    assert parsed.domain == 'docker.io' and parsed.registry == host
    assert manifest_url(reference, docker_hub_host=host) == f'https://{host}/v2/library/alpine/manifests/3.20'


@pytest.mark.parametrize('reference, expected', [
    ('ghcr.io/org/app:1', 'https://ghcr.io/v2/org/app/manifests/1'),
    ('registry.example.com:5000/team/app:1', 'https://registry.example.com:5000/v2/team/app/manifests/1'),
    ('localhost/app:1', 'https://localhost/v2/app/manifests/1'),
])
def test_docker_hub_host_leaves_other_registries_alone(reference, expected):
    assert manifest_url(reference, docker_hub_host='index.docker.io') == expected


@pytest.mark.parametrize('host', ['registry-1.docker.io', 'docker.io', 'registry.example.com:5000', '10.0.0.20:5000',
                                  '[fd00::1]:5000', 'Registry.Example.com'])
def test_validate_registry_host_accepts(host):
    assert validate_registry_host(host) == host


@pytest.mark.parametrize('host, expected', [
    ('https://index.docker.io', 'without scheme or path'),
    ('index.docker.io/v2', 'without scheme or path'),
    ('', 'is not a registry host'),
    ('registry.example.com:', 'is not a registry host'),
    ('registry.example.com:70000', 'port 70000 is out of range'),
    ('registry.example.com:0', 'port 0 is out of range'),
    (None, 'is not a registry host'),
])
def test_validate_registry_host_refuses(host, expected):
    with pytest.raises(ValueError, match=expected.replace('(', r'\(').replace(')', r'\)')):
        validate_registry_host(host)
    if isinstance(host, str) and host:
        with pytest.raises(ValueError):
            parse_image_reference('alpine', host)


@pytest.mark.parametrize('host, expected', [
    ('docker.io', True), ('Index.Docker.io', True), ('registry-1.docker.io', True), ('hub.docker.com', False),
    ('ghcr.io', False), (None, False),
])
def test_is_docker_hub_host(host, expected):
    assert is_docker_hub_host(host) is expected
