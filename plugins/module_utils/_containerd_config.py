# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""containerd and its config.toml: what containerd makes of the file (asked of containerd itself), where the hosts.toml
files go, and the one change the runtime wiring makes there, the CRI registry's config_path, with its undo.

The edit is textual because tomllib cannot write and rewriting parsed data would drop the admin's comments and
order: it is placed with what the parse says and the result is parsed again, which must give the original settings
plus (or minus) config_path. Tables, versions and the marked block: docs/dev/module-utils.md#runtime-wiring.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import re
import sys

try:
    import tomllib
except ImportError:  # Python < 3.11 on the target: tomli is the same parser, packaged by distributions (python3-tomli)
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None


TOMLLIB_REQUIREMENT = ('Python 3.11 or newer on the target (its standard library tomllib reads containerd\'s config.toml), '
                       'or the tomli package for an older Python (python3-tomli)')

# The CRI plugin whose registry table holds config_path, by config version: 3 is containerd 2's layout; version 1
# (no `version` key) names the plugin `cri`.
CRI_PLUGIN_BY_VERSION = {3: 'io.containerd.cri.v1.images', 2: 'io.containerd.grpc.v1.cri', 1: 'cri'}
# The names under which disabled_plugins can switch the CRI plugin off (Docker's containerd.io package ships "cri").
CRI_PLUGIN_NAMES = ('cri', 'io.containerd.grpc.v1.cri', 'io.containerd.cri.v1.images')
DEFAULT_HOSTS_DIR = '/etc/containerd/certs.d'
# The marker lines of the block the wiring appends (ansible.builtin.blockinfile's, as earlier releases wrote them).
BLOCK_MARKER = '# %s p2p.dragonfly: directory of the registry hosts.toml files'
BLOCK_BEGIN = BLOCK_MARKER % 'BEGIN'
BLOCK_END = BLOCK_MARKER % 'END'

CONFIG_PATH_VALUE = re.compile(r'''^(\s*(?:config_path|"config_path"|'config_path')\s*=\s*)("[^"\\]*"|'[^']*')''')


class ContainerdConfigError(Exception):
    """A refusal; the message names the file and the setting, never the file's content."""


def load_toml(text, what):
    """Parse TOML text; what: how the message names it. tomllib's errors give a position, not the text."""
    if tomllib is None:
        raise ContainerdConfigError('reading %s needs %s; this host runs Python %d.%d.'
                                    % (what, TOMLLIB_REQUIREMENT, sys.version_info[0], sys.version_info[1]))
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContainerdConfigError('%s is not TOML that Python\'s tomllib reads (%s); nothing was changed.' % (what, exc))


def table_header(plugin):
    """The registry table's name as the wiring writes it: plugins."<id>".registry (the id quoted when it has dots)."""
    return 'plugins.%s.registry' % (json.dumps(plugin) if '.' in plugin else plugin)


class Effective(object):
    """What containerd makes of its configuration (`containerd config dump`: version migration and imports done)."""

    def __init__(self, dump):
        data = load_toml(dump, 'the output of `containerd config dump`')
        plugins = data.get('plugins') or {}
        registries = [plugin.get('registry') for plugin in plugins.values() if isinstance(plugin, dict)]
        registries = [registry for registry in registries if isinstance(registry, dict)]
        cri = [(plugins.get(name) or {}).get('registry') or {} for name in CRI_PLUGIN_NAMES[1:]]
        self.config_path = next((registry.get('config_path') for registry in cri if registry.get('config_path')), '')
        self.cri_disabled = any(name in CRI_PLUGIN_NAMES for name in data.get('disabled_plugins') or [])
        # containerd refuses these together with config_path (docs/hosts.md).
        self.deprecated_registry = any(
            registry.get('mirrors') or any(isinstance(config, dict) and 'tls' in config
                                           for config in (registry.get('configs') or {}).values())
            for registry in registries)


def file_version(text, what='config.toml'):
    """The config version of the file: its `version` key; 1 without one; 2 for a file that does not exist yet (the
    wiring creates it with version 2)."""
    if text is None:
        return 2
    return load_toml(text, what).get('version', 1)


def is_known_version(version):
    # TOML's `version = true` is no version, though True == 1.
    return isinstance(version, int) and not isinstance(version, bool) and version in CRI_PLUGIN_BY_VERSION


def header_path(line):
    """The key path of a table header line ([a."b.c".d] -> ('a', 'b.c', 'd')), or None for any other line."""
    stripped = line.strip()
    if not stripped.startswith('[') or stripped.startswith('[['):
        return None
    try:
        parsed = tomllib.loads(stripped)
    except tomllib.TOMLDecodeError:
        return None
    path = []
    while isinstance(parsed, dict) and len(parsed) == 1:
        key, parsed = next(iter(parsed.items()))
        path.append(key)
    return tuple(path) if path and parsed == {} else None


