#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
module: project_files

short_description: Ensure the directories and files of one compose project in one call

version_added: 0.1.0

description:
  - Ensures the directories (O(dirs)) and files (O(files), O(secret_files)) of one docker compose project in one module
    call, instead of a loop of M(ansible.builtin.file) with C(state=directory) and loops of M(ansible.builtin.copy) with
    C(content), one module call per item.
  - Everything is checked before anything changes, so that wrong input leaves the host untouched; see O(dirs) and O(files)
    for what must hold.
  - Directories are created in the order of O(dirs), never their missing parents; each then gets its mode, owner and group.
  - A file is written only when its bytes differ from O(files[].content), atomically (a temporary file in the same
    directory renamed over the old one). Its mode, owner and group are fixed before new content lands in it, so content
    never appears in a file more open than wanted. A fixed mode, owner or group counts as a change.
  - O(secret_files) are handled like O(files) but never shown, neither in the diff nor in a message; only their paths are
    reported.
  - A directory of O(dirs) with O(dirs[].marker) gets that marker file when the module creates it, and only then, so that
    a later purge can tell the directories this collection created from those it found.
  - O(absent) lists files that must not exist (those of earlier releases); they are removed after the files are written.

extends_documentation_fragment:
  - p2p.dragonfly.attributes

attributes:
  check_mode:
    support: full
    details:
      - In check mode nothing is created or written; RV(dirs), RV(files) and the diff tell what would change.
  diff_mode:
    support: full
    details:
      - Shows created directories, changed modes, owners and groups, and the old and new text of each changed file of
        O(files), the way M(ansible.builtin.copy) does, and each removed file of O(absent) the way
        M(ansible.builtin.file) does. Files larger than 104448 bytes or not UTF-8 text are reported as
        such instead.
      - O(secret_files) never appear in the diff.
  idempotent:
    support: full
  platform:
    description: Target operating systems the module runs on.
    support: full
    platforms: posix

options:
  dirs:
    description:
      - Directories to ensure, created in this order when missing.
      - The parent of each must exist already or be listed before it.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description:
          - Absolute path of the directory. If it is a symbolic link to a directory, the mode, owner and group of the
            directory it points to are ensured.
        type: path
        required: true
      mode:
        description:
          - Mode of the directory, an octal number as a string such as V('0755').
          - An integer is taken as the mode's value, as M(ansible.builtin.file) does (YAML reads an unquoted C(0755) as
            the integer 493); quote modes to be sure.
          - Required unless O(dirs[].managed=false).
        type: raw
      managed:
        description:
          - V(false) creates the directory if it is missing, with O(dirs[].mode), O(dirs[].owner) and O(dirs[].group) if
            set, and then never changes it. For data directories whose container image changes their owner or mode at
            start.
        type: bool
        default: true
      marker:
        description:
          - Name of a file (no C(/)) written into the directory, mode C(0644), when the module creates the directory;
            never into a directory that exists already. It says that this collection created the directory; the
            roles' purge deletes only directories that hold it.
        type: str
      owner:
        description:
          - Name or ID of the user that owns the directory. If not set, a new directory belongs to the user the module runs
            as, and the owner of an existing one is left alone.
        type: str
      group:
        description:
          - Name or ID of the group of the directory. If not set, a new directory gets the primary group of the user the
            module runs as, and the group of an existing one is left alone.
        type: str
  files:
    description:
      - Files to ensure, with their whole content.
      - The parent directory of each must exist already or be in O(dirs). An existing O(files[].path) must not be a
        directory.
      - Each path may appear once in O(dirs), O(files) and O(secret_files) together.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description:
          - Absolute path of the file. If it is a symbolic link, it is replaced by a file when the content changes.
        type: path
        required: true
      content:
        description:
          - The whole content of the file, written as UTF-8.
        type: str
        required: true
      mode:
        description:
          - Mode of the file, an octal number as a string such as V('0644') (see O(dirs[].mode) about integers).
        type: raw
        default: '0644'
      owner:
        description:
          - Name or ID of the user that owns the file. If not set, a new file belongs to the user the module runs as, and
            the owner of an existing one is left alone.
        type: str
      group:
        description:
          - Name or ID of the group of the file. If not set, a new file gets the primary group of the user the module runs
            as, and the group of an existing one is left alone.
        type: str
  secret_files:
    description:
      - Files that hold secrets, handled like O(files) but with mode C(0600) by default and never shown in the diff or in
        a message. Their paths are reported in RV(files).
      - Ansible masks the value of O(secret_files[].content) in the task's result. Set C(no_log) on the task as well if
        the content of O(files) or the values the task was templated from are secrets too.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description:
          - Absolute path of the file.
        type: path
        required: true
      content:
        description:
          - The whole content of the file, written as UTF-8.
        type: str
        required: true
      mode:
        description:
          - Mode of the file, an octal number as a string (see O(dirs[].mode) about integers).
        type: raw
        default: '0600'
      owner:
        description:
          - Name or ID of the user that owns the file, as O(files[].owner).
        type: str
      group:
        description:
          - Name or ID of the group of the file, as O(files[].group).
        type: str

  absent:
    description:
      - Absolute paths of files to remove when they exist, such as the files of an earlier release. A missing path is
        fine; a directory is refused (before any change). A symbolic link is removed, not what it points to.
      - Each path may appear once in O(dirs), O(files), O(secret_files) and O(absent) together.
    type: list
    elements: path
    default: []

