# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils._task_id import (
    DEFAULT_FILTERED_QUERY_PARAMS,
    RAW_DEFAULT_FILTERED_QUERY_PARAMS,
    canonical_url,
    normalize_url,
    parse_filtered_query_params,
    task_content_path,
    task_id,
)


BLOB_DIGEST = '1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef'
BLOB_URL = 'https://registry.example.com/v2/myorg/myrepo/blobs/sha256:' + BLOB_DIGEST

# dragonfly-client-util 1.4.0 (same to v1.5.2) src/id_generator/mod.rs, tests::should_generate_task_id; all seven
# are among the v1.5.10 vectors below too (same IDs under both rules).
# (url, piece_length, tag, application, filtered_query_params, revision, task id)
UPSTREAM_TASK_ID_VECTORS = [
    ('https://example.com', 1024, 'foo', 'bar', [], 'v1.0', '5844f27a257287e9b734256bb25603d8005422ced8c0377f15063ec11963b25f'),
    ('https://example.com', None, 'foo', 'bar', [], None, '06408fbf247ddaca478f8cb9565fe5591c28efd0994b8fea80a6a87d3203c5ca'),
    ('https://example.com', None, 'foo', None, [], None, '3c3f230ef9f191dd2821510346a7bc138e4894bee9aee184ba250a3040701d2a'),
    ('https://example.com', None, None, 'bar', [], None, 'c9f9261b7305c24371244f9f149f5d4589ed601348fdf22d7f6f4b10658fdba2'),
    ('https://example.com', 1024, None, None, [], None, '9f7c9aafbc6f30f8f41a96ca77eeae80c5b60964b3034b0ee43ccf7b2f9e52b8'),
    ('https://example.com?foo=foo&bar=bar', None, None, None, ['foo', 'bar'], None, '457b4328cde278e422c9e243f7bfd1e97f511fec43a80f535cf6b0ef6b086776'),
    ('https://example.com', None, None, None, [], 'v1.0', 'b171331534b80e0bf91da38ebbfcdbf4d177898f4b9beac44f14733e3f004d4e'),
]

# dragonfly-client-util 1.5.10 src/id_generator/mod.rs, tests::task_id_hashes_the_canonical_url_with_options: the
# five vectors added with the v1.5.3 canonical URL (sorted query, Go escaping, empty filter list = the URL as given);
# the other seven are UPSTREAM_TASK_ID_VECTORS. Same columns.
UPSTREAM_1_5_10_TASK_ID_VECTORS = [
    ('https://example.com/file.txt?z=9&b=2&a=1', None, 'foo', 'bar', ['z'], None, '8b3f6e9b9b8fe20903bced565cfd1d0aaef354a4c17573f0c2c1979210443f9d'),
    ('https://example.com/file.txt?b=2&a=1&b=1', None, None, None, ['c'], None, '7c8801d0596be5e8f9449d5c4af23866c72fe5205119c0e5912981f3b16a37aa'),
    ('https://example.com/file.txt?k=a b&m=x*y&n=c~d', 1024, None, None, ['none'], None, '6196a6846023f6d3c1e4d30f6c86f3d4186e4c664a33e5692b0e04e49b26a9af'),
    ('https://example.com/file.txt?a=1&b=2', None, 'foo', None, ['a', 'b'], None, 'c8f4b41117329d54af920010394f6f607bac707e933ab2f18d372e3dd4c7fcb3'),
    ('https://example.com/file.txt?b=2&a=1', None, None, None, [], None, '980ee327518ccc5a7c30703e1a2232e8ba9047b39431f940636c85b6146f8b9a'),
]

