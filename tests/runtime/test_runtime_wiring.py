# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The entry point `runtime` of the peer role (and of the seed_peer role, the same shared code) against files in a
temporary directory: real ansible-playbook runs.

No daemon is involved (dragonfly_<role>_runtime_restart=false, every path below tmp_path); the only outside tool is
the `containerd` binary, whose `config dump` the role uses to read and validate config.toml (skipped without it).
Checked the way the project's test policy asks: check mode changes nothing, the real run writes what containerd and
dockerd need, a second run and a check-mode run change nothing, and `absent` restores every file byte for byte with
its mode, and removes what the wiring created.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib

import pytest
import yaml


REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
PROXY_PORT = 47001
MIRROR = 'http://127.0.0.1:%d' % PROXY_PORT

# Debian 12's /etc/containerd/config.toml (package containerd 1.6.20~ds1-1+deb12u3), byte for byte.
DEBIAN_CONFIG = '''version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.internal.v1.opt"]
    path = "/var/lib/containerd/opt"
'''

pytestmark = pytest.mark.skipif(shutil.which('containerd') is None, reason='needs the containerd binary (config dump)')


class Host(object):
    """Files of a fake host below tmp_path and a way to run a role's entry point `runtime` against them.

    role: peer or seed_peer (its dragonfly_<role>_* variables are set); proxy_port None keeps the role's default.
    """

    def __init__(self, tmp_path, role='peer', proxy_port=PROXY_PORT):
        self.role = role
        self.proxy_port = proxy_port
        self.root = tmp_path
        self.config = tmp_path / 'etc' / 'containerd' / 'config.toml'
        self.hosts_dir = tmp_path / 'etc' / 'containerd' / 'certs.d'
        self.daemon = tmp_path / 'etc' / 'docker' / 'daemon.json'
        self.base = tmp_path / 'opt' / 'dragonfly'
        collections = tmp_path / 'collections' / 'ansible_collections' / 'p2p'
        collections.mkdir(parents=True)
        (collections / 'dragonfly').symlink_to(REPO_ROOT)
        self.collections = tmp_path / 'collections'
        self.playbook = tmp_path / 'runtime.yml'
        self.playbook.write_text(yaml.safe_dump([{
            'name': 'Container runtime wiring only', 'hosts': 'localhost', 'connection': 'local', 'gather_facts': False,
            'tasks': [{'name': 'Wire', 'ansible.builtin.include_role': {'name': 'p2p.dragonfly.%s' % role, 'tasks_from': 'runtime'}}],
        }]))

    def variables(self, **extra):
        prefix = 'dragonfly_%s_' % self.role
        variables = {'dragonfly_base_dir': str(self.base)}
        variables.update((prefix + key, value) for key, value in {
            'runtime_state': 'present',
            'containerd_config_file': str(self.config),
            'containerd_hosts_dir': str(self.hosts_dir),
            'containerd_registries': [{'host': '10.0.0.20:5000', 'insecure': True}, {'host': 'docker.io'}],
            'docker_mirror': True,
            'docker_config_file': str(self.daemon),
            'runtime_restart': False,
        }.items())
        if self.proxy_port is not None:
            variables[prefix + 'proxy_port'] = self.proxy_port
        variables.update(extra)
        return variables

    def run(self, check=False, groups=(), **extra):
        """One ansible-playbook run; groups: inventory groups localhost is in (none: the implicit localhost)."""
        return self.run_with_output(check=check, groups=groups, **extra)[0]

    def run_with_output(self, check=False, groups=(), diff=False, callback='default', playbook=None, **extra):
        """As run(), with --diff if asked and the given stdout callback; returns (changed count, stdout + stderr)."""
        extra_vars = self.root / 'vars.json'
        extra_vars.write_text(json.dumps(self.variables(**extra)))
        inventory = []
        if groups:
            localhost = {'localhost': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}
            path = self.root / 'inventory.yml'
            path.write_text(yaml.safe_dump({group: {'hosts': localhost} for group in groups}))
            inventory = ['-i', str(path)]
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(self.collections), ANSIBLE_NOCOLOR='1',
                   ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0', ANSIBLE_RETRY_FILES_ENABLED='0',
                   ANSIBLE_STDOUT_CALLBACK=callback, ANSIBLE_PIPELINING='1')
        command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), str(playbook or self.playbook),
                   '-e', '@%s' % extra_vars] + inventory + (['--check'] if check else []) + (['--diff'] if diff else [])
        result = subprocess.run(command, env=env, cwd=str(self.root), capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, 'ansible-playbook failed:\n%s\n%s' % (result.stdout[-6000:], result.stderr[-3000:])
        if callback == 'json':
            stats = json.loads(result.stdout[result.stdout.index('{'):])['stats']['localhost']
            return stats['changed'], result.stdout + result.stderr
        recap = re.search(r'localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', result.stdout)
        assert recap, 'no recap in:\n%s' % result.stdout[-6000:]
        return int(recap.group(2)), result.stdout + result.stderr

    def snapshot(self):
        """sha256 and mode of every file below etc/, and the directories there."""
        state = {}
        for path in sorted((self.root / 'etc').rglob('*')):
            mode = oct(path.stat().st_mode & 0o7777)
            state[str(path)] = (hashlib.sha256(path.read_bytes()).hexdigest(), mode) if path.is_file() else ('dir', mode)
        return state


def make_host(tmp_path, **kwargs):
    host = Host(tmp_path, **kwargs)
    host.config.parent.mkdir(parents=True)
    host.config.write_text(DEBIAN_CONFIG)
    host.daemon.parent.mkdir(parents=True)
    # Someone else's settings, 4-space indented, mode 0640: all of it must come back as it was.
    host.daemon.write_text('{\n    "log-driver": "json-file",\n    "registry-mirrors": ["https://mirror.example"]\n}\n')
    host.daemon.chmod(0o640)
    # A hosts.toml of the admin's own for docker.io, 0600, in a directory the wiring must not remove.
    (host.hosts_dir / 'docker.io').mkdir(parents=True)
    (host.hosts_dir / 'docker.io' / 'hosts.toml').write_text('server = "https://registry-1.docker.io"\n')
    (host.hosts_dir / 'docker.io' / 'hosts.toml').chmod(0o600)
    return host


@pytest.fixture
def host(tmp_path):
    return make_host(tmp_path)


@pytest.fixture
def seed_host(tmp_path):
    """The seed_peer role's entry point `runtime`, with its default proxy port."""
    return make_host(tmp_path, role='seed_peer', proxy_port=None)


def containerd_config_path(config):
    dump = subprocess.run(['containerd', '--config', str(config), 'config', 'dump'], capture_output=True, text=True, check=True)
    return re.search(r'(?m)^\s*config_path = "(.*)"', dump.stdout).group(1)


def test_wire_rerun_and_restore_byte_for_byte(host):
    original = host.snapshot()

    assert host.run(check=True) > 0
    assert host.snapshot() == original, 'check mode changed files'

    assert host.run() > 0
    # containerd: one hosts.toml per registry, config_path set by containerd's own reading of the file.
    insecure = tomllib.loads((host.hosts_dir / '10.0.0.20:5000' / 'hosts.toml').read_text())
    assert insecure['server'] == 'http://10.0.0.20:5000'
    assert insecure['host'][MIRROR]['header'] == {'X-Dragonfly-Registry': 'http://10.0.0.20:5000'}
    hub = tomllib.loads((host.hosts_dir / 'docker.io' / 'hosts.toml').read_text())
    assert hub['server'] == 'https://registry-1.docker.io'
    assert hub['host'][MIRROR] == {'capabilities': ['pull', 'resolve'], 'header': {'X-Dragonfly-Registry': 'https://registry-1.docker.io'}}
    assert containerd_config_path(host.config) == str(host.hosts_dir)
    assert host.config.read_text().startswith(DEBIAN_CONFIG), 'the original lines of config.toml must stay as they were'
    # Docker: the proxy first, everything else kept, the file's mode kept.
    assert json.loads(host.daemon.read_text()) == {'log-driver': 'json-file', 'registry-mirrors': [MIRROR, 'https://mirror.example']}
    assert host.daemon.stat().st_mode & 0o7777 == 0o640
    wired = host.snapshot()

    assert host.run() == 0, 'second run changed something'
    assert host.run(check=True) == 0, 'check mode after a run predicts a change'
    assert host.snapshot() == wired

    assert host.run(check=True, dragonfly_peer_runtime_state='absent') > 0
    assert host.snapshot() == wired, 'check mode changed files'

    assert host.run(dragonfly_peer_runtime_state='absent') > 0
    assert host.snapshot() == original
    assert not (host.base / 'runtime-backup' / 'dragonfly-peer').exists()
    assert host.run(dragonfly_peer_runtime_state='absent') == 0


# Credentials a host's runtime files can hold: registry auth in config.toml, a proxy with a password in daemon.json.
CONFIG_SECRET = 'Ctd-auth-s3cret-7f41'
DAEMON_SECRET = 'Dockerd-proxy-s3cret-2b9c'
CONFIG_WITH_AUTH = DEBIAN_CONFIG + '''
[plugins."io.containerd.grpc.v1.cri".registry.configs."10.0.0.30:5000".auth]
  username = "puller"
  password = "%s"
''' % CONFIG_SECRET


def leaks(output, *files):
    """Which of the secrets, or the base64 of the files' current content (as slurp returns it), the output holds."""
    found = [secret for secret in (CONFIG_SECRET, DAEMON_SECRET) if secret in output]
    found += [str(path) for path in files if path.exists() and base64.b64encode(path.read_bytes()).decode() in output]
    return found


def test_no_runtime_file_content_in_any_result(host):
    host.config.write_text(CONFIG_WITH_AUTH)
    host.daemon.write_text(json.dumps({'proxies': {'http-proxy': 'http://puller:%s@10.0.0.40:3128' % DAEMON_SECRET},
                                       'registry-mirrors': ['https://mirror.example']}, indent=4) + '\n')
    files = (host.config, host.daemon)
    original = host.snapshot()

    # Every result in full (the json callback keeps registered output, module arguments and diffs, like the job
    # events AWX stores), with --diff, for each step of the wiring's life.
    for step in ({'check': True}, {}, {}, {'check': True, 'dragonfly_peer_runtime_state': 'absent'},
                 {'dragonfly_peer_runtime_state': 'absent'}):
        before = [base64.b64encode(path.read_bytes()).decode() for path in files]
        changed, output = host.run_with_output(diff=True, callback='json', **step)
        assert leaks(output, *files) == [] and not any(text in output for text in before), step
    # The wiring worked with those files in place, and put them back byte for byte.
    assert host.snapshot() == original

    # The contrast: a task that registers config.toml the way the role once did shows up in the same scan.
    reader = host.root / 'read.yml'
    reader.write_text(yaml.safe_dump([{'hosts': 'localhost', 'connection': 'local', 'gather_facts': False, 'tasks': [
        {'name': 'Read', 'ansible.builtin.slurp': {'src': str(host.config)}},
        {'name': 'Dump', 'ansible.builtin.command': {'argv': ['containerd', '--config', str(host.config), 'config', 'dump']}}]}]))
    changed, output = host.run_with_output(callback='json', playbook=reader)
    assert leaks(output, *files) == [CONFIG_SECRET, str(host.config)]


def test_registry_taken_off_the_list_is_restored_alone(host):
    original = host.snapshot()
    assert host.run() > 0
    assert host.run(dragonfly_peer_containerd_registries=[{'host': '10.0.0.20:5000', 'insecure': True}],
                    dragonfly_peer_docker_mirror=False) > 0
    now = host.snapshot()
    for path in (host.hosts_dir / 'docker.io' / 'hosts.toml', host.daemon):
        assert now[str(path)] == original[str(path)], '%s not restored' % path
    assert (host.hosts_dir / '10.0.0.20:5000' / 'hosts.toml').exists()
    assert containerd_config_path(host.config) == str(host.hosts_dir)


def test_files_changed_by_others_keep_their_changes(host):
    assert host.run() > 0
    daemon = json.loads(host.daemon.read_text())
    daemon['debug'] = True
    host.daemon.write_text(json.dumps(daemon, indent=4) + '\n')
    with open(host.config, 'a') as config:
        config.write('\n[plugins."io.containerd.internal.v1.tracing"]\n  sampling_ratio = 1.0\n')

    assert host.run(dragonfly_peer_runtime_state='absent') > 0
    assert json.loads(host.daemon.read_text()) == {'log-driver': 'json-file', 'registry-mirrors': ['https://mirror.example'],
                                                   'debug': True}
    config = host.config.read_text()
    assert config == DEBIAN_CONFIG + '\n[plugins."io.containerd.internal.v1.tracing"]\n  sampling_ratio = 1.0\n'
    assert containerd_config_path(host.config) == ''


def test_refusals_change_nothing(host):
    original = host.snapshot()
    host.config.write_text('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n'
                           '  endpoint = ["https://mirror.example"]\n')
    with_mirrors = host.snapshot()
    with pytest.raises(AssertionError, match='deprecated'):
        host.run()
    assert host.snapshot() == with_mirrors
    host.config.write_text(DEBIAN_CONFIG)
    with pytest.raises(AssertionError, match='without `ns`'):
        host.run(dragonfly_peer_proxy_rules=[{'regex': 'blobs/sha256.*', 'filteredQueryParams': ['Signature']}])
    assert host.snapshot() == original
    assert not host.base.exists()


def test_seed_peer_wires_its_own_proxy_and_restores_byte_for_byte(seed_host):
    host = seed_host
    original = host.snapshot()
    seed_mirror = 'http://127.0.0.1:4011'  # dragonfly_seed_peer_proxy_port's default

    assert host.run() > 0
    hub = tomllib.loads((host.hosts_dir / 'docker.io' / 'hosts.toml').read_text())
    assert hub['server'] == 'https://registry-1.docker.io'
    assert list(hub['host']) == [seed_mirror]
    assert hub['host'][seed_mirror]['header'] == {'X-Dragonfly-Registry': 'https://registry-1.docker.io'}
    assert containerd_config_path(host.config) == str(host.hosts_dir)
    assert json.loads(host.daemon.read_text())['registry-mirrors'] == [seed_mirror, 'https://mirror.example']
    # The seed peer's own backups, apart from a peer's (dragonfly-peer).
    assert (host.base / 'runtime-backup' / 'dragonfly-seed-peer' / 'state.json').exists()
    assert not (host.base / 'runtime-backup' / 'dragonfly-peer').exists()
    assert host.run() == 0, 'second run changed something'

    assert host.run(dragonfly_seed_peer_runtime_state='absent') > 0
    assert host.snapshot() == original
    assert not (host.base / 'runtime-backup' / 'dragonfly-seed-peer').exists()


def test_seed_peer_refuses_when_the_peer_wires_the_same_host(seed_host):
    host = seed_host
    original = host.snapshot()
    with pytest.raises(AssertionError, match='dragonfly_seed_peer_runtime_state=absent') as refused:
        host.run(groups=['dragonfly_peer', 'dragonfly_seed_peer'], dragonfly_peer_runtime_state='present')
    assert 'dragonfly_peer_runtime_state=present' in str(refused.value)
    assert host.snapshot() == original
    assert not host.base.exists()
    # Only a host of the peer group whose peer wires: elsewhere the same settings pass (check mode: nothing written).
    assert host.run(check=True, dragonfly_peer_runtime_state='present') > 0
    assert host.snapshot() == original


def test_containers_drop_in_wired_and_restored_byte_for_byte(host):
    """CRI-O/Podman: the drop-in replaces an admin's file of the same name while wired, which comes back as it was."""
    drop_in = host.root / 'etc' / 'containers' / 'registries.conf.d' / '99-dragonfly-peer.conf'
    drop_in.parent.mkdir(parents=True)
    drop_in.write_text('# the admin\'s own\n[[registry]]\nprefix = "docker.io"\nlocation = "mirror.example"\n')
    drop_in.chmod(0o600)
    original = host.snapshot()
    wiring = {'dragonfly_peer_containers_registries': [{'host': 'docker.io'}],
              'dragonfly_peer_containers_registries_file': str(drop_in)}
    assert host.run(**wiring) > 0
    written = tomllib.loads(drop_in.read_text())
    assert written['registry'] == [{'prefix': 'docker.io', 'location': 'docker.io',
                                    'mirror': [{'location': '127.0.0.1:%d' % PROXY_PORT, 'insecure': True}]}]
    assert host.run(**wiring) == 0
    assert host.run(check=True, **wiring) == 0
    assert host.run(dragonfly_peer_runtime_state='absent', **wiring) > 0
    assert host.snapshot() == original


def test_containers_registry_other_than_the_mirror_is_refused(host):
    """The proxy forwards CRI-O/Podman requests to the registry mirror: another registry there is refused."""
    original = host.snapshot()
    with pytest.raises(AssertionError, match='would be fetched from there'):
        host.run(dragonfly_peer_containers_registries=[{'host': 'docker.io'}, {'host': 'quay.io'}],
                 dragonfly_peer_containers_registries_file=str(host.root / 'etc' / 'containers' / 'x.conf'))
    assert host.snapshot() == original
    assert not host.base.exists()
