# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import time

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils import _cache, _hashing
from ansible_collections.p2p.dragonfly.plugins.module_utils._cache import (
    CacheChecker,
    CacheWatcher,
    digest_from_blob_url,
    preheat_hosts_by_url,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._dfctl import parse_dfctl_task_ls
from ansible_collections.p2p.dragonfly.plugins.module_utils._hashing import hash_files, normalize_sha256, sha256_file


# Shaped like the output of dfctl task ls (client v1.4.0): tabled, Style::blank(), header left-aligned.
DFCTL_OUTPUT = """\
 ID                                                                 PIECE LENGTH   CONTENT LENGTH   CREATED               FINISHED              FAILED   UPDATED
 {a}   4.0 MiB        9.0 MiB          2026-07-01 10:00:00   2026-07-01 10:00:03   -        2026-07-01 10:00:03
 {b}   4.0 MiB        256.0 MiB        2026-07-01 10:00:00   -                     -        2026-07-01 10:00:09
 {c}   4.0 MiB        1.0 MiB          2026-07-01 10:00:00   -                     2026-07-01 10:00:01   2026-07-01 10:00:01
""".format(a='a' * 64, b='b' * 64, c='c' * 64)


@pytest.mark.parametrize('size', [0, 1, _hashing.BLOCK_SIZE - 1, _hashing.BLOCK_SIZE, _hashing.BLOCK_SIZE + 1, 3 * _hashing.BLOCK_SIZE + 7])
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
    assert preheat_hosts_by_url(result) == {'u1': [('seed-1', '10.0.0.5')], 'u2': [('seed-2', '10.0.0.6')]}
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
    checker = CacheChecker(str(tmp_path), elsewhere={'u': [('seed-2', '10.0.0.6')]}, seed_ip='10.0.0.5')
    results, dummy = checker.check([dict(url='u', task_id='1' * 64, sha256=None, size=None)])
    assert 'landed on seed-2 (10.0.0.6) (this seed peer is 10.0.0.5)' in results[0]['cause']
    checker = CacheChecker(str(tmp_path), elsewhere={'u': [('seed-1', '10.0.0.5')]}, seed_ip='10.0.0.5')
    results, dummy = checker.check([dict(url='u', task_id='1' * 64, sha256=None, size=None)])
    assert 'names this seed peer' in results[0]['cause']


class FakeStatvfs(object):
    def __init__(self, blocks, available):
        self.f_blocks, self.f_bavail = blocks, available


@pytest.mark.parametrize('blocks, available, usage', [(1000, 1000, 0), (1000, 214, 79), (1000, 199, 81), (3, 1, 67),
                                                      (1000, 0, 100)])
def test_disk_usage_percent_counts_as_dfdaemon(monkeypatch, blocks, available, usage):
    # dfdaemon: 100 - available * 100 / total in integer arithmetic (df rounds differently and leaves out reserved
    # blocks, so it shows a lower figure).
    monkeypatch.setattr(_cache.os, 'statvfs', lambda path: FakeStatvfs(blocks, available))
    assert _cache.disk_usage_percent('/any') == usage


def test_disk_usage_percent_unknown(monkeypatch, tmp_path):
    assert _cache.disk_usage_percent(str(tmp_path / 'missing')) is None
    monkeypatch.setattr(_cache.os, 'statvfs', lambda path: FakeStatvfs(0, 0))
    assert _cache.disk_usage_percent('/any') is None


def test_checker_gives_the_disk_usage_when_a_file_is_absent(monkeypatch, tmp_path):
    os.makedirs(os.path.join(str(tmp_path), 'content', 'tasks'))
    monkeypatch.setattr(_cache, 'disk_usage_percent', lambda path: 81)
    item = dict(url='u', task_id='1' * 64, sha256=None, size=None)
    results, dummy = CacheChecker(str(tmp_path)).check([item])
    assert 'this filesystem is 81% used as dfdaemon counts it' in results[0]['cause']
    results, dummy = CacheChecker(str(tmp_path), elsewhere={'u': [('seed-1', '10.0.0.5')]}, seed_ip='10.0.0.5').check([item])
    assert 'names this seed peer' in results[0]['cause'] and '81% used' in results[0]['cause']


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


# --- CacheWatcher ------------------------------------------------------------------------------------

def _watch_item(cache_dir, name, data, sha256=True):
    task_id = hashlib.sha256(name.encode()).hexdigest()
    return dict(url=f'http://files.test/{name}', task_id=task_id,
                sha256=hashlib.sha256(data).hexdigest() if sha256 else None)


def _write(cache_dir, item, data, age=10.0):
    path = os.path.join(cache_dir, 'content', 'tasks', item['task_id'][:3], item['task_id'])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as stream:
        stream.write(data)
    moment = time.time() - age
    os.utime(path, (moment, moment))
    return path


@pytest.fixture
def counted_hashes(monkeypatch):
    hashed = []
    real = _hashing.sha256_file

    def counting(path, *args):
        hashed.append(path)
        return real(path, *args)

    monkeypatch.setattr(_hashing, 'sha256_file', counting)
    return hashed


def test_watcher_states(tmp_path, counted_hashes):
    cache_dir = str(tmp_path)
    os.makedirs(os.path.join(cache_dir, 'content', 'tasks'))
    good, bad, unknown, absent = (_watch_item(cache_dir, name, name.encode() * 10, sha256=name != 'unknown')
                                  for name in ('good', 'bad', 'unknown', 'absent'))
    _write(cache_dir, good, b'good' * 10)
    bad_path = _write(cache_dir, bad, b'\0' * 30)
    _write(cache_dir, unknown, b'whatever')
    watcher = CacheWatcher(cache_dir, [good, bad, unknown, absent])

    results = watcher.poll()

    assert [result['state'] for result in results] == ['verified', 'incomplete', 'unknown', 'incomplete']
    assert results[0]['verified'] and results[0]['cause'] is None
    assert 'sha256 differs' in results[1]['cause'] and results[1]['sha256'] == hashlib.sha256(b'\0' * 30).hexdigest()
    assert 'without an expected sha256' in results[2]['cause'] and results[2]['sha256'] is None
    assert results[3]['cause'] == 'file absent' and not results[3]['exists']
    assert not watcher.complete and not watcher.verifiable
    assert len(counted_hashes) == 2

    # Nothing changed: nothing is hashed again.
    watcher.poll()
    watcher.poll(eager=True)
    assert len(counted_hashes) == 2 and watcher.files_hashed == 2

    # The bad file gets its content: hashed again, once.
    _write(cache_dir, bad, b'bad' * 10)
    watcher.poll()
    watcher.poll()
    assert counted_hashes.count(bad_path) == 2
    assert watcher.in_state('verified')[1]['task_id'] == bad['task_id']


def test_watcher_complete(tmp_path):
    cache_dir = str(tmp_path)
    items = [_watch_item(cache_dir, name, name.encode()) for name in ('a', 'b')]
    watcher = CacheWatcher(cache_dir, items)
    assert watcher.verifiable and not watcher.complete
    assert 'no content/tasks directory' in watcher.poll()[0]['cause']
    for item, name in zip(items, ('a', 'b')):
        _write(cache_dir, item, name.encode())
    watcher.poll()
    assert watcher.complete
    assert watcher.bytes_hashed == 2


def test_watcher_waits_for_large_files_to_settle(tmp_path, counted_hashes):
    cache_dir = str(tmp_path)
    data = os.urandom(4096)
    item = _watch_item(cache_dir, 'large', data)
    now = [time.time()]
    watcher = CacheWatcher(cache_dir, [item], small_file=1024, quiet_min=1.0, clock=lambda: now[0])
    # Pre-allocated, being written a moment ago: not hashed at each look.
    path = _write(cache_dir, item, b'\0' * 4096, age=0.2)
    for dummy in range(3):
        result = watcher.poll()[0]
    assert result['state'] == 'incomplete' and 'being written' in result['cause']
    assert counted_hashes == []
    # Quiet for a second: hashed once (still zeros), then not again while unchanged.
    now[0] += 1.0
    watcher.poll()
    watcher.poll()
    assert counted_hashes == [path]
    # The download ends: quiet again, hashed once more, verified.
    _write(cache_dir, item, data, age=5.0)
    watcher.poll()
    watcher.poll()
    assert counted_hashes == [path, path] and watcher.complete


def test_watcher_eager_hashes_a_large_file_at_once(tmp_path, counted_hashes):
    cache_dir = str(tmp_path)
    data = os.urandom(4096)
    item = _watch_item(cache_dir, 'large', data)
    _write(cache_dir, item, data, age=0)
    watcher = CacheWatcher(cache_dir, [item], small_file=1024, quiet_min=1.0)
    assert watcher.poll()[0]['state'] == 'incomplete'
    assert watcher.poll(eager=True)[0]['state'] == 'verified'
    assert len(counted_hashes) == 1


def test_watcher_quiet_time_grows_with_the_size(tmp_path):
    watcher = CacheWatcher(str(tmp_path), [])
    assert watcher.quiet_seconds(8 * 1024 * 1024) == _cache.WATCH_QUIET_MIN
    assert watcher.quiet_seconds(250 * 1000 * 1000) == 0.5
    assert watcher.quiet_seconds(10 * 1024 ** 3) == _cache.WATCH_QUIET_MAX


def test_watcher_rehashes_a_file_hashed_right_after_a_write(tmp_path, counted_hashes):
    # A write in the same clock tick as the stat would not move mtime: a hash of a file written just before is not
    # trusted for that state, so a small file is hashed again at the next look.
    cache_dir = str(tmp_path)
    item = _watch_item(cache_dir, 'small', b'content')
    _write(cache_dir, item, b'\0' * 7, age=0)
    watcher = CacheWatcher(cache_dir, [item])
    watcher.poll()
    watcher.poll()
    assert len(counted_hashes) == 2


def test_watcher_file_removed(tmp_path):
    cache_dir = str(tmp_path)
    item = _watch_item(cache_dir, 'x', b'x')
    path = _write(cache_dir, item, b'x')
    watcher = CacheWatcher(cache_dir, [item])
    assert watcher.poll()[0]['verified']
    os.remove(path)
    result = watcher.poll()[0]
    assert not result['verified'] and result['cause'] == 'file absent' and not watcher.complete