def is_config_path_line(line, value):
    """Whether the line alone is `config_path = <value>` (quotes, spacing and a trailing comment as the admin likes)."""
    if 'config_path' not in line:
        return False
    try:
        return tomllib.loads(line) == {'config_path': value}
    except tomllib.TOMLDecodeError:
        return False


def replace_value(line, value):
    """The config_path line with another value, its key, spacing and trailing comment kept (unchanged if it does not
    look as expected: the parse of the result then refuses the edit)."""
    match = CONFIG_PATH_VALUE.match(line)
    return match.group(1) + value + line[match.end():] if match else line


def with_config_path(data, table_path, value):
    """data with config_path set in the table at table_path (tables made as needed), or removed with value None."""
    result = copy.deepcopy(data)
    table = result
    for key in table_path:
        table = table.setdefault(key, {})
    if value is None:
        table.pop('config_path', None)
    else:
        table['config_path'] = value
    return result


def ensure_newline(lines):
    if lines and not lines[-1].endswith('\n'):
        lines[-1] += '\n'


class ConfigPathEdit(object):
    """The edit that sets config_path = hosts_dir in the registry table of the file's version.

    edit: create (no file: a new one with the block), append (no header of that table: the block at the end), set
    (the table has config_path = "": its value replaced) or insert (the table has none: a line after its header).
    text: the whole new file. lines: only the lines the edit adds or changes, for a diff that shows no other content.
    """

    def __init__(self, text, hosts_dir, what='config.toml'):
        self.what = what
        self.line = 'config_path = %s' % json.dumps(hosts_dir)
        if text is None:
            self.edit = 'create'
            self.text = self.block('version = 2\n\n', table_header(CRI_PLUGIN_BY_VERSION[2]))
            self.lines = self.text
            expected = with_config_path({'version': 2}, ('plugins', CRI_PLUGIN_BY_VERSION[2], 'registry'), hosts_dir)
            self.verify(self.text, expected)
            return
        data = load_toml(text, what)
        plugin = CRI_PLUGIN_BY_VERSION[data.get('version', 1)]
        table_path = ('plugins', plugin, 'registry')
        lines = text.splitlines(True)
        header = next((index for index, line in enumerate(lines) if header_path(line) == table_path), None)
        if header is None:
            self.edit = 'append'
            self.lines = self.block('', table_header(plugin))
            ensure_newline(lines)
            lines.append(self.lines)
        else:
            end = next((index for index in range(header + 1, len(lines)) if header_path(lines[index])), len(lines))
            found = [index for index in range(header + 1, end) if is_config_path_line(lines[index], '')]
            if found:
                self.edit = 'set'
                lines[found[0]] = replace_value(lines[found[0]], json.dumps(hosts_dir))
                self.lines = '  %s\n' % self.line
            else:
                self.edit = 'insert'
                self.lines = '  %s\n' % self.line
                lines[header] = lines[header] if lines[header].endswith('\n') else lines[header] + '\n'
                lines.insert(header + 1, self.lines)
        self.text = ''.join(lines)
        self.verify(self.text, with_config_path(data, table_path, hosts_dir))

    def block(self, top, header):
        return '%s\n%s[%s]\n  %s\n%s\n' % (BLOCK_BEGIN, top, header, self.line, BLOCK_END)

    def verify(self, text, expected):
        try:
            parsed = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            parsed = None
        if parsed != expected:
            raise ContainerdConfigError(
                'config_path cannot be added to %s without rewriting more of it (%s edit): set `%s` in its CRI '
                'registry table by hand, then run again; nothing was changed.' % (self.what, self.edit, self.line))


def remove_block(text):
    """text without the wiring's marked block (the last BEGIN..END pair, as blockinfile removed it)."""
    lines = text.splitlines(True)
    begin = end = None
    for index, line in enumerate(lines):
        if line.rstrip('\r\n') == BLOCK_BEGIN:
            begin = index
        elif line.rstrip('\r\n') == BLOCK_END:
            end = index
    if begin is None or end is None:
        return text
    first, last = min(begin, end), max(begin, end)
    return ''.join(lines[:first] + lines[last + 1:])


def undo_config_path(text, edit, config_path, what='config.toml'):
    """text without the config_path the wiring set (edit set: back to "", insert: the line removed).

    Every line `config_path = <config_path>` counts (the CRI registry is the only table with that key); the result
    must parse to the same data with that key emptied or removed, else it is refused.
    """
    data = load_toml(text, what)
    lines = text.splitlines(True)
    for index, line in enumerate(lines):
        if is_config_path_line(line, config_path):
            if edit == 'set':
                lines[index] = replace_value(line, '""')
            else:
                lines[index] = ''
    result = ''.join(lines)
    try:
        parsed = tomllib.loads(result)
    except tomllib.TOMLDecodeError:
        parsed = None
    if parsed != without_config_path(data, config_path, '' if edit == 'set' else None):
        raise ContainerdConfigError('the config_path = %s the wiring set cannot be taken out of %s line by line: remove '
                                    'it by hand.' % (json.dumps(config_path), what))
    return result


