# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils._api import PASSWORD_CHECK_RETRIES
from ansible_collections.p2p.dragonfly.plugins.modules import user_password
from ansible_collections.p2p.dragonfly.tests.unit.plugins.modules.conftest import JWT, MANAGER_URL


SIGNIN = '/api/v1/users/signin'
USERS = '/api/v1/users'
RESET = '/api/v1/users/1/reset_password'
WANTED = 'N3w-r00t-passw0rd'
CURRENT = 'Old-r00t-passw0rd'
ROOT = {'id': 1, 'name': 'root', 'email': '', 'state': 'enable'}
NEW_JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJpZCI6MSwibmV3Ijp0cnVlfQ.bmV3LXNlc3Npb24'
# A session whose claims ({"exp": 1799999999}) do not name the user: the module then looks the user up by name.
JWT_WITHOUT_ID = 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3OTk5OTk5OTl9.c2Vzc2lvbi13aXRob3V0LWlk'
# How often a refused password is sent before it counts as wrong (the manager's stale user rows).
TRIES = PASSWORD_CHECK_RETRIES + 1
EMPTY_HASH = {'message': 'crypto/bcrypt: hashedSecret too short to be a bcrypted password'}


def args(**extra):
    result = dict(manager_url=MANAGER_URL, password=WANTED)
    result.update(extra)
    return result


def signed_in_with(manager):
    return [call['body']['password'] for call in manager.calls if call['path'] == SIGNIN]


def test_password_already_set_only_signs_in(manager, run_module):
    # The user's id comes from the session's claims ({"id": 1}), without a request.
    manager.signin()

    result = run_module(user_password.main, args())

    assert not result.failed, result.output
    assert manager.requests() == [('POST', SIGNIN)]
    assert result.output['changed'] is False and result.output['user_id'] == 1
    assert result.output['jwt'] == JWT
    assert manager.sleeps == []
    assert result.leaks(WANTED) == []


def test_session_without_the_user_id_looks_the_user_up_by_name(manager, run_module):
    manager.signin(token=JWT_WITHOUT_ID).expect('GET', USERS, body=[ROOT])

    result = run_module(user_password.main, args())

    assert not result.failed, result.output
    assert manager.requests() == [('POST', SIGNIN), ('GET', USERS)]
    assert manager.calls[1]['query']['name'] == 'root'
    assert manager.calls[1]['headers']['Authorization'] == 'Bearer ' + JWT_WITHOUT_ID
    assert result.output['changed'] is False and result.output['user_id'] == 1


def test_right_password_refused_by_the_stale_cache_is_retried(manager, run_module):
    # Manager v2.5.0 answers 401 to the right password while it serves the user row from its query cache.
    manager.signin(status=401, times=2).signin()

    result = run_module(user_password.main, args(user_id=1))

    assert not result.failed, result.output
    assert manager.requests() == [('POST', SIGNIN)] * 3
    assert signed_in_with(manager) == [WANTED] * 3
    assert manager.sleeps == [1, 1]
    assert result.output['changed'] is False and result.output['jwt'] == JWT
    manager.assert_done()


def test_given_user_id_needs_no_lookup(manager, run_module):
    manager.signin()

    result = run_module(user_password.main, args(user_id=1))

    assert manager.requests() == [('POST', SIGNIN)]
    assert result.output == dict(result.output, changed=False, user_id=1, name='root')


def test_resets_from_upstream_default(manager, run_module):
    # No request with the session before the reset (the user's id is the session's): the manager would then serve
    # the reset a cached user row without its password hash (the next test).
    manager.signin(status=401).signin().expect('POST', RESET).signin(token=NEW_JWT)

    result = run_module(user_password.main, args())

    assert not result.failed, result.output
    assert manager.requests() == [('POST', SIGNIN)] * (TRIES + 1) + [('POST', RESET), ('POST', SIGNIN)]
    # The wanted password counts as wrong only after the bounded retries; after the reset one sign-in gives the session.
    assert signed_in_with(manager) == [WANTED] * TRIES + ['dragonfly', WANTED]
    assert manager.sleeps == [1] * PASSWORD_CHECK_RETRIES
    reset = manager.calls[-2]
    assert reset['body'] == {'old_password': 'dragonfly', 'new_password': WANTED}
    assert 'Authorization' not in reset['headers']  # the manager checks the old password instead
    assert result.output['changed'] is True and result.output['user_id'] == 1
    assert result.output['jwt'] == NEW_JWT
    assert result.leaks(WANTED, 'dragonfly', JWT) == []
    manager.assert_done()


