#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


DOCUMENTATION = r"""
module: personal_access_token

short_description: Ensure a personal access token of the Dragonfly manager

version_added: 0.1.0

description:
  - Ensures that a personal access token (PAT) with a given name, owner and scopes exists in the Dragonfly manager and is
    usable (active and not expired), or that it does not exist.
  - Returns the token value, which the other modules of the collection take as O(token) to use the open API (C(/oapi/v1)).
  - The module manages tokens as a manager user with the C(root) role. It uses the session O(jwt) when it is set, otherwise
    it signs in as O(admin_user) with O(admin_password). O(token) is not used for that.
  - An existing, usable token with the wanted scopes is kept as it is. An inactive or expired token, or one with other scopes,
    is replaced by a new one when O(recreate=true) (delete, then create); its old value stops working at once.

extends_documentation_fragment:
  - p2p.dragonfly.manager
  - p2p.dragonfly.manager.admin
  - p2p.dragonfly.attributes
  - p2p.dragonfly.attributes.actiongroup_dragonfly

attributes:
  check_mode:
    support: full
    details:
      - In check mode the module still signs in (a request that changes nothing, and none with O(jwt)) and lists the tokens,
        but creates and deletes nothing.
      - RV(token) is only returned for a token that exists; a token that would be created or replaced has no value yet.
  diff_mode:
    support: full
    details:
      - The diff shows the token's name, owner, scopes, state and expiry, never its value.
  idempotent:
    support: full

options:
  name:
    description:
      - Name of the token. Names are unique across all users of the manager.
    type: str
    required: true
  state:
    description:
      - V(present) ensures the token exists and is usable, V(absent) deletes it.
    type: str
    choices:
      - present
      - absent
    default: present
  user_id:
    description:
      - ID of the manager user who owns the token. V(1) is the C(root) user the manager creates on its first start.
      - The module fails when a token named O(name) belongs to another user.
    type: int
    default: 1
  scopes:
    description:
      - What the token may access in the open API. V(job) covers C(/oapi/v1/jobs) (preheat and other jobs), V(cluster) covers
        C(/oapi/v1/clusters).
      - Compared as a set with the scopes of an existing token.
    type: list
    elements: str
    choices:
      - job
      - cluster
    default:
      - job
  expires_in_days:
    description:
      - Lifetime of a new token, in days from now.
      - Only used when a token is created. An existing token is kept until it has expired; then it is replaced
        (see O(recreate)).
      - The expiry must be before 2038-01-19, the end of the MySQL and MariaDB C(TIMESTAMP) column the manager stores it in.
    type: int
    default: 365
  recreate:
    description:
      - What to do with an existing token named O(name) that is inactive, has expired, or whose scopes differ from O(scopes).
      - If V(true), it is deleted and created again with a new value; the old value stops working at once. An inactive token
        is treated like a revoked one, so it is replaced instead of re-activated.
      - If V(false), the module fails and leaves the token alone.
    type: bool
    default: true
  token:
    description:
      - A token value the caller already holds, for example read from a file.
      - The module compares it with the current value of the token named O(name) and returns the result in RV(token_matches).
        A different value does not make the module change the token, since other callers may use the current value;
        RV(token) always returns the current value.
      - If not set, the value of the E(DRAGONFLY_TOKEN) environment variable is used.
    type: str

notes:
  - The manager shows token values to its admin users, so the module can return the value of an existing token.
  - Ansible hides the values of C(no_log) options everywhere in the module's result. While the password of O(admin_user) is
    still the upstream default V(dragonfly), every text containing C(dragonfly) (for example a token name) shows as
    C(********) in the result. Change the password first with M(p2p.dragonfly.user_password).

seealso:
  - module: p2p.dragonfly.user_password
  - name: Dragonfly web console, personal access tokens
    description: The upstream page on personal access tokens and their scopes.
    link: https://d7y.io/docs/advanced-guides/web-console/developer/personal-access-tokens/

author:
  - p2p.dragonfly maintainers (@p2p-dragonfly)
"""

