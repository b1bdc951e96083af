# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import pwd
import stat

import pytest

from ansible.module_utils import basic

from ansible_collections.p2p.dragonfly.plugins.module_utils._files import MARKER_TEXT
from ansible_collections.p2p.dragonfly.plugins.modules import project_files


SECRET = 'MYSQL_PASSWORD=Pr0ject-s3cret-c0ntent\n'
OLD_SECRET = 'MYSQL_PASSWORD=0ld-pr0ject-s3cret\n'
COMPOSE = 'services:\n  scheduler:\n    image: dragonflyoss/scheduler:v2.5.0\n'
CONFIG = 'server:\n  port: 8002\nverbose: false\n'


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def content(path):
    with open(path) as stream:
        return stream.read()


def tree(root):
    """Every path under root with its mode and content, to prove nothing changed."""
    found = {}
    for top, dirs, files in os.walk(root):
        for name in dirs:
            path = os.path.join(top, name)
            found[path] = (mode(path), None)
        for name in files:
            path = os.path.join(top, name)
            found[path] = (mode(path), content(path))
    return found


@pytest.fixture
def project(tmp_path):
    return str(tmp_path / 'scheduler')


def project_args(project, **extra):
    args = dict(
        dirs=[
            dict(path=project, mode='0755'),
            dict(path=project + '/config', mode='0750'),
            dict(path=project + '/logs', managed=False),
        ],
        files=[
            dict(path=project + '/compose.yaml', content=COMPOSE),
            dict(path=project + '/config/scheduler.yaml', content=CONFIG, mode='0640'),
        ],
        secret_files=[dict(path=project + '/.env', content=SECRET)],
    )
    args.update(extra)
    return args


def test_creates_dirs_and_files(project, run_module):
    result = run_module(project_files.main, project_args(project))

    assert not result.failed, result.output
    out = result.output
    assert out['changed'] is True
    assert out['dirs'] == [project, project + '/config', project + '/logs']
    assert out['files'] == [project + '/compose.yaml', project + '/config/scheduler.yaml', project + '/.env']
    assert mode(project) == 0o755 and mode(project + '/config') == 0o750
    assert os.path.isdir(project + '/logs')
    assert content(project + '/compose.yaml') == COMPOSE and mode(project + '/compose.yaml') == 0o644
    assert content(project + '/config/scheduler.yaml') == CONFIG and mode(project + '/config/scheduler.yaml') == 0o640
    assert content(project + '/.env') == SECRET and mode(project + '/.env') == 0o600
    assert 'diff' not in out
    assert result.leaks(SECRET) == []
    # No temporary file is left behind.
    assert sorted(os.listdir(project)) == ['.env', 'compose.yaml', 'config', 'logs']


def test_second_call_changes_nothing(project, run_module):
    run_module(project_files.main, project_args(project))
    before = tree(project)

    result = run_module(project_files.main, project_args(project, _ansible_diff=True))

    assert result.output['changed'] is False
    assert result.output['dirs'] == [] and result.output['files'] == []
    assert result.output['diff'] == []
    assert tree(project) == before


def test_changed_content_is_rewritten_and_shown(project, run_module):
    run_module(project_files.main, project_args(project))
    new_config = CONFIG.replace('verbose: false', 'verbose: true')
    args = project_args(project, _ansible_diff=True)
    args['files'][1]['content'] = new_config

    result = run_module(project_files.main, args)

    assert result.output['changed'] is True
    assert result.output['dirs'] == [] and result.output['files'] == [project + '/config/scheduler.yaml']
    assert result.output['diff'] == [dict(before_header=project + '/config/scheduler.yaml', before=CONFIG,
                                          after_header=project + '/config/scheduler.yaml', after=new_config)]
    assert content(project + '/config/scheduler.yaml') == new_config
    assert mode(project + '/config/scheduler.yaml') == 0o640


