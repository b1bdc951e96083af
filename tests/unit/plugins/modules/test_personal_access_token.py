# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils._api import PAGE_SIZE, parse_rfc3339
from ansible_collections.p2p.dragonfly.plugins.modules import personal_access_token

from ansible_collections.p2p.dragonfly.tests.unit.plugins.modules.conftest import JWT, MANAGER_URL


ADMIN_PASSWORD = 'S3cret-admin-pw'
TOKEN = 'MWY0YzU3ZDUtNjdjNi00YzBhLWJmNjgtZjQyNTZkZDk5ZmM0'
NEW_TOKEN = 'NGQ2ZjBiYWMtOTIxNy00ZmYyLWE2NTQtMzg3ZTBhNzE1YzFi'
LIST = '/api/v1/personal-access-tokens'


def future(days=30):
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return moment.strftime('%Y-%m-%dT%H:%M:%S.123456789+08:00')


def pat_row(token_id=7, name='preheat', token=TOKEN, scopes=('job',), state='active', expired_at=None, user_id=1):
    return dict(
        id=token_id, name=name, bio='', token=token, scopes=list(scopes), state=state,
        expired_at=expired_at or future(), user_id=user_id, user={'id': user_id, 'name': 'root'},
        created_at='2026-01-01T00:00:00Z', updated_at='2026-01-01T00:00:00Z', is_del=0,
    )


def created_row(request_body, token_id=8):
    return pat_row(token_id=token_id, name=request_body['name'], token=NEW_TOKEN, scopes=request_body['scopes'],
                   expired_at=request_body['expired_at'])


def args(**extra):
    result = dict(manager_url=MANAGER_URL, admin_password=ADMIN_PASSWORD, name='preheat')
    result.update(extra)
    return result


def expect_create(manager, token_id=8):
    # Like the manager: the new row echoes the request, with a fresh token.
    manager.expect('POST', LIST, body=lambda request: created_row(request, token_id))


def test_creates_missing_token(manager, run_module):
    manager.signin().expect('GET', LIST, body=[pat_row(name='other', token='T' * 40)])
    expect_create(manager)

    result = run_module(personal_access_token.main, args(_ansible_diff=True))

    assert not result.failed, result.output
    assert manager.requests() == [('POST', '/api/v1/users/signin'), ('GET', LIST), ('POST', LIST)]
    signin, listing, create = manager.calls
    assert signin['body'] == {'name': 'root', 'password': ADMIN_PASSWORD}
    assert 'Authorization' not in signin['headers']
    assert listing['headers']['Authorization'] == 'Bearer ' + JWT
    assert listing['query'] == {'page': '1', 'per_page': str(PAGE_SIZE)}
    body = create['body']
    assert body['name'] == 'preheat' and body['scopes'] == ['job'] and body['user_id'] == 1
    expiry = parse_rfc3339(body['expired_at'])
    assert abs(expiry - datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=365)) < datetime.timedelta(minutes=5)
    out = result.output
    assert out['changed'] is True
    assert out['token'] == NEW_TOKEN and out['id'] == 8 and out['state'] == 'active' and out['scopes'] == ['job']
    assert out['diff']['before'] == {}
    assert out['diff']['after']['name'] == 'preheat'
    assert NEW_TOKEN not in str(out['diff'])
    assert 'token_matches' not in out
    assert result.leaks(ADMIN_PASSWORD, JWT) == []
    manager.assert_done()


def test_keeps_usable_token_with_only_reads(manager, run_module):
    manager.signin().expect('GET', LIST, body=[pat_row()])

    result = run_module(personal_access_token.main, args(_ansible_diff=True))

    assert manager.requests() == [('POST', '/api/v1/users/signin'), ('GET', LIST)]
    out = result.output
    assert out['changed'] is False
    assert out['token'] == TOKEN and out['id'] == 7 and out['user_id'] == 1
    assert out['diff']['before'] == out['diff']['after']
    assert TOKEN not in str(out['diff'])
    assert result.leaks(ADMIN_PASSWORD, JWT) == []


