# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one HTTP client of this collection for the Dragonfly manager REST API: sessions, tokens, jobs, clusters, and the
connection options with their rules (``manager_argspec_ex``). No secret ever appears in an exception message. Upstream
behaviour: docs/dev/module-utils.md#manager-api."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import datetime
import json
import os
import re
import time

from urllib.parse import urlencode, urlparse

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.p2p.dragonfly.plugins.module_utils import _http


DEFAULT_TIMEOUT = 30

ROOT_USER_NAME = 'root'
ROOT_USER_ID = 1
# Created by manager/permission/rbac/rbac.go on the first start.
DEFAULT_ROOT_PASSWORD = 'dragonfly'

# manager/types/user.go SignInRequest / ResetPasswordRequest binding rules (characters).
USER_NAME_LENGTH = (3, 10)
PASSWORD_LENGTH = (8, 20)

# manager/types/persional_access_token.go
PAT_SCOPES = ('job', 'cluster')
PAT_STATE_ACTIVE = 'active'

PAGE_SIZE = 100
MAX_PAGES = 1000

# manager/types/scheduler_feature.go, manager/models/scheduler.go, manager/models/peer.go,
# pkg/types/types.go (HostType names).
SCHEDULER_FEATURE_PREHEAT = 'preheat'
STATE_ACTIVE = 'active'
PEER_TYPE_SUPER = 'super'

# How long a refused password is tried again before it counts as wrong: see _password_request.
PASSWORD_CHECK_RETRIES = 7
PASSWORD_CHECK_DELAY = 1
# middlewares/rbac.go: the refusals that a new sign-in cannot cure.
_RBAC_MESSAGES = ('permission deny', 'permission validate error!')
# bcrypt.ErrHashTooShort, which middlewares/error.go answers with 500.
_EMPTY_HASH_MESSAGE = 'hashedSecret too short'

RATE_LIMIT_RETRIES = 3
RATE_LIMIT_FIRST_DELAY = 2
MAX_RETRY_AFTER = 60
CONNECTION_RETRIES = 2
CONNECTION_RETRY_DELAY = 1

MANAGER_URL_EXAMPLE = 'http://manager.example.com:8080'
REDACTED = '********'
_SERVER_MESSAGE_MAX = 500

_RFC3339_RE = re.compile(
    r'^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:?\d{2})?$'
)

_AUTH_AUTO = 'auto'
_AUTH_TOKEN = 'token'
_AUTH_JWT = 'jwt'


def manager_argument_spec():
    """Connection options shared by every module (doc fragment ``p2p.dragonfly.manager``)."""
    return dict(
        manager_url=dict(type='str', required=True, fallback=(env_fallback, ['DRAGONFLY_MANAGER_URL'])),
        token=dict(type='str', no_log=True, fallback=(env_fallback, ['DRAGONFLY_TOKEN'])),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path', fallback=(env_fallback, ['DRAGONFLY_MANAGER_CA_PATH'])),
        timeout=dict(type='int', default=DEFAULT_TIMEOUT),
    )


def admin_argument_spec():
    """Sign-in options of the modules that need a manager session (doc fragment ``p2p.dragonfly.manager.admin``)."""
    return dict(
        admin_user=dict(type='str', default=ROOT_USER_NAME),
        admin_password=dict(type='str', no_log=True),
        jwt=dict(type='str', no_log=True),
    )


def manager_argspec_ex(admin=False):
    """The connection options (with ``admin``, the sign-in options too) and their rules, as AnsibleModule takes them:
    ``argspec`` is the argument spec, every other key a keyword argument of AnsibleModule, a list or dict a module may
    add its own rules to."""
    argspec = manager_argument_spec()
    required_one_of = []
    if admin:
        argspec.update(admin_argument_spec())
        required_one_of.append(('admin_password', 'jwt'))
    return dict(argspec=argspec, mutually_exclusive=[], required_one_of=required_one_of, required_if=[], required_by={})


class ManagerAPIError(Exception):
    """Every failure of the client; ``str()`` says what failed and what to do, without secrets."""

    def __init__(self, message, status=None, method=None, path=None, server_message=None):
        super(ManagerAPIError, self).__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.server_message = server_message


