# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.p2p.dragonfly.plugins.module_utils import _api, _http
from ansible_collections.p2p.dragonfly.plugins.module_utils._api import (
    MAX_RETRY_AFTER,
    PAGE_SIZE,
    PASSWORD_CHECK_RETRIES,
    ManagerAPIError,
    ManagerClient,
    format_rfc3339,
    manager_argument_spec,
    parse_rfc3339,
    validate_manager_url,
)


URL = 'http://manager.test:8080'
TOKEN = 'ZjA5YzFlNjQtZmQ0Ni00NzQ2LWI1NjQtNGQ1OTFmNDk3ZTVm'
JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJpZCI6MX0.and-a-signature'
PASSWORD = 'Root-passw0rd!'
REFUSED = 'Request failed: <urlopen error [Errno 111] Connection refused>'
NEW_JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJpZCI6MiwibmV3Ijp0cnVlfQ.another-signature'
UNAUTHORIZED = (401, {'message': 'Unauthorized'})
EMPTY_HASH = (500, {'message': 'crypto/bcrypt: hashedSecret too short to be a bcrypted password'})
TRIES = PASSWORD_CHECK_RETRIES + 1
REAL_SLEEP = _api._sleep


class Answers(object):
    """Stands in for fetch_url: replays (status, body, headers) in order, records the requests."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []
        self.sleeps = []

    def fetch_url(self, module, url, data=None, headers=None, method=None, timeout=None, **kwargs):
        parts = urlsplit(url)
        self.calls.append(dict(method=method, path=parts.path, query=parse_qs(parts.query), headers=dict(headers or {}),
                               body=json.loads(data) if data else None, timeout=timeout, kwargs=kwargs))
        status, body, headers = (self.answers.pop(0) + (None, None))[:3]
        if status == -1:
            return None, dict(url=url, status=-1, msg=body)
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode() if body is not None else b''
        info = dict(url=url, status=status, msg='OK')
        info.update({key.lower(): value for key, value in (headers or {}).items()})
        if status >= 400:
            info.update(body=raw, msg=f'HTTP Error {status}')
            return None, info

        class Body(object):
            def read(self):
                return raw
        return Body(), info


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    monkeypatch.delenv('DRAGONFLY_MANAGER_URL', raising=False)
    monkeypatch.delenv('DRAGONFLY_TOKEN', raising=False)
    monkeypatch.delenv('DRAGONFLY_MANAGER_CA_PATH', raising=False)


def make_module(**params):
    with patch_module_args(params):
        return AnsibleModule(argument_spec=manager_argument_spec())


@pytest.fixture
def answer(monkeypatch):
    """``answer(*answers)`` installs the fake and returns a client with a token."""
    def install(*answers, token=TOKEN, **client_args):
        fake = Answers(*answers)
        monkeypatch.setattr(_http, 'fetch_url', fake.fetch_url)
        monkeypatch.setattr(_api, '_sleep', fake.sleeps.append)
        module = make_module(manager_url=URL, token=token) if token else make_module(manager_url=URL)
        return fake, ManagerClient(module, URL, token=token, **client_args)
    return install


def raised(call, *args):
    with pytest.raises(ManagerAPIError) as exc_info:
        call(*args)
    return exc_info.value


def assert_secret_free(error, *secrets):
    text = ' '.join(str(part) for part in (error, error.message, error.server_message, error.path, repr(error)))
    for secret in secrets:
        assert secret not in text


# --- options ---------------------------------------------------------------------------------


def test_argument_spec_defaults():
    module = make_module(manager_url=URL)
    assert module.params == dict(manager_url=URL, token=None, validate_certs=True, ca_path=None, timeout=30)
    client = ManagerClient.from_module(module)
    assert (client.base_url, client.token, client.timeout) == (URL, None, 30)


def test_environment_fallbacks(monkeypatch):
    monkeypatch.setenv('DRAGONFLY_MANAGER_URL', 'https://env.test:8443/')
    monkeypatch.setenv('DRAGONFLY_TOKEN', TOKEN)
    module = make_module()
    client = ManagerClient.from_module(module)
    assert client.base_url == 'https://env.test:8443'
    assert client.token == TOKEN
    assert TOKEN in module.no_log_values


def test_options_win_over_environment(monkeypatch):
    monkeypatch.setenv('DRAGONFLY_MANAGER_URL', 'https://env.test:8443')
    monkeypatch.setenv('DRAGONFLY_TOKEN', 'from-env')
    client = ManagerClient.from_module(make_module(manager_url=URL, token=TOKEN))
    assert (client.base_url, client.token) == (URL, TOKEN)


@pytest.mark.parametrize('url, base', [
    ('http://manager.test:8080', 'http://manager.test:8080'),
    ('http://manager.test:8080/', 'http://manager.test:8080'),
    (' https://10.0.0.5 ', 'https://10.0.0.5'),
    ('http://[fd00::5]:8080', 'http://[fd00::5]:8080'),
])
def test_valid_manager_urls(url, base):
    assert validate_manager_url(url) == base


@pytest.mark.parametrize('url', [
    'manager.test:8080', 'ftp://manager.test', 'http://manager.test:8080/api/v1', 'http://manager.test:99999',
    'http://manager.test:port', 'http://:8080', 'http://manager.test:8080?x=1', 'http://manager.test:8080#top',
])
def test_invalid_manager_urls_name_the_option(url):
    error = raised(validate_manager_url, url)
    assert str(error).startswith('manager_url must be http(s)://host[:port] without a path, for example http://manager.example.com:8080')
    assert error.status is None


def test_manager_url_with_credentials_is_not_echoed():
    error = raised(validate_manager_url, 'http://admin:hunter22@manager.test:8080')
    assert 'must not contain credentials' in str(error)
    assert 'hunter22' not in str(error)


def test_empty_manager_url():
    assert 'DRAGONFLY_MANAGER_URL' in str(raised(validate_manager_url, ''))


# --- transport -------------------------------------------------------------------------------


def test_open_api_request_sends_json_and_the_token(answer):
    fake, client = answer((200, {'id': 4, 'state': 'PENDING'}))

    job = client.create_job({'type': 'preheat', 'args': {'type': 'image', 'url': 'https://r.test/v2/a/manifests/1'}})

    assert job == {'id': 4, 'state': 'PENDING'}
    call = fake.calls[0]
    assert (call['method'], call['path']) == ('POST', '/oapi/v1/jobs')
    assert call['headers'] == {'Accept': 'application/json', 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + TOKEN}
    assert call['body']['type'] == 'preheat'
    assert call['timeout'] == 30
    # No ~/.netrc beside our header, and the token never follows a redirect (tests/unit/.../test_http.py).
    assert call['kwargs'] == {'use_netrc': False, 'ca_path': None, 'unredirected_headers': ['Authorization']}


def test_health_check_has_no_credentials(answer):
    fake, client = answer((200, 'OK'))
    assert client.healthy() is True
    assert fake.calls[0]['path'] == '/healthy'
    assert 'Authorization' not in fake.calls[0]['headers']


def test_sign_in_then_console_api_uses_the_jwt(answer):
    fake, client = answer((200, {'token': JWT, 'expire': '2030-01-01T00:00:00Z'}), (200, [{'id': 1, 'state': 'active'}]),
                          token=None)

    assert client.sign_in('root', PASSWORD) == JWT
    schedulers = client.list_schedulers(scheduler_cluster_id=1, state='active')

    assert schedulers == [{'id': 1, 'state': 'active'}]
    signin, listing = fake.calls
    assert signin['body'] == {'name': 'root', 'password': PASSWORD}
    assert 'Authorization' not in signin['headers']
    assert listing['path'] == '/api/v1/schedulers'
    assert listing['headers']['Authorization'] == 'Bearer ' + JWT
    assert listing['query'] == {'scheduler_cluster_id': ['1'], 'state': ['active'], 'page': ['1'], 'per_page': [str(PAGE_SIZE)]}


def test_jobs_fall_back_to_the_console_api_with_a_jwt(answer):
    fake, client = answer((200, {'token': JWT}), (200, {'id': 9, 'state': 'SUCCESS'}), token=None)
    client.sign_in('root', PASSWORD)
    assert client.get_job(9)['state'] == 'SUCCESS'
    assert fake.calls[1]['path'] == '/api/v1/jobs/9'


def test_jobs_without_credentials(answer):
    fake, client = answer(token=None)
    error = raised(client.create_job, {'type': 'preheat'})
    assert 'set option token (or DRAGONFLY_TOKEN)' in str(error)
    assert fake.calls == []


def test_console_api_without_sign_in(answer):
    fake, client = answer()
    assert 'needs a signed-in manager user' in str(raised(client.list_personal_access_tokens))
    assert 'needs a signed-in manager user (sign_in)' in str(raised(client.list_schedulers))
    assert fake.calls == []


def test_lists_read_every_page(answer):
    full = [{'id': index, 'name': f'pat-{index}', 'token': f'value-{index}'} for index in range(PAGE_SIZE)]
    fake, client = answer((200, {'token': JWT}), (200, full), (200, [{'id': 500, 'name': 'last', 'token': 'v'}]))
    client.sign_in('root', PASSWORD)

    rows = client.list_personal_access_tokens(user_id=1)

    assert len(rows) == PAGE_SIZE + 1
    assert [call['query']['page'] for call in fake.calls[1:]] == [['1'], ['2']]
    assert fake.calls[1]['query']['user_id'] == ['1']


def test_personal_access_token_calls(answer):
    created = {'id': 3, 'name': 'ci', 'token': 'bmV3LXRva2VuLXZhbHVl', 'scopes': ['job'], 'state': 'active'}
    fake, client = answer((200, {'token': JWT}), (200, created), (200, None))
    client.sign_in('root', PASSWORD)
    expiry = datetime.datetime(2027, 3, 4, 5, 6, 7, tzinfo=datetime.timezone.utc)

    assert client.create_personal_access_token('ci', 1, ['job'], expiry) == created
    client.delete_personal_access_token(3)

    assert fake.calls[1]['body'] == {'name': 'ci', 'bio': '', 'scopes': ['job'], 'expired_at': '2027-03-04T05:06:07Z', 'user_id': 1}
    assert (fake.calls[2]['method'], fake.calls[2]['path']) == ('DELETE', '/api/v1/personal-access-tokens/3')


def test_reset_password_needs_no_jwt(answer):
    fake, client = answer((200, None), token=None)
    assert client.reset_password(1, 'dragonfly', PASSWORD) is None
    call = fake.calls[0]
    assert (call['method'], call['path']) == ('POST', '/api/v1/users/1/reset_password')
    assert call['body'] == {'old_password': 'dragonfly', 'new_password': PASSWORD}
    assert 'Authorization' not in call['headers']


def test_lengths_are_checked_before_any_request(answer):
    fake, client = answer(token=None)
    assert 'user name must be 3-10 characters' in str(raised(client.sign_in, 'ro', PASSWORD))
    error = raised(client.sign_in, 'root', 'short')
    assert str(error) == "the password of user 'root' must be 8-20 characters long for the Dragonfly manager; the given one has 5 characters"
    assert 'new password must be 8-20' in str(raised(client.reset_password, 1, 'dragonfly', 'x' * 21))
    assert fake.calls == []


# --- errors ----------------------------------------------------------------------------------


def test_401_with_the_token(answer):
    fake, client = answer((401, {'message': 'Unauthorized'}))
    error = raised(client.get_job, 1)
    assert str(error) == ('GET /oapi/v1/jobs/1 failed with HTTP 401 (Unauthorized): the token was rejected: check option token '
                          '(or DRAGONFLY_TOKEN); it must be the value of an existing personal access token')
    assert (error.status, error.method, error.path) == (401, 'GET', '/oapi/v1/jobs/1')
    assert_secret_free(error, TOKEN)


def test_401_at_sign_in_is_a_wrong_password_only_after_bounded_retries(answer):
    fake, client = answer(*[UNAUTHORIZED] * TRIES, token=None)
    error = raised(client.sign_in, 'root', PASSWORD)
    assert str(error) == "POST /api/v1/users/signin failed with HTTP 401 (Unauthorized): wrong user name or password for user 'root'"
    assert len(fake.calls) == TRIES == 8
    assert fake.sleeps == [1] * 7
    assert all(call['body'] == {'name': 'root', 'password': PASSWORD} for call in fake.calls)
    assert client.jwt is None
    assert_secret_free(error, PASSWORD)


def test_sign_in_survives_the_stale_user_row(answer, monkeypatch):
    # Manager v2.5.0 refuses the right password while it serves the user row from its query cache.
    fake, client = answer(UNAUTHORIZED, UNAUTHORIZED, (200, {'token': JWT}), token=None)
    slept = []
    # Through time.sleep itself, not only the module's _sleep hook that the fixture replaced.
    monkeypatch.setattr(_api, '_sleep', REAL_SLEEP)
    monkeypatch.setattr(_api.time, 'sleep', slept.append)

    assert client.sign_in('root', PASSWORD) == JWT

    assert len(fake.calls) == 3
    assert slept == [1, 1]
    assert client.jwt == JWT


def test_reset_password_survives_the_stale_user_row(answer):
    # A reset from a cached row fails in bcrypt with ErrHashTooShort, which the manager answers with 500.
    fake, client = answer(EMPTY_HASH, (200, None), token=None)
    assert client.reset_password(1, 'dragonfly', PASSWORD) is None
    assert len(fake.calls) == 2
    assert fake.sleeps == [1]


def test_reset_password_gives_up_on_the_stale_user_row(answer):
    fake, client = answer(*[EMPTY_HASH] * TRIES, token=None)
    error = raised(client.reset_password, 1, 'dragonfly', PASSWORD)
    assert len(fake.calls) == TRIES
    assert str(error).startswith('POST /api/v1/users/1/reset_password failed with HTTP 500 (crypto/bcrypt: hashedSecret too short '
                                 'to be a bcrypted password): the manager read the user from its query cache')
    assert_secret_free(error, PASSWORD, 'dragonfly')


def test_reset_password_wrong_old_password_after_retries(answer):
    fake, client = answer(*[UNAUTHORIZED] * TRIES, token=None)
    error = raised(client.reset_password, 1, 'Wrong-passw0rd', PASSWORD)
    assert len(fake.calls) == TRIES
    assert str(error) == 'POST /api/v1/users/1/reset_password failed with HTTP 401 (Unauthorized): the old password is wrong for user id 1'


@pytest.mark.parametrize('status, body', [(404, {'message': 'record not found'}), (422, {'errors': 'bad'}), (500, {'message': 'boom'})])
def test_other_password_check_errors_are_not_retried(answer, status, body):
    fake, client = answer((status, body), token=None)
    raised(client.reset_password, 1, 'dragonfly', PASSWORD)
    assert len(fake.calls) == 1
    assert fake.sleeps == []


# --- sessions (JWT) --------------------------------------------------------------------------


def test_given_jwt_is_used_without_sign_in(answer):
    fake, client = answer((200, [{'id': 1}]), token=None, jwt=JWT)
    assert client.jwt == JWT
    assert client.list_schedulers(scheduler_cluster_id=1) == [{'id': 1}]
    assert [call['path'] for call in fake.calls] == ['/api/v1/schedulers']
    assert fake.calls[0]['headers']['Authorization'] == 'Bearer ' + JWT


def test_log_in_prefers_the_jwt(answer):
    fake, client = answer(token=None)
    assert client.log_in('root', PASSWORD, jwt=JWT) == JWT
    assert fake.calls == []


def test_log_in_signs_in_without_jwt(answer):
    fake, client = answer((200, {'token': JWT}), token=None)
    assert client.log_in('root', PASSWORD, jwt=None) == JWT
    assert [call['path'] for call in fake.calls] == ['/api/v1/users/signin']


@pytest.mark.parametrize('jwt', [None, '', '   '])
def test_log_in_without_password_nor_jwt(answer, jwt):
    fake, client = answer(token=None)
    error = raised(client.log_in, 'root', None, jwt)
    assert str(error) == "no way to sign in as 'root': set admin_password, or jwt to a session from p2p.dragonfly.user_password"
    assert fake.calls == []


def test_blank_jwt_falls_back_to_the_password(answer):
    fake, client = answer((200, {'token': JWT}), token=None)
    assert client.log_in('root', PASSWORD, jwt='  ') == JWT
    assert len(fake.calls) == 1


def test_use_jwt_rejects_a_blank_value(answer):
    fake, client = answer(token=None)
    assert 'the JWT is empty' in str(raised(client.use_jwt, ' '))


def test_log_in_checks_a_fallback_password_before_any_request(answer):
    fake, client = answer(token=None)
    assert "the password of user 'root' must be 8-20 characters" in str(raised(client.log_in, 'root', 'short', JWT))
    assert fake.calls == []


def test_refused_jwt_without_password_fails_with_advice(answer):
    fake, client = answer(UNAUTHORIZED, token=None, jwt=JWT)
    error = raised(client.list_peers, 1)
    assert str(error) == ("GET /api/v1/peers failed with HTTP 401 (Unauthorized): the manager refused the given JWT: it expired "
                          "(sessions last 14 days by default) or the manager's JWT key changed since it was issued. Set "
                          'admin_password to sign in again, or pass a new JWT (p2p.dragonfly.user_password returns one)')
    assert len(fake.calls) == 1
    assert_secret_free(error, JWT)


def test_refused_jwt_signs_in_again_with_the_password(answer):
    fake, client = answer(UNAUTHORIZED, (200, {'token': NEW_JWT}), (200, [{'id': 3}]), (200, [{'id': 4}]), token=None)
    client.use_jwt(JWT, 'root', PASSWORD)

    assert client.list_peers(1) == [{'id': 3}]
    assert client.list_peers(2) == [{'id': 4}]

    assert [call['path'] for call in fake.calls] == ['/api/v1/peers', '/api/v1/users/signin', '/api/v1/peers', '/api/v1/peers']
    assert fake.calls[0]['headers']['Authorization'] == 'Bearer ' + JWT
    assert fake.calls[1]['body'] == {'name': 'root', 'password': PASSWORD}
    assert fake.calls[2]['headers']['Authorization'] == 'Bearer ' + NEW_JWT
    assert fake.calls[3]['headers']['Authorization'] == 'Bearer ' + NEW_JWT
    assert client.jwt == NEW_JWT


def test_refused_again_after_a_new_sign_in(answer):
    fake, client = answer(UNAUTHORIZED, (200, {'token': NEW_JWT}), UNAUTHORIZED, token=None)
    client.use_jwt(JWT, 'root', PASSWORD)
    error = raised(client.list_schedulers, 1)
    assert len(fake.calls) == 3
    assert "the manager refused the session of user 'root', even right after signing in" in str(error)
    assert_secret_free(error, JWT, NEW_JWT, PASSWORD)


def test_rbac_refusal_does_not_sign_in_again(answer):
    fake, client = answer((401, {'message': 'permission deny'}), token=None)
    client.use_jwt(JWT, 'root', PASSWORD)
    error = raised(client.delete_personal_access_token, 3)
    assert len(fake.calls) == 1
    assert 'the user lacks the permission' in str(error)


def test_refused_jwt_and_wrong_fallback_password(answer):
    fake, client = answer(UNAUTHORIZED, *[UNAUTHORIZED] * TRIES, token=None, jwt=JWT)
    client.use_jwt(JWT, 'root', PASSWORD)
    error = raised(client.list_schedulers, 1)
    assert len(fake.calls) == 1 + TRIES
    assert "wrong user name or password for user 'root'" in str(error)


def test_given_jwt_is_redacted(answer):
    fake, client = answer((500, {'message': f'bad session {JWT}'}), token=None, jwt=JWT)
    error = raised(client.list_schedulers, 1)
    assert_secret_free(error, JWT)
    assert '********' in str(error)


# --- schedulers and peers --------------------------------------------------------------------


def test_list_peers_reads_every_page_with_filters(answer):
    full = [{'id': index, 'host_name': f'peer-{index}', 'type': 'normal'} for index in range(PAGE_SIZE)]
    fake, client = answer((200, full), (200, []), token=None, jwt=JWT)
    rows = client.list_peers(scheduler_cluster_id=2, state='active', peer_type='super')
    assert len(rows) == PAGE_SIZE
    assert [call['query'] for call in fake.calls] == [
        {'scheduler_cluster_id': ['2'], 'state': ['active'], 'type': ['super'], 'page': [str(page)], 'per_page': [str(PAGE_SIZE)]}
        for page in (1, 2)
    ]


def test_list_peers_without_filters(answer):
    fake, client = answer((200, []), token=None, jwt=JWT)
    assert client.list_peers() == []
    assert fake.calls[0]['query'] == {'page': ['1'], 'per_page': [str(PAGE_SIZE)]}


def test_sync_peers(answer):
    fake, client = answer((200, 'OK'), token=None, jwt=JWT)
    assert client.sync_peers([3]) == 'OK'
    call = fake.calls[0]
    assert (call['method'], call['path']) == ('POST', '/api/v1/jobs')
    assert call['body'] == {'type': 'sync_peers', 'scheduler_cluster_ids': [3]}
    assert call['headers']['Authorization'] == 'Bearer ' + JWT


def test_sync_peers_without_active_scheduler(answer):
    fake, client = answer((404, {'message': 'scheduler cluster id 3: record not found'}), token=None, jwt=JWT)
    error = raised(client.sync_peers, [3])
    assert str(error) == ('POST /api/v1/jobs failed with HTTP 404 (scheduler cluster id 3: record not found): scheduler cluster 3 '
                          'has no active scheduler, or does not exist')


def test_sync_peers_rate_limited(answer):
    fake, client = answer(*[(429, 'rate limit exceeded')] * 4, token=None, jwt=JWT)
    error = raised(client.sync_peers, [9])
    assert len(fake.calls) == 4
    assert 'still after 4 attempts' in str(error) and 'check scheduler cluster 9' in str(error)


def test_schedulers_and_peers_need_a_session(answer):
    fake, client = answer()
    assert 'needs a signed-in manager user (sign_in)' in str(raised(client.list_peers))
    assert 'needs a signed-in manager user (sign_in)' in str(raised(client.sync_peers, [1]))
    assert fake.calls == []


def test_401_from_rbac(answer):
    fake, client = answer((200, {'token': JWT}), (401, {'message': 'permission deny'}))
    client.sign_in('guest', PASSWORD)
    error = raised(client.delete_personal_access_token, 3)
    assert "(permission deny): the manager refused the session of user 'guest'" in str(error)
    assert_secret_free(error, JWT, PASSWORD, TOKEN)


@pytest.mark.parametrize('server_message', [
    'Token is inactive', 'Token has expired', "Token doesn't have permission to access this resource. Required permission: job",
])
def test_403(answer, server_message):
    fake, client = answer((403, {'message': server_message}))
    error = raised(client.create_job, {'type': 'preheat'})
    assert str(error) == (f'POST /oapi/v1/jobs failed with HTTP 403 ({server_message}): the token is inactive, expired or '
                          'lacking scope `job` (the scope /oapi/v1/jobs needs): ensure it with p2p.dragonfly.personal_access_token')
    assert_secret_free(error, TOKEN)


def test_404(answer):
    fake, client = answer((404, {'message': 'record not found'}))
    assert str(raised(client.get_job, 77)) == 'GET /oapi/v1/jobs/77 failed with HTTP 404 (record not found): job 77 does not exist'


def test_409(answer):
    fake, client = answer((200, {'token': JWT}), (409, {'message': 'Conflict'}))
    client.sign_in('root', PASSWORD)
    error = raised(client.create_personal_access_token, 'ci', 1, ['job'], '2027-01-01T00:00:00Z')
    assert str(error) == ("POST /api/v1/personal-access-tokens failed with HTTP 409 (Conflict): a personal access token named 'ci' "
                          'already exists: names are unique across all users of the manager')


def test_422_includes_the_validation_message(answer):
    validation = "Key: 'PreheatArgs.Type' Error:Field validation for 'Type' failed on the 'oneof' tag"
    fake, client = answer((422, {'errors': validation}))
    error = raised(client.create_job, {'type': 'preheat', 'args': {'type': 'dir'}})
    assert str(error) == f'POST /oapi/v1/jobs failed with HTTP 422 ({validation}): the manager rejected the request as invalid (see its message)'
    assert error.server_message == validation


def test_429_is_retried_with_back_off(answer):
    fake, client = answer((429, 'rate limit exceeded'), (429, 'rate limit exceeded'), (200, {'id': 5}))
    assert client.create_job({'type': 'preheat', 'scheduler_cluster_ids': [1]}) == {'id': 5}
    assert len(fake.calls) == 3
    assert fake.sleeps == [2, 4]


def test_429_gives_up_after_bounded_retries(answer):
    fake, client = answer(*[(429, 'rate limit exceeded')] * 4)
    error = raised(client.create_job, {'type': 'preheat', 'scheduler_cluster_ids': [7]})
    assert len(fake.calls) == 4
    assert fake.sleeps == [2, 4, 8]
    message = str(error)
    assert message.startswith('POST /oapi/v1/jobs failed with HTTP 429 (rate limit exceeded): rate limited by the manager, '
                              'still after 4 attempts')
    assert 'also answers 429 for a scheduler cluster id its rate limiter does not know' in message
    assert 'check scheduler_cluster_ids' in message


def test_429_honours_retry_after_within_bounds(answer):
    fake, client = answer((429, 'rate limit exceeded', {'Retry-After': '7'}), (429, 'rate limit exceeded', {'Retry-After': '3600'}),
                          (200, {'id': 5}))
    client.create_job({'type': 'preheat'})
    assert fake.sleeps == [7, MAX_RETRY_AFTER]


def test_500_candidate_schedulers_not_found(answer):
    fake, client = answer((500, {'message': 'candidate schedulers not found'}))
    error = raised(client.create_job, {'type': 'preheat'})
    assert str(error).startswith('POST /oapi/v1/jobs failed with HTTP 500 (candidate schedulers not found): no active scheduler '
                                 'with the preheat feature: is the scheduler running with job.enable and Redis')


def test_500_other(answer):
    fake, client = answer((500, {'message': 'dial tcp 10.0.0.9:6379: connect: connection refused'}))
    error = raised(client.get_job, 1)
    assert str(error) == ('GET /oapi/v1/jobs/1 failed with HTTP 500 (dial tcp 10.0.0.9:6379: connect: connection refused): '
                          "the manager failed internally: read the manager's log (docker logs of the manager container)")


def test_get_is_retried_on_connection_errors_then_gives_up(answer):
    fake, client = answer(*[(-1, REFUSED)] * 3)
    error = raised(client.get_job, 1)
    assert len(fake.calls) == 3
    assert fake.sleeps == [1, 2]
    assert str(error).startswith(f'manager unreachable at {URL}: {REFUSED} (GET /oapi/v1/jobs/1). Check manager_url')
    assert error.status == -1


def test_get_recovers_after_a_connection_error(answer):
    fake, client = answer((-1, REFUSED), (200, 'OK'))
    assert client.healthy() is True
    assert fake.sleeps == [1]


def test_post_is_not_resent_after_a_connection_error(answer):
    fake, client = answer((-1, 'Request failed: <urlopen error [Errno -2] Name or service not known>'))
    error = raised(client.create_job, {'type': 'preheat'})
    assert len(fake.calls) == 1
    assert 'manager unreachable at http://manager.test:8080: Request failed: <urlopen error [Errno -2] Name or service not known>' in str(error)


def test_timeout_is_not_retried(answer):
    fake, client = answer((-1, 'Connection failure: timed out'), timeout=12)
    error = raised(client.get_job, 1)
    assert len(fake.calls) == 1
    assert fake.calls[0]['timeout'] == 12
    assert str(error) == (f'manager unreachable at {URL}: no answer to GET /oapi/v1/jobs/1 within 12s: raise option timeout, '
                          'or check the manager and the network')


def test_redirect_to_the_console(answer):
    fake, client = answer((301, '<a href="/">Moved Permanently</a>.'))
    error = raised(client.create_job, {'type': 'preheat'})
    assert 'unexpected redirect: the manager redirects unknown paths to its web console' in str(error)


def test_html_instead_of_json(answer):
    fake, client = answer((200, {'token': JWT}), (200, '<!doctype html><html>console</html>'))
    client.sign_in('root', PASSWORD)
    error = raised(client.list_personal_access_tokens)
    assert str(error) == ('GET /api/v1/personal-access-tokens answered without a JSON list: is http://manager.test:8080 '
                          'the REST address of a Dragonfly manager 2.5?')


def test_sign_in_without_a_token_in_the_answer(answer):
    fake, client = answer((200, 'OK'), token=None)
    assert 'answered without a token' in str(raised(client.sign_in, 'root', PASSWORD))


def test_secrets_echoed_by_the_server_are_redacted(answer):
    job = {'type': 'preheat', 'args': {'type': 'image', 'url': 'https://r.test/v2/a/manifests/1', 'password': 'registry-pass',
                                       'headers': {'Authorization': 'Basic cmVnaXN0cnktdXNlcg=='}}}
    fake, client = answer((500, {'message': f'bad token {TOKEN}, password registry-pass, header Basic cmVnaXN0cnktdXNlcg=='}))
    error = raised(client.create_job, job)
    assert_secret_free(error, TOKEN, 'registry-pass', 'cmVnaXN0cnktdXNlcg==')
    assert '********' in str(error)


def test_created_token_and_jwt_are_redacted_afterwards(answer):
    created = {'id': 3, 'name': 'ci', 'token': 'bmV3LXRva2VuLXZhbHVl'}
    fake, client = answer((200, {'token': JWT}), (200, created), (500, {'message': f'{JWT} {created["token"]} {PASSWORD}'}))
    client.sign_in('root', PASSWORD)
    client.create_personal_access_token('ci', 1, ['job'], '2027-01-01T00:00:00Z')
    error = raised(client.delete_personal_access_token, 3)
    assert_secret_free(error, JWT, created['token'], PASSWORD)


def test_client_repr_has_no_secret(answer):
    fake, client = answer()
    assert repr(client) == "ManagerClient('http://manager.test:8080')"


# --- timestamps ------------------------------------------------------------------------------


@pytest.mark.parametrize('text, expected', [
    ('2027-01-02T03:04:05Z', datetime.datetime(2027, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)),
    ('2027-01-02T11:04:05.123456789+08:00', datetime.datetime(2027, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.timezone.utc)),
    ('2027-01-02T03:04:05', datetime.datetime(2027, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)),
    ('0001-01-01T00:00:00Z', datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc)),
])
def test_parse_rfc3339(text, expected):
    assert parse_rfc3339(text) == expected


@pytest.mark.parametrize('text', [None, '', 'yesterday', '2027-13-01T00:00:00Z'])
def test_parse_rfc3339_rejects(text):
    assert parse_rfc3339(text) is None


def test_format_rfc3339_is_utc():
    moment = datetime.datetime(2027, 1, 2, 11, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    assert format_rfc3339(moment) == '2027-01-02T03:04:05Z'


def test_plain_http_to_the_tls_proxy_names_the_fix(answer):
    # nginx's own answer (the manager role's TLS proxy) to a plain HTTP request on its TLS port.
    nginx = ('<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n<body>\r\n'
             '<center><h1>400 Bad Request</h1></center>\r\n</body>\r\n</html>\r\n')
    fake, client = answer((400, nginx, {'Server': 'nginx'}))
    error = raised(client.get_job, 1)
    assert 'the manager at http://manager.test:8080 serves TLS only: use https:// in manager_url' in str(error)
    assert len(fake.calls) == 1
    # The contrast: another 400 is reported as the manager's own answer.
    fake, client = answer((400, {'message': 'bad request'}))
    assert 'serves TLS only' not in str(raised(client.get_job, 1))


CACHED_COUNT = (500, {'message': 'json: cannot unmarshal number into Go struct field Query[interface {}].Dest of type '
                                 '[]models.Job'})


def test_a_job_listing_the_query_cache_answered_with_a_count_is_asked_again(answer):
    fake, client = answer(CACHED_COUNT, (200, [{'id': 7, 'type': 'preheat'}]))
    assert client.list_jobs('preheat', per_page=1) == [{'id': 7, 'type': 'preheat'}]
    assert len(fake.calls) == 2 and fake.sleeps == [1]
    assert fake.calls[1]['query'] == {'type': ['preheat'], 'page': ['1'], 'per_page': ['1']}


def test_a_job_listing_that_fails_otherwise_is_not_asked_again(answer):
    fake, client = answer((500, {'message': 'record not found'}))
    assert raised(client.list_jobs, 'preheat').status == 500
    assert len(fake.calls) == 1 and fake.sleeps == []


def test_a_job_listing_gives_up_on_the_cached_count_after_the_retries(answer):
    fake, client = answer(*([CACHED_COUNT] * TRIES))
    assert raised(client.list_jobs).status == 500
    assert len(fake.calls) == TRIES and fake.sleeps == [1] * PASSWORD_CHECK_RETRIES
