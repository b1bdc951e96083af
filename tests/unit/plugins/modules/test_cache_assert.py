# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os

import pytest

from ansible.module_utils import basic

from ansible_collections.p2p.dragonfly.plugins.module_utils._task_id import task_content_path, task_id
from ansible_collections.p2p.dragonfly.plugins.modules import cache_assert


CONFIG = b'{"architecture": "amd64", "os": "linux"}'
LAYER = os.urandom(3 * 1024 * 1024 + 123)
REGISTRY = 'http://10.0.0.20:5000/v2/team/app/blobs/'


def sha(data):
    return hashlib.sha256(data).hexdigest()


def blob_url(data):
    return REGISTRY + 'sha256:' + sha(data)


def put(cache_dir, url, data, **id_args):
    path = task_content_path(cache_dir, task_id(url, **id_args))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as stream:
        stream.write(data)
    return path


@pytest.fixture
def cache(tmp_path):
    path = tmp_path / 'seed-cache'
    (path / 'content' / 'tasks').mkdir(parents=True)
    (path / 'metadata').mkdir()
    return str(path)


def preheat_result(*blobs):
    return dict(
        changed=True,
        expected_tasks=[dict(url=blob_url(data), task_id=task_id(blob_url(data)), digest='sha256:' + sha(data)) for data in blobs],
        hosts=[dict(hostname='seed-2', ip='10.0.0.6', urls=[blob_url(data) for data in blobs])],
        job=dict(id=3, state='SUCCESS', success_tasks=[]),
    )


def test_blobs_complete(cache, run_module):
    put(cache, blob_url(CONFIG), CONFIG)
    put(cache, blob_url(LAYER), LAYER)

    result = run_module(cache_assert.main, dict(cache_dir=cache, blobs=[dict(url=blob_url(CONFIG)), dict(url=blob_url(LAYER))],
                                                _ansible_check_mode=True))

    assert not result.failed, result.output
    out = result.output
    assert out['changed'] is False
    assert [item['verified'] for item in out['items']] == [True, True]
    assert out['items'][1]['sha256'] == sha(LAYER) and out['items'][1]['size'] == len(LAYER)
    assert out['items'][1]['path'] == task_content_path(cache, task_id(blob_url(LAYER)))
    assert out['summary']['ok'] == 2 and out['summary']['bytes_hashed'] == len(CONFIG) + len(LAYER)


def test_every_problem_is_listed(cache, run_module):
    put(cache, blob_url(CONFIG), CONFIG)
    # Pre-allocated at full length but never filled: the size is right, the content is not.
    put(cache, blob_url(LAYER), b'\0' * len(LAYER))
    absent = os.urandom(10)

    result = run_module(cache_assert.main, dict(cache_dir=cache, preheat_result=preheat_result(CONFIG, LAYER, absent),
                                                seed_ip='10.0.0.5'))

    assert result.failed
    msg = result.output['msg']
    assert msg.startswith(f'2 of 3 items are not complete in the cache at {cache}:')
    assert blob_url(LAYER) in msg and 'sha256 differs' in msg and 'size proves nothing' in msg
    assert blob_url(absent) in msg and task_id(blob_url(absent)) in msg
    assert task_content_path(cache, task_id(blob_url(absent))) in msg
    assert 'landed on seed-2 (10.0.0.6) (this seed peer is 10.0.0.5)' in msg
    assert [item['ok'] for item in result.output['items']] == [True, False, False]
    assert result.output['changed'] is False


def test_files_with_task_options(cache, run_module):
    url = 'http://files.test/model.bin?X-Amz-Signature=abc'
    data = b'model weights'
    put(cache, url, data, tag='models', piece_length=4194304)

    args = dict(cache_dir=cache, tag='models', piece_length=4194304,
                files=[dict(url=url, sha256='sha256:' + sha(data), size=len(data))])
    result = run_module(cache_assert.main, args)
    assert not result.failed, result.output

    args['tag'] = ''
    result = run_module(cache_assert.main, args)
    assert result.failed and 'different task ID inputs' in result.output['msg']


def test_files_follow_the_client_version(cache, run_module):
    # A query clients v1.5.3+ sort: the file a v1.4.0 seed peer wrote is found only with that client_version.
    url = 'http://files.test/model.bin?z=1&b=2'
    data = b'model weights'
    put(cache, url, data, client_version='1.4.0')

    args = dict(cache_dir=cache, client_version='v1.4.0', files=[dict(url=url, sha256=sha(data), size=len(data))])
    result = run_module(cache_assert.main, args)
    assert not result.failed, result.output

    del args['client_version']
    result = run_module(cache_assert.main, args)
    assert result.failed and 'file absent' in result.output['msg'], result.output