EXAMPLES = r"""
---
- name: Ensure a token for preheating exists and get its value
  p2p.dragonfly.personal_access_token:
    manager_url: https://manager.example.com:8080
    admin_password: "{{ dragonfly_root_password }}"
    name: ansible-preheat
    scopes:
      - job
  register: preheat_token
  no_log: true

- name: Keep the token in a file on the controller; a new value is only written when it changed
  delegate_to: localhost
  block:
    - name: Check the stored value against the manager
      p2p.dragonfly.personal_access_token:
        manager_url: https://manager.example.com:8080
        admin_password: "{{ dragonfly_root_password }}"
        name: ci-preheat
        token: "{{ lookup('ansible.builtin.file', '/etc/dragonfly/ci-preheat.token', errors='ignore') | default(omit, true) }}"
      register: ci_token
      no_log: true

    - name: Store the current value
      ansible.builtin.copy:
        content: "{{ ci_token.token }}"
        dest: /etc/dragonfly/ci-preheat.token
        mode: "0600"
      no_log: true
      when:
        - ci_token.token is defined
        - not ci_token.token_matches

- name: Ensure the token with the session of p2p.dragonfly.user_password, without signing in again
  p2p.dragonfly.personal_access_token:
    manager_url: https://manager.example.com:8080
    jwt: "{{ manager_session.jwt }}"
    name: ansible-preheat
  register: preheat_token
  no_log: true

- name: Delete a token that is no longer needed
  p2p.dragonfly.personal_access_token:
    manager_url: https://manager.example.com:8080
    admin_password: "{{ dragonfly_root_password }}"
    name: old-ci
    state: absent
"""

RETURN = r"""
token:
  description:
    - The token's value, to pass as O(token) to the other modules of the collection (a bearer token for C(/oapi/v1)).
    - "B(This is a secret.) Set C(no_log: true) on the task, since the task result is shown with C(-v) and stored by callbacks."
  returned: when O(state=present) and the token exists (not for a token that check mode would create or replace)
  type: str
  sample: MWY0YzU3ZDUtNjdjNi00YzBhLWJmNjgtZjQyNTZkZDk5ZmM0
token_matches:
  description:
    - Whether O(token) is the current value of the token named O(name).
  returned: when O(state=present) and O(token) is set
  type: bool
  sample: true
id:
  description: ID of the token in the manager.
  returned: when O(state=present) and the token exists (not for a token that check mode would create or replace)
  type: int
  sample: 3
name:
  description: Name of the token.
  returned: always
  type: str
  sample: ansible-preheat
user_id:
  description: ID of the user who owns the token.
  returned: always
  type: int
  sample: 1
scopes:
  description: Scopes of the token.
  returned: when O(state=present)
  type: list
  elements: str
  sample:
    - job
state:
  description: State of the token in the manager, V(active) or V(inactive).
  returned: when O(state=present) and the token exists (not for a token that check mode would create or replace)
  type: str
  sample: active
expired_at:
  description: When the token expires, in RFC 3339 as the manager reports it.
  returned: when O(state=present) and the token exists (not for a token that check mode would create or replace)
  type: str
  sample: "2027-01-01T10:00:00Z"
"""

import datetime
import hmac

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.parameters import remove_values

from ansible_collections.p2p.dragonfly.plugins.module_utils._api import (
    PAT_STATE_ACTIVE,
    ManagerAPIError,
    ManagerClient,
    format_rfc3339,
    manager_argspec_ex,
    parse_rfc3339,
)


BIO = 'Managed by Ansible (p2p.dragonfly.personal_access_token)'
# The manager stores expired_at in a MySQL/MariaDB TIMESTAMP column, which ends here.
TIMESTAMP_LIMIT = datetime.datetime(2038, 1, 19, 3, 14, 7, tzinfo=datetime.timezone.utc)
# The manager's column for the name (manager/models/personal_access_token.go).
NAME_MAX_LENGTH = 256


def public_view(pat):
    """What results and diffs may show of a token row: everything but its value."""
    if not pat:
        return {}
    return dict(
        id=pat.get('id'),
        name=pat.get('name'),
        user_id=pat.get('user_id'),
        scopes=sorted(pat.get('scopes') or []),
        state=pat.get('state'),
        expired_at=pat.get('expired_at'),
    )


def unusable_because(pat, wanted_scopes, now):
    """Why an existing token does not do what was asked (empty: keep it)."""
    reasons = []
    if pat.get('state') != PAT_STATE_ACTIVE:
        reasons.append(f"it is {pat.get('state') or 'not active'}")
    expires = parse_rfc3339(pat.get('expired_at'))
    if expires is None or expires <= now:
        reasons.append(f"it expired at {pat.get('expired_at')}")
    scopes = sorted(set(pat.get('scopes') or []))
    if scopes != wanted_scopes:
        reasons.append(f"its scopes are {scopes} instead of {wanted_scopes}")
    return reasons