def test_reset_refused_by_the_stale_cache_is_retried(manager, run_module):
    # The GET /api/v1/users before the reset made the manager cache the user row by id (its audit
    # middleware reads the signed-in user); a reset from that row answers 500 "hashedSecret too short".
    manager.signin(status=401).signin(token=JWT_WITHOUT_ID).expect('GET', USERS, body=[ROOT])
    manager.expect('POST', RESET, status=500, body=EMPTY_HASH).expect('POST', RESET).signin(token=NEW_JWT)

    result = run_module(user_password.main, args())

    assert not result.failed, result.output
    assert manager.requests()[-3:] == [('POST', RESET), ('POST', RESET), ('POST', SIGNIN)]
    assert len(manager.sleeps) == PASSWORD_CHECK_RETRIES + 1
    assert result.output['changed'] is True and result.output['jwt'] == NEW_JWT
    manager.assert_done()


def test_upstream_default_is_not_masked_in_the_output(manager, run_module):
    # A no_log default would make Ansible mask every "dragonfly" in the result.
    manager.signin()

    result = run_module(user_password.main, args(user_id=1, manager_url='http://dragonfly-manager:8080'))

    assert result.output['invocation']['module_args']['manager_url'] == 'http://dragonfly-manager:8080'


def test_tries_previous_passwords_in_order_skipping_impossible_ones(manager, run_module):
    manager.signin(status=401).signin(status=401).signin().expect('POST', RESET).signin(token=NEW_JWT)

    result = run_module(user_password.main, args(
        user_id=1, previous_passwords=['short', 'Wrong-passw0rd', WANTED, 'x' * 21, CURRENT, 'Never-tried-pw']))

    assert signed_in_with(manager) == [WANTED] * TRIES + ['Wrong-passw0rd'] * TRIES + [CURRENT, WANTED]
    assert manager.calls[-2]['body'] == {'old_password': CURRENT, 'new_password': WANTED}
    assert result.output['changed'] is True and result.output['jwt'] == NEW_JWT
    assert result.leaks(WANTED, CURRENT, 'Wrong-passw0rd', 'Never-tried-pw', JWT) == []
    manager.assert_done()


def test_check_mode_does_not_reset(manager, run_module):
    manager.signin(status=401).signin()

    result = run_module(user_password.main, args(_ansible_check_mode=True))

    assert manager.requests() == [('POST', SIGNIN)] * (TRIES + 1)
    assert result.output['changed'] is True
    # The session of the current password: the manager keeps it valid across a password change.
    assert result.output['jwt'] == JWT
    manager.assert_done()


def test_no_password_works(manager, run_module):
    manager.signin(status=401).signin(status=401).signin(status=401)

    result = run_module(user_password.main, args(previous_passwords=[CURRENT, 'dragonfly', 'tiny']))

    assert result.failed
    assert result.output['msg'] == (
        'cannot sign in as root with the desired password nor any of previous_passwords (2 tried, 1 skipped for not '
        "being 8-20 characters long): add the user's current password to previous_passwords")
    assert manager.requests() == [('POST', SIGNIN)] * (3 * TRIES)
    assert manager.sleeps == [1] * (3 * PASSWORD_CHECK_RETRIES)
    assert 'jwt' not in result.raw
    assert result.leaks(WANTED, CURRENT, 'dragonfly', 'tiny') == []