# dragonfly-client-util 1.5.10 src/url/mod.rs, tests::filter_query_params_drops_filtered_keys_and_sorts_the_rest.
# (url, filtered_query_params, canonical url)
UPSTREAM_1_5_10_CANONICAL_URL_VECTORS = [
    ('https://example.com/file.txt?z=9&b=2&a=1', ['z'], 'https://example.com/file.txt?a=1&b=2'),
    ('https://example.com/file.txt?b=2&a=1&b=1', ['c'], 'https://example.com/file.txt?a=1&b=2&b=1'),
    ('https://example.com?foo=foo', ['foo'], 'https://example.com'),
    ('https://example.com?foo=foo&bar=bar', ['foo'], 'https://example.com?bar=bar'),
    ('https://example.com?foo=foo#size', ['foo'], 'https://example.com#size'),
    ('https://user:pass@[::1]:8080?foo=foo&bar=bar', ['foo'], 'https://user:pass@[::1]:8080?bar=bar'),
    ('https://example.com/?foo=foo', ['foo'], 'https://example.com/'),
    ('https://example.com/?foo=foo&bar=bar', ['foo'], 'https://example.com/?bar=bar'),
    ('https://example.com/file.txt?k=a b&m=x*y&n=c~d', ['none'], 'https://example.com/file.txt?k=a+b&m=x%2Ay&n=c~d'),
    ('http://www.xx.yy/path?u=f&x=y&m=z&x=s#size', ['x', 'm'], 'http://www.xx.yy/path?u=f#size'),
    ('http://www.xx.yy/path?u=f&x=y&m=z&x=s#size', [], 'http://www.xx.yy/path?u=f&x=y&m=z&x=s#size'),
    ('https://example.com/file.txt?a=1;x&b=2', ['none'], 'https://example.com/file.txt?b=2'),
]

# dragonflyoss/client v0.2.27 dragonfly-client-util/src/id_generator/mod.rs (no "STANDARD" suffix before v0.2.28).
LEGACY_TASK_ID_VECTORS = [
    ('https://example.com', 1024, 'foo', 'bar', [], '99a47b38e9d3321aebebd715bea0483c1400cef2f767f84d97458f9dcedff221'),
    ('https://example.com', None, 'foo', 'bar', [], '160fa7f001d9d2e893130894fbb60a5fb006e1d61bff82955f2946582bc9de1d'),
    ('https://example.com', None, 'foo', None, [], '2773851c628744fb7933003195db436ce397c1722920696c4274ff804d86920b'),
    ('https://example.com', None, None, 'bar', [], '63dee2822037636b0109876b58e95692233840753a882afa69b9b5ee82a6c57d'),
    ('https://example.com', 1024, None, None, [], '40c21de3ad2f1470ca1a19a2ad2577803a1829851f6cf862ffa2d4577ae51d38'),
    ('https://example.com?foo=foo&bar=bar', None, None, None, ['foo', 'bar'], '100680ad546ce6a577f42f52df33b4cfdca756859e664b8d7de329b150d09ce9'),
]

