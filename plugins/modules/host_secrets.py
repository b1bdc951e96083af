#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
module: host_secrets

short_description: Ensure secrets kept on the host, given, read from their file or generated once

version_added: 0.1.0

description:
  - Ensures, in one call, a set of secrets (database and Redis passwords, signing keys, ...) that the host keeps in a
    directory, one file per secret.
  - The value of each secret is the first of these that applies. The value given in O(secrets[].value), written to the
    file when the file holds something else. The value the file already holds. A value generated now and written, so
    that the next run reads it (unless O(secrets[].generate=false)).
  - Files hold the value and a newline, with mode C(0600); the directory O(dir) has mode C(0700). A wrong mode of either is
    fixed, which counts as a change.
  - Files are written atomically, through a temporary file (mode C(0600)) in O(dir) renamed over the old one, so a reader
    never sees a partial value.
  - Returns every value in RV(secrets) for the templates of later tasks. Set C(no_log) on the task (see RV(secrets)).

extends_documentation_fragment:
  - p2p.dragonfly.attributes

attributes:
  check_mode:
    support: full
    details:
      - In check mode nothing is created or written. A value that would be generated is generated anyway and returned in
        RV(secrets), so that later tasks can render their templates; the next real run generates another one.
  diff_mode:
    support: none
    details:
      - Secrets are never shown in a diff; the module returns none, even with C(--diff).
  idempotent:
    support: full
    details:
      - Generated values are kept in their files, so a second run reads them and changes nothing.
  platform:
    description: Target operating systems the module runs on.
    support: full
    platforms: posix

options:
  dir:
    description:
      - Absolute path of the directory that holds the secret files.
      - Created if missing, with mode C(0700) and O(owner) and O(group); missing parent directories are created too, with the
        default mode (umask) and owner. An existing O(dir) gets mode C(0700) (and O(owner), O(group)) as well.
    type: path
    required: true
  marker:
    description:
      - Name of a file (no C(/)) written, mode C(0644), into O(dir) and into each missing parent directory the module
        creates, when it creates them; never into a directory that exists already. It says that this collection created
        the directory; the roles' purge deletes only directories that hold it.
    type: str
  owner:
    description:
      - Name or ID of the user that owns O(dir) and the secret files, as in M(ansible.builtin.file).
      - If not set, new files and directories belong to the user the module runs as (root for the roles of this collection),
        and the owner of existing ones is left alone.
    type: str
  group:
    description:
      - Name or ID of the group of O(dir) and the secret files, as in M(ansible.builtin.file).
      - If not set, new files and directories get the primary group of the user the module runs as, and the group of
        existing ones is left alone.
    type: str
  secrets:
    description:
      - The secrets, each kept in the file O(dir)/O(secrets[].name).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the secret and of its file in O(dir). A file name, not a path; unique in the list.
        type: str
        required: true
      value:
        description:
          - The value the secret must have. When set, the file must contain exactly this value and a newline, and is
            rewritten when it holds anything else.
          - When empty (the default), the value is read from the file, or generated (see O(secrets[].generate)).
          - Leading and trailing white space of a given value is kept in the file but a later run that reads the file
            instead strips the trailing part, so avoid it.
        type: str
        default: ''
      length:
        description:
          - Number of characters of a generated value, 8 to 4096. Generated values consist of ASCII letters and digits and
            come from Python's C(secrets) module.
          - Changing it does not replace a value that already exists.
        type: int
        default: 32
      generate:
        description:
          - Whether to generate and write a value when O(secrets[].value) is empty and the file is missing or empty.
          - V(false) only reads the file, for a secret that another task writes (a token the manager hands out, for
            example). The value is then V('') when the file is missing; the module never writes nor fixes that file.
        type: bool
        default: true

notes:
  - The value of a file is its content without trailing white space (the newline the module writes, or one an editor
    added). A file that is empty or holds only white space counts as missing.

seealso:
  - module: p2p.dragonfly.project_files
  - module: ansible.builtin.file

author:
  - p2p.dragonfly maintainers (@p2p-dragonfly)
"""

EXAMPLES = r"""
---
- name: Ensure the manager's secrets (generated once, or given in the inventory)
  p2p.dragonfly.host_secrets:
    dir: /etc/dragonfly/secrets
    owner: root
    group: root
    secrets:
      - name: mysql-password
        value: "{{ dragonfly_mysql_password | default('') }}"
      - name: redis-password
      - name: jwt-key
        length: 64
      # Written by a later task once the manager hands it out; only read here.
      - name: preheat-token
        generate: false
  register: manager_secrets
  no_log: true