@pytest.mark.parametrize('extra, message', [
    (dict(password='seven77'), 'password must be 8-20 characters long for the Dragonfly manager; the given one has 7 characters'),
    (dict(password='p' * 21), 'password must be 8-20 characters long'),
    (dict(name='ab'), "name must be 3-10 characters long for the Dragonfly manager; the given one 'ab' has 2 characters"),
    (dict(name='administrator'), 'name must be 3-10 characters long'),
    (dict(manager_url='manager.test:8080'), 'manager_url must be http(s)://host[:port]'),
])
def test_invalid_arguments_fail_before_any_request(manager, run_module, extra, message):
    result = run_module(user_password.main, args(**extra))

    assert result.failed
    assert message in result.output['msg']
    assert manager.calls == []
    assert result.leaks('seven77', 'p' * 21) == []


def test_manager_url_from_environment(manager, run_module, monkeypatch):
    monkeypatch.setenv('DRAGONFLY_MANAGER_URL', 'http://env-manager.test:8080')
    manager.signin()

    result = run_module(user_password.main, dict(password=WANTED, user_id=1))

    assert manager.calls[0]['url'] == 'http://env-manager.test:8080' + SIGNIN
    assert result.output['changed'] is False


def test_missing_manager_url(manager, run_module):
    result = run_module(user_password.main, dict(password=WANTED))

    assert result.failed
    assert 'manager_url' in result.output['msg']
    assert manager.calls == []


def test_old_password_rejected_by_reset(manager, run_module):
    # Someone changed the password between the sign-in and the reset.
    manager.signin(status=401).signin()
    for dummy in range(TRIES):
        manager.expect('POST', RESET, status=401, body={'message': 'Unauthorized'})

    result = run_module(user_password.main, args(user_id=1))

    assert result.failed
    assert manager.requests().count(('POST', RESET)) == TRIES
    manager.assert_done()
    assert result.output['msg'] == (
        'POST /api/v1/users/1/reset_password failed with HTTP 401 (Unauthorized): the old password is wrong for user id 1')
    assert result.leaks(WANTED, 'dragonfly', JWT) == []


def test_unknown_user_id(manager, run_module):
    manager.signin(status=401).signin().expect(
        'POST', '/api/v1/users/5/reset_password', status=404, body={'message': 'record not found'})

    result = run_module(user_password.main, args(user_id=5))

    assert result.failed
    assert result.output['msg'].endswith('(record not found): there is no user with id 5')
    assert manager.requests().count(('POST', '/api/v1/users/5/reset_password')) == 1  # not retried


def test_unknown_user_name_after_sign_in(manager, run_module):
    manager.signin(token=JWT_WITHOUT_ID).expect('GET', USERS, body=[])

    result = run_module(user_password.main, args())

    assert result.failed
    assert 'does not list that name: set user_id' in result.output['msg']


def test_manager_timeout(manager, run_module):
    manager.expect('POST', SIGNIN, status=-1, body='Connection failure: The read operation timed out')

    result = run_module(user_password.main, args(timeout=5))

    assert result.failed
    assert result.output['msg'] == (
        f'manager unreachable at {MANAGER_URL}: no answer to POST /api/v1/users/signin within 5s: raise option timeout, '
        'or check the manager and the network; the manager may still have carried out the POST')
    assert manager.calls[0]['timeout'] == 5
    assert result.leaks(WANTED) == []


def test_previous_first_resets_from_upstream_default_without_refused_attempts(manager, run_module):
    # A fresh manager: the default password works at once, so no refused sign-in poisons the user-row cache.
    manager.signin().expect('POST', RESET).signin(token=NEW_JWT)

    result = run_module(user_password.main, args(previous_first=True))

    assert not result.failed, result.output
    assert signed_in_with(manager) == ['dragonfly', WANTED]
    assert manager.sleeps == []
    assert result.output['changed'] is True and result.output['jwt'] == NEW_JWT
    manager.assert_done()


def test_previous_first_falls_back_to_the_wanted_password(manager, run_module):
    # Already changed: the previous password is refused (retried as a possibly stale row), then the wanted one works.
    manager.signin(status=401, times=TRIES).signin()

    result = run_module(user_password.main, args(previous_first=True, previous_passwords=[CURRENT]))

    assert not result.failed, result.output
    assert signed_in_with(manager) == [CURRENT] * TRIES + [WANTED]
    assert result.output['changed'] is False and result.output['jwt'] == JWT
    assert result.leaks(WANTED) == [] and result.leaks(CURRENT) == []
    manager.assert_done()
