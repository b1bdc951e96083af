# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module runtime_wiring against files below tmp_path, with a stand-in for the containerd binary (tests/runtime
runs the roles with the real one): check mode writes nothing, a run writes what the runtimes need and says which
daemon restarts or reloads, a second run changes nothing, absent restores every file byte for byte, and no content of
config.toml or daemon.json ever reaches the result."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import stat
import tomllib

import pytest

from ansible.module_utils import basic

from ansible_collections.p2p.dragonfly.plugins.module_utils import _containerd_config, _runtime_wiring
from ansible_collections.p2p.dragonfly.plugins.modules import runtime_wiring


MIRROR = 'http://127.0.0.1:4001'
CONFIG_SECRET = 'Ctd-auth-s3cret-7f41'
DAEMON_SECRET = 'Dockerd-proxy-s3cret-2b9c'
CONFIG = '''version = 2
# the admin's comment
[plugins."io.containerd.grpc.v1.cri".registry.configs."10.0.0.30:5000".auth]
  username = "puller"
  password = "%s"
''' % CONFIG_SECRET
DAEMON = '{\n    "proxies": {"http-proxy": "http://puller:%s@10.0.0.40:3128"},\n    "registry-mirrors": ["https://m.example"]\n}\n' % DAEMON_SECRET


class FakeContainerd(object):
    """`containerd --version` and `containerd --config FILE config dump` as containerd 1.6 answers them: the dump
    in version 2 layout with the CRI registry's config_path (from the table of the file's version), its disabled
    plugins and its deprecated mirrors; exit code 1 for a file that is not TOML."""

    def __init__(self):
        self.calls = []
        self.installed = True

    def get_bin_path(self, name, *args, **kwargs):
        return '/usr/bin/containerd' if name == 'containerd' and self.installed else None

    def run_command(self, args, **kwargs):
        self.calls.append(list(args))
        if args[1:] == ['--version']:
            return 0, 'containerd github.com/containerd/containerd 1.6.20 1.6.20-1\n', ''
        with open(args[2], 'rb') as stream:
            try:
                data = tomllib.load(stream)
            except tomllib.TOMLDecodeError:
                return 1, '', 'failed to load TOML'
        plugin = {1: 'cri', 2: 'io.containerd.grpc.v1.cri', 3: 'io.containerd.cri.v1.images'}[data.get('version', 1)]
        registry = data.get('plugins', {}).get(plugin, {}).get('registry', {})
        dump = 'disabled_plugins = %s\nversion = 2\n\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = %s\n' % (
            json.dumps(data.get('disabled_plugins', [])), json.dumps(registry.get('config_path', '')))
        for host in registry.get('mirrors', {}):
            dump += '[plugins."io.containerd.grpc.v1.cri".registry.mirrors.%s]\n  endpoint = []\n' % json.dumps(host)
        return 0, dump, ''


@pytest.fixture
def containerd(monkeypatch):
    fake = FakeContainerd()
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', fake.get_bin_path)
    monkeypatch.setattr(basic.AnsibleModule, 'run_command', fake.run_command)
    monkeypatch.setattr(_runtime_wiring, 'CRIO_SOCKET', '/nonexistent/crio.sock')
    return fake


class Host(object):
    def __init__(self, root):
        self.root = root
        self.config = root / 'etc' / 'containerd' / 'config.toml'
        self.hosts_dir = root / 'etc' / 'containerd' / 'certs.d'
        self.daemon = root / 'etc' / 'docker' / 'daemon.json'
        self.drop_in = root / 'etc' / 'containers' / 'registries.conf.d' / '99-dragonfly-peer.conf'
        self.backup_dir = root / 'opt' / 'dragonfly' / 'runtime-backup' / 'dragonfly-peer'
        self.daemon.parent.mkdir(parents=True)
        self.daemon.write_text(DAEMON)
        self.daemon.chmod(0o640)
        self.config.parent.mkdir(parents=True)
        self.config.write_text(CONFIG)

    def args(self, **extra):
        args = dict(
            managed_by='p2p.dragonfly.peer, instance peer',
            backup_dir=str(self.backup_dir),
            containerd_registries=[dict(host='docker.io'), dict(host='10.0.0.20:5000', insecure=True)],
            containerd_config_file=str(self.config),
            containerd_hosts_dir=str(self.hosts_dir),
            docker_mirror=True,
            docker_config_file=str(self.daemon),
            containers_registries_file=str(self.drop_in),
            variable_prefix='dragonfly_peer_',
        )
        args.update(extra)
        return args

    def snapshot(self):
        found = {}
        for path in sorted((self.root / 'etc').rglob('*')):
            mode = stat.S_IMODE(path.stat().st_mode)
            found[str(path)] = (hashlib.sha256(path.read_bytes()).hexdigest(), mode) if path.is_file() else ('dir', mode)
        return found