def test_wrong_modes_are_fixed(project, run_module):
    run_module(project_files.main, project_args(project))
    os.chmod(project + '/config', 0o777)
    os.chmod(project + '/compose.yaml', 0o666)
    os.chmod(project + '/.env', 0o644)
    # Not managed: left alone.
    os.chmod(project + '/logs', 0o700)

    result = run_module(project_files.main, project_args(project, _ansible_diff=True))

    assert result.output['changed'] is True
    assert result.output['dirs'] == [project + '/config']
    assert result.output['files'] == [project + '/compose.yaml', project + '/.env']
    assert mode(project + '/config') == 0o750 and mode(project + '/compose.yaml') == 0o644 and mode(project + '/.env') == 0o600
    assert mode(project + '/logs') == 0o700
    assert content(project + '/compose.yaml') == COMPOSE
    assert result.output['diff'] == [
        dict(before_header=project + '/config', after_header=project + '/config', before=dict(mode='0777'),
             after=dict(mode='0750')),
        dict(before_header=project + '/compose.yaml', after_header=project + '/compose.yaml', before=dict(mode='0666'),
             after=dict(mode='0644')),
    ]


def test_a_new_file_lands_with_an_owner_only_temporary_file(project, run_module, monkeypatch):
    os.makedirs(project)
    moves = []
    original = basic.AnsibleModule.atomic_move

    def atomic_move(self, src, dest, *args, **kwargs):
        moves.append((os.path.dirname(src), mode(src), dest))
        return original(self, src, dest, *args, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'atomic_move', atomic_move)

    run_module(project_files.main, dict(files=[dict(path=project + '/compose.yaml', content=COMPOSE)],
                                        secret_files=[dict(path=project + '/.env', content=SECRET)]))

    assert moves == [(project, 0o600, project + '/compose.yaml'), (project, 0o600, project + '/.env')]
    assert mode(project + '/compose.yaml') == 0o644


def test_a_file_too_open_is_fixed_before_new_content_lands(project, run_module, monkeypatch):
    os.makedirs(project)
    with open(project + '/.env', 'w') as stream:
        stream.write(OLD_SECRET)
    os.chmod(project + '/.env', 0o644)
    modes_at_move = []
    original = basic.AnsibleModule.atomic_move

    def atomic_move(self, src, dest, *args, **kwargs):
        modes_at_move.append(mode(dest))
        return original(self, src, dest, *args, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'atomic_move', atomic_move)

    result = run_module(project_files.main, dict(secret_files=[dict(path=project + '/.env', content=SECRET)]))

    assert result.output['files'] == [project + '/.env']
    assert modes_at_move == [0o600]
    assert content(project + '/.env') == SECRET and mode(project + '/.env') == 0o600


def test_check_mode_writes_nothing(project, run_module):
    result = run_module(project_files.main, project_args(project, _ansible_check_mode=True, _ansible_diff=True))

    assert result.output['changed'] is True
    assert not os.path.exists(project)
    assert result.output['dirs'] == [project, project + '/config', project + '/logs']
    assert result.output['files'] == [project + '/compose.yaml', project + '/config/scheduler.yaml', project + '/.env']
    diff = result.output['diff']
    assert diff[0] == dict(before_header=project, after_header=project, before=dict(path=project, state='absent'),
                           after=dict(path=project, state='directory', mode='0755'))
    assert diff[2]['after'] == dict(path=project + '/logs', state='directory')
    assert diff[3] == dict(before_header=project + '/compose.yaml', before='',
                           after_header=project + '/compose.yaml', after=COMPOSE)
    assert len(diff) == 5
    assert result.leaks(SECRET) == []


def test_check_mode_on_an_existing_project_changes_nothing(project, run_module):
    run_module(project_files.main, project_args(project))
    os.chmod(project + '/compose.yaml', 0o600)
    before = tree(project)
    args = project_args(project, _ansible_check_mode=True)
    args['files'][1]['content'] = 'changed\n'
    args['secret_files'][0]['content'] = OLD_SECRET

    result = run_module(project_files.main, args)

    assert result.output['changed'] is True
    assert result.output['files'] == [project + '/compose.yaml', project + '/config/scheduler.yaml', project + '/.env']
    assert tree(project) == before


