# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""containerd's config.toml: the config_path edit lands where the parsed file says, keeps every other line (comments
included) as it was, is refused when it cannot be made line by line, and comes out again as earlier releases put it
in (ansible.builtin.blockinfile/lineinfile)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import tomllib

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils import _containerd_config
from ansible_collections.p2p.dragonfly.plugins.module_utils._containerd_config import (
    ConfigPathEdit,
    ContainerdConfigError,
    Effective,
    containerd_major,
    file_version,
    header_path,
    hosts_dir_of,
    is_known_version,
    remove_block,
    undo_config_path,
)


HOSTS_DIR = '/etc/containerd/certs.d'
LINE = 'config_path = "/etc/containerd/certs.d"'
BEGIN = '# BEGIN p2p.dragonfly: directory of the registry hosts.toml files\n'
END = '# END p2p.dragonfly: directory of the registry hosts.toml files\n'

# A version 2 file with the CRI plugin's table but no registry table, and an admin's comments.
ADMIN_CONFIG = '''version = 2

# CNI from the distribution's package
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"  # not /opt/cni/bin
'''


def registry_of(text, plugin='io.containerd.grpc.v1.cri'):
    return tomllib.loads(text)['plugins'][plugin]['registry']


def test_a_missing_file_is_created_with_version_2_in_the_marked_block():
    edit = ConfigPathEdit(None, HOSTS_DIR)
    assert edit.edit == 'create'
    # Byte for byte what ansible.builtin.blockinfile wrote in earlier releases.
    assert edit.text == BEGIN + 'version = 2\n\n[plugins."io.containerd.grpc.v1.cri".registry]\n  ' + LINE + '\n' + END
    assert registry_of(edit.text) == {'config_path': HOSTS_DIR}


def test_without_the_registry_table_the_block_is_appended_and_nothing_else_changes():
    edit = ConfigPathEdit(ADMIN_CONFIG, HOSTS_DIR)
    assert edit.edit == 'append'
    assert edit.text == ADMIN_CONFIG + BEGIN + '[plugins."io.containerd.grpc.v1.cri".registry]\n  ' + LINE + '\n' + END
    assert edit.lines == BEGIN + '[plugins."io.containerd.grpc.v1.cri".registry]\n  ' + LINE + '\n' + END


def test_the_block_starts_on_a_line_of_its_own():
    edit = ConfigPathEdit('version = 2', HOSTS_DIR)
    assert edit.text.startswith('version = 2\n' + BEGIN)


def test_a_registry_table_made_by_its_sub_tables_gets_its_header_after_them():
    # The credentials of a registry: config_path goes beside them, in a header TOML allows after its sub-table.
    text = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.configs."r:5000".auth]\n  username = "u"\n'
    edit = ConfigPathEdit(text, HOSTS_DIR)
    assert edit.edit == 'append'
    assert registry_of(edit.text) == {'config_path': HOSTS_DIR, 'configs': {'r:5000': {'auth': {'username': 'u'}}}}


@pytest.mark.parametrize('header', [
    '[plugins."io.containerd.grpc.v1.cri".registry]',
    "[ plugins . 'io.containerd.grpc.v1.cri' . registry ]  # the admin's note",
])
def test_config_path_is_inserted_after_the_tables_header(header):
    text = 'version = 2\n# keep\n%s\n  # inside\n\n[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/x"\n' % header
    edit = ConfigPathEdit(text, HOSTS_DIR)
    assert edit.edit == 'insert'
    assert edit.text == text.replace(header + '\n', header + '\n  ' + LINE + '\n')
    assert edit.lines == '  ' + LINE + '\n'


def test_a_header_on_the_last_line_gets_its_newline():
    edit = ConfigPathEdit('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]', HOSTS_DIR)
    assert edit.text == 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  ' + LINE + '\n'


def test_an_empty_config_path_gets_the_value_and_keeps_its_comment():
    text = ('version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = ""  # set by ansible\n'
            '[plugins."io.containerd.grpc.v1.cri".registry.headers]\n  X = ["y"]\n')
    edit = ConfigPathEdit(text, HOSTS_DIR)
    assert edit.edit == 'set'
    assert edit.text == text.replace('config_path = ""', LINE)


@pytest.mark.parametrize('text, plugin', [
    ('[plugins.cri.containerd]\n  snapshotter = "overlayfs"\n', 'cri'),
    ('version = 3\n', 'io.containerd.cri.v1.images'),
])
def test_the_table_follows_the_config_version(text, plugin):
    edit = ConfigPathEdit(text, HOSTS_DIR)
    assert registry_of(edit.text, plugin) == {'config_path': HOSTS_DIR}


def test_version_1_table_header_unquoted():
    edit = ConfigPathEdit('oom_score = 0\n', HOSTS_DIR)
    assert '[plugins.cri.registry]\n' in edit.lines