notes:
  - SELinux contexts and file attributes (C(chattr)) are not managed; new files get the default context of their path.

seealso:
  - module: ansible.builtin.copy
  - module: ansible.builtin.file
  - module: p2p.dragonfly.host_secrets

author:
  - p2p.dragonfly maintainers (@p2p-dragonfly)
"""

EXAMPLES = r"""
---
- name: Ensure the directories and files of the scheduler project
  p2p.dragonfly.project_files:
    dirs:
      - path: /opt/dragonfly/scheduler
        mode: "0755"
        owner: root
        group: root
        # Written only if this task creates the directory.
        marker: .p2p-dragonfly-created
      - path: /opt/dragonfly/scheduler/config
        mode: "0755"
      # The image changes the owner of its log directory at start: only create it.
      - path: /opt/dragonfly/scheduler/logs
        managed: false
    files:
      - path: /opt/dragonfly/scheduler/compose.yaml
        content: "{{ lookup('ansible.builtin.template', 'compose.yaml.j2') }}"
      - path: /opt/dragonfly/scheduler/config/scheduler.yaml
        content: "{{ lookup('ansible.builtin.template', 'scheduler.yaml.j2') }}"
    secret_files:
      - path: /opt/dragonfly/scheduler/.env
        content: "REDIS_PASSWORD={{ redis_password }}\n"
    # An earlier release kept the password here.
    absent:
      - /opt/dragonfly/scheduler/.redis.env
  register: scheduler_files

- name: Restart the project when its files changed
  ansible.builtin.debug:
    msg: "{{ scheduler_files.files }} changed"
  when: scheduler_files.files | length > 0
"""

RETURN = r"""
dirs:
  description: Paths of the directories created or whose mode, owner or group was fixed (in check mode, would be).
  returned: always
  type: list
  elements: str
  sample:
    - /opt/dragonfly/scheduler/logs
files:
  description:
    - Paths of the files written or whose mode, owner or group was fixed (in check mode, would be), those of
      O(secret_files) included.
  returned: always
  type: list
  elements: str
  sample:
    - /opt/dragonfly/scheduler/config/scheduler.yaml
    - /opt/dragonfly/scheduler/.env
removed:
  description: Paths of O(absent) removed (in check mode, that would be removed).
  returned: always
  type: list
  elements: str
  sample:
    - /opt/dragonfly/scheduler/.redis.env
diff:
  description:
    - One entry per change of a directory or of a file of O(files), in the format of M(ansible.builtin.copy) and
      M(ansible.builtin.file) (C(before_header), C(before), C(after_header), C(after)); Ansible shows them with C(--diff).
    - Changes of O(secret_files) have no entry. A removed file of O(absent) has one with C(state) V(file) before and
      V(absent) after, as M(ansible.builtin.file) gives.
  returned: in diff mode
  type: list
  elements: dict
  sample:
    - before_header: /opt/dragonfly/scheduler/config/scheduler.yaml
      after_header: /opt/dragonfly/scheduler/config/scheduler.yaml
      before: "verbose: false\n"
      after: "verbose: true\n"
