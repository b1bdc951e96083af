# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import pwd
import stat
import string

import pytest

from ansible.module_utils import basic

from ansible_collections.p2p.dragonfly.plugins.module_utils._files import MARKER_TEXT
from ansible_collections.p2p.dragonfly.plugins.modules import host_secrets


GIVEN = 'Us3r-g1ven-S3cret-value'
STORED = 'St0red-0n-the-h0st-val'
ALPHABET = set(string.ascii_letters + string.digits)


@pytest.fixture
def secrets_dir(tmp_path):
    return str(tmp_path / 'etc' / 'secrets')


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def content(path):
    with open(path) as stream:
        return stream.read()


def put(path, text, file_mode=0o600):
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, 'w') as stream:
        stream.write(text)
    os.chmod(path, file_mode)


def without_secrets(result):
    """The printed result but its RV(secrets), as text."""
    return json.dumps({key: value for key, value in result.output.items() if key != 'secrets'})


def test_generates_missing_secrets_once(secrets_dir, run_module):
    args = dict(dir=secrets_dir, secrets=[dict(name='mysql-password'), dict(name='jwt-key', length=64)])

    first = run_module(host_secrets.main, args)

    assert not first.failed, first.output
    values = first.output['secrets']
    assert len(values['mysql-password']) == 32 and len(values['jwt-key']) == 64
    assert set(values['mysql-password'] + values['jwt-key']) <= ALPHABET
    assert values['mysql-password'] != values['jwt-key']
    assert first.output['changed'] is True
    assert first.output['generated'] == first.output['written'] == ['mysql-password', 'jwt-key']
    assert mode(secrets_dir) == 0o700
    for name, value in values.items():
        path = os.path.join(secrets_dir, name)
        assert content(path) == value + '\n'
        assert mode(path) == 0o600
    # Only RV(secrets) holds the values; no temporary file is left behind.
    assert not any(value in without_secrets(first) for value in values.values())
    assert sorted(os.listdir(secrets_dir)) == ['jwt-key', 'mysql-password']

    second = run_module(host_secrets.main, args)

    assert second.output['changed'] is False
    assert second.output['secrets'] == values
    assert second.output['generated'] == second.output['written'] == []


def test_reads_a_stored_value_without_trailing_white_space(secrets_dir, run_module):
    put(os.path.join(secrets_dir, 'redis-password'), STORED + '\n\n  ')

    result = run_module(host_secrets.main, dict(dir=secrets_dir, secrets=[dict(name='redis-password')]))

    assert result.output['changed'] is False
    assert result.output['secrets'] == {'redis-password': STORED}
    # The file is left as it is.
    assert content(os.path.join(secrets_dir, 'redis-password')) == STORED + '\n\n  '


@pytest.mark.parametrize('stored', ['', '\n', '  \n'])
def test_an_empty_file_counts_as_missing(secrets_dir, run_module, stored):
    path = os.path.join(secrets_dir, 'redis-password')
    put(path, stored)

    result = run_module(host_secrets.main, dict(dir=secrets_dir, secrets=[dict(name='redis-password', length=8)]))

    value = result.output['secrets']['redis-password']
    assert len(value) == 8 and result.output['generated'] == ['redis-password']
    assert content(path) == value + '\n'