def test_secret_content_is_never_shown(project, run_module):
    run_module(project_files.main, project_args(project))
    os.chmod(project + '/.env', 0o640)
    args = project_args(project, _ansible_diff=True)
    args['secret_files'][0]['content'] = OLD_SECRET

    result = run_module(project_files.main, args)

    assert result.output['files'] == [project + '/.env']
    assert result.output['diff'] == []
    assert result.leaks(SECRET, OLD_SECRET) == []
    # Masked in the invocation, as any no_log option.
    assert result.output['invocation']['module_args']['secret_files'][0]['content'] == 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'
    # Its path, mode and owner are not masked elsewhere.
    assert result.output['invocation']['module_args']['secret_files'][0]['path'] == project + '/.env'
    assert content(project + '/.env') == OLD_SECRET and mode(project + '/.env') == 0o600


def test_failing_write_of_a_secret_does_not_show_it(project, run_module, monkeypatch):
    os.makedirs(project)

    def atomic_move(self, src, dest, *args, **kwargs):
        raise Exception(f'Failed to replace {dest!r} with {src!r}.')

    monkeypatch.setattr(basic.AnsibleModule, 'atomic_move', atomic_move)

    result = run_module(project_files.main, dict(secret_files=[dict(path=project + '/.env', content=SECRET)]))

    assert result.failed
    assert result.output['msg'].startswith(f"secret_files[0] ({project}/.env): cannot write the file: Failed to replace")
    assert result.leaks(SECRET) == []
    assert os.listdir(project) == []


def test_secret_in_a_missing_directory_fails_without_its_content(project, run_module):
    result = run_module(project_files.main, dict(secret_files=[dict(path=project + '/.env', content=SECRET)]))

    assert result.failed
    assert result.output['msg'] == (f"secret_files[0] ({project}/.env): the directory {project} does not exist: add it to "
                                    f"dirs, or create it first")
    assert result.leaks(SECRET) == []


@pytest.mark.parametrize('change, message', [
    (lambda args, p: args['files'].append(dict(path='relative/compose.yaml', content=COMPOSE)),
     "files[2].path 'relative/compose.yaml' is not an absolute path: give the full path"),
    (lambda args, p: args['dirs'].append(dict(path='data', mode='0755')),
     "dirs[3].path 'data' is not an absolute path: give the full path"),
    (lambda args, p: args['files'].append(dict(path=p + '/missing/app.yaml', content=COMPOSE)),
     "files[2] ({p}/missing/app.yaml): the directory {p}/missing does not exist: add it to dirs, or create it first"),
    (lambda args, p: args['dirs'].append(dict(path=p + '/a/b', mode='0755')),
     "dirs[3] ({p}/a/b): the parent directory {p}/a does not exist: list it in dirs before this one, or create it first"),
    (lambda args, p: args['dirs'].insert(0, dict(path=p + '/data', mode='0755')),
     "dirs[0] ({p}/data): the parent directory {p} does not exist: list it in dirs before this one, or create it first"),
    (lambda args, p: args['dirs'].append(dict(path=p + '/data', mode='rwxr-xr-x')),
     "dirs[3] ({p}/data).mode 'rwxr-xr-x' is not an octal mode: quote an octal number such as '0755'"),
    (lambda args, p: args['files'][0].update(mode='0855'),
     "files[0] ({p}/compose.yaml).mode '0855' is not an octal mode: quote an octal number such as '0755'"),
    (lambda args, p: args['secret_files'][0].update(mode=0o17777),
     "secret_files[0] ({p}/.env).mode '8191' is not an octal mode: quote an octal number such as '0755'"),
    (lambda args, p: args['dirs'].append(dict(path=p + '/data')),
     "dirs[3] ({p}/data): mode is required: set mode, or managed: false"),
    (lambda args, p: args['files'].append(dict(path=p + '/.env', content=COMPOSE)),
     "secret_files[0] ({p}/.env) is listed twice (also files[2] ({p}/.env)): list each path once"),
    (lambda args, p: args['files'].append(dict(path=p + '/config', content=COMPOSE)),
     "files[2] ({p}/config) is listed twice (also dirs[1] ({p}/config)): list each path once"),
    (lambda args, p: args['files'][0].update(owner='no-such-user-here'),
     "files[0] ({p}/compose.yaml).owner 'no-such-user-here' does not exist on the host: create it first or set another owner"),
    (lambda args, p: args['dirs'][0].update(group='no-such-group-here'),
     "dirs[0] ({p}).group 'no-such-group-here' does not exist on the host: create it first or set another group"),
    (lambda args, p: args['dirs'][1].update(marker='../escape'),
     "dirs[1] ({p}/config).marker '../escape' is not a file name: give a name without '/'"),
    (lambda args, p: args.update(absent=['relative/.env']),
     "absent[0] 'relative/.env' is not an absolute path: give the full path"),
    (lambda args, p: args.update(absent=[p + '/.env']),
     "absent[0] ({p}/.env) is listed twice (also secret_files[0] ({p}/.env)): list each path once"),
])
def test_bad_input_fails_before_writing_anything(project, run_module, change, message):
    args = project_args(project)
    change(args, project)

    result = run_module(project_files.main, args)

    assert result.failed
    assert result.output['msg'] == message.format(p=project)
    assert not os.path.exists(project)
    assert result.leaks(SECRET) == []