- name: Use a secret in a template
  ansible.builtin.template:
    src: manager.yaml.j2
    dest: /opt/dragonfly/manager/config/manager.yaml
    mode: "0600"
  vars:
    mysql_password: "{{ manager_secrets.secrets['mysql-password'] }}"
  no_log: true
"""

RETURN = r"""
secrets:
  description:
    - The value of every secret in O(secrets), by name. V('') for a secret with O(secrets[].generate=false) whose file is
      missing.
    - "B(These are the secrets:) set C(no_log: true) on the task, since the task result is shown with C(-v) and stored by
      callbacks. The values given in O(secrets[].value) are returned as given (not masked as Ansible masks the values of
      C(no_log) options), so that all values can be used alike."
    - No other part of the result, nor any error message, contains a value.
  returned: always
  type: dict
  sample:
    mysql-password: 1wQm0X8ZbJc4kYtV9eRa2LhN7sDpG5fU
    redis-password: Qz3vH8nWc2Lx9rT5bYk1mJd7sPf4gA0e
    preheat-token: ''
generated:
  description: Names of the secrets generated by this run (in check mode, generated but not written).
  returned: always
  type: list
  elements: str
  sample:
    - redis-password
written:
  description:
    - Names of the secrets whose file was written or whose mode, owner or group was fixed (in check mode, would be).
  returned: always
  type: list
  elements: str
  sample:
    - mysql-password
    - redis-password
