# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils import _cache
from ansible_collections.p2p.dragonfly.plugins.module_utils._cache import (
    CacheChecker,
    digest_from_blob_url,
    hash_files,
    normalize_sha256,
    parse_dfctl_task_ls,
    preheat_hosts_by_url,
    sha256_file,
)


# Shaped like the output of dfctl task ls (client v1.4.0): tabled, Style::blank(), header left-aligned.
DFCTL_OUTPUT = """\
 ID                                                                 PIECE LENGTH   CONTENT LENGTH   CREATED               FINISHED              FAILED   UPDATED
 {a}   4.0 MiB        9.0 MiB          2026-07-01 10:00:00   2026-07-01 10:00:03   -        2026-07-01 10:00:03
 {b}   4.0 MiB        256.0 MiB        2026-07-01 10:00:00   -                     -        2026-07-01 10:00:09
 {c}   4.0 MiB        1.0 MiB          2026-07-01 10:00:00   -                     2026-07-01 10:00:01   2026-07-01 10:00:01
""".format(a='a' * 64, b='b' * 64, c='c' * 64)


@pytest.mark.parametrize('size', [0, 1, _cache.BLOCK_SIZE - 1, _cache.BLOCK_SIZE, _cache.BLOCK_SIZE + 1, 3 * _cache.BLOCK_SIZE + 7])
def test_sha256_file_matches_hashlib(tmp_path, size):
    data = os.urandom(size)
    path = tmp_path / 'f'
    path.write_bytes(data)
    assert sha256_file(str(path)) == (hashlib.sha256(data).hexdigest(), size)
    assert sha256_file(str(path), block_size=4096) == (hashlib.sha256(data).hexdigest(), size)


def test_hash_files_in_parallel(tmp_path):
    paths = []
    for index in range(5):
        path = tmp_path / f'f{index}'
        path.write_bytes(bytes([index]) * 100000)
        paths.append(str(path))
    paths.append(str(tmp_path / 'absent'))
    result = hash_files(paths + paths[:2], workers=4)
    assert len(result) == 6
    for index in range(5):
        assert result[paths[index]] == (hashlib.sha256(bytes([index]) * 100000).hexdigest(), 100000)
    assert isinstance(result[str(tmp_path / 'absent')], OSError)
    assert hash_files([]) == {}


def test_normalize_sha256():
    assert normalize_sha256('sha256:' + 'A' * 64, 'x') == 'a' * 64
    assert normalize_sha256('b' * 64, 'x') == 'b' * 64
    assert normalize_sha256(None, 'x') is None
    with pytest.raises(ValueError, match='files.0.sha256'):
        normalize_sha256('sha512:abc', 'files.0.sha256')


def test_digest_from_blob_url():
    assert digest_from_blob_url('http://r:5000/v2/a/b/blobs/sha256:' + 'c' * 64) == 'sha256:' + 'c' * 64
    assert digest_from_blob_url('http://r:5000/v2/a/manifests/1.0') is None


def test_parse_dfctl_task_ls():
    tasks = parse_dfctl_task_ls(DFCTL_OUTPUT)
    assert tasks['a' * 64] == dict(content_length='9.0 MiB', finished=True, failed=False)
    assert tasks['b' * 64]['finished'] is False and tasks['b' * 64]['failed'] is False
    assert tasks['c' * 64]['finished'] is False and tasks['c' * 64]['failed'] is True
    with pytest.raises(ValueError):
        parse_dfctl_task_ls('Connect Dfdaemon Failed!')


def test_preheat_hosts_by_url():
    result = dict(
        hosts=[dict(hostname='seed-1', ip='10.0.0.5', urls=['u1'])],
        job=dict(success_tasks=[dict(url='u1', hostname='seed-1', ip='10.0.0.5'),
                                dict(url='u2', hostname='seed-2', ip='10.0.0.6')]),
    )
    assert preheat_hosts_by_url(result) == {'u1': ['seed-1 (10.0.0.5)'], 'u2': ['seed-2 (10.0.0.6)']}
    assert preheat_hosts_by_url(None) == {}


def rust_file(cache_dir, task, data):
    path = os.path.join(cache_dir, 'content', 'tasks', task[:3], task)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as stream:
        stream.write(data)
    return path


def test_checker_full_mode(tmp_path):
    cache = str(tmp_path)
    good, partial = b'complete content', b'\0' * 16
    rust_file(cache, '1' * 64, good)
    rust_file(cache, '2' * 64, partial)
    items = [
        dict(url='u1', task_id='1' * 64, sha256=hashlib.sha256(good).hexdigest(), size=len(good)),
        dict(url='u2', task_id='2' * 64, sha256=hashlib.sha256(good).hexdigest(), size=len(good)),
        dict(url='u3', task_id='3' * 64, sha256=None, size=None),
    ]
    results, summary = CacheChecker(cache).check(items)
    assert [result['ok'] for result in results] == [True, False, False]
    assert results[0]['verified'] and results[0]['sha256'] == hashlib.sha256(good).hexdigest()
    assert 'sha256 differs' in results[1]['cause'] and 'size proves nothing' in results[1]['cause']
    assert results[2]['cause'].startswith('file absent')
    assert summary['total'] == 3 and summary['ok'] == 1 and summary['missing'] == 1 and summary['verified'] == 1
    assert summary['bytes_hashed'] == 32