def test_existing_paths_of_the_wrong_kind_fail_before_writing_anything(project, run_module):
    run_module(project_files.main, project_args(project))
    os.rmdir(project + '/logs')
    with open(project + '/logs', 'w') as stream:
        stream.write('a file where a directory belongs\n')
    before = tree(project)
    args = project_args(project)
    args['files'][0]['content'] = 'changed\n'

    result = run_module(project_files.main, args)

    assert result.failed
    assert result.output['msg'] == f'dirs[2] ({project}/logs) exists and is not a directory: remove it or choose another path'
    assert tree(project) == before

    os.unlink(project + '/logs')
    os.unlink(project + '/compose.yaml')
    os.makedirs(project + '/compose.yaml')

    result = run_module(project_files.main, project_args(project))

    assert result.failed
    assert result.output['msg'] == f'files[0] ({project}/compose.yaml) is a directory: remove it or choose another path'


def test_unmanaged_directory_gets_its_mode_only_when_created(project, run_module):
    os.makedirs(project)
    args = dict(dirs=[dict(path=project + '/data', mode='0700', managed=False)])

    created = run_module(project_files.main, args)

    assert created.output['dirs'] == [project + '/data'] and mode(project + '/data') == 0o700
    os.chmod(project + '/data', 0o755)

    again = run_module(project_files.main, args)

    assert again.output['changed'] is False and mode(project + '/data') == 0o755


def test_marker_lands_only_in_directories_the_module_creates(tmp_path, run_module):
    found = tmp_path / 'found'
    found.mkdir()
    made = str(tmp_path / 'made')
    args = dict(dirs=[dict(path=str(found), mode='0755', marker='.created'), dict(path=made, mode='0700', marker='.created'),
                      dict(path=made + '/data', managed=False, marker='.created')])

    check = run_module(project_files.main, dict(args, _ansible_check_mode=True))

    assert check.output['dirs'] == [made, made + '/data'] and not os.path.exists(made)

    result = run_module(project_files.main, args)

    assert not result.failed, result.output
    assert not (found / '.created').exists()
    for path in (made, made + '/data'):
        assert content(path + '/.created') == MARKER_TEXT and mode(path + '/.created') == 0o644
    os.unlink(made + '/.created')

    again = run_module(project_files.main, args)

    assert again.output['changed'] is False and not os.path.exists(made + '/.created')


@pytest.mark.parametrize('given, expected', [('0755', 0o755), ('755', 0o755), ('0o750', 0o750), (0o711, 0o711), ('1777', 0o1777)])
def test_mode_forms(project, run_module, given, expected):
    result = run_module(project_files.main, dict(dirs=[dict(path=project, mode=given)]))

    assert not result.failed, result.output
    assert mode(project) == expected


def test_owner_and_group_of_the_running_user(project, run_module):
    user = pwd.getpwuid(os.getuid()).pw_name
    args = dict(dirs=[dict(path=project, mode='0755', owner=user, group=str(os.getgid()))],
                files=[dict(path=project + '/compose.yaml', content=COMPOSE, owner=user)],
                secret_files=[dict(path=project + '/.env', content=SECRET, owner=str(os.getuid()), group=str(os.getgid()))])

    first = run_module(project_files.main, args)
    second = run_module(project_files.main, args)

    assert not first.failed, first.output
    assert os.stat(project + '/.env').st_uid == os.getuid()
    assert second.output['changed'] is False