def test_wrong_cache_dir(tmp_path, run_module):
    empty = tmp_path / 'not-the-mount'
    empty.mkdir()

    result = run_module(cache_assert.main, dict(cache_dir=str(empty), blobs=[dict(url=blob_url(CONFIG))]))

    assert result.failed
    assert 'has no content/ directory at all' in result.output['msg']
    assert "seed peer's storage.dir" in result.output['msg']


def test_cache_dir_does_not_exist(tmp_path, run_module):
    result = run_module(cache_assert.main, dict(cache_dir=str(tmp_path / 'nope'), task_ids=['a' * 64]))

    assert result.failed and 'does not exist' in result.output['msg']


def test_quick_mode(cache, run_module):
    put(cache, blob_url(LAYER), b'\0' * len(LAYER))

    ok = run_module(cache_assert.main, dict(cache_dir=cache, mode='quick', blobs=[dict(url=blob_url(LAYER), size=len(LAYER))]))
    assert not ok.failed, ok.output
    assert ok.output['items'][0]['sha256'] is None and ok.output['summary']['bytes_hashed'] == 0

    wrong = run_module(cache_assert.main, dict(cache_dir=cache, mode='quick',
                                               blobs=[dict(url=blob_url(LAYER), size=len(LAYER) + 1)]))
    assert wrong.failed and 'size is' in wrong.output['msg']


def test_task_ids_without_hash(cache, run_module):
    put(cache, 'http://files.test/a', b'abc')

    result = run_module(cache_assert.main, dict(cache_dir=cache, task_ids=[task_id('http://files.test/a')]))

    assert not result.failed, result.output
    assert result.output['items'][0]['sha256'] == sha(b'abc') and result.output['items'][0]['verified'] is False


def test_legacy_layout(tmp_path, run_module):
    data = b'legacy content'
    peer_dir = tmp_path / 'task-1' / '10.0.0.5-1-_Seed'
    peer_dir.mkdir(parents=True)
    (peer_dir / 'data').write_bytes(data)
    (peer_dir / 'metadata').write_text('{"taskID": "task-1", "contentLength": %d, "done": true}' % len(data))

    result = run_module(cache_assert.main, dict(cache_dir=str(tmp_path), layout='legacy_go',
                                                files=[dict(url='http://files.test/a', sha256=sha(data))]))
    assert not result.failed, result.output
    assert result.output['items'][0]['task_id'] == 'task-1'

    result = run_module(cache_assert.main, dict(cache_dir=str(tmp_path), layout='legacy_go', mode='quick',
                                                files=[dict(url='http://files.test/a', sha256=sha(data))]))
    assert result.failed and 'legacy_go needs the task_id' in result.output['msg']


def test_dfctl_in_container(cache, run_module, monkeypatch):
    put(cache, blob_url(CONFIG), CONFIG)
    listing = (' ID{pad}PIECE LENGTH   CONTENT LENGTH   CREATED               FINISHED              FAILED   UPDATED\n'
               ' {id}   4.0 MiB        40 B             2026-07-01 10:00:00   -                     -        '
               '2026-07-01 10:00:00\n').format(pad=' ' * 65, id=task_id(blob_url(CONFIG)))
    commands = []

    def run_command(self, args, **kwargs):
        commands.append(args)
        return 0, listing, ''

    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', lambda self, name, required=False: '/usr/bin/docker')
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)

    result = run_module(cache_assert.main, dict(cache_dir=cache, container='seed-client', blobs=[dict(url=blob_url(CONFIG))]))

    assert commands == [['/usr/bin/docker', 'exec', 'seed-client', 'dfctl', 'task', 'ls']]
    assert result.failed
    assert 'dfctl task ls in container seed-client shows the task unfinished' in result.output['msg']


@pytest.mark.parametrize('args, expected', [
    (dict(), 'nothing to check'),
    (dict(files=[dict(size=3)]), 'files[0] needs url or task_id'),
    (dict(files=[dict(url='http://x/a', sha256='nope')]), 'files[0].sha256'),
    (dict(blobs=[dict(url='http://x/v2/a/manifests/1')]), 'give digest'),
    (dict(preheat_result=dict(changed=True)), 'preheat_result has no expected_tasks'),
    (dict(files=[dict(url='not a url')]), 'cannot compute the task ID'),
])
def test_bad_input(cache, run_module, args, expected):
    args['cache_dir'] = cache
    result = run_module(cache_assert.main, args)
    assert result.failed and expected in result.output['msg'], result.output['msg']