def test_scopes_compare_as_a_set(manager, run_module):
    manager.signin().expect('GET', LIST, body=[pat_row(scopes=['job', 'cluster'])])

    result = run_module(personal_access_token.main, args(scopes=['cluster', 'job', 'job']))

    assert result.output['changed'] is False
    assert result.output['scopes'] == ['cluster', 'job']


def test_reads_every_page(manager, run_module):
    first_page = [pat_row(token_id=100 + index, name=f'ci-{index}', token=f'tok-{index:04d}') for index in range(PAGE_SIZE)]
    manager.signin().expect('GET', LIST, body=first_page).expect('GET', LIST, body=[pat_row()])

    result = run_module(personal_access_token.main, args())

    assert [call['query'].get('page') for call in manager.calls[1:]] == ['1', '2']
    assert result.output['changed'] is False and result.output['id'] == 7


def test_check_mode_predicts_creation_without_writing_or_inventing_a_token(manager, run_module):
    manager.signin().expect('GET', LIST, body=[])

    result = run_module(personal_access_token.main, args(_ansible_check_mode=True, _ansible_diff=True))

    assert manager.methods() == {'POST', 'GET'}
    assert manager.requests() == [('POST', '/api/v1/users/signin'), ('GET', LIST)]
    out = result.output
    assert out['changed'] is True
    assert 'token' not in out and 'id' not in out
    assert out['diff']['after']['state'] == 'active'
    manager.assert_done()


@pytest.mark.parametrize('row, reason', [
    (pat_row(expired_at='2020-01-01T00:00:00Z'), 'it expired at 2020-01-01T00:00:00Z'),
    (pat_row(state='inactive'), 'it is inactive'),
    (pat_row(scopes=['cluster']), "its scopes are ['cluster'] instead of ['job']"),
])
def test_check_mode_predicts_replacement_without_delete(manager, run_module, row, reason):
    manager.signin().expect('GET', LIST, body=[row])

    result = run_module(personal_access_token.main, args(_ansible_check_mode=True))

    assert manager.requests() == [('POST', '/api/v1/users/signin'), ('GET', LIST)]
    assert result.output['changed'] is True
    assert 'token' not in result.output


@pytest.mark.parametrize('row', [
    pat_row(expired_at='2020-01-01T00:00:00Z'),
    pat_row(expired_at='0001-01-01T00:00:00Z'),
    pat_row(state='inactive'),
    pat_row(scopes=['job', 'cluster']),
])
def test_replaces_unusable_token(manager, run_module, row):
    manager.signin().expect('GET', LIST, body=[row]).expect('DELETE', LIST + '/7')
    expect_create(manager, token_id=9)

    result = run_module(personal_access_token.main, args(_ansible_diff=True))

    assert manager.requests() == [('POST', '/api/v1/users/signin'), ('GET', LIST), ('DELETE', LIST + '/7'), ('POST', LIST)]
    out = result.output
    assert out['changed'] is True and out['token'] == NEW_TOKEN and out['id'] == 9
    assert out['diff']['before']['id'] == 7 and out['diff']['after']['id'] == 9
    assert result.leaks(TOKEN) == []
    manager.assert_done()


def test_recreate_false_fails_and_leaves_token_alone(manager, run_module):
    manager.signin().expect('GET', LIST, body=[pat_row(expired_at='2020-01-01T00:00:00Z')])

    result = run_module(personal_access_token.main, args(recreate=False))

    assert result.failed
    assert manager.methods() == {'POST', 'GET'}
    assert "personal access token 'preheat' exists but it expired at 2020-01-01T00:00:00Z" in result.output['msg']
    assert 'set recreate=true' in result.output['msg']
    assert result.leaks(TOKEN, ADMIN_PASSWORD, JWT) == []


def test_name_of_another_user_fails_without_writing(manager, run_module):
    manager.signin().expect('GET', LIST, body=[pat_row(user_id=2)])

    result = run_module(personal_access_token.main, args())

    assert result.failed
    assert manager.requests() == [('POST', '/api/v1/users/signin'), ('GET', LIST)]
    assert 'already belongs to user id 2' in result.output['msg']
    assert result.leaks(TOKEN) == []