@pytest.fixture
def host(tmp_path, containerd):
    return Host(tmp_path)


def no_content(result, *texts):
    """Neither a secret nor any whole line of the given file contents is in the result, as printed or as raw."""
    output = json.dumps(result.output) + json.dumps(result.raw, default=str)
    assert CONFIG_SECRET not in output and DAEMON_SECRET not in output
    for text in texts:
        for line in text.splitlines():
            if len(line) > 12 and 'registry-mirrors' not in line:
                assert json.dumps(line)[1:-1] not in output, line


def test_wire_rerun_and_restore_byte_for_byte(host, run_module):
    original = host.snapshot()

    predicted = run_module(runtime_wiring.main, host.args(_ansible_check_mode=True, _ansible_diff=True))
    assert not predicted.failed, predicted.output
    assert host.snapshot() == original and not host.backup_dir.exists(), 'check mode wrote something'
    assert predicted.output['restart'] == ['containerd'] and predicted.output['reload'] == ['docker']

    wired = run_module(runtime_wiring.main, host.args(_ansible_diff=True))
    assert wired.output['changed'] and wired.output['restart'] == ['containerd'] and wired.output['reload'] == ['docker']
    assert sorted(wired.output['files']) == sorted(predicted.output['files'])
    hub = tomllib.loads((host.hosts_dir / 'docker.io' / 'hosts.toml').read_text())
    assert hub['server'] == 'https://registry-1.docker.io'
    assert hub['host'][MIRROR]['header'] == {'X-Dragonfly-Registry': 'https://registry-1.docker.io'}
    # config.toml: the admin's lines as they were, config_path in the marked block after them.
    assert host.config.read_text().startswith(CONFIG)
    assert tomllib.loads(host.config.read_text())['plugins']['io.containerd.grpc.v1.cri']['registry']['config_path'] == str(host.hosts_dir)
    assert json.loads(host.daemon.read_text())['registry-mirrors'] == [MIRROR, 'https://m.example']
    assert stat.S_IMODE(host.daemon.stat().st_mode) == 0o640
    assert wired.output['wired'] == dict(containerd=['docker.io', '10.0.0.20:5000'], docker=True, containers=[])
    no_content(wired, CONFIG, DAEMON)
    state = json.loads((host.backup_dir / 'state.json').read_text())
    assert sorted(state) == ['dirs', 'entries', 'owner']
    assert state['entries'][str(host.config)]['edit'] == 'append'
    assert stat.S_IMODE((host.backup_dir / 'state.json').stat().st_mode) == 0o600
    now = host.snapshot()

    again = run_module(runtime_wiring.main, host.args())
    assert not again.output['changed'] and again.output['restart'] == again.output['reload'] == []
    assert not run_module(runtime_wiring.main, host.args(_ansible_check_mode=True)).output['changed']
    assert host.snapshot() == now

    assert run_module(runtime_wiring.main, host.args(state='absent', _ansible_check_mode=True)).output['changed']
    assert host.snapshot() == now
    restored = run_module(runtime_wiring.main, host.args(state='absent', _ansible_diff=True))
    assert restored.output['restart'] == ['containerd'] and restored.output['reload'] == ['docker']
    no_content(restored, CONFIG, DAEMON)
    assert host.snapshot() == original
    assert not host.backup_dir.exists()
    assert not run_module(runtime_wiring.main, host.args(state='absent')).output['changed']


def test_the_diff_shows_only_the_lines_of_the_wiring(host, run_module):
    diff = run_module(runtime_wiring.main, host.args(_ansible_diff=True)).output['diff']
    shown = {entry['after_header']: entry for entry in diff}
    assert shown[str(host.config)]['after'].count('\n') == 4 and 'config_path = ' in shown[str(host.config)]['after']
    assert shown[str(host.daemon)]['after'] == '"registry-mirrors"[0] = "%s"\n' % MIRROR
    assert shown[str(host.hosts_dir / 'docker.io' / 'hosts.toml')]['after'].startswith('# Managed by Ansible')