# Generated by the url crate 2.5.4 (the version locked by dragonfly-client 1.4.0) running a verbatim copy of
# the upstream IDGenerator::task_id URLBased branch of v1.4.0 (the rules to v1.5.2) (throwaway harness, not part of this repository).
# A filtered value of None stands for the default list, which the harness was given explicitly.
# (url, filtered_query_params, tag, application, revision, piece_length, normalized url, task id)
RUST_URL_CRATE_VECTORS = [
    ('HTTPS://Example.COM/Path/To?Q=1', [], None, None, None, None,
     'https://example.com/Path/To?Q=1',
     'cdccd057e1a0ae79471ac9042e0c2df410f05a7c1a6d84ef69f7c56976098220'),
    ('https://example.com:443/a', [], None, None, None, None,
     'https://example.com/a',
     'c058b4454fdd8b341e618fe172efddeac19e1bb263022380725d72ed62285d61'),
    ('http://example.com:80/', [], None, None, None, None,
     'http://example.com',
     '84473207d3cacefe73dd55ea49c71db18d8d6f814148ec7f1a6f2dba8d62d7cd'),
    ('http://example.com:8080/', [], None, None, None, None,
     'http://example.com:8080',
     'd4d6420e93fad400f8cf249c90487c155822ead4ba4c81cf3ccf78e03fc9dd30'),
    ('https://example.com:80/x', [], None, None, None, None,
     'https://example.com:80/x',
     'c18009ee3468e81d20443d6179e0dfc7389ebadf020c700c6f26e08a24df1e3d'),
    ('http://example.com:0080/x', [], None, None, None, None,
     'http://example.com/x',
     '0bf6d8266524d7d8a8e738b363612ac0e22272d057f94bbd73f748a51cdbc05c'),
    ('https://registry.example.com/v2/myorg/myrepo/blobs/sha256:1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef', None, None, None, None, None,
     'https://registry.example.com/v2/myorg/myrepo/blobs/sha256:1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef',
     'c9426ff9dbb80b0a12b068275c51e904231661f08548270da514ed99f5119305'),
    ('https://example.com/file?b=2&a=1&X-Amz-Signature=abc&c=3', None, None, None, None, None,
     'https://example.com/file?b=2&a=1&c=3',
     '6160621c2d7fb862b50b743745884f7ac2fc9027a91d513a7e41d1b569cae1cf'),
    ('https://example.com/file?x-amz-signature=abc&X-Amz-Signature=abc', None, None, None, None, None,
     'https://example.com/file?x-amz-signature=abc',
     '522b1c206bf5ee7b3e249d45f4eca3949ada38fae9c473eb9a65cb31967e3148'),
    ('https://example.com/f?a=b%20c&d=e+f&g=%2B&h=~&i=%7E&j=a/b&k=%3D', [], None, None, None, None,
     'https://example.com/f?a=b+c&d=e+f&g=%2B&h=%7E&i=%7E&j=a%2Fb&k=%3D',
     '11603173786d745042b8c3794154c0c194b49b5f339bf2e34d31d69fe6fa16d4'),
    ('https://example.com/f?q=hello world&r=caf\xe9&s=\xe9t\xe9', [], None, None, None, None,
     'https://example.com/f?q=hello+world&r=caf%C3%A9&s=%C3%A9t%C3%A9',
     '35b8f2d89bf04c253a176d0627d1e01a8ca1d0b6b1c45e14154d1e4c897c2eab'),
    ('https://example.com/f?a=1&a=2&b&c=&=d&&e=5', ['b'], None, None, None, None,
     'https://example.com/f?a=1&a=2&c=&=d&e=5',
     '3ffd21bd1437d11e0162debd0241a88a08938e25258c63e6f1954ea4b015b685'),
    ('https://example.com/f?', [], None, None, None, None,
     'https://example.com/f',
     '4e2ea5f24bdbdf1cbc2fb3536b92e38e52f0f1d7c8e335d9fc03ff2948a85ef2'),
    ('https://example.com/?a=1', ['a'], None, None, None, None,
     'https://example.com',
     '457b4328cde278e422c9e243f7bfd1e97f511fec43a80f535cf6b0ef6b086776'),
    ('https://example.com/f?a=1&b=2#frag ment', ['a'], None, None, None, None,
     'https://example.com/f?b=2#frag%20ment',
     '0554b60de1cf03fd4cf59eefaadcbb23ba882201bed785729747e67f0feb6cde'),
    ('https://example.com/#/', [], None, None, None, None,
     'https://example.com/#',
     'c9bf5f18875f9cdda2bf269fabea666b61e0318431bc4961acbf4b68e4681516'),
    ('https://example.com/a#b?c=1', ['c'], None, None, None, None,
     'https://example.com/a#b?c=1',
     'ac8d493f609f2dfffb0eaa04950561795f7baeb130b36c613f054b73825bb5b0'),
    ('http://[2001:DB8:0:0:0:0:0:1]:8080/x', [], None, None, None, None,
     'http://[2001:db8::1]:8080/x',
     'cdee000270b6eb54767897ea09e11a9a6e3d94dce15828d6e8a410ff2a7ed42f'),
    ('http://[::ffff:192.168.0.1]/', [], None, None, None, None,
     'http://[::ffff:c0a8:1]',
     '30c6ca20d31560342f4f71c45abe6b776bc5038214dda6593e52fd550963a6f7'),
    ('https://example.com/dir/', [], None, None, None, None,
     'https://example.com/dir/',
     '4b396a8fdb89eb146ed4b576d2a477c043d4fd94c2d672a3e6bb64feded2aabe'),
    ('https://example.com//', [], None, None, None, None,
     'https://example.com//',
     '83428bf421fee9c2f4ec709e4e5dcaa8b08d184781c2fb3e6b803db2e0606090'),
    ('https://example.com/a/./b/../c/%2e%2E/d/.', [], None, None, None, None,
     'https://example.com/a/d/',
     'b0bcbd1fca31006f8040d9832b2e872e9481b3329e0fa86795066eaf86b3b6a3'),
    ('https://example.com\\a\\b', [], None, None, None, None,
     'https://example.com/a/b',
     'bbe31e5141d4f2a557aae2cb7b735b053f6f35f5f21e88cd3a1060dd0e4d90a5'),
    ('https:example.com/x', [], None, None, None, None,
     'https://example.com/x',
     'a2e40abf6c39b8103e58728768ec9b9de2de9e0b21eeec5ba473dc31b6314709'),
    ('https://user:@example.com/', [], None, None, None, None,
     'https://user@example.com',
     '02295eed498cfbcf03bf369a137ec0eee81f1e1a0b1ab6834f0f72282202a960'),
    ('http://0x7f.1/', [], None, None, None, None,
     'http://127.0.0.1',
     'fc00a7b8f0a7892402556b1122ca15f039159ee3bd87c7561112674dbdd55884'),
    ('http://ex%41mple.com/', [], None, None, None, None,
     'http://example.com',
     '84473207d3cacefe73dd55ea49c71db18d8d6f814148ec7f1a6f2dba8d62d7cd'),
    ('s3://My-Bucket/Key/Path?versionId=1&X-Amz-Date=x', None, None, None, None, None,
     's3://My-Bucket/Key/Path?versionId=1',
     'f977c03bf622f7702afca0493da490ed7d2ff59e2f69a54518e230a26e37803b'),
    ('s3://bucket/', [], None, None, None, None,
     's3://bucket',
     '2c7aa18ba9a4c072a381a145be24372c42f18175d8a359a435a2c3d581db1b8f'),
    ('hdfs://NameNode:9000/a b/\xe9', [], None, None, None, None,
     'hdfs://NameNode:9000/a%20b/%C3%A9',
     '3b193988b09f9838fbb14c33627aaa2826dc0ae16a3eaaa658d7a048203ebe31'),
    ('oss://bu%41cket/k?x=1', [], None, None, None, None,
     'oss://bu%41cket/k?x=1',
     '051ff3f0838bd54200aad69bc449b66da9439e225cd8c42e08fe2246287aca1d'),
    ('https://example.com/f?a=%FF&b=%E2%82&c=%F0%9F%98&d=%ED%A0%80&e=%C0%AF', [], None, None, None, None,
     'https://example.com/f?a=%EF%BF%BD&b=%EF%BF%BD&c=%EF%BF%BD&d=%EF%BF%BD%EF%BF%BD%EF%BF%BD&e=%EF%BF%BD%EF%BF%BD',
     'de950a414c3cd4efa28ad54ec6f015dfb23f3eb8638193df7ae9a7fdc74ee865'),
    ('https://example.com/f?a=1;b=2', ['b'], None, None, None, None,
     'https://example.com/f?a=1%3Bb%3D2',
     'adb4c5c4908379e7f91770225b882bd4bbd9e3257cd863cb81cbc3f9b463731e'),
    ('https://example.com/f?ns=docker.io&X-Amz-Expires=1', None, 't', 'a', None, 4194304,
     'https://example.com/f',
     'b1f0ff139f41cc59ab3150ed894496734e19ba56ed7690e88d6389b509312689'),
    ('https://example.com/?a=1', [], None, None, None, None,
     'https://example.com/?a=1',
     '3fcf5703e74d955da85a442ec305c13163e496df369db49d790573b45f37396f'),
    ('https://example.com/#//', [], None, None, None, None,
     'https://example.com/#',
     'c9bf5f18875f9cdda2bf269fabea666b61e0318431bc4961acbf4b68e4681516'),
    ('https://Example.com:443?X-Amz-Signature=1&X-Amz-Date=2', None, None, None, None, None,
     'https://example.com',
     '457b4328cde278e422c9e243f7bfd1e97f511fec43a80f535cf6b0ef6b086776'),
]