"""

import grp
import os
import pwd
import secrets as random_source
import string

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.p2p.dragonfly.plugins.module_utils._files import is_file_name, write_atomically, write_marker


DIR_MODE = 0o700
FILE_MODE = 0o600
LENGTH = (8, 4096)
ALPHABET = string.ascii_letters + string.digits
# What Ansible puts in place of a no_log option's value in the result's invocation.
MASK = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


class SecretsError(Exception):
    """A failure whose message names paths and options, never a value."""


def generate(length):
    return ''.join(random_source.choice(ALPHABET) for dummy in range(length))


def check_principal(kind, name):
    """Fail before any change for an owner or group the host does not know."""
    if name is None or name.isdigit():
        return
    try:
        (pwd.getpwnam if kind == 'owner' else grp.getgrnam)(name)
    except KeyError:
        raise SecretsError(f"{kind} '{name}' does not exist on the host: create it first or set another {kind}")


def check_params(params):
    if not os.path.isabs(params['dir']):
        raise SecretsError(f"dir '{params['dir']}' is not an absolute path: give the full path")
    check_principal('owner', params['owner'])
    check_principal('group', params['group'])
    seen = set()
    low, high = LENGTH
    if params['marker'] is not None and not is_file_name(params['marker']):
        raise SecretsError(f"marker '{params['marker']}' is not a file name: give a name without '/'")
    for index, entry in enumerate(params['secrets']):
        name = entry['name']
        if not name or '/' in name or name in ('.', '..') or '\0' in name:
            raise SecretsError(f"secrets[{index}].name '{name}' is not a file name: give a name without '/', other than "
                               f"'.' and '..' (the file is created in dir)")
        if name in seen:
            raise SecretsError(f"secrets[{index}].name '{name}' is listed twice: give each secret once")
        seen.add(name)
        if not low <= entry['length'] <= high:
            raise SecretsError(f"secrets[{index}].length {entry['length']} ({name}) is out of range: use {low} to {high}")


def fs_args(path, mode, params):
    return dict(path=path, mode=mode, owner=params['owner'], group=params['group'], attributes=None,
                secontext=[None, None, None])


def check_dir(params):
    """Whether O(dir) exists; fails when it cannot be one."""
    path = params['dir']
    if os.path.isdir(path):
        return True
    if os.path.lexists(path):
        raise SecretsError(f"dir {path} exists and is not a directory: remove it or choose another dir")
    ancestor = os.path.dirname(path)
    while not os.path.lexists(ancestor):
        ancestor = os.path.dirname(ancestor)
    if not os.path.isdir(ancestor):
        raise SecretsError(f"dir {path} cannot be created: {ancestor} is not a directory")
    return False


def ensure_dir(module, params, exists):
    """Create or fix O(dir); returns whether it changed (or would)."""
    path = params['dir']
    if exists:
        return module.set_fs_attributes_if_different(fs_args(path, DIR_MODE, params), False)
    if not module.check_mode:
        missing = [path]
        while not os.path.isdir(os.path.dirname(missing[-1])):
            missing.append(os.path.dirname(missing[-1]))
        try:
            for parent in reversed(missing[1:]):
                os.mkdir(parent)
            os.mkdir(path, DIR_MODE)
        except OSError as exc:
            raise SecretsError(f"cannot create dir {path}: {exc.strerror}")
        module.set_fs_attributes_if_different(fs_args(path, DIR_MODE, params), True)
        for created in missing if params['marker'] else []:
            reason = write_marker(module, created, params['marker'])
            if reason is not None:
                raise SecretsError(f"cannot write the marker {params['marker']} in {created}: {reason}")
    return True


def read(path, index, name):
    """The bytes of a secret file, or None when it does not exist."""
    if not os.path.lexists(path):
        return None
    if not os.path.isfile(path):
        raise SecretsError(f"secrets[{index}] ({name}): {path} is not a regular file: remove it")
    try:
        with open(path, 'rb') as stream:
            return stream.read()
    except OSError as exc:
        raise SecretsError(f"secrets[{index}] ({name}): cannot read {path}: {exc.strerror}")


def write(module, path, data):
    """Replace ``path`` with ``data`` atomically (0600 from the start)."""
    reason = write_atomically(module, path, data)
    if reason is not None:
        raise SecretsError(f"cannot write {path}: {reason}")


class Plan(object):
    """What one secret is and what its file needs, decided before any change."""

    def __init__(self, params, index, entry, dir_exists):
        self.name = entry['name']
        self.path = os.path.join(params['dir'], self.name)
        current = read(self.path, index, self.name) if dir_exists else None
        self.exists = current is not None
        # The file to manage (mode, owner, group): not one that only is read for another task.
        self.managed = bool(entry['value']) or entry['generate']
        self.generated = False
        self.data = None  # the bytes to write, if any
        if entry['value']:
            self.value = entry['value']
            wanted = (self.value + '\n').encode('utf-8', 'surrogateescape')
            if current != wanted:
                self.data = wanted
            return
        self.value = ''
        if current is not None:
            try:
                self.value = current.decode('utf-8').rstrip()
            except UnicodeDecodeError:
                raise SecretsError(f"secrets[{index}] ({self.name}): {self.path} is not UTF-8 text: remove it to have a "
                                   f"value generated, or set value")
        if not self.value and entry['generate']:
            self.value, self.generated = generate(entry['length']), True
            self.data = (self.value + '\n').encode('utf-8')

    def apply(self, module, params):
        """Returns whether the file was (or would be) written or fixed."""
        if not self.managed:
            return False
        args = fs_args(self.path, FILE_MODE, params)
        # Fix the mode first, so that new content never lands in a file readable by others.
        fixed = self.exists and module.set_fs_attributes_if_different(args, False)
        if self.data is not None and not module.check_mode:
            write(module, self.path, self.data)
            module.set_fs_attributes_if_different(args, False)
        return bool(fixed or self.data is not None)


def ensure_secrets(module):
    params = module.params
    check_params(params)
    dir_exists = check_dir(params)
    plans = [Plan(params, index, entry, dir_exists) for index, entry in enumerate(params['secrets'])]
    changed = ensure_dir(module, params, dir_exists)
    result = dict(secrets={}, generated=[], written=[])
    for plan in plans:
        result['secrets'][plan.name] = plan.value
        if plan.generated:
            result['generated'].append(plan.name)
        if plan.apply(module, params):
            result['written'].append(plan.name)
    result['changed'] = changed or bool(result['written'])
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dir=dict(type='path', required=True),
            marker=dict(type='str'),
            owner=dict(type='str'),
            group=dict(type='str'),
            # Not no_log as a whole: Ansible would then mask every name and length anywhere in the result.
            secrets=dict(type='list', elements='dict', required=True, no_log=False, options=dict(
                name=dict(type='str', required=True),
                value=dict(type='str', default='', no_log=True),
                length=dict(type='int', default=32),
                generate=dict(type='bool', default=True),
            )),
        ),
        supports_check_mode=True,
    )
    try:
        result = ensure_secrets(module)
    except SecretsError as exc:
        module.fail_json(msg=str(exc))
    # RV(secrets) must hold the given values too, not Ansible's mask of no_log values: stop masking them, but keep them
    # out of the invocation. Errors above are still masked.
    given = [entry['value'] for entry in module.params['secrets'] if entry['value']]
    module.no_log_values.difference_update(given)
    module_args = dict(module.params)
    module_args['secrets'] = [dict(entry, value=MASK if entry['value'] else '') for entry in module.params['secrets']]
    module.exit_json(invocation=dict(module_args=module_args), **result)


if __name__ == '__main__':
    main()
