# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The container runtime wiring of one peer or seed peer, one run: the checks of the host made before any change, the
files and directories it manages, and the bookkeeping that makes it undoable: each original kept below backup_dir
and listed in state.json, restored byte for byte once no longer wanted, and which daemons must then restart or reload.

Private to this collection; used by the module runtime_wiring. The options and their checks: _runtime_settings.py;
what the files hold: _runtime_content.py; containerd and its config.toml: _containerd_config.py. Which daemon reads
what when: docs/dev/module-utils.md#runtime-wiring.

config.toml and daemon.json can hold registry credentials: nothing of their content leaves this code. Messages,
results and diffs name paths and settings, and show only the lines the wiring itself writes there.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import grp
import hashlib
import json
import os
import pwd
import shutil
import stat

from ansible_collections.p2p.dragonfly.plugins.module_utils._containerd_config import (
    Containerd,
    ContainerdConfigError,
    remove_block,
    undo_config_path,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._files import write_atomically
from ansible_collections.p2p.dragonfly.plugins.module_utils._runtime_content import (
    containers_drop_in,
    daemon_json,
    hosts_toml,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._runtime_settings import (
    RuntimeWiringError,
    check_containerd_registries,
    check_containers_registries,
    check_proxy_rules,
)


# The kinds of file in state.json, as earlier releases wrote them.
HOSTS_TOML = 'containerd_hosts'
CONTAINERD_CONFIG = 'containerd_config'
DAEMON_JSON = 'docker_config'
CONTAINERS_DROP_IN = 'containers_registries'
# Files that belong to the wiring while it is in place: restored whatever happened to them since. config.toml and
# daemon.json stay the admin's: changed by someone else since the wiring wrote them, they lose only its own change.
OWNED_KINDS = (HOSTS_TOML, CONTAINERS_DROP_IN)

# CRI-O reads its registries at start and on SIGHUP; its socket says whether it runs (Podman reads them at every command).
CRIO_SOCKET = '/var/run/crio/crio.sock'

WRITTEN_FILE_MODE = 0o644
CREATED_DIR_MODE = 0o755
PRIVATE_MODE = 0o700
STATE_FILE_MODE = 0o600


def sha1_hex(data):
    return hashlib.sha1(data).hexdigest()


def read_bytes(path):
    """The file's bytes, or None when it does not exist."""
    try:
        with open(path, 'rb') as stream:
            return stream.read()
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise RuntimeWiringError('cannot read %s: %s' % (path, exc.strerror))


def read_text(path):
    data = read_bytes(path)
    if data is None:
        return None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        raise RuntimeWiringError('%s is not UTF-8 text; nothing was changed.' % path)


def name_of(uid_or_gid, lookup):
    try:
        return lookup(uid_or_gid)[0]
    except KeyError:
        return ''


def parse_daemon_json(data):
    """daemon.json's settings ({} for an empty file), or None when it is no JSON object with registry-mirrors a list."""
    try:
        parsed = json.loads(data.decode('utf-8')) if data and data.strip() else {}
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and isinstance(parsed.get('registry-mirrors') or [], list) else None


class Docker(object):
    """Docker Engine's daemon.json as found, and as it is with the proxy first among the registry mirrors."""

    def __init__(self, settings):
        path = settings.docker_config_file
        data = read_bytes(path)
        self.exists = data is not None
        current = parse_daemon_json(data)
        if current is None:
            raise RuntimeWiringError('%s is not a JSON object (with registry-mirrors a list, if set); dockerd would not '
                                     'start with it either. Fix it first; nothing was changed.' % path)
        self.text = daemon_json(current, settings.mirror_url, add=True)


def needs_restart(data):
    """Whether dockerd must restart rather than reload for this daemon.json: a reload applies registry-mirrors only
    while the key is in the file, so without it (an empty file included) the proxy would stay until a restart."""
    parsed = parse_daemon_json(data)
    return parsed is None or 'registry-mirrors' not in parsed


class State(object):
    """state.json below backup_dir: what the wiring changed, to be undone. The format earlier releases wrote (with
    to_nice_json): {"owner": <managed_by>, "entries": {<path>: {kind, existed, backup, mode, owner, group, checksum,
    edit, config_path}}, "dirs": {<path>: {created}}}."""

    def __init__(self, backup_dir):
        self.path = os.path.join(backup_dir, 'state.json')
        text = read_text(self.path)
        try:
            data = json.loads(text) if text is not None else {}
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise RuntimeWiringError('%s is not the state file this wiring writes: move it away only if nothing is wired '
                                     '(its originals are listed there).' % self.path)
        self.owner = data.get('owner')
        self.entries = data.get('entries') or {}
        self.dirs = data.get('dirs') or {}

    def text(self):
        data = dict(entries=self.entries, dirs=self.dirs)
        if self.owner is not None:
            data['owner'] = self.owner
        return json.dumps(data, indent=2, sort_keys=True, separators=(',', ': ')) + '\n'

    def empty(self):
        return not self.entries and not self.dirs


class Wiring(object):
    """One run of the wiring: check, plan, back up, write, restore; then what changed and which daemons must act."""

    def __init__(self, module, settings):
        self.module = module
        self.settings = settings
        self.check_mode = module.check_mode
        self.state = State(settings.backup_dir)
        self.originals_dir = os.path.join(settings.backup_dir, 'originals')
        self.containerd = None
        self.docker = None
        self.entries = {}            # path -> (kind, containerd registry or None): the files wired after this run
        self.dirs = []               # directories the wired files need, parents first
        self.changed = {}            # path -> kind of every file written, restored, removed or edited
        self.changed_dirs = []
        self.removed = set()         # paths (files and directories) gone after this run, for the check-mode rmdir
        self.state_changed = False
        self.docker_restart = False
        self.diffs = []

    def run(self):
        self.check()
        self.plan()
        new = [path for path in self.entries if path not in self.state.entries]
        new_dirs = [path for path in self.dirs if path not in self.state.dirs]
        if new or new_dirs:
            self.back_up(new, new_dirs)
        try:
            self.write()
        finally:
            # Even when a write failed: what was written must be known to the restore.
            self.record_checksums(new)
        if self.containerd and self.containerd.edit and not self.check_mode:
            self.containerd.check_config_path()
        drop = [path for path in self.state.entries if path not in self.entries]
        drop_dirs = [path for path in self.state.dirs if path not in self.dirs]
        if drop or drop_dirs:
            self.restore(drop, drop_dirs)
        return self.result()

    # ------------------------------------------------------------------------------------------------ checks
    def check(self):
        """Every refusal, before anything changes."""
        settings = self.settings
        if settings.want_containerd:
            check_containerd_registries(settings)
            check_proxy_rules(settings)
            self.containerd = Containerd(self.module, settings.containerd_config_file,
                                         read_text(settings.containerd_config_file), settings.hosts_dir_setting,
                                         settings.name)
        if settings.want_containers:
            check_containers_registries(settings)
        if settings.want_docker:
            self.docker = Docker(settings)

    def plan(self):
        settings = self.settings
        if settings.want_containerd:
            hosts_dir = self.containerd.hosts_dir
            self.dirs.append(hosts_dir)
            for registry in settings.registries:
                self.dirs.append(hosts_dir + '/' + registry['host'])
                self.entries[hosts_dir + '/' + registry['host'] + '/hosts.toml'] = (HOSTS_TOML, registry)
            # Once set by the wiring, config.toml stays its own until containerd is no longer wired.
            if self.containerd.edit or settings.containerd_config_file in self.state.entries:
                self.entries[settings.containerd_config_file] = (CONTAINERD_CONFIG, None)
        if settings.want_docker:
            self.entries[settings.docker_config_file] = (DAEMON_JSON, None)
        if settings.want_containers:
            self.dirs.append(os.path.dirname(settings.containers_file))
            self.entries[settings.containers_file] = (CONTAINERS_DROP_IN, None)
        self.dirs = list(dict.fromkeys(self.dirs))

    # ------------------------------------------------------------------------------------------------ back up
    def back_up(self, paths, dirs):
        """Keep the original of each file before its first change; note whether each directory existed."""
        self.ensure_backup_dirs()
        for path in paths:
            kind = self.entries[path][0]
            try:
                found = os.stat(path)
            except OSError:
                found = None
            backup = 'originals/' + sha1_hex(path.encode('utf-8')) if found else ''
            if found and not self.check_mode:
                self.write_file(os.path.join(self.settings.backup_dir, backup), read_bytes(path), stat.S_IMODE(found.st_mode))
            edit = self.containerd.edit if kind == CONTAINERD_CONFIG else None
            self.state.entries[path] = dict(
                kind=kind, existed=bool(found), backup=backup, checksum='',
                mode='%04o' % stat.S_IMODE(found.st_mode) if found else '',
                owner=name_of(found.st_uid, pwd.getpwuid) if found else '',
                group=name_of(found.st_gid, grp.getgrgid) if found else '',
                edit=edit.edit if edit else '',
                config_path=self.containerd.hosts_dir if edit else '')
        for path in dirs:
            self.state.dirs[path] = dict(created=not os.path.isdir(path))
        self.state.owner = self.settings.managed_by
        self.save_state()

    def ensure_backup_dirs(self):
        """backup_dir and originals/ in it, and its parent (the backups of every instance), owner-only; any further
        missing parent (dragonfly_base_dir) with the default mode, as the deploy makes it."""
        parent = os.path.dirname(self.settings.backup_dir)
        if not self.check_mode and not os.path.isdir(os.path.dirname(parent)):
            os.makedirs(os.path.dirname(parent))
        for path in (parent, self.settings.backup_dir, self.originals_dir):
            self.state_changed = bool(self.ensure_dir(path, PRIVATE_MODE)) or self.state_changed

    # -------------------------------------------------------------------------------------------------- write
    def write(self):
        """Every wired file, with the directories the wiring created for them."""
        settings = self.settings
        for path in self.dirs:
            before = self.ensure_dir(path, CREATED_DIR_MODE) if self.state.dirs.get(path, {}).get('created') else None
            if before:
                self.note_dir(path, before, 'directory')
        for path, (kind, registry) in self.entries.items():
            if kind == HOSTS_TOML:
                self.write_owned(path, kind, hosts_toml(registry, settings.mirror_url, settings.managed_by))
        if self.containerd and self.containerd.edit:
            self.write_containerd_config()
        if settings.want_containers:
            self.write_owned(settings.containers_file, CONTAINERS_DROP_IN,
                             containers_drop_in(settings.containers, settings.mirror_url, settings.managed_by))
        if self.docker:
            self.write_daemon_json()

    def write_file(self, path, data, mode=None, validate=None, owner=None, group=None):
        """Write data to path unless it holds them already, then give it mode, owner and group where set; returns
        whether anything changed (in check mode: would change)."""
        current = read_bytes(path)
        changed = current != data
        if changed and not self.check_mode:
            reason = write_atomically(self.module, path, data, validate=validate)
            if reason is not None:
                raise RuntimeWiringError('%s was not changed: %s' % (path, reason))
        if mode is not None and (current is not None or not self.check_mode):
            changed = self.module.set_fs_attributes_if_different(fs_args(path, mode, owner, group), changed)
        return changed

    def write_owned(self, path, kind, text):
        current = read_bytes(path)
        if self.write_file(path, text.encode('utf-8'), WRITTEN_FILE_MODE):
            self.note_change(path, kind)
            # The wiring's own file: shown whole, like a template's diff.
            self.diffs.append(dict(before_header=path, after_header=path, after=text,
                                   before=(current or b'').decode('utf-8', 'replace')))

    def write_containerd_config(self):
        path = self.settings.containerd_config_file
        edit = self.containerd.edit
        if edit.edit == 'create' and not self.check_mode and not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        mode = WRITTEN_FILE_MODE if edit.edit == 'create' else None
        if self.write_file(path, edit.text.encode('utf-8'), mode, validate=self.containerd.validate):
            self.note_change(path, CONTAINERD_CONFIG)
            self.diffs.append(dict(before_header='%s (only the lines of the wiring; the rest is not shown)' % path,
                                   after_header=path, before='  config_path = ""\n' if edit.edit == 'set' else '',
                                   after=edit.lines))

    def write_daemon_json(self):
        path = self.settings.docker_config_file
        # A new daemon.json gets Docker's usual mode; an existing one keeps its own.
        if self.write_file(path, self.docker.text.encode('utf-8'), None if self.docker.exists else WRITTEN_FILE_MODE):
            self.note_change(path, DAEMON_JSON)
            self.diffs.append(dict(before_header='%s (rewritten; only the proxy\'s registry mirror is shown)' % path,
                                   after_header=path, before='',
                                   after='"registry-mirrors"[0] = %s\n' % json.dumps(self.settings.mirror_url)))

    def record_checksums(self, new):
        """The checksum of each file as written, so that a later restore can tell whether someone changed it since."""
        if self.check_mode:
            return
        paths = [path for path in self.entries if path in new or path in self.changed]
        for path in paths:
            data = read_bytes(path)
            self.state.entries[path]['checksum'] = sha1_hex(data) if data is not None else ''
        if paths:
            self.save_state()

    # ------------------------------------------------------------------------------------------------ restore
    def restore(self, paths, dirs):
        """Undo the wiring of what is no longer wanted: originals back byte for byte, or only the wiring's own
        change taken out of a config.toml or daemon.json that someone changed since; created directories removed
        when empty; then the backups and state.json forgotten."""
        for path in paths:
            entry = self.state.entries[path]
            current = read_bytes(path)
            untouched = current is None or sha1_hex(current) == entry['checksum']
            if entry['kind'] in OWNED_KINDS or untouched:
                if entry['existed']:
                    self.put_back(path, entry)
                elif current is not None:
                    if not self.check_mode:
                        os.unlink(path)
                    self.removed.add(path)
                    self.note_change(path, entry['kind'], 'absent')
                    self.docker_restart = self.docker_restart or entry['kind'] == DAEMON_JSON
            elif entry['kind'] == DAEMON_JSON:
                self.take_out_of_daemon_json(path, entry, current)
            else:
                self.take_out_of_containerd_config(path, entry, current)
        # Deepest first, so that <hosts dir>/<host> goes before <hosts dir>. Only empty ones: a directory that holds
        # anything else (certificates) stays.
        for path in sorted((path for path in dirs if self.state.dirs[path].get('created')), reverse=True):
            self.remove_dir_if_empty(path)
        if not self.check_mode:
            for path in paths:
                backup = os.path.join(self.originals_dir, sha1_hex(path.encode('utf-8')))
                if os.path.exists(backup):
                    os.unlink(backup)
        for path in paths:
            del self.state.entries[path]
        for path in dirs:
            del self.state.dirs[path]
        if not self.state.empty():
            self.save_state()
        elif os.path.isdir(self.settings.backup_dir):
            self.state_changed = True
            if not self.check_mode:
                shutil.rmtree(self.settings.backup_dir)

    def put_back(self, path, entry):
        original = read_bytes(os.path.join(self.settings.backup_dir, entry['backup']))
        if original is None:
            raise RuntimeWiringError('the original of %s is missing from %s: restore it by hand, then take it out of '
                                     'state.json there.' % (path, self.settings.backup_dir))
        if self.write_file(path, original, entry['mode'] or None, owner=entry['owner'], group=entry['group']):
            self.note_change(path, entry['kind'], 'restored from the backup')
        if entry['kind'] == DAEMON_JSON:
            self.docker_restart = self.docker_restart or needs_restart(original)

    def take_out_of_daemon_json(self, path, entry, current):
        parsed = parse_daemon_json(current)
        if parsed is None:
            raise RuntimeWiringError('%s is no longer a JSON object: the proxy cannot be taken out of its '
                                     'registry-mirrors. Fix it first.' % path)
        text = daemon_json(parsed, self.settings.mirror_url, add=False)
        if self.write_file(path, text.encode('utf-8'), entry['mode'] or WRITTEN_FILE_MODE):
            self.note_change(path, entry['kind'], 'proxy taken out of registry-mirrors')

    def take_out_of_containerd_config(self, path, entry, current):
        text = current.decode('utf-8', 'surrogateescape')
        try:
            if entry['edit'] in ('create', 'append'):
                text = remove_block(text)
            else:
                text = undo_config_path(text, entry['edit'], entry['config_path'], path)
        except ContainerdConfigError as exc:
            raise RuntimeWiringError(str(exc))
        if self.write_file(path, text.encode('utf-8', 'surrogateescape')):
            self.note_change(path, entry['kind'], 'config_path of the wiring taken out')

    def remove_dir_if_empty(self, path):
        if self.check_mode:
            try:
                left = [name for name in os.listdir(path) if os.path.join(path, name) not in self.removed]
            except OSError:
                return
            if left:
                return
        else:
            try:
                os.rmdir(path)
            except OSError:
                return
        self.removed.add(path)
        self.note_dir(path, 'directory', 'absent')

    # ---------------------------------------------------------------------------------------------- bookkeeping
    def ensure_dir(self, path, mode):
        """Make the directory (missing parents with the default mode) or fix its mode. Returns None when it was as
        wanted, else what it was before: 'absent' or 'directory'."""
        created = not os.path.isdir(path)
        if created and not self.check_mode:
            os.makedirs(path, mode)
        changed = created
        if not (created and self.check_mode):
            changed = self.module.set_fs_attributes_if_different(fs_args(path, mode), changed)
        return ('absent' if created else 'directory') if changed else None

    def note_dir(self, path, before, after):
        self.changed_dirs.append(path)
        self.diffs.append(dict(before_header=path, after_header=path, before=dict(path=path, state=before),
                               after=dict(path=path, state=after)))

    def save_state(self):
        text = self.state.text().encode('utf-8')
        if self.write_file(self.state.path, text, STATE_FILE_MODE):
            self.state_changed = True

    def note_change(self, path, kind, restored=None):
        self.changed[path] = kind
        if restored:
            self.diffs.append(dict(before_header=path, after_header=path, before=dict(path=path, state='wired'),
                                   after=dict(path=path, state=restored)))

    def result(self):
        settings = self.settings
        kinds = set(self.changed.values())
        docker = DAEMON_JSON in kinds
        restart = (['containerd'] if CONTAINERD_CONFIG in kinds else []) + (['docker'] if docker and self.docker_restart else [])
        reload = (['docker'] if docker and not self.docker_restart else []) + (
            ['crio'] if CONTAINERS_DROP_IN in kinds and os.path.exists(CRIO_SOCKET) else [])
        result = dict(
            changed=bool(self.changed or self.changed_dirs or self.state_changed),
            files=list(self.changed),
            dirs=self.changed_dirs,
            restart=restart,
            reload=reload,
            mirror_url=settings.mirror_url,
            wired=dict(containerd=[registry['host'] for registry in settings.registries] if settings.want_containerd else [],
                       docker=bool(settings.want_docker),
                       containers=[registry['host'] for registry in settings.containers] if settings.want_containers else []),
        )
        if self.module._diff:
            result['diff'] = self.diffs
        return result


def fs_args(path, mode, owner=None, group=None):
    return dict(path=path, mode=mode, owner=owner or None, group=group or None, attributes=None,
                secontext=[None, None, None])