def validate(module, now):
    params = module.params
    if not params['name'] or len(params['name']) > NAME_MAX_LENGTH:
        module.fail_json(msg=f'name must be 1-{NAME_MAX_LENGTH} characters long')
    if params['user_id'] < 1:
        module.fail_json(msg=f"user_id must be a manager user ID (1 or more), got {params['user_id']}")
    if params['state'] == 'present':
        if not params['scopes']:
            # The manager turns an empty list into all scopes (job and cluster).
            module.fail_json(msg='scopes must name at least one scope: job or cluster')
        if params['expires_in_days'] < 1:
            module.fail_json(msg=f"expires_in_days must be 1 or more, got {params['expires_in_days']}")
        if now + datetime.timedelta(days=params['expires_in_days']) >= TIMESTAMP_LIMIT:
            module.fail_json(msg=f"expires_in_days={params['expires_in_days']} ends after 2038-01-19, past the MySQL/MariaDB "
                                 'TIMESTAMP column the manager stores the expiry in: choose fewer days')


def find_named(tokens, name):
    for pat in tokens:
        if isinstance(pat, dict) and pat.get('name') == name:
            return pat
    return None


def ensure_present(module, client, now):
    params = module.params
    name, user_id = params['name'], params['user_id']
    wanted_scopes = sorted(set(params['scopes']))

    client.log_in(params['admin_user'], params['admin_password'], jwt=params['jwt'])
    existing = find_named(client.list_personal_access_tokens(), name)
    if existing and existing.get('user_id') != user_id:
        module.fail_json(msg=f"a personal access token named '{name}' already belongs to user id {existing.get('user_id')}, "
                             f'not {user_id}: token names are unique across all users of the manager, choose another name')

    result = dict(changed=False, name=name, user_id=user_id, scopes=wanted_scopes)
    before = public_view(existing)
    after = before
    pat = existing
    if existing:
        reasons = unusable_because(existing, wanted_scopes, now)
        if reasons and not params['recreate']:
            module.fail_json(msg=f"personal access token '{name}' exists but {' and '.join(reasons)}; recreate=false forbids "
                                 'replacing it: set recreate=true to replace it by a new value (the old one stops working), '
                                 'or fix it in the manager console')
        if reasons:
            pat = None
    if pat is None:
        result['changed'] = True
        expired_at = format_rfc3339(now + datetime.timedelta(days=params['expires_in_days']))
        after = dict(name=name, user_id=user_id, scopes=wanted_scopes, state=PAT_STATE_ACTIVE, expired_at=expired_at)
        if not module.check_mode:
            if existing:
                client.delete_personal_access_token(existing['id'])
            pat = client.create_personal_access_token(name, user_id, wanted_scopes, expired_at, bio=BIO)
            after = public_view(pat)

    if pat:
        result.update(public_view(pat))
        result['token'] = pat['token']
    if params['token'] is not None:
        result['token_matches'] = bool(pat) and hmac.compare_digest(params['token'], pat['token'])
    if module._diff:
        result['diff'] = dict(before=before, after=after)
    return result


def ensure_absent(module, client):
    params = module.params
    name, user_id = params['name'], params['user_id']
    client.log_in(params['admin_user'], params['admin_password'], jwt=params['jwt'])
    existing = find_named(client.list_personal_access_tokens(), name)
    result = dict(changed=False, name=name, user_id=user_id)
    if existing and existing.get('user_id') != user_id:
        module.warn(f"personal access token '{name}' belongs to user id {existing.get('user_id')}, not {user_id}: left alone")
        existing = None
    if existing:
        result['changed'] = True
        if not module.check_mode:
            client.delete_personal_access_token(existing['id'])
    if module._diff:
        result['diff'] = dict(before=public_view(existing), after={})
    return result


def exit_with_token(module, result):
    token = result.get('token')
    if token and token in module.no_log_values:
        # The value equals a no_log input (option token or DRAGONFLY_TOKEN). Ansible would replace it by a mask and
        # callers would store the mask instead of the token, so keep it out of the masking but still hide the input.
        invocation = dict(module_args=remove_values(module.params, module.no_log_values))
        module.no_log_values.discard(token)
        module.exit_json(invocation=invocation, **result)
    module.exit_json(**result)


def main():
    argspec_ex = manager_argspec_ex(admin=True)
    argument_spec = argspec_ex.pop('argspec')
    argument_spec.update(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        user_id=dict(type='int', default=1),
        scopes=dict(type='list', elements='str', default=['job'], choices=['job', 'cluster']),
        expires_in_days=dict(type='int', default=365),
        recreate=dict(type='bool', default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **argspec_ex)
    now = datetime.datetime.now(datetime.timezone.utc)
    validate(module, now)
    try:
        client = ManagerClient.from_module(module)
        if module.params['state'] == 'present':
            result = ensure_present(module, client, now)
        else:
            result = ensure_absent(module, client)
    except ManagerAPIError as exc:
        module.fail_json(msg=str(exc), http_status=exc.status)
    exit_with_token(module, result)


if __name__ == '__main__':
    main()