@pytest.mark.parametrize('client_version', ['1.4.0', '1.5.2', '1.5.10', None])
@pytest.mark.parametrize('url, piece_length, tag, application, filtered, revision, expected', UPSTREAM_TASK_ID_VECTORS)
def test_task_id_matches_upstream_vectors(url, piece_length, tag, application, filtered, revision, expected, client_version):
    assert task_id(url, piece_length=piece_length, tag=tag, application=application,
                   filtered_query_params=filtered, revision=revision, client_version=client_version) == expected


@pytest.mark.parametrize('client_version', ['1.5.3', 'v1.5.10', None])
@pytest.mark.parametrize('url, piece_length, tag, application, filtered, revision, expected', UPSTREAM_1_5_10_TASK_ID_VECTORS)
def test_task_id_matches_upstream_1_5_10_vectors(url, piece_length, tag, application, filtered, revision, expected, client_version):
    assert task_id(url, piece_length=piece_length, tag=tag, application=application,
                   filtered_query_params=filtered, revision=revision, client_version=client_version) == expected


# The first three reorder or re-escape the query; the last two hash the same string under both rules.
@pytest.mark.parametrize('url, piece_length, tag, application, filtered, revision, expected', UPSTREAM_1_5_10_TASK_ID_VECTORS[:3])
def test_task_id_rules_before_v1_5_3_give_other_ids_for_these_urls(url, piece_length, tag, application, filtered, revision,
                                                                   expected):
    # The contrast: the older canonical URL keeps the query's order and form-encodes it, so these IDs differ.
    assert task_id(url, piece_length=piece_length, tag=tag, application=application,
                   filtered_query_params=filtered, revision=revision, client_version='1.5.2') != expected