def validate_manager_url(url):
    """Return ``scheme://host[:port]`` or raise: the manager serves its API at the root."""
    if not url or not url.strip():
        raise ManagerAPIError(
            'manager_url is empty: set option manager_url (or DRAGONFLY_MANAGER_URL) to the manager REST address, '
            f'for example {MANAGER_URL_EXAMPLE}'
        )
    parsed = urlparse(url.strip())
    if '@' in parsed.netloc:
        # Never echo the value: it holds credentials.
        raise ManagerAPIError('manager_url must not contain credentials (user:password@): the manager API uses tokens')
    try:
        port_ok = parsed.port is None or 0 < parsed.port < 65536
    except ValueError:
        port_ok = False
    if (parsed.scheme not in ('http', 'https') or not parsed.hostname or not port_ok
            or parsed.path not in ('', '/') or parsed.params or parsed.query or parsed.fragment):
        raise ManagerAPIError(
            f'manager_url must be http(s)://host[:port] without a path, for example {MANAGER_URL_EXAMPLE} '
            f'(the manager REST port is 8080 by default); got {url!r}'
        )
    return f'{parsed.scheme}://{parsed.netloc}'


def check_length(label, value, limits, secret=False):
    """Raise unless ``value`` has between ``limits`` characters (the manager's binding rules)."""
    low, high = limits
    length = len(value or '')
    if low <= length <= high:
        return
    shown = f'has {length} characters' if secret else f'{value!r} has {length} characters'
    raise ManagerAPIError(f'{label} must be {low}-{high} characters long for the Dragonfly manager; the given one {shown}')


def format_rfc3339(moment):
    """UTC RFC 3339 with a ``Z``, as Go's ``time.Time`` JSON decoding expects."""
    return moment.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_rfc3339(text):
    """Parse the manager's timestamps (Go RFC 3339, nanoseconds, any offset); ``None`` if unreadable."""
    match = _RFC3339_RE.match(text or '')
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    zone = datetime.timezone.utc
    if offset and offset not in ('Z', 'z'):
        sign = -1 if offset[0] == '-' else 1
        digits = offset[1:].replace(':', '')
        zone = datetime.timezone(sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        return datetime.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second),
            int((fraction or '0')[:6].ljust(6, '0')), tzinfo=zone,
        )
    except ValueError:
        return None


def _origin_url(url):
    """scheme://host[:port] of a URL: where a redirect went, without its path or query (which may hold secrets)."""
    parts = urlparse(url)
    return f'{parts.scheme}://{parts.netloc.rpartition("@")[2]}'


def _sleep(seconds):
    time.sleep(seconds)


def _is_timeout(reason):
    return 'timed out' in (reason or '').lower()


def _decode(raw):
    text = to_text(raw or b'', errors='surrogate_or_replace')
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _server_message(payload):
    if isinstance(payload, dict):
        for key in ('message', 'errors', 'error'):
            if payload.get(key):
                message = payload[key]
                break
        else:
            return None
    elif isinstance(payload, str):
        message = payload
    else:
        return None
    message = ' '.join(to_text(message).split())
    if len(message) > _SERVER_MESSAGE_MAX:
        message = message[:_SERVER_MESSAGE_MAX] + '...'
    return message


def _server_error_hint(server_message):
    if server_message and _EMPTY_HASH_MESSAGE in server_message:
        return ('the manager read the user from its query cache, which drops the password hash (Dragonfly manager '
                f'v2.5.0), still after {PASSWORD_CHECK_RETRIES * PASSWORD_CHECK_DELAY}s of retries: try again later')
    if server_message and 'candidate schedulers not found' in server_message:
        return ('no active scheduler with the preheat feature: is the scheduler running with job.enable and Redis, '
                'and does GET /api/v1/schedulers?state=active list it in the requested scheduler cluster?')
    return "the manager failed internally: read the manager's log (docker logs of the manager container)"