def without_config_path(data, config_path, value):
    """data with every config_path = config_path set to value (None: removed)."""
    if not isinstance(data, dict):
        return data
    result = {}
    for key, item in data.items():
        if key == 'config_path' and item == config_path:
            if value is not None:
                result[key] = value
        else:
            result[key] = without_config_path(item, config_path, value)
    return result


def hosts_dir_of(config_path):
    """The directory of the hosts.toml files that containerd reads first (config_path may list several, ':'-separated)."""
    return config_path.split(':')[0]


def containerd_major(version_output):
    """containerd's major version from `containerd --version` (0 when it cannot be told)."""
    match = re.search(r' v?([0-9]+)\.[0-9]+', version_output)
    return int(match.group(1)) if match else 0


class Containerd(object):
    """containerd as the wiring finds it, read with containerd itself (`config dump`: the effective configuration,
    version migration and imports included) and checked.

    hosts_dir: where the hosts.toml files go (the first directory of config_path, else the setting or containerd's
    default). edit: the ConfigPathEdit that sets config_path, or None when it is set already or the CRI plugin is
    disabled (config.toml is then left alone; the hosts.toml files still serve nerdctl and `ctr --hosts-dir`).
    """

    def __init__(self, module, config_file, text, hosts_dir_setting, option_name):
        """text: the file's content, None when it does not exist. option_name: how a message names an option."""
        self.module = module
        self.config_file = config_file
        self.text = text
        self.binary = module.get_bin_path('containerd')
        rc, version_output, error = module.run_command([self.binary, '--version']) if self.binary else (None, '', '')
        if rc != 0:
            raise ContainerdConfigError(
                "%s is set, but `containerd --version` fails on this host (%s): containerd's config.toml is read and "
                "validated with containerd itself. Install containerd (or put it on the PATH), or leave the list empty "
                "on this host." % (option_name('containerd_registries'),
                                   error.strip() or ('exit code %s' % rc if rc is not None else 'not found on the PATH')))
        effective = Effective(self.dump(self.config_file) if self.text is not None else '')
        self.config_path = effective.config_path
        self.hosts_dir = hosts_dir_of(self.config_path) if self.config_path else (hosts_dir_setting or DEFAULT_HOSTS_DIR)
        needs_edit = not effective.cri_disabled and not self.config_path
        version = file_version(self.text, self.config_file)
        problems = []
        if not is_known_version(version):
            problems.append('unknown config version.')
        elif version == 3 and containerd_major(version_output) < 2:
            problems.append('a version 3 configuration needs containerd 2, this is %s.' % version_output.strip())
        if needs_edit and effective.deprecated_registry:
            problems.append(
                'the CRI registry uses the deprecated `registry.mirrors`/`registry.configs.*.tls`, which containerd '
                'refuses together with config_path: move them to hosts.toml files '
                '(https://github.com/containerd/containerd/blob/main/docs/hosts.md), then run again; nothing was changed.')
        if self.config_path and hosts_dir_setting and self.hosts_dir != hosts_dir_setting:
            problems.append(
                'its config_path is already %s, but %s is %s: leave that variable empty to use containerd\'s directory '
                '(the wiring does not change an existing config_path).'
                % (self.config_path, option_name('containerd_hosts_dir'), hosts_dir_setting))
        if not self.hosts_dir.startswith('/'):
            problems.append('the hosts directory %s must be an absolute path.' % self.hosts_dir)
        if problems:
            raise ContainerdConfigError('containerd (%s, config version %s): %s' % (self.config_file, version, ' '.join(problems)))
        self.edit = ConfigPathEdit(self.text, self.hosts_dir, self.config_file) if needs_edit else None

    def dump(self, config_file):
        # Its output can hold registry credentials: it stays here, parsed, and is never returned.
        rc, out, dummy = self.module.run_command([self.binary, '--config', config_file, 'config', 'dump'])
        if rc != 0:
            raise ContainerdConfigError(
                "`containerd --config %s config dump` fails on this host (exit code %s): containerd cannot read that "
                "file, so it would not start with it either. Fix it first (run that command to see containerd's "
                "error); nothing was changed." % (config_file, rc))
        return out

    def validate(self, candidate):
        """containerd's own reading of a candidate config.toml; None when it reads it, else the reason."""
        rc = self.module.run_command([self.binary, '--config', candidate, 'config', 'dump'])[0]
        return None if rc == 0 else ('containerd cannot read it with config_path added (`containerd --config <the new '
                                     'file> config dump` exits with %s)' % rc)

    def check_config_path(self):
        """After the change: containerd reads config_path from the file as written."""
        if Effective(self.dump(self.config_file)).config_path != self.hosts_dir:
            raise ContainerdConfigError(
                'containerd does not read config_path = %s from %s after the change: run `containerd --config %s '
                'config dump` to see what it reads.' % (json.dumps(self.hosts_dir), self.config_file, self.config_file))