def test_given_token_that_matches(manager, run_module):
    manager.signin().expect('GET', LIST, body=[pat_row()])

    result = run_module(personal_access_token.main, args(token=TOKEN))

    out = result.output
    assert out['changed'] is False and out['token_matches'] is True
    # The value equals a no_log input, yet the caller gets it (not Ansible's mask) ...
    assert out['token'] == TOKEN
    # ... while the invocation still hides the input.
    assert out['invocation']['module_args']['token'] != TOKEN
    assert out['invocation']['module_args']['admin_password'] != ADMIN_PASSWORD
    assert result.leaks(ADMIN_PASSWORD, JWT) == []


def test_given_token_that_differs_changes_nothing(manager, run_module):
    manager.signin().expect('GET', LIST, body=[pat_row()])

    result = run_module(personal_access_token.main, args(token='stale-token-value'))

    assert manager.requests() == [('POST', '/api/v1/users/signin'), ('GET', LIST)]
    out = result.output
    assert out['changed'] is False and out['token_matches'] is False and out['token'] == TOKEN


def test_token_from_environment(manager, run_module, monkeypatch):
    monkeypatch.setenv('DRAGONFLY_TOKEN', TOKEN)
    monkeypatch.setenv('DRAGONFLY_MANAGER_URL', 'https://env-manager.test:8443/')
    manager.signin().expect('GET', LIST, body=[pat_row()])

    result = run_module(personal_access_token.main, dict(admin_password=ADMIN_PASSWORD, name='preheat'))

    assert [call['url'].split('/api/')[0] for call in manager.calls] == ['https://env-manager.test:8443'] * 2
    assert result.output['token_matches'] is True


def test_absent_deletes(manager, run_module):
    row = pat_row()
    manager.signin().expect('GET', LIST, body=[row]).expect('DELETE', LIST + '/7')

    result = run_module(personal_access_token.main, args(state='absent', _ansible_diff=True))

    assert result.output['changed'] is True
    assert result.output['diff'] == {'before': personal_access_token.public_view(row), 'after': {}}
    assert result.leaks(TOKEN, ADMIN_PASSWORD, JWT) == []
    manager.assert_done()


def test_absent_check_mode_does_not_delete(manager, run_module):
    manager.signin().expect('GET', LIST, body=[pat_row()])

    result = run_module(personal_access_token.main, args(state='absent', _ansible_check_mode=True))

    assert manager.requests() == [('POST', '/api/v1/users/signin'), ('GET', LIST)]
    assert result.output['changed'] is True


def test_absent_when_missing_or_owned_by_another_user(manager, run_module):
    manager.signin().expect('GET', LIST, body=[pat_row(user_id=3)])

    result = run_module(personal_access_token.main, args(state='absent'))

    assert result.output['changed'] is False
    assert manager.methods() == {'POST', 'GET'}
    assert any('belongs to user id 3' in warning for warning in result.output.get('warnings', []))


@pytest.mark.parametrize('extra, message', [
    (dict(scopes=[]), 'scopes must name at least one scope'),
    (dict(expires_in_days=0), 'expires_in_days must be 1 or more'),
    (dict(expires_in_days=20000), 'ends after 2038-01-19'),
    (dict(manager_url='http://manager.test:8080/api'), 'manager_url must be http(s)://host[:port] without a path'),
    (dict(manager_url='ftp://manager.test'), 'manager_url must be http(s)://host[:port]'),
    (dict(admin_password='short'), "the password of user 'root' must be 8-20 characters long"),
    (dict(timeout=0), 'timeout must be at least 1 second'),
])
def test_invalid_arguments_fail_before_any_request(manager, run_module, extra, message):
    result = run_module(personal_access_token.main, args(**extra))

    assert result.failed
    assert message in result.output['msg']
    assert manager.calls == []
    assert result.leaks(ADMIN_PASSWORD) == []


def test_wrong_admin_password(manager, run_module):
    manager.signin(status=401)

    result = run_module(personal_access_token.main, args())

    assert result.failed
    assert result.output['msg'] == (
        "POST /api/v1/users/signin failed with HTTP 401 (Unauthorized): wrong user name or password for user 'root'")
    assert result.output['http_status'] == 401
    assert result.leaks(ADMIN_PASSWORD) == []