@pytest.mark.parametrize('url, filtered, expected', UPSTREAM_1_5_10_CANONICAL_URL_VECTORS)
def test_canonical_url_matches_upstream_1_5_10_vectors(url, filtered, expected):
    assert canonical_url(url, filtered) == expected
    assert canonical_url(url, filtered, client_version='1.5.10') == expected


def test_canonical_url_before_v1_5_3_is_normalize_url():
    url = 'https://Example.com/file.txt?z=9&b=2&a=1'
    assert canonical_url(url, ['z'], client_version='1.4.0') == normalize_url(url, ['z']) == 'https://example.com/file.txt?b=2&a=1'
    assert canonical_url(url, ['z'], client_version='1.5.3') == 'https://example.com/file.txt?a=1&b=2'


def test_registry_blob_urls_have_the_same_id_under_both_rules():
    # What image preheats hash: a blob URL without a query, or with containerd's ns (in the default list).
    for url in (BLOB_URL, BLOB_URL + '?ns=docker.io'):
        assert task_id(url, client_version='1.4.0') == task_id(url, client_version='1.5.10') == task_id(BLOB_URL)


@pytest.mark.parametrize('url, piece_length, tag, application, filtered, expected', LEGACY_TASK_ID_VECTORS)
def test_task_id_of_clients_before_v0_2_28(url, piece_length, tag, application, filtered, expected):
    assert task_id(url, piece_length=piece_length, tag=tag, application=application,
                   filtered_query_params=filtered, client_version='v0.2.27') == expected


def test_task_id_of_clients_hashing_revision_after_piece_length():
    # Expected value before upstream commit c6a2b95f (#1714), i.e. clients v1.2.12 to v1.2.14.
    expected = '91a1996a00d8ba39f7fecada21a7e24d0bde597842e5cb436ea99f77eca88a21'
    assert task_id('https://example.com', 1024, 'foo', 'bar', [], 'v1.0', client_version='1.2.14') == expected
    assert task_id('https://example.com', 1024, 'foo', 'bar', [], 'v1.0', client_version='1.2.15') == UPSTREAM_TASK_ID_VECTORS[0][-1]