"""

import grp
import os
import pwd
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.p2p.dragonfly.plugins.module_utils._files import is_file_name, write_atomically, write_marker


# ansible.builtin.copy's default max_file_size_for_diff: larger files are not shown.
MAX_DIFF_SIZE = 104448
OCTAL_MODE = re.compile(r'^(?:0o?)?([0-7]{3,4})$')


class ProjectFilesError(Exception):
    """A failure whose message names paths and options, never file content."""


def parse_mode(where, mode):
    if isinstance(mode, bool):
        mode = str(mode)
    if isinstance(mode, int):
        if 0 <= mode <= 0o7777:
            return mode
    else:
        match = OCTAL_MODE.match(str(mode).strip())
        if match:
            return int(match.group(1), 8)
    raise ProjectFilesError(f"{where}.mode '{mode}' is not an octal mode: quote an octal number such as '0755'")


def check_principal(where, kind, name):
    if name is None or name.isdigit():
        return
    try:
        (pwd.getpwnam if kind == 'owner' else grp.getgrnam)(name)
    except KeyError:
        raise ProjectFilesError(f"{where}.{kind} '{name}' does not exist on the host: create it first or set another {kind}")


class Item(object):
    """One directory or file, checked."""

    def __init__(self, kind, index, entry, secret=False):
        self.where = f'{kind}[{index}]'
        self.kind = kind
        self.secret = secret
        path = entry['path']
        if not os.path.isabs(path):
            raise ProjectFilesError(f"{self.where}.path '{path}' is not an absolute path: give the full path")
        self.path = os.path.normpath(path)
        self.where = f'{self.where} ({self.path})'
        self.managed = entry.get('managed', True)
        self.marker = entry.get('marker')
        if self.marker is not None and not is_file_name(self.marker):
            raise ProjectFilesError(f"{self.where}.marker '{self.marker}' is not a file name: give a name without '/'")
        mode = entry.get('mode')
        if mode is None and self.managed:
            fix = 'set mode, or managed: false' if kind == 'dirs' else 'set mode, or leave it out for the default'
            raise ProjectFilesError(f"{self.where}: mode is required: {fix}")
        self.mode = None if mode is None else parse_mode(self.where, mode)
        self.owner, self.group = entry.get('owner'), entry.get('group')
        check_principal(self.where, 'owner', self.owner)
        check_principal(self.where, 'group', self.group)
        content = entry.get('content')
        self.data = None if content is None else content.encode('utf-8', 'surrogateescape')

    def fs_args(self):
        # The real directory or file behind a symbolic link, like ansible.builtin.file's follow=true.
        target = os.path.realpath(self.path) if os.path.islink(self.path) else self.path
        return dict(path=target, mode=self.mode, owner=self.owner, group=self.group, attributes=None,
                    secontext=[None, None, None])


def check(params):
    """Every item, checked against the input and the host before any change."""
    dirs = [Item('dirs', index, entry) for index, entry in enumerate(params['dirs'])]
    files = [Item('files', index, entry) for index, entry in enumerate(params['files'])]
    files += [Item('secret_files', index, entry, secret=True) for index, entry in enumerate(params['secret_files'])]
    absent = []
    for index, path in enumerate(params['absent']):
        where = f'absent[{index}]'
        if not os.path.isabs(path):
            raise ProjectFilesError(f"{where} '{path}' is not an absolute path: give the full path")
        path = os.path.normpath(path)
        if os.path.isdir(path) and not os.path.islink(path):
            raise ProjectFilesError(f"{where} ({path}) is a directory: list files only")
        absent.append((f'{where} ({path})', path))

    seen = {}
    for item in dirs + files + [Ref(where, path) for where, path in absent]:
        if item.path in seen:
            raise ProjectFilesError(f"{item.where} is listed twice (also {seen[item.path]}): list each path once")
        seen[item.path] = item.where

    listed = set()
    for item in dirs:
        if os.path.lexists(item.path) and not os.path.isdir(item.path):
            raise ProjectFilesError(f"{item.where} exists and is not a directory: remove it or choose another path")
        parent = os.path.dirname(item.path)
        if not os.path.isdir(item.path) and parent not in listed and not os.path.isdir(parent):
            raise ProjectFilesError(f"{item.where}: the parent directory {parent} does not exist: list it in dirs before "
                                    f"this one, or create it first")
        listed.add(item.path)
    for item in files:
        if os.path.isdir(item.path):
            raise ProjectFilesError(f"{item.where} is a directory: remove it or choose another path")
        parent = os.path.dirname(item.path)
        if parent not in listed and not os.path.isdir(parent):
            raise ProjectFilesError(f"{item.where}: the directory {parent} does not exist: add it to dirs, or create it "
                                    f"first")
    return dirs, files, absent


class Ref(object):
    """A path of absent, for the check that each path is listed once."""

    def __init__(self, where, path):
        self.where, self.path = where, path


def remove_file(module, where, path, diffs):
    """Returns whether the file was (or would be) removed."""
    if not os.path.lexists(path):
        return False
    diffs.append(dict(before_header=path, after_header=path, before=dict(path=path, state='file'),
                      after=dict(path=path, state='absent')))
    if not module.check_mode:
        try:
            os.unlink(path)
        except OSError as exc:
            raise ProjectFilesError(f"{where}: cannot remove the file: {exc.strerror}")
    return True


def ensure_dir(module, item, diffs):
    """Returns whether the directory was (or would be) created or fixed."""
    if os.path.isdir(item.path):
        if not item.managed:
            return False
        diff = {}
        changed = module.set_fs_attributes_if_different(item.fs_args(), False, diff)
        if changed and diff:
            diffs.append(dict(diff, before_header=item.path, after_header=item.path))
        return changed
    after = dict(path=item.path, state='directory')
    after.update((key, value) for key, value in
                 (('mode', None if item.mode is None else '0%03o' % item.mode), ('owner', item.owner), ('group', item.group))
                 if value is not None)
    diffs.append(dict(before_header=item.path, after_header=item.path, before=dict(path=item.path, state='absent'),
                      after=after))
    if not module.check_mode:
        try:
            # Owner-only until its mode is set, like a new file.
            os.mkdir(item.path, 0o700 if item.mode is not None else 0o777)
        except OSError as exc:
            raise ProjectFilesError(f"{item.where}: cannot create the directory: {exc.strerror}")
        module.set_fs_attributes_if_different(item.fs_args(), True)
        reason = write_marker(module, item.path, item.marker) if item.marker else None
        if reason is not None:
            raise ProjectFilesError(f"{item.where}: cannot write the marker {item.marker}: {reason}")
    return True


def read(item):
    try:
        with open(item.path, 'rb') as stream:
            return stream.read()
    except OSError as exc:
        raise ProjectFilesError(f"{item.where}: cannot read the file: {exc.strerror}")


def text_for_diff(data, diff, side):
    """The text of one side of a content diff, or None when copy would not show it."""
    if len(data) > MAX_DIFF_SIZE:
        diff[f'{side}_larger'] = MAX_DIFF_SIZE
        return None
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        text = None
    if text is None or '\0' in text:
        diff[f'{side}_binary'] = 1
        return None
    return text


def content_diff(item, current):
    diff = dict(before_header=item.path, after_header=item.path)
    before = text_for_diff(current or b'', diff, 'dst')
    after = text_for_diff(item.data, diff, 'src')
    if before is not None and after is not None:
        diff.update(before=before, after=after)
    return diff


def write(module, item):
    """Replace the file atomically; a new file never has a mode wider than 0600 before its mode is set."""
    reason = write_atomically(module, item.path, item.data)
    if reason is not None:
        raise ProjectFilesError(f"{item.where}: cannot write the file: {reason}")


def ensure_file(module, item, diffs):
    """Returns whether the file was (or would be) written or fixed."""
    exists = os.path.isfile(item.path)
    current = read(item) if exists else None
    fixed = False
    if exists:
        # Before any new content lands in it: the mode, owner and group it must have.
        attributes = {}
        fixed = module.set_fs_attributes_if_different(item.fs_args(), False, attributes)
        if fixed and attributes and not item.secret:
            diffs.append(dict(attributes, before_header=item.path, after_header=item.path))
    if current == item.data:
        return fixed
    if not item.secret:
        diffs.append(content_diff(item, current))
    if not module.check_mode:
        write(module, item)
        module.set_fs_attributes_if_different(item.fs_args(), True)
    return True


def ensure_project_files(module):
    dirs, files, absent = check(module.params)
    diffs = []
    result = dict(dirs=[item.path for item in dirs if ensure_dir(module, item, diffs)],
                  files=[item.path for item in files if ensure_file(module, item, diffs)])
    result['removed'] = [path for where, path in absent if remove_file(module, where, path, diffs)]
    result['changed'] = bool(result['dirs'] or result['files'] or result['removed'])
    if module._diff:
        result['diff'] = diffs
    return result


def main():
    def file_options(mode, secret):
        return dict(
            path=dict(type='path', required=True),
            content=dict(type='str', required=True, no_log=secret),
            mode=dict(type='raw', default=mode),
            owner=dict(type='str'),
            group=dict(type='str'),
        )

    module = AnsibleModule(
        argument_spec=dict(
            dirs=dict(type='list', elements='dict', default=[], options=dict(
                path=dict(type='path', required=True),
                mode=dict(type='raw'),
                managed=dict(type='bool', default=True),
                marker=dict(type='str'),
                owner=dict(type='str'),
                group=dict(type='str'),
            )),
            files=dict(type='list', elements='dict', default=[], options=file_options('0644', False)),
            # Only the content is no_log: a no_log list would make Ansible mask its paths, modes and owners (say 'root')
            # everywhere in the result.
            secret_files=dict(type='list', elements='dict', default=[], no_log=False, options=file_options('0600', True)),
            absent=dict(type='list', elements='path', default=[]),
        ),
        supports_check_mode=True,
    )
    try:
        result = ensure_project_files(module)
    except ProjectFilesError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