def test_checker_quick_mode_skips_hashing(tmp_path):
    cache = str(tmp_path)
    rust_file(cache, '1' * 64, b'\0' * 16)
    items = [dict(url='u1', task_id='1' * 64, sha256='0' * 64, size=16),
             dict(url='u2', task_id='1' * 64, sha256=None, size=17)]
    results, summary = CacheChecker(cache, mode='quick').check(items)
    assert results[0]['ok'] is True and results[0]['sha256'] is None and not results[0]['verified']
    assert results[1]['ok'] is False and 'size is 16 bytes, not 17' in results[1]['cause']
    assert summary['bytes_hashed'] == 0


def test_checker_explains_missing_content_dir(tmp_path):
    results, dummy = CacheChecker(str(tmp_path)).check([dict(url='u', task_id='1' * 64, sha256=None, size=None)])
    assert 'has no content/ directory at all' in results[0]['cause']


def test_checker_names_the_seed_that_got_it(tmp_path):
    os.makedirs(os.path.join(str(tmp_path), 'content', 'tasks'))
    checker = CacheChecker(str(tmp_path), elsewhere={'u': ['seed-2 (10.0.0.6)']}, seed_ip='10.0.0.5')
    results, dummy = checker.check([dict(url='u', task_id='1' * 64, sha256=None, size=None)])
    assert 'landed on seed-2 (10.0.0.6) (this seed peer is 10.0.0.5)' in results[0]['cause']
    checker = CacheChecker(str(tmp_path), elsewhere={'u': ['seed-1 (10.0.0.5)']}, seed_ip='10.0.0.5')
    results, dummy = checker.check([dict(url='u', task_id='1' * 64, sha256=None, size=None)])
    assert 'names this seed peer' in results[0]['cause']


def test_checker_dfctl(tmp_path):
    cache = str(tmp_path)
    for task in ('a' * 64, 'b' * 64, 'd' * 64):
        rust_file(cache, task, b'x')
    checker = CacheChecker(cache, mode='quick', dfctl_tasks=parse_dfctl_task_ls(DFCTL_OUTPUT), container='seed')
    results, dummy = checker.check([dict(url=None, task_id=task, sha256=None, size=None) for task in ('a' * 64, 'b' * 64,
                                                                                                      'd' * 64)])
    assert [result['ok'] for result in results] == [True, False, False]
    assert results[0]['dfctl_finished'] is True
    assert 'shows the task unfinished' in results[1]['cause']
    assert 'does not list the task' in results[2]['cause']


def legacy_task(cache_dir, task, peer, data, done=True, length=None):
    peer_dir = os.path.join(cache_dir, task, peer)
    os.makedirs(peer_dir)
    with open(os.path.join(peer_dir, 'data'), 'wb') as stream:
        stream.write(data)
    with open(os.path.join(peer_dir, 'metadata'), 'w') as stream:
        stream.write('{"taskID": "%s", "peerID": "%s", "contentLength": %d, "done": %s}'
                     % (task, peer, len(data) if length is None else length, 'true' if done else 'false'))


def test_checker_legacy_layout(tmp_path):
    cache = str(tmp_path)
    good = b'legacy content'
    legacy_task(cache, 'task-done', '10.0.0.5-1-_Seed', good)
    legacy_task(cache, 'task-running', '10.0.0.5-2-_Seed', good[:4], done=False, length=len(good))
    checker = CacheChecker(cache, layout='legacy_go')
    sha = hashlib.sha256(good).hexdigest()
    results, dummy = checker.check([
        dict(url='u1', task_id='task-done', sha256=sha, size=None),
        dict(url='u2', task_id='task-running', sha256=None, size=None),
        dict(url='u3', task_id=None, sha256=sha, size=len(good)),
        dict(url='u4', task_id=None, sha256='0' * 64, size=None),
    ])
    assert results[0]['ok'] and results[0]['verified']
    assert results[0]['path'] == os.path.join(cache, 'task-done', '10.0.0.5-1-_Seed', 'data')
    assert not results[1]['ok'] and 'not done' in results[1]['cause']
    # Found by length and hash, without a task ID.
    assert results[2]['ok'] and results[2]['task_id'] == 'task-done'
    assert not results[3]['ok'] and 'no finished task with this length and sha256' in results[3]['cause']