def test_files_changed_by_others_keep_their_changes(host, run_module):
    run_module(runtime_wiring.main, host.args())
    daemon = json.loads(host.daemon.read_text())
    daemon['debug'] = True
    host.daemon.write_text(json.dumps(daemon) + '\n')
    with open(host.config, 'a') as config:
        config.write('[plugins."io.containerd.internal.v1.tracing"]\n  sampling_ratio = 1.0\n')

    result = run_module(runtime_wiring.main, host.args(state='absent'))

    assert result.output['restart'] == ['containerd'] and result.output['reload'] == ['docker']
    assert json.loads(host.daemon.read_text())['registry-mirrors'] == ['https://m.example']
    assert json.loads(host.daemon.read_text())['debug'] is True
    assert host.config.read_text() == CONFIG + '[plugins."io.containerd.internal.v1.tracing"]\n  sampling_ratio = 1.0\n'


@pytest.mark.parametrize('original, how', [('{"debug": true}\n', 'restart'), ('', 'restart'), (None, 'restart'),
                                           ('{"registry-mirrors": []}\n', 'reload')])
def test_docker_restarts_when_a_reload_would_keep_the_proxy(host, run_module, original, how):
    """dockerd reloads registry-mirrors only while the key is in daemon.json."""
    if original is None:
        host.daemon.unlink()
    else:
        host.daemon.write_text(original)
    run_module(runtime_wiring.main, host.args(containerd_registries=[]))
    result = run_module(runtime_wiring.main, host.args(state='absent'))
    assert result.output[how] == ['docker']
    assert host.daemon.exists() == (original is not None)


def test_a_registry_taken_off_the_list_is_restored_alone(host, run_module):
    admin = host.hosts_dir / 'docker.io' / 'hosts.toml'
    admin.parent.mkdir(parents=True)
    admin.write_text('server = "https://registry-1.docker.io"\n')
    admin.chmod(0o600)
    run_module(runtime_wiring.main, host.args())
    assert stat.S_IMODE(admin.stat().st_mode) == 0o644

    result = run_module(runtime_wiring.main, host.args(containerd_registries=[dict(host='10.0.0.20:5000', insecure=True)],
                                                       docker_mirror=False))

    assert sorted(result.output['files']) == sorted([str(admin), str(host.daemon)])
    assert result.output['restart'] == [] and result.output['reload'] == ['docker']
    assert admin.read_text() == 'server = "https://registry-1.docker.io"\n' and stat.S_IMODE(admin.stat().st_mode) == 0o600
    assert host.daemon.read_text() == DAEMON


def test_created_directories_go_when_empty(host, run_module, monkeypatch, tmp_path):
    socket = tmp_path / 'crio.sock'
    socket.write_text('')
    monkeypatch.setattr(_runtime_wiring, 'CRIO_SOCKET', str(socket))
    args = host.args(containerd_registries=[], docker_mirror=False, containers_registries=[dict(host='docker.io')])
    wired = run_module(runtime_wiring.main, args)
    assert wired.output['reload'] == ['crio']
    assert wired.output['dirs'] == [str(host.drop_in.parent)]
    registries = tomllib.loads(host.drop_in.read_text())['registry']
    assert registries == [{'prefix': 'docker.io', 'location': 'docker.io', 'mirror': [{'location': '127.0.0.1:4001', 'insecure': True}]}]

    predicted = run_module(runtime_wiring.main, dict(args, state='absent', _ansible_check_mode=True))
    # Only the directory the wiring noted: parents made on the way (etc/containers) are not its own.
    assert predicted.output['dirs'] == [str(host.drop_in.parent)]
    (host.drop_in.parent / 'other.conf').write_text('')
    restored = run_module(runtime_wiring.main, dict(args, state='absent'))
    # The drop-in directory holds someone else's file now: it stays.
    assert restored.output['dirs'] == [] and restored.output['files'] == [str(host.drop_in)]
    assert not host.drop_in.exists() and (host.drop_in.parent / 'other.conf').exists()


def test_containerd_with_config_path_keeps_its_config_toml(host, run_module):
    config_path = '%s:/nonexistent/second' % (host.root / 'certs.d')
    host.config.write_text('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = %s\n' % json.dumps(config_path))
    result = run_module(runtime_wiring.main, host.args(containerd_hosts_dir='', docker_mirror=False))
    assert not result.failed, result.output
    assert result.output['restart'] == []
    # The first directory of config_path holds the hosts.toml files; config.toml is not touched.
    assert sorted(result.output['files']) == [str(host.root / 'certs.d' / name / 'hosts.toml') for name in ('10.0.0.20:5000', 'docker.io')]