def _stale_user_row(error):
    """Whether a refused password check may come from the manager's cached user row (see _password_request)."""
    if error.status == 401:
        return True
    return error.status == 500 and _EMPTY_HASH_MESSAGE in (error.server_message or '')


def _cached_count(error):
    """Whether a job listing failed on a count the manager's query cache served in place of its rows (see list_jobs)."""
    return error.status == 500 and 'cannot unmarshal number' in (error.server_message or '')


def _rbac_refusal(error):
    return (error.server_message or '').strip().lower() in _RBAC_MESSAGES


def _job_secrets(body):
    args = body.get('args') if isinstance(body, dict) else None
    if not isinstance(args, dict):
        return []
    secrets = [args.get('password')]
    if isinstance(args.get('headers'), dict):
        secrets.extend(args['headers'].values())
    return [secret for secret in secrets if isinstance(secret, str)]


def _ca_path_or_none(path):
    """An empty CA file counts as none: an AWX credential without a CA certificate writes one."""
    if not path:
        return None
    try:
        if os.path.getsize(path) == 0:
            return None
    except OSError:
        pass  # fetch_url names a missing file itself
    return path


class ManagerClient(object):
    """Talks to one manager with ``fetch_url``; JSON in, decoded JSON (or text) out.

    TLS verification follows the module's ``validate_certs`` option: ``fetch_url`` reads it from
    ``module.params``; ``ca_path`` names the CA bundle that signed the manager's certificate.
    """

    def __init__(self, module, base_url, token=None, timeout=DEFAULT_TIMEOUT, rate_limit_retries=RATE_LIMIT_RETRIES, jwt=None,
                 ca_path=None):
        self.module = module
        self.ca_path = _ca_path_or_none(ca_path)
        self.base_url = validate_manager_url(base_url)
        if timeout is None or timeout < 1:
            raise ManagerAPIError(f'timeout must be at least 1 second, got {timeout!r}')
        self.timeout = timeout
        self.rate_limit_retries = rate_limit_retries
        self.token = token or None
        self._jwt = None
        self._jwt_given = False
        self._signed_in_as = None
        # (name, password) to sign in again with when the manager refuses the session.
        self._credentials = None
        self._secrets = set()
        self._remember_secret(self.token)
        if jwt:
            self.use_jwt(jwt)

    def __repr__(self):
        return f'ManagerClient({self.base_url!r})'

    @classmethod
    def from_module(cls, module):
        params = module.params
        return cls(
            module,
            params.get('manager_url'),
            token=params.get('token'),
            timeout=params.get('timeout', DEFAULT_TIMEOUT),
            ca_path=params.get('ca_path'),
        )

    # --- transport -------------------------------------------------------------------------

    def request(self, method, path, body=None, auth=_AUTH_AUTO, query=None, hints=None, timeout=None):
        """Send one API call and return the decoded answer, or raise ``ManagerAPIError``.

        ``auth``: ``'auto'`` (PAT for ``/oapi/``, JWT for ``/api/``), ``'token'``, ``'jwt'`` or ``None``.
        ``hints`` maps HTTP statuses to the advice of this particular call.

        When the manager refuses the session (401 other than an RBAC refusal: the JWT expired, or the
        manager's JWT key changed) and the client knows a password, it signs in once more and repeats
        the call once. ``timeout``: seconds for this call instead of the client's.
        """
        method = method.upper()
        auth = self._resolve_auth(auth, path)
        try:
            return self._request(method, path, body, auth, query, hints, timeout)
        except ManagerAPIError as exc:
            if auth != _AUTH_JWT or exc.status != 401 or _rbac_refusal(exc) or not self._credentials:
                raise
        self.sign_in(*self._credentials)
        return self._request(method, path, body, auth, query, hints, timeout)

    def _request(self, method, path, body, auth, query, hints, timeout=None):
        timeout = timeout or self.timeout
        headers = {'Accept': 'application/json'}
        if auth == _AUTH_TOKEN:
            if not self.token:
                raise ManagerAPIError(
                    f'{method} {path} needs a personal access token: set option token (or DRAGONFLY_TOKEN); '
                    'p2p.dragonfly.personal_access_token creates one', method=method, path=path)
            headers['Authorization'] = 'Bearer ' + self.token
        elif auth == _AUTH_JWT:
            if not self._jwt:
                raise ManagerAPIError(f'{method} {path} needs a signed-in manager user: call sign_in() first', method=method, path=path)
            headers['Authorization'] = 'Bearer ' + self._jwt
        data = None
        if body is not None:
            data = json.dumps(body)
            headers['Content-Type'] = 'application/json'
        url = self.base_url + path
        if query:
            url += '?' + urlencode([(key, value) for key, value in query.items() if value is not None])

        rate_limited = 0
        reconnects = 0
        while True:
            status, payload, info, reason = self._send(method, url, data, headers, timeout)
            if status == 429 and rate_limited < self.rate_limit_retries:
                _sleep(self._rate_limit_delay(rate_limited, info))
                rate_limited += 1
                continue
            # Only GETs are safe to resend when we cannot know whether the manager saw them;
            # a timeout already cost the caller a full `timeout`, so it is not repeated.
            if status == -1 and method == 'GET' and reconnects < CONNECTION_RETRIES and not _is_timeout(reason):
                reconnects += 1
                _sleep(CONNECTION_RETRY_DELAY * reconnects)
                continue
            break
        if 200 <= status < 300:
            return payload
        raise self._error(method, path, status, payload, reason, auth, hints or {}, rate_limited + 1, timeout)

    def _send(self, method, url, data, headers, timeout):
        answer = _http.send(self.module, method, url, data=data, headers=headers, timeout=timeout,
                            ca_path=self.ca_path)
        if answer.redirected_elsewhere:
            # The credentials were not sent on (see _http); an answer from elsewhere is not the manager's.
            raise ManagerAPIError(
                f'{method} {urlparse(url).path}: the manager at {self.base_url} redirected to {_origin_url(answer.url)}; '
                'set manager_url (or DRAGONFLY_MANAGER_URL) to the address that answers', method=method,
                path=urlparse(url).path)
        return answer.status, _decode(answer.body), answer.info, answer.reason

    @staticmethod
    def _resolve_auth(auth, path):
        if auth != _AUTH_AUTO:
            return auth or None
        if path.startswith('/oapi/'):
            return _AUTH_TOKEN
        if path.startswith('/api/'):
            return _AUTH_JWT
        return None

    @staticmethod
    def _rate_limit_delay(attempt, info):
        retry_after = info.get('retry-after')
        try:
            return min(max(float(retry_after), 0), MAX_RETRY_AFTER)
        except (TypeError, ValueError):
            return RATE_LIMIT_FIRST_DELAY * (2 ** attempt)

    def _remember_secret(self, value):
        if isinstance(value, str) and value:
            self._secrets.add(value)

    def _redact(self, text):
        if not text:
            return text
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def _error(self, method, path, status, payload, reason, auth, hints, attempts, timeout):
        server = self._redact(_server_message(payload))
        where = f'{method} {path}'
        if status == -1:
            reason = self._redact(reason)
            if _is_timeout(reason):
                message = (f'manager unreachable at {self.base_url}: no answer to {where} within {timeout}s: '
                           'raise option timeout, or check the manager and the network')
                if method != 'GET':
                    message += f'; the manager may still have carried out the {method}'
            elif 'CERTIFICATE_VERIFY_FAILED' in reason or 'certificate verify failed' in reason:
                message = (f'the TLS certificate of the manager at {self.base_url} was not verified: {reason} ({where}). '
                           'Set ca_path (or DRAGONFLY_MANAGER_CA_PATH) to the CA that signed it; the manager role '
                           'keeps its own CA on the manager host as <dragonfly_manager_dir>/tls/ca.crt')
            else:
                message = (f'manager unreachable at {self.base_url}: {reason} ({where}). Check manager_url '
                           '(or DRAGONFLY_MANAGER_URL), that the manager is running, and that its REST port '
                           '(8080 by default) is reachable from the host the module runs on')
        elif status == 400 and 'sent to HTTPS port' in str(payload):
            # nginx's answer, the manager role's TLS proxy, to plain HTTP.
            message = (f'{where}: the manager at {self.base_url} serves TLS only: use https:// in manager_url '
                       '(or DRAGONFLY_MANAGER_URL)')
        else:
            advice = hints.get(status) or self._default_advice(status, path, auth, server, attempts)
            shown = f' ({server})' if server else ''
            message = f'{where} failed with HTTP {status}{shown}: {advice}'
        return ManagerAPIError(self._redact(message), status=status, method=method, path=path, server_message=server)

    def _default_advice(self, status, path, auth, server, attempts):
        if status == 401:
            if auth == _AUTH_TOKEN:
                return ('the token was rejected: check option token (or DRAGONFLY_TOKEN); it must be the value of an '
                        'existing personal access token')
            if auth == _AUTH_JWT:
                return self._session_refused_advice(server)
            return 'the manager requires authentication for this call'
        if status == 403:
            return ('the token is inactive, expired or lacking scope `job` (the scope /oapi/v1/jobs needs): '
                    'ensure it with p2p.dragonfly.personal_access_token')
        if status == 404:
            return 'the object does not exist'
        if status == 409:
            return 'an object with the same unique name already exists'
        if status == 422:
            return "the manager rejected the request as invalid (see its message)"
        if status == 429:
            return (f'rate limited by the manager, still after {attempts} attempts: the job_rate_limit of the scheduler '
                    'cluster is used up, retry later or raise it. Dragonfly manager v2.5.0 also answers 429 for a '
                    'scheduler cluster id its rate limiter does not know (a wrong id, or a cluster created less than '
                    '3 minutes ago) and when the limiter cannot reach Redis: check scheduler_cluster_ids')
        if status >= 500:
            return _server_error_hint(server)
        if 300 <= status < 400:
            return ('unexpected redirect: the manager redirects unknown paths to its web console; is manager_url the '
                    'REST address of a Dragonfly manager 2.5?')
        return 'unexpected answer from the manager'

    def _session_refused_advice(self, server):
        who = f"user '{self._signed_in_as}'" if self._signed_in_as else 'the given JWT'
        if (server or '').strip().lower() in _RBAC_MESSAGES:
            return (f'the manager refused the session of {who}: the user lacks the permission (only the root role may '
                    'change objects)')
        if self._jwt_given and not self._credentials:
            return ('the manager refused the given JWT: it expired (sessions last 14 days by default) or the manager\'s '
                    'JWT key changed since it was issued. Set admin_password to sign in again, or pass a new JWT '
                    '(p2p.dragonfly.user_password returns one)')
        return (f'the manager refused the session of {who}, even right after signing in: did the manager restart with '
                'another JWT key, or is manager_url a load balancer in front of managers with different keys?')

    def _unexpected(self, method, path, what):
        return ManagerAPIError(
            f'{method} {path} answered without {what}: is {self.base_url} the REST address of a Dragonfly manager 2.5?',
            method=method, path=path)

    def _get_all(self, path, query):
        items = []
        for page in range(1, MAX_PAGES + 1):
            page_query = dict(query)
            page_query.update(page=page, per_page=PAGE_SIZE)
            rows = self.request('GET', path, query=page_query)
            if not isinstance(rows, list):
                raise self._unexpected('GET', path, 'a JSON list')
            items.extend(rows)
            if len(rows) < PAGE_SIZE:
                return items
        raise ManagerAPIError(f'GET {path} still returned full pages after {MAX_PAGES} pages of {PAGE_SIZE}: giving up',
                              method='GET', path=path)

    # --- users -----------------------------------------------------------------------------

    def sign_in(self, name, password):
        """Sign in and keep the JWT for ``/api/v1`` calls; returns the JWT."""
        check_length('the user name', name, USER_NAME_LENGTH)
        check_length(f'the password of user {name!r}', password, PASSWORD_LENGTH, secret=True)
        self._remember_secret(password)
        path = '/api/v1/users/signin'
        payload = self._password_request(path, {'name': name, 'password': password},
                                         hints={401: f"wrong user name or password for user '{name}'"})
        token = payload.get('token') if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise self._unexpected('POST', path, 'a token')
        self._remember_secret(token)
        self._jwt = token
        self._jwt_given = False
        self._signed_in_as = name
        self._credentials = (name, password)
        return token

    def session_user_id(self):
        """The signed-in user's id as the manager wrote it into the session (JWT claim ``id``,
        manager/middlewares/jwt.go ``PayloadFunc``), or ``None``; read without a request. Any request with the
        session makes the manager cache that user's row without its password hash (its audit middleware reads the
        user, see ``_password_request``), so a password reset right after it is refused for up to 5 s."""
        try:
            encoded = self._jwt.split('.')[1]
            claims = json.loads(base64.urlsafe_b64decode(encoded + '=' * (-len(encoded) % 4)))
        except (AttributeError, IndexError, TypeError, ValueError):
            return None
        user_id = claims.get('id') if isinstance(claims, dict) else None
        return user_id if isinstance(user_id, int) and not isinstance(user_id, bool) and user_id > 0 else None

    def use_jwt(self, jwt, name=None, password=None):
        """Use an existing session (a JWT from ``sign_in``, for example of another module) without a request.

        With ``name`` and ``password`` the client signs in again when the manager refuses the JWT; without
        them such a refusal fails with advice.
        """
        if not isinstance(jwt, str) or not jwt.strip():
            raise ManagerAPIError('the JWT is empty: pass the jwt returned by p2p.dragonfly.user_password, or admin_password')
        jwt = jwt.strip()
        self._remember_secret(jwt)
        self._jwt = jwt
        self._jwt_given = True
        self._signed_in_as = None
        self._credentials = None
        if password:
            check_length('the user name', name, USER_NAME_LENGTH)
            check_length(f'the password of user {name!r}', password, PASSWORD_LENGTH, secret=True)
            self._remember_secret(password)
            self._credentials = (name, password)
        return jwt

    def log_in(self, name, password=None, jwt=None):
        """The modules' way in: reuse ``jwt`` when given (signing in with ``password`` only if the manager
        refuses it), else sign in with ``password``. Returns the JWT."""
        if jwt and jwt.strip():
            return self.use_jwt(jwt, name, password)
        if not password:
            raise ManagerAPIError(f"no way to sign in as '{name}': set admin_password, or jwt to a session from "
                                  'p2p.dragonfly.user_password')
        return self.sign_in(name, password)

    @property
    def jwt(self):
        """The JWT in use (may have been renewed by a new sign-in), or ``None``."""
        return self._jwt

    def reset_password(self, user_id, old_password, new_password):
        """Change a password; the manager checks the old one (no JWT needed)."""
        check_length('the old password', old_password, PASSWORD_LENGTH, secret=True)
        check_length('the new password', new_password, PASSWORD_LENGTH, secret=True)
        self._remember_secret(old_password)
        self._remember_secret(new_password)
        user_id = int(user_id)
        self._password_request(
            f'/api/v1/users/{user_id}/reset_password', {'old_password': old_password, 'new_password': new_password},
            hints={401: f'the old password is wrong for user id {user_id}', 404: f'there is no user with id {user_id}'},
        )

    def _password_request(self, path, body, hints):
        """POST a password check (sign-in, reset) and retry refusals that a stale user row may have caused.

        Dragonfly manager v2.5.0 (v2.5.1 alike) caches gorm query results for 30 s as JSON (manager/database/cacher.go,
        go-gorm/caches), and models.User.EncryptedPassword is ``json:"-"`` (manager/models/user.go): a user
        row served from that cache has no password hash, so service.SignIn and ResetPassword
        (manager/service/user.go, ``First`` then bcrypt) refuse even the right password whenever the same
        query ran in the last 30 s. Sign-in then answers 401; reset answers 500 "hashedSecret too short"
        (bcrypt.ErrHashTooShort is not the mismatch error middlewares/error.go turns into 401). Every
        request queues an audit row, and their batch INSERT every 5 s (manager/service/audit.go,
        AuditInsertInterval) empties the whole cache, so a retry a few seconds later reaches the database.
        Only a refusal that lasts longer means a wrong password. A reset's 401 (a real bcrypt mismatch) is
        retried too, so that both calls share one rule. Failed checks change nothing: retrying is safe.
        """
        return self._past_the_cache(lambda: self.request('POST', path, body=body, auth=None, hints=hints),
                                    _stale_user_row)

    @staticmethod
    def _past_the_cache(call, cached):
        """``call()``, again every second while the error it raises is one ``cached(error)`` blames on the manager's
        query cache (emptied every 5 s, see _password_request); the last error after PASSWORD_CHECK_RETRIES."""
        for attempt in range(PASSWORD_CHECK_RETRIES + 1):
            try:
                return call()
            except ManagerAPIError as exc:
                if attempt >= PASSWORD_CHECK_RETRIES or not cached(exc):
                    raise
            _sleep(PASSWORD_CHECK_DELAY)
        return None  # not reached

    def get_user_by_name(self, name):
        """The user row named ``name`` (needs ``sign_in``), or ``None``."""
        path = '/api/v1/users'
        rows = self.request('GET', path, query={'name': name, 'page': 1, 'per_page': PAGE_SIZE})
        if not isinstance(rows, list):
            raise self._unexpected('GET', path, 'a JSON list')
        for row in rows:
            if isinstance(row, dict) and row.get('name') == name:
                return row
        return None

    # --- personal access tokens (need sign_in) ------------------------------------------------

    def list_personal_access_tokens(self, user_id=None, state=None):
        """Every personal access token (all pages), optionally of one user and/or state."""
        rows = self._get_all('/api/v1/personal-access-tokens', {'user_id': user_id, 'state': state})
        for row in rows:
            if isinstance(row, dict):
                self._remember_secret(row.get('token'))
        return rows

    def create_personal_access_token(self, name, user_id, scopes, expired_at, bio=''):
        """Create a token; ``expired_at`` is a datetime or an RFC 3339 string. Returns the row with ``token``."""
        if isinstance(expired_at, datetime.datetime):
            expired_at = format_rfc3339(expired_at)
        path = '/api/v1/personal-access-tokens'
        body = {'name': name, 'bio': bio, 'scopes': list(scopes), 'expired_at': expired_at, 'user_id': int(user_id)}
        row = self.request('POST', path, body=body, hints={
            409: f"a personal access token named '{name}' already exists: names are unique across all users of the manager",
            500: f'the manager could not store the token: does user id {user_id} exist? Its log has the database error',
        })
        if not isinstance(row, dict) or not row.get('token'):
            raise self._unexpected('POST', path, 'the new token')
        self._remember_secret(row['token'])
        return row

    def delete_personal_access_token(self, token_id):
        token_id = int(token_id)
        self.request('DELETE', f'/api/v1/personal-access-tokens/{token_id}',
                     hints={404: f'personal access token id {token_id} does not exist (deleted meanwhile?)'})

    # --- jobs, schedulers, health --------------------------------------------------------------

    def jobs_endpoint(self):
        """``(path, auth)`` of the jobs API this client uses: the open API with a token, else the console API."""
        # The open API takes the PAT; a signed-in user may use the console API instead.
        if self.token:
            return '/oapi/v1/jobs', _AUTH_TOKEN
        if self._jwt:
            return '/api/v1/jobs', _AUTH_JWT
        raise ManagerAPIError('jobs need a personal access token: set option token (or DRAGONFLY_TOKEN); '
                              'p2p.dragonfly.personal_access_token creates one')

    def create_job(self, body, timeout=None):
        """``POST .../jobs``; 429 is retried with back-off. Returns the job row, or for a job type the manager answers
        only once it has run (get_image_distribution) its answer; ``timeout``: seconds for that call."""
        path, auth = self.jobs_endpoint()
        for secret in _job_secrets(body):
            self._remember_secret(secret)
        job = self.request('POST', path, body=body, auth=auth, timeout=timeout)
        if not isinstance(job, dict):
            raise self._unexpected('POST', path, 'a job')
        return job

    def list_jobs(self, job_type=None, per_page=10):
        """The newest ``per_page`` job rows (of ``job_type``, if given), newest first: one page, not every page.

        Manager v2.5.1 ``GetJobs`` finds the rows and counts them on one gorm chain, and its query cache (see
        _password_request) can serve the count where the rows were asked for when the same listing ran a moment
        before: 500 "json: cannot unmarshal number into Go struct field Query[interface {}].Dest of type
        []models.Job" (seen when the role started two preheats at once). A listing changes nothing: retried past the
        cache.
        """
        path, auth = self.jobs_endpoint()
        query = {'type': job_type, 'page': 1, 'per_page': per_page}
        rows = self._past_the_cache(lambda: self.request('GET', path, auth=auth, query=query), _cached_count)
        if not isinstance(rows, list):
            raise self._unexpected('GET', path, 'a JSON list')
        return [row for row in rows if isinstance(row, dict)]

    def get_job(self, job_id):
        path, auth = self.jobs_endpoint()
        job_id = int(job_id)
        job = self.request('GET', f'{path}/{job_id}', auth=auth, hints={404: f'job {job_id} does not exist'})
        if not isinstance(job, dict):
            raise self._unexpected('GET', f'{path}/{job_id}', 'a job')
        return job

    def list_schedulers(self, scheduler_cluster_id=None, state=None):
        """Schedulers (all pages); needs ``sign_in``: the open API has no scheduler endpoint."""
        if not self._jwt:
            raise ManagerAPIError('listing schedulers needs a signed-in manager user (sign_in): the manager serves '
                                  '/api/v1/schedulers to users, not to personal access tokens')
        return self._get_all('/api/v1/schedulers', {'scheduler_cluster_id': scheduler_cluster_id, 'state': state})

    def list_peers(self, scheduler_cluster_id=None, state=None, peer_type=None):
        """Peers (all pages) as the manager's peer table has them; needs ``sign_in``.

        manager/types/peer.go GetPeersQuery filters by ``type`` only for ``super``; pass ``None`` for all.
        """
        if not self._jwt:
            raise ManagerAPIError('listing peers needs a signed-in manager user (sign_in): the manager serves '
                                  '/api/v1/peers to users, not to personal access tokens')
        return self._get_all('/api/v1/peers', {'scheduler_cluster_id': scheduler_cluster_id, 'state': state,
                                               'type': peer_type})

    def sync_peers(self, scheduler_cluster_ids):
        """``POST /api/v1/jobs`` of type ``sync_peers``: the manager asks the first active scheduler of each
        cluster for its hosts and merges them into its peer table before it answers (manager/handlers/job.go,
        manager/job/sync_peers.go); no job row is created. Needs ``sign_in``.

        Raises like ``request``: 404 ``scheduler cluster id N: record not found`` when the cluster is unknown
        or has no active scheduler, 500 ``sync peers job is running`` while another synchronisation runs.
        """
        if not self._jwt:
            raise ManagerAPIError('syncing peers needs a signed-in manager user (sign_in)')
        ids = [int(cluster_id) for cluster_id in scheduler_cluster_ids]
        shown = ', '.join(str(cluster_id) for cluster_id in ids)
        return self.request('POST', '/api/v1/jobs', body={'type': 'sync_peers', 'scheduler_cluster_ids': ids}, hints={
            404: f'scheduler cluster {shown} has no active scheduler, or does not exist',
            429: (f'the job rate limiter of the manager refused it, still after {self.rate_limit_retries + 1} attempts. '
                  'Dragonfly manager v2.5.0 does so for a scheduler cluster its limiter does not know (a wrong id, or a cluster '
                  'created less than 3 minutes ago), when it cannot reach Redis, and when the job_rate_limit of the cluster '
                  f'is used up: check scheduler cluster {shown}'),
        })

    def healthy(self):
        """``True`` when ``GET /healthy`` answers 200; raises otherwise."""
        self.request('GET', '/healthy', auth=None)
        return True