def test_an_edit_that_would_change_more_is_refused():
    # The table comes from a dotted key: a header for it would define it twice.
    text = 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  registry.config_path = ""\n'
    with pytest.raises(ContainerdConfigError, match='by hand'):
        ConfigPathEdit(text, HOSTS_DIR, '/etc/containerd/config.toml')


def test_a_file_tomllib_cannot_read_is_refused_without_its_content():
    with pytest.raises(ContainerdConfigError) as refused:
        ConfigPathEdit('version = 2\npassword = "S3cret\n', HOSTS_DIR, '/etc/containerd/config.toml')
    assert '/etc/containerd/config.toml' in str(refused.value) and 'S3cret' not in str(refused.value)


def test_without_tomllib_the_requirement_is_named(monkeypatch):
    monkeypatch.setattr(_containerd_config, 'tomllib', None)
    with pytest.raises(ContainerdConfigError, match='Python 3.11 or newer on the target'):
        file_version('version = 2\n', 'config.toml')


def test_the_block_comes_out_again():
    others = '\n[plugins."io.containerd.internal.v1.tracing"]\n  sampling_ratio = 1.0\n'
    wired = ConfigPathEdit(ADMIN_CONFIG, HOSTS_DIR).text + others
    assert remove_block(wired) == ADMIN_CONFIG + others
    assert remove_block(ADMIN_CONFIG) == ADMIN_CONFIG


@pytest.mark.parametrize('edit, wired, restored', [
    # As lineinfile wrote them in earlier releases, and as this module writes them (comment kept).
    ('set', '  config_path = "/etc/containerd/certs.d"\n', '  config_path = ""\n'),
    ('set', "  config_path = '/etc/containerd/certs.d'  # note\n", '  config_path = ""  # note\n'),
    ('insert', '  config_path = "/etc/containerd/certs.d"\n', ''),
])
def test_config_path_comes_out_again(edit, wired, restored):
    head = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n'
    tail = '[plugins."io.containerd.grpc.v1.cri".cni]\n  bin_dir = "/x"\n'
    assert undo_config_path(head + wired + tail, edit, HOSTS_DIR) == head + restored + tail


def test_another_config_path_stays():
    text = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/elsewhere"\n'
    assert undo_config_path(text, 'insert', HOSTS_DIR) == text


def dump(registry='', disabled='', plugin='io.containerd.grpc.v1.cri'):
    return 'disabled_plugins = [%s]\nversion = 2\n\n[plugins]\n  [plugins."%s"]\n    [plugins."%s".registry]\n%s' % (
        disabled, plugin, plugin, registry)


def test_effective_configuration():
    effective = Effective(dump('      config_path = "/etc/containerd/certs.d:/etc/docker/certs.d"\n'))
    assert effective.config_path == '/etc/containerd/certs.d:/etc/docker/certs.d'
    assert not effective.cri_disabled and not effective.deprecated_registry
    assert hosts_dir_of(effective.config_path) == HOSTS_DIR
    assert Effective(dump('      config_path = "/x"\n', plugin='io.containerd.cri.v1.images')).config_path == '/x'
    assert Effective('').config_path == ''


@pytest.mark.parametrize('name', ['cri', 'io.containerd.grpc.v1.cri', 'io.containerd.cri.v1.images'])
def test_a_disabled_cri_plugin(name):
    assert Effective(dump(disabled='"%s"' % name)).cri_disabled
    assert not Effective(dump(disabled='"io.containerd.snapshotter.v1.btrfs"')).cri_disabled


@pytest.mark.parametrize('registry', [
    '      [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n        endpoint = ["https://m"]\n',
    '      [plugins."io.containerd.grpc.v1.cri".registry.configs."r".tls]\n        insecure_skip_verify = true\n',
])
def test_deprecated_registry_settings(registry):
    assert Effective(dump(registry)).deprecated_registry


def test_registry_credentials_alone_are_not_deprecated():
    assert not Effective(dump('      [plugins."io.containerd.grpc.v1.cri".registry.configs."r".auth]\n        username = "u"\n'
                              '      [plugins."io.containerd.grpc.v1.cri".registry.mirrors]\n')).deprecated_registry


@pytest.mark.parametrize('line, path', [
    ('[plugins."io.containerd.grpc.v1.cri".registry]\n', ('plugins', 'io.containerd.grpc.v1.cri', 'registry')),
    ('  [ plugins.cri . "registry" ] # x\n', ('plugins', 'cri', 'registry')),
    ('[[plugins.list]]\n', None),
    ('config_path = ""\n', None),
    ('["a", "b"],\n', None),
])
def test_header_path(line, path):
    assert header_path(line) == path


def test_versions():
    assert file_version(None) == 2 and file_version('') == 1 and file_version('version = 3\n') == 3
    assert is_known_version(1) and not is_known_version(4) and not is_known_version(True) and not is_known_version('2')
    assert containerd_major('containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3') == 1
    assert containerd_major('containerd containerd.io v2.0.4 1a43cb6a') == 2
    assert containerd_major('garbage') == 0