def test_a_hosts_dir_other_than_config_path_is_refused(host, run_module):
    host.config.write_text('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/nonexistent/certs.d"\n')
    result = run_module(runtime_wiring.main, host.args())
    assert result.failed and 'its config_path is already /nonexistent/certs.d, but dragonfly_peer_containerd_hosts_dir is' in result.output['msg']


@pytest.mark.parametrize('extra, message', [
    (dict(proxy_rules=[dict(regex='blobs/sha256.*', filteredQueryParams=['Signature'])]),
     'dragonfly_peer_proxy_rules: the rules blobs/sha256.* set filteredQueryParams without `ns`.'),
    (dict(containerd_registries=[dict(host='https://docker.io/x')]),
     'dragonfly_peer_containerd_registries: every entry needs a distinct `host`, the registry host namespace as images name '
     'it (docker.io, registry.example.com:5000; no scheme, no path): wrong: https://docker.io/x; '),
    (dict(containers_registries=[dict(host='docker.io'), dict(host='quay.io')]),
     'and quay.io would be fetched from there. List only registry-1.docker.io (docker.io), or set'),
    (dict(containerd_hosts_dir='relative'), 'the hosts directory relative must be an absolute path.'),
])
def test_refusals_name_the_role_variables_and_change_nothing(host, run_module, extra, message):
    original = host.snapshot()
    result = run_module(runtime_wiring.main, host.args(**extra))
    assert result.failed and message in result.output['msg']
    assert host.snapshot() == original and not host.backup_dir.parent.exists()


def test_deprecated_registry_mirrors_are_refused(host, run_module):
    host.config.write_text('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n  endpoint = ["x"]\n')
    result = run_module(runtime_wiring.main, host.args())
    assert result.failed and 'deprecated `registry.mirrors`' in result.output['msg']
    assert not host.backup_dir.parent.exists()


def test_a_daemon_json_that_is_no_object_is_refused_without_its_content(host, run_module):
    host.daemon.write_text('["%s"]\n' % DAEMON_SECRET)
    result = run_module(runtime_wiring.main, host.args())
    assert result.failed and 'is not a JSON object' in result.output['msg']
    assert DAEMON_SECRET not in json.dumps(result.output)


def test_a_config_containerd_cannot_read_is_refused(host, run_module):
    host.config.write_text('version = 2\npassword = "%s\n' % CONFIG_SECRET)
    result = run_module(runtime_wiring.main, host.args())
    assert result.failed and 'config dump` fails on this host (exit code 1)' in result.output['msg']
    assert CONFIG_SECRET not in json.dumps(result.output)


def test_without_containerd_the_wiring_says_so(host, run_module, containerd):
    containerd.installed = False
    result = run_module(runtime_wiring.main, host.args())
    assert result.failed and '`containerd --version` fails on this host (not found on the PATH)' in result.output['msg']
    # Docker alone needs no containerd.
    assert not run_module(runtime_wiring.main, host.args(containerd_registries=[])).failed


def test_without_tomllib_containerd_names_the_requirement(host, run_module, monkeypatch):
    monkeypatch.setattr(_containerd_config, 'tomllib', None)
    result = run_module(runtime_wiring.main, host.args())
    assert result.failed and 'Python 3.11 or newer on the target' in result.output['msg']
    assert not run_module(runtime_wiring.main, host.args(containerd_registries=[])).failed


def test_a_wiring_of_earlier_releases_is_undone(host, run_module):
    """state.json and the line `config_path = "..."` as the roles' Jinja wiring (lineinfile) left them."""
    original = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = ""\n'
    host.config.write_text(original.replace('""', json.dumps(str(host.hosts_dir))) + '# added later by the admin\n')
    backup = 'originals/' + hashlib.sha1(str(host.config).encode()).hexdigest()
    (host.backup_dir / 'originals').mkdir(parents=True)
    (host.backup_dir / backup).write_text(original)
    entry = dict(kind='containerd_config', existed=True, backup=backup, mode='0644', owner='', group='',
                 checksum='0' * 40, edit='set', config_path=str(host.hosts_dir))
    (host.backup_dir / 'state.json').write_text(json.dumps(dict(owner='p2p.dragonfly.peer, instance peer', dirs={},
                                                                entries={str(host.config): entry}), indent=2))

    result = run_module(runtime_wiring.main, host.args(state='absent'))

    assert result.output['restart'] == ['containerd']
    assert host.config.read_text() == original + '# added later by the admin\n'
    assert not host.backup_dir.exists()