def test_conflicting_name_on_create(manager, run_module):
    manager.signin().expect('GET', LIST, body=[]).expect('POST', LIST, status=409, body={'message': 'Conflict'})

    result = run_module(personal_access_token.main, args())

    assert result.failed
    assert "a personal access token named 'preheat' already exists" in result.output['msg']
    assert result.leaks(ADMIN_PASSWORD, JWT) == []


def test_manager_unreachable(manager, run_module):
    manager.expect('POST', '/api/v1/users/signin', status=-1, body='Request failed: <urlopen error [Errno 111] Connection refused>')

    result = run_module(personal_access_token.main, args())

    assert result.failed
    assert result.output['msg'].startswith(f'manager unreachable at {MANAGER_URL}: Request failed')
    assert len(manager.calls) == 1  # a POST is never resent


# --- sessions (jwt) --------------------------------------------------------------------------


SESSION = 'eyJhbGciOiJIUzI1NiJ9.eyJpZCI6MX0.Z2l2ZW4tc2Vzc2lvbg'


def jwt_args(**extra):
    result = dict(manager_url=MANAGER_URL, jwt=SESSION, name='preheat')
    result.update(extra)
    return result


def test_wrong_admin_password_is_retried_before_failing(manager, run_module):
    manager.signin(status=401)

    result = run_module(personal_access_token.main, args())

    assert result.failed
    assert len(manager.calls) == 8
    assert manager.sleeps == [1] * 7


def test_jwt_instead_of_signing_in(manager, run_module):
    manager.expect('GET', LIST, body=[pat_row()])

    result = run_module(personal_access_token.main, jwt_args())

    assert not result.failed, result.output
    assert manager.requests() == [('GET', LIST)]
    assert manager.calls[0]['headers']['Authorization'] == 'Bearer ' + SESSION
    assert result.output['changed'] is False and result.output['token'] == TOKEN
    assert result.output['invocation']['module_args']['jwt'] != SESSION
    assert result.leaks(SESSION) == []


def test_jwt_is_preferred_over_the_password(manager, run_module):
    manager.expect('GET', LIST, body=[])
    expect_create(manager)

    result = run_module(personal_access_token.main, jwt_args(admin_password=ADMIN_PASSWORD))

    assert manager.requests() == [('GET', LIST), ('POST', LIST)]
    assert manager.calls[1]['headers']['Authorization'] == 'Bearer ' + SESSION
    assert result.output['changed'] is True and result.output['token'] == NEW_TOKEN
    assert result.leaks(SESSION, ADMIN_PASSWORD) == []


def test_refused_jwt_falls_back_to_the_password(manager, run_module):
    manager.expect('GET', LIST, status=401, body={'message': 'Unauthorized'}).signin().expect('GET', LIST, body=[pat_row()])

    result = run_module(personal_access_token.main, jwt_args(admin_password=ADMIN_PASSWORD))

    assert not result.failed, result.output
    assert manager.requests() == [('GET', LIST), ('POST', '/api/v1/users/signin'), ('GET', LIST)]
    assert manager.calls[2]['headers']['Authorization'] == 'Bearer ' + JWT
    assert result.leaks(SESSION, ADMIN_PASSWORD, JWT) == []
    manager.assert_done()


def test_refused_jwt_without_password_fails(manager, run_module):
    manager.expect('GET', LIST, status=401, body={'message': 'Unauthorized'})

    result = run_module(personal_access_token.main, jwt_args(state='absent'))

    assert result.failed
    assert "the manager refused the given JWT: it expired" in result.output['msg']
    assert 'Set admin_password to sign in again' in result.output['msg']
    assert result.output['http_status'] == 401
    assert result.leaks(SESSION) == []


def test_needs_a_password_or_a_jwt(manager, run_module):
    result = run_module(personal_access_token.main, dict(manager_url=MANAGER_URL, name='preheat'))

    assert result.failed
    assert 'one of the following is required: admin_password, jwt' in result.output['msg']
    assert manager.calls == []


def test_empty_jwt_without_password(manager, run_module):
    # A role may pass `jwt: "{{ session.jwt | default('') }}"`.
    result = run_module(personal_access_token.main, jwt_args(jwt=''))

    assert result.failed
    assert "no way to sign in as 'root': set admin_password, or jwt" in result.output['msg']
    assert manager.calls == []