@pytest.mark.parametrize('url, filtered, tag, application, revision, piece_length, normalized, expected', RUST_URL_CRATE_VECTORS)
def test_task_id_matches_rust_url_crate(url, filtered, tag, application, revision, piece_length, normalized, expected):
    # The canonical URL of clients up to v1.5.2.
    assert normalize_url(url, filtered) == normalized
    assert task_id(url, piece_length, tag, application, filtered, revision, client_version='1.5.2') == expected


@pytest.mark.parametrize('url, expected', [
    ('HTTPS://Example.COM/Path', 'https://example.com/Path'),
    ('https://example.com:443/a', 'https://example.com/a'),
    ('http://example.com:80/a', 'http://example.com/a'),
    ('https://example.com:8443/a', 'https://example.com:8443/a'),
    ('https://example.com/', 'https://example.com'),
    ('https://example.com', 'https://example.com'),
    ('https://example.com/dir/', 'https://example.com/dir/'),
    (BLOB_URL, BLOB_URL),
    ('s3://Bucket/Key', 's3://Bucket/Key'),
])
def test_normalize_url_basics(url, expected):
    assert normalize_url(url, []) == expected


def test_normalize_url_removes_filtered_pairs_and_keeps_order():
    url = 'https://example.com/f?z=1&foo=2&a=3&bar=4&m=5'
    assert normalize_url(url, ['foo', 'bar']) == 'https://example.com/f?z=1&a=3&m=5'


def test_normalize_url_reencodes_the_query_even_without_filtering():
    assert normalize_url('https://example.com/f?a=b%20c&t=~&flag', []) == 'https://example.com/f?a=b+c&t=%7E&flag='


def test_normalize_url_drops_a_query_left_empty():
    assert normalize_url('https://example.com/f?foo=1&foo=2', ['foo']) == 'https://example.com/f'
    assert normalize_url('https://example.com/f?', []) == 'https://example.com/f'


def test_normalize_url_keeps_the_fragment():
    assert normalize_url('https://example.com/f?foo=1#part', ['foo']) == 'https://example.com/f#part'


def test_default_filtered_query_params_are_applied_when_none():
    url = 'https://bucket.s3.amazonaws.com/key?X-Amz-Signature=abc&X-Amz-Date=1&versionId=7&ns=docker.io'
    assert normalize_url(url) == 'https://bucket.s3.amazonaws.com/key?versionId=7'
    assert normalize_url(url, '') == 'https://bucket.s3.amazonaws.com/key?versionId=7'
    assert task_id(url) == task_id('https://bucket.s3.amazonaws.com/key?versionId=7', filtered_query_params=[])


def test_explicit_empty_list_filters_nothing():
    url = 'https://example.com/key?X-Amz-Signature=abc'
    assert normalize_url(url, []) == url


def test_filtered_query_params_are_case_sensitive():
    url = 'https://example.com/key?x-amz-signature=abc&X-Amz-Signature=abc'
    assert normalize_url(url) == 'https://example.com/key?x-amz-signature=abc'


def test_default_filtered_query_params_content():
    assert len(DEFAULT_FILTERED_QUERY_PARAMS) == 30
    assert len(set(DEFAULT_FILTERED_QUERY_PARAMS)) == 30
    for name in ('X-Amz-Signature', 'X-Goog-Signature', 'OSSAccessKeyId', 'X-Obs-Security-Token', 'q-sign-algorithm', 'ns'):
        assert name in DEFAULT_FILTERED_QUERY_PARAMS


def test_raw_default_filtered_query_params_is_the_manager_string():
    assert RAW_DEFAULT_FILTERED_QUERY_PARAMS.startswith('X-Amz-Algorithm&X-Amz-Credential&')
    assert RAW_DEFAULT_FILTERED_QUERY_PARAMS.endswith('&x-cos-security-token&ns')
    assert len(RAW_DEFAULT_FILTERED_QUERY_PARAMS.split('&')) == 32
    assert set(parse_filtered_query_params(RAW_DEFAULT_FILTERED_QUERY_PARAMS)) == set(DEFAULT_FILTERED_QUERY_PARAMS)