@pytest.mark.skipif(os.geteuid() != 0, reason='changing the owner of a file needs root')
def test_owner_is_fixed_as_root(project, run_module):
    run_module(project_files.main, project_args(project))
    os.chown(project + '/compose.yaml', 65534, 65534)
    args = project_args(project, _ansible_diff=True)
    args['files'][0].update(owner='0', group='0')

    result = run_module(project_files.main, args)

    assert result.output['files'] == [project + '/compose.yaml']
    assert (os.stat(project + '/compose.yaml').st_uid, os.stat(project + '/compose.yaml').st_gid) == (0, 0)
    assert result.output['diff'][0]['before'] == dict(owner=65534, group=65534)


def test_a_symlinked_directory_is_followed(tmp_path, run_module):
    real = tmp_path / 'real-data'
    real.mkdir(mode=0o700)
    link = tmp_path / 'data'
    link.symlink_to(real)

    result = run_module(project_files.main, dict(dirs=[dict(path=str(link), mode='0750')],
                                                 files=[dict(path=str(link / 'f.txt'), content='x\n')]))

    assert result.output['dirs'] == [str(link)]
    assert link.is_symlink() and mode(str(real)) == 0o750
    assert (real / 'f.txt').read_text() == 'x\n'


def test_large_and_binary_files_are_not_shown(project, run_module):
    os.makedirs(project)
    with open(project + '/binary', 'wb') as stream:
        stream.write(b'\x00\xff')
    large = 'x' * (project_files.MAX_DIFF_SIZE + 1)

    result = run_module(project_files.main, dict(files=[dict(path=project + '/large', content=large),
                                                        dict(path=project + '/binary', content='text\n')],
                                                 _ansible_diff=True))

    assert result.output['diff'] == [
        dict(before_header=project + '/large', after_header=project + '/large', src_larger=project_files.MAX_DIFF_SIZE),
        dict(before_header=project + '/binary', after_header=project + '/binary', dst_binary=1),
    ]
    assert content(project + '/binary') == 'text\n'


def test_nothing_to_do(run_module):
    result = run_module(project_files.main, dict())

    assert result.output['changed'] is False
    assert result.output['dirs'] == [] and result.output['files'] == []


def test_absent_files_are_removed_and_shown(project, run_module):
    run_module(project_files.main, project_args(project))
    for name in ('.mariadb.env', 'old.env'):
        with open(os.path.join(project, name), 'w') as stream:
            stream.write(OLD_SECRET)
    absent = [project + '/.mariadb.env', project + '/old.env', project + '/never-there']

    checked = run_module(project_files.main, project_args(project, absent=absent, _ansible_check_mode=True))
    assert checked.output['changed'] is True and checked.output['removed'] == absent[:2]
    assert os.path.exists(project + '/old.env')

    result = run_module(project_files.main, project_args(project, absent=absent, _ansible_diff=True))
    assert result.output['changed'] is True
    assert result.output['dirs'] == [] and result.output['files'] == [] and result.output['removed'] == absent[:2]
    assert result.output['diff'] == [
        dict(before_header=path, after_header=path, before=dict(path=path, state='file'), after=dict(path=path, state='absent'))
        for path in absent[:2]]
    assert not os.path.lexists(absent[0]) and not os.path.lexists(absent[1])
    assert result.leaks(OLD_SECRET) == []

    again = run_module(project_files.main, project_args(project, absent=absent))
    assert again.output['changed'] is False and again.output['removed'] == []


def test_an_absent_path_that_is_a_directory_fails_before_any_change(project, run_module):
    run_module(project_files.main, project_args(project))
    before = tree(project)

    result = run_module(project_files.main, project_args(project, absent=[project + '/config']))

    assert result.failed
    assert result.output['msg'] == f"absent[0] ({project}/config) is a directory: list files only"
    assert tree(project) == before