def test_given_value_replaces_the_file_and_is_returned_unmasked(secrets_dir, run_module):
    path = os.path.join(secrets_dir, 'mysql-password')
    put(path, STORED + '\n')
    args = dict(dir=secrets_dir, secrets=[dict(name='mysql-password', value=GIVEN), dict(name='other', value='')])

    result = run_module(host_secrets.main, args)

    assert result.output['changed'] is True
    assert result.output['written'] == ['mysql-password', 'other']
    assert result.output['generated'] == ['other']
    assert content(path) == GIVEN + '\n' and mode(path) == 0o600
    # Returned as given, not as Ansible's mask of no_log values; the invocation still hides it.
    assert result.output['secrets']['mysql-password'] == GIVEN
    assert result.output['invocation']['module_args']['secrets'][0]['value'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    assert result.output['invocation']['module_args']['secrets'][1]['value'] == ''
    assert GIVEN not in without_secrets(result) and STORED not in json.dumps(result.output)

    again = run_module(host_secrets.main, args)

    assert again.output['changed'] is False and again.output['written'] == []
    assert again.output['secrets']['mysql-password'] == GIVEN


def test_wrong_modes_are_fixed(secrets_dir, run_module):
    path = os.path.join(secrets_dir, 'redis-password')
    put(path, STORED + '\n', 0o644)
    os.chmod(secrets_dir, 0o755)

    result = run_module(host_secrets.main, dict(dir=secrets_dir, secrets=[dict(name='redis-password')]))

    assert result.output['changed'] is True
    assert result.output['written'] == ['redis-password'] and result.output['generated'] == []
    assert mode(path) == 0o600 and mode(secrets_dir) == 0o700
    assert content(path) == STORED + '\n'


def test_wrong_directory_mode_alone_is_a_change(secrets_dir, run_module):
    put(os.path.join(secrets_dir, 'redis-password'), STORED + '\n')
    os.chmod(secrets_dir, 0o750)

    result = run_module(host_secrets.main, dict(dir=secrets_dir, secrets=[dict(name='redis-password')]))

    assert result.output['changed'] is True and result.output['written'] == []
    assert mode(secrets_dir) == 0o700


def test_generate_false_only_reads(secrets_dir, run_module):
    token = os.path.join(secrets_dir, 'preheat-token')
    put(token, 'written-by-another-task\n', 0o640)
    args = dict(dir=secrets_dir, secrets=[dict(name='preheat-token', generate=False), dict(name='absent', generate=False)])

    result = run_module(host_secrets.main, args)

    assert result.output['changed'] is False
    assert result.output['secrets'] == {'preheat-token': 'written-by-another-task', 'absent': ''}
    assert result.output['written'] == result.output['generated'] == []
    assert not os.path.exists(os.path.join(secrets_dir, 'absent'))
    # That file belongs to the other task, mode included.
    assert mode(token) == 0o640


def test_generate_false_still_writes_a_given_value(secrets_dir, run_module):
    result = run_module(host_secrets.main, dict(dir=secrets_dir, secrets=[dict(name='token', value=GIVEN, generate=False)]))

    assert result.output['written'] == ['token']
    assert content(os.path.join(secrets_dir, 'token')) == GIVEN + '\n'


def test_missing_parents_of_dir_are_created(tmp_path, run_module):
    secrets_dir = str(tmp_path / 'a' / 'b' / 'secrets')

    result = run_module(host_secrets.main, dict(dir=secrets_dir, secrets=[dict(name='key')]))

    assert result.output['changed'] is True
    assert mode(secrets_dir) == 0o700
    assert os.path.isfile(os.path.join(secrets_dir, 'key'))


def test_marker_lands_only_in_the_directories_it_creates(tmp_path, run_module):
    (tmp_path / 'base').mkdir()
    project = tmp_path / 'base' / 'manager'
    args = dict(dir=str(project / 'secrets'), marker='.created', secrets=[dict(name='key')])

    result = run_module(host_secrets.main, args)

    assert not result.failed, result.output
    assert not (tmp_path / 'base' / '.created').exists()
    for created in (project, project / 'secrets'):
        assert (created / '.created').read_text() == MARKER_TEXT and mode(str(created / '.created')) == 0o644
    (project / '.created').unlink()
    (project / 'secrets' / '.created').unlink()

    again = run_module(host_secrets.main, args)

    assert again.output['changed'] is False and not (project / '.created').exists()

    refused = run_module(host_secrets.main, dict(args, marker='a/b'))

    assert refused.failed and refused.output['msg'] == "marker 'a/b' is not a file name: give a name without '/'"


def test_check_mode_writes_nothing_but_returns_values(secrets_dir, run_module):
    args = dict(dir=secrets_dir, secrets=[dict(name='generated'), dict(name='given', value=GIVEN)],
                _ansible_check_mode=True)

    result = run_module(host_secrets.main, args)

    assert result.output['changed'] is True
    assert not os.path.exists(secrets_dir)
    assert len(result.output['secrets']['generated']) == 32 and result.output['secrets']['given'] == GIVEN
    assert result.output['generated'] == ['generated']
    assert result.output['written'] == ['generated', 'given']


def test_check_mode_leaves_existing_files_alone(secrets_dir, run_module):
    path = os.path.join(secrets_dir, 'given')
    put(path, STORED + '\n', 0o644)

    result = run_module(host_secrets.main, dict(dir=secrets_dir, secrets=[dict(name='given', value=GIVEN)],
                                                _ansible_check_mode=True))

    assert result.output['changed'] is True and result.output['written'] == ['given']
    assert content(path) == STORED + '\n' and mode(path) == 0o644


def test_writes_go_through_an_owner_only_temporary_file(secrets_dir, run_module, monkeypatch):
    moves = []
    original = basic.AnsibleModule.atomic_move

    def atomic_move(self, src, dest, *args, **kwargs):
        moves.append((os.path.dirname(src), mode(src), dest))
        return original(self, src, dest, *args, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'atomic_move', atomic_move)

    run_module(host_secrets.main, dict(dir=secrets_dir, secrets=[dict(name='key', value=GIVEN)]))

    assert moves == [(secrets_dir, 0o600, os.path.join(secrets_dir, 'key'))]


def test_owner_and_group_of_the_running_user(secrets_dir, run_module):
    user = pwd.getpwuid(os.getuid())
    group = str(os.getgid())
    args = dict(dir=secrets_dir, owner=user.pw_name, group=group, secrets=[dict(name='key')])

    first = run_module(host_secrets.main, args)
    second = run_module(host_secrets.main, args)

    assert not first.failed, first.output
    assert os.stat(os.path.join(secrets_dir, 'key')).st_uid == os.getuid()
    assert second.output['changed'] is False


@pytest.mark.parametrize('name', ['a/b', '.', '..', '', '/etc/passwd'])
def test_a_name_must_be_a_file_name(secrets_dir, run_module, name):
    result = run_module(host_secrets.main, dict(dir=secrets_dir, secrets=[dict(name='ok'), dict(name=name)]))

    assert result.failed
    assert result.output['msg'].startswith(f"secrets[1].name '{name}' is not a file name: give a name without '/'")
    assert not os.path.exists(secrets_dir)


@pytest.mark.parametrize('entries, message', [
    ([dict(name='key'), dict(name='key', value=GIVEN)], "secrets[1].name 'key' is listed twice: give each secret once"),
    ([dict(name='key', length=7)], 'secrets[0].length 7 (key) is out of range: use 8 to 4096'),
    ([dict(name='key', length=4097)], 'secrets[0].length 4097 (key) is out of range: use 8 to 4096'),
])
def test_bad_entries_fail_before_any_change(secrets_dir, run_module, entries, message):
    result = run_module(host_secrets.main, dict(dir=secrets_dir, secrets=entries))

    assert result.failed and result.output['msg'] == message
    assert not os.path.exists(secrets_dir)
    assert result.leaks(GIVEN) == []


def test_unknown_owner_fails_before_any_change(secrets_dir, run_module):
    result = run_module(host_secrets.main, dict(dir=secrets_dir, owner='no-such-user-here', secrets=[dict(name='key')]))

    assert result.failed
    assert result.output['msg'] == "owner 'no-such-user-here' does not exist on the host: create it first or set another owner"
    assert not os.path.exists(secrets_dir)


def test_relative_dir_fails(run_module):
    result = run_module(host_secrets.main, dict(dir='secrets', secrets=[dict(name='key')]))

    assert result.failed and result.output['msg'] == "dir 'secrets' is not an absolute path: give the full path"


def test_dir_that_is_a_file_fails_without_the_value(tmp_path, run_module):
    secrets_dir = tmp_path / 'secrets'
    secrets_dir.write_text('not a directory')

    result = run_module(host_secrets.main, dict(dir=str(secrets_dir), secrets=[dict(name='key', value=GIVEN)]))

    assert result.failed
    assert result.output['msg'] == f'dir {secrets_dir} exists and is not a directory: remove it or choose another dir'
    assert result.leaks(GIVEN) == []


@pytest.mark.parametrize('check_mode', [False, True])
def test_dir_below_a_file_fails(tmp_path, run_module, check_mode):
    (tmp_path / 'file').write_text('not a directory')
    secrets_dir = str(tmp_path / 'file' / 'a' / 'secrets')

    result = run_module(host_secrets.main, dict(dir=secrets_dir, secrets=[dict(name='key', value=GIVEN)],
                                                _ansible_check_mode=check_mode))

    assert result.failed
    assert result.output['msg'] == f"dir {secrets_dir} cannot be created: {tmp_path / 'file'} is not a directory"
    assert result.leaks(GIVEN) == []


def test_failing_write_does_not_show_the_value(secrets_dir, run_module, monkeypatch):
    def atomic_move(self, src, dest, *args, **kwargs):
        raise OSError(28, 'No space left on device', dest)

    monkeypatch.setattr(basic.AnsibleModule, 'atomic_move', atomic_move)

    result = run_module(host_secrets.main, dict(dir=secrets_dir, secrets=[dict(name='key', value=GIVEN)]))

    assert result.failed
    assert result.output['msg'] == f"cannot write {os.path.join(secrets_dir, 'key')}: No space left on device"
    assert result.leaks(GIVEN) == []
    # The temporary file is gone.
    assert os.listdir(secrets_dir) == []


def test_failing_write_of_a_generated_value_does_not_show_it(secrets_dir, run_module, monkeypatch):
    monkeypatch.setattr(host_secrets, 'generate', lambda length: 'G3nerated-for-the-test-only')

    def atomic_move(self, src, dest, *args, **kwargs):
        raise Exception(f'Could not replace {dest!r} with {src!r}.')

    monkeypatch.setattr(basic.AnsibleModule, 'atomic_move', atomic_move)

    result = run_module(host_secrets.main, dict(dir=secrets_dir, secrets=[dict(name='key')]))

    assert result.failed and result.output['msg'].startswith(f"cannot write {os.path.join(secrets_dir, 'key')}: Could not")
    assert result.leaks('G3nerated-for-the-test-only') == []


def test_a_file_that_is_not_text_fails_without_its_content(secrets_dir, run_module):
    path = os.path.join(secrets_dir, 'key')
    os.makedirs(secrets_dir)
    with open(path, 'wb') as stream:
        stream.write(b'\xff\xfeS3cret')

    result = run_module(host_secrets.main, dict(dir=secrets_dir, secrets=[dict(name='key')]))

    assert result.failed
    assert result.output['msg'] == f'secrets[0] (key): {path} is not UTF-8 text: remove it to have a value generated, or set value'
    assert result.leaks('S3cret') == []


def test_a_directory_in_place_of_a_file_fails_before_any_change(secrets_dir, run_module):
    os.makedirs(os.path.join(secrets_dir, 'key'))
    os.chmod(secrets_dir, 0o755)

    result = run_module(host_secrets.main, dict(dir=secrets_dir, secrets=[dict(name='first'), dict(name='key', value=GIVEN)]))

    assert result.failed
    assert result.output['msg'] == f"secrets[1] (key): {os.path.join(secrets_dir, 'key')} is not a regular file: remove it"
    assert result.leaks(GIVEN) == []
    # Nothing half-done: neither the first secret nor the directory's mode.
    assert os.listdir(secrets_dir) == ['key'] and mode(secrets_dir) == 0o755