@pytest.mark.parametrize('value, expected', [
    (None, list(DEFAULT_FILTERED_QUERY_PARAMS)),
    ('', list(DEFAULT_FILTERED_QUERY_PARAMS)),
    ('foo&bar', ['foo', 'bar']),
    ('foo', ['foo']),
    ('foo, bar', ['foo, bar']),
    ([], []),
    (['foo', 'bar'], ['foo', 'bar']),
    (('foo',), ['foo']),
])
def test_parse_filtered_query_params(value, expected):
    assert parse_filtered_query_params(value) == expected


@pytest.mark.parametrize('value, message', [
    (['foo', 1], 'filtered query parameter names must be strings'),
    (42, 'filtered_query_params must be None, a string or a list of strings'),
])
def test_parse_filtered_query_params_errors(value, message):
    with pytest.raises(ValueError, match=message):
        parse_filtered_query_params(value)


@pytest.mark.parametrize('url, message', [
    ('example.com/file', 'has no scheme'),
    ('', 'has no scheme'),
    ('https://', 'has no host'),
    ('https://:8080/x', 'has an empty host'),
    ('s3:bucket/key', 'has no host'),
    ('s3:///key', 'has no host'),
    ('file:///etc/hosts', 'file URLs are not supported'),
    ('http://b\u00fccher.example/', 'internationalized host names are not supported'),
    ('http://example.com:65536/', 'invalid port'),
    ('http://example.com:12a/', 'invalid port'),
    ('http://[::1/', 'invalid IPv6 address'),
    ('http://1.2.3.4.5/', 'invalid IPv4 address'),
    ('http://a%20b/', 'invalid character'),
    ('http://xn--abc-.example/', 'invalid punycode label'),
    ('hf://bucket\\x/y', 'invalid character'),
])
def test_normalize_url_errors(url, message):
    with pytest.raises(ValueError, match=message):
        normalize_url(url, [])


def test_piece_length_zero_is_hashed():
    assert task_id('https://example.com', piece_length=0, filtered_query_params=[]) != task_id('https://example.com', filtered_query_params=[])


def test_empty_strings_are_like_missing_values():
    assert task_id('https://example.com', None, '', '', [], '') == task_id('https://example.com', filtered_query_params=[])


@pytest.mark.parametrize('kwargs, message', [
    (dict(piece_length=-1), 'piece_length must be an unsigned 64-bit integer'),
    (dict(piece_length=2 ** 64), 'piece_length must be an unsigned 64-bit integer'),
    (dict(piece_length='1024'), 'piece_length must be an unsigned 64-bit integer'),
    (dict(piece_length=True), 'piece_length must be an unsigned 64-bit integer'),
    (dict(tag=1), 'tag must be a string'),
    (dict(application=b'app'), 'application must be a string'),
    (dict(revision=1), 'revision must be a string'),
    (dict(client_version='0.2.12'), 'older than v0.2.13 are not supported'),
    (dict(client_version='latest'), 'client_version must look like'),
    (dict(client_version='1.2.11', revision='main'), 'do not hash a revision'),
])
def test_task_id_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        task_id('https://example.com', **kwargs)


def test_blob_url_in_url_mode_is_hashed_like_any_url():
    # Manager preheat jobs do not enable blob digest mode, so layers get URL based IDs.
    assert task_id(BLOB_URL) != BLOB_DIGEST
    assert task_id(BLOB_URL) == task_id(BLOB_URL, filtered_query_params=[])


def test_task_content_path():
    task = 'c4f108ab1d2b8cfdffe89ea9676af35123fa02e3c25167d62538f630d5d44745'
    assert task_content_path('/var/lib/dragonfly', task) == '/var/lib/dragonfly/content/tasks/c4f/' + task
    assert task_content_path('/data', 'abcdef') == '/data/content/tasks/abc/abcdef'


@pytest.mark.parametrize('task', ['ab', '../../etc', '...', None])
def test_task_content_path_errors(task):
    with pytest.raises(ValueError, match='invalid task ID'):
        task_content_path('/data', task)
