#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
module: user_password

short_description: Ensure the password of a Dragonfly manager user

version_added: 0.1.0

description:
  - Ensures that a user of the Dragonfly manager, by default C(root), has the password O(password).
  - The module first signs in with O(password). If that works, nothing changes. Otherwise it signs in with each of
    O(previous_passwords) in turn and changes the password with the first one that works, then signs in with O(password).
  - Returns the session token (JWT) of that sign-in as RV(jwt), which M(p2p.dragonfly.personal_access_token) and
    M(p2p.dragonfly.cluster_info) take as O(p2p.dragonfly.cluster_info#module:jwt) instead of signing in again.
  - Dragonfly managers v2.5.0 and v2.5.1 refuse even the right password for a few seconds after the same user signed in
    or was read (their query cache drops the password hash). The module retries a refused password for about 7 seconds before it
    counts as wrong, so each wrong password in O(previous_passwords) costs that long.
  - The manager creates the C(root) user with the password V(dragonfly) on its first start; change it before the manager is
    reachable by others.

extends_documentation_fragment:
  - p2p.dragonfly.manager
  - p2p.dragonfly.attributes
  - p2p.dragonfly.attributes.actiongroup_dragonfly

attributes:
  check_mode:
    support: full
    details:
      - In check mode the module still signs in (requests that change nothing) to find out which password is set, but does
        not change it. RV(jwt) is then the session of the sign-in with the current password.
  diff_mode:
    support: none
  idempotent:
    support: full

options:
  name:
    description:
      - Name of the manager user. The manager accepts names of 3 to 10 characters at sign-in.
    type: str
    default: root
  user_id:
    description:
      - ID of the user, needed to change the password.
      - If not set, the module reads it from the session the manager gives at sign-in (its JWT's C(id) claim), else looks
        it up by O(name) (C(GET /api/v1/users)).
    type: int
  password:
    description:
      - The password the user must have, 8 to 20 characters (the manager's rule).
    type: str
    required: true
  previous_passwords:
    description:
      - Passwords the user may have now, tried in this order when O(password) does not work.
      - Entries that are not 8 to 20 characters long cannot be a manager password and are skipped.
      - If not set, the upstream default password V(dragonfly) is tried. It is not the option's default value because
        Ansible would then hide the word C(dragonfly) everywhere in the module's result, as it does for every value of a
        C(no_log) option.
    type: list
    elements: str
  previous_first:
    description:
      - Try O(previous_passwords) before O(password).
      - Set it when the user most likely still has an old password, for example right after the manager was installed.
        Each refused attempt makes the manager refuse the next one for a few seconds (see above), so trying the likely
        password first saves that wait. The result is the same either way.
    type: bool
    default: false
    version_added: 0.1.0
  token:
    description:
      - Not used by this module, which signs in with O(name) and a password. Accepted so that C(module_defaults) for the
        group C(group/p2p.dragonfly.dragonfly) can set it.
    type: str

notes:
  - Changing a password does not end the sessions of the web console that are already signed in, nor the sessions (JWT)
    that modules were given.

seealso:
  - module: p2p.dragonfly.personal_access_token
  - module: p2p.dragonfly.cluster_info

author:
  - p2p.dragonfly maintainers (@p2p-dragonfly)
"""

EXAMPLES = r"""
---
- name: Replace the upstream default password of root
  p2p.dragonfly.user_password:
    manager_url: https://manager.example.com:8080
    password: "{{ dragonfly_root_password }}"

- name: Ensure the root password and keep the session for the next tasks
  p2p.dragonfly.user_password:
    manager_url: https://manager.example.com:8080
    password: "{{ dragonfly_root_password }}"
  register: manager_session
  no_log: true

- name: Ensure a token for preheating, with that session instead of another sign-in
  p2p.dragonfly.personal_access_token:
    manager_url: https://manager.example.com:8080
    jwt: "{{ manager_session.jwt }}"
    name: ansible-preheat
  register: preheat_token
  no_log: true

- name: Rotate the root password, accepting the current and the upstream default one
  p2p.dragonfly.user_password:
    manager_url: https://manager.example.com:8080
    password: "{{ dragonfly_root_password_new }}"
    previous_passwords:
      - "{{ dragonfly_root_password }}"
      - dragonfly
"""

RETURN = r"""
name:
  description: Name of the user.
  returned: always
  type: str
  sample: root
user_id:
  description: ID of the user.
  returned: success
  type: int
  sample: 1
jwt:
  description:
    - A session token (JWT) of the user, from signing in with O(password) (in check mode, when the password would change,
      with the current password). Pass it as O(p2p.dragonfly.personal_access_token#module:jwt) or
      O(p2p.dragonfly.cluster_info#module:jwt) to save their sign-ins.
    - The manager accepts it for 14 days by default (its C(auth.jwt.timeout)), until its C(auth.jwt.key) changes.
    - "B(This is a secret:) whoever holds it acts as the user. Set C(no_log: true) on the task, since the task result is
      shown with C(-v) and stored by callbacks."
  returned: success
  type: str
  sample: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3OTk5OTk5OTksImlkIjoxfQ.c2lnbmF0dXJl
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.p2p.dragonfly.plugins.module_utils._api import (
    DEFAULT_ROOT_PASSWORD,
    PASSWORD_LENGTH,
    USER_NAME_LENGTH,
    ManagerAPIError,
    ManagerClient,
    check_length,
    manager_argspec_ex,
)


def candidate_passwords(previous, wanted):
    """The previous passwords worth a sign-in, in order, and how many were skipped as impossible."""
    low, high = PASSWORD_LENGTH
    candidates, skipped = [], 0
    for old in previous:
        if old == wanted or old in candidates:
            continue
        if not low <= len(old) <= high:
            skipped += 1
            continue
        candidates.append(old)
    return candidates, skipped


def signs_in(client, name, password):
    try:
        client.sign_in(name, password)
    except ManagerAPIError as exc:
        if exc.status == 401:
            return False
        raise
    return True


def user_id_of(module, client, name):
    if module.params['user_id'] is not None:
        return module.params['user_id']
    # The session names the user without a request: a request would make the manager refuse the reset for seconds.
    user_id = client.session_user_id()
    if user_id is not None:
        return user_id
    user = client.get_user_by_name(name)
    if not user or not isinstance(user.get('id'), int):
        module.fail_json(msg=f"signed in as '{name}' but GET /api/v1/users does not list that name: set user_id")
    return user['id']


def ensure_password(module, client):
    params = module.params
    name, password = params['name'], params['password']
    result = dict(changed=False, name=name)

    previous = params['previous_passwords']
    if previous is None:
        previous = [DEFAULT_ROOT_PASSWORD]
    candidates, skipped = candidate_passwords(previous, password)
    if params['previous_first']:
        current = next((old for old in candidates if signs_in(client, name, old)), None)
        if current is None and signs_in(client, name, password):
            current = password
    else:
        current = password if signs_in(client, name, password) else None
        if current is None:
            current = next((old for old in candidates if signs_in(client, name, old)), None)
    if current == password:
        result.update(user_id=user_id_of(module, client, name), jwt=client.jwt)
        return result
    if current is None:
        low, high = PASSWORD_LENGTH
        skipped_note = f', {skipped} skipped for not being {low}-{high} characters long' if skipped else ''
        module.fail_json(msg=f"cannot sign in as {name} with the desired password nor any of previous_passwords "
                             f"({len(candidates)} tried{skipped_note}): add the user's current password to previous_passwords")

    result.update(changed=True, user_id=user_id_of(module, client, name))
    if not module.check_mode:
        client.reset_password(result['user_id'], current, password)
        # The session of the old password stays valid, but the caller gets one of the new password,
        # which also proves the reset. The reset's UPDATE emptied the manager's query cache, so this
        # sign-in reads the new hash at once.
        client.sign_in(name, password)
    result['jwt'] = client.jwt
    return result


def main():
    argspec_ex = manager_argspec_ex()
    argument_spec = argspec_ex.pop('argspec')
    argument_spec.update(
        name=dict(type='str', default='root'),
        user_id=dict(type='int'),
        password=dict(type='str', required=True, no_log=True),
        previous_passwords=dict(type='list', elements='str', no_log=True),
        previous_first=dict(type='bool', default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **argspec_ex)
    try:
        # Before any request: the manager answers a sign-in that breaks these rules with a bare 401.
        check_length('name', module.params['name'], USER_NAME_LENGTH)
        check_length('password', module.params['password'], PASSWORD_LENGTH, secret=True)
        client = ManagerClient.from_module(module)
        result = ensure_password(module, client)
    except ManagerAPIError as exc:
        module.fail_json(msg=str(exc), http_status=exc.status)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
