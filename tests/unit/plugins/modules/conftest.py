# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared fakes for module tests: a scripted Dragonfly manager behind ``fetch_url``, and
``exit_json``/``fail_json`` that raise with what Ansible would print."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.testing import patch_module_args

from ansible_collections.p2p.dragonfly.plugins.module_utils import _api, _http, _jobs


MANAGER_URL = 'http://manager.test:8080'
JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJpZCI6MX0.c2lnbmF0dXJlLW9mLXRoZS1qd3Q'


class ModuleExit(Exception):
    """Raised by the patched exit_json/fail_json.

    ``raw``: the keyword arguments the module passed. ``output``: what Ansible would print, with
    the invocation added and the values of no_log options masked (like ``_return_formatted``).
    """

    def __init__(self, failed, raw, output):
        super(ModuleExit, self).__init__(json.dumps(output, default=str))
        self.failed = failed
        self.raw = raw
        self.output = output

    def leaks(self, *secrets):
        """The secrets found in the raw result or in the printed output."""
        texts = (json.dumps(self.raw, default=str), json.dumps(self.output, default=str))
        return [secret for secret in secrets if any(secret in text for text in texts)]


def _finish(module, failed, kwargs):
    raw = dict(kwargs)
    printed = dict(kwargs)
    printed.setdefault('invocation', {'module_args': module.params})
    if getattr(module, 'recorded_warnings', None):
        printed['warnings'] = list(module.recorded_warnings)
    preserved = {key: value for key, value in printed.items() if value is None or isinstance(value, bool)}
    printed = remove_values(printed, module.no_log_values)
    printed.update(preserved)
    raise ModuleExit(failed, raw, printed)


@pytest.fixture(autouse=True)
def module_exits(monkeypatch):
    def exit_json(self, **kwargs):
        _finish(self, False, kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs.pop('exception', None)
        kwargs.update(failed=True, msg=msg)
        _finish(self, True, kwargs)

    def warn(self, warning, **kwargs):
        # Kept on the module: ansible-core's own warning store is global and would leak between tests.
        self.recorded_warnings = getattr(self, 'recorded_warnings', []) + [warning]

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'warn', warn)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)


class _Body(object):
    def __init__(self, data):
        self._data = data

    def read(self):
        return self._data


class FakeManager(object):
    """Replays scripted answers in order and records every request.

    ``expect(method, path, status, body, headers)`` queues one answer; the request must have that
    method and path (query string aside). A callable ``body`` gets the decoded request body and
    returns the answer. ``status=-1`` simulates a connection failure with ``body`` as fetch_url's
    reason.
    """

    def __init__(self):
        self.expected = []
        self.calls = []
        self.sleeps = []

    def expect(self, method, path, status=200, body=None, headers=None):
        self.expected.append((method, path, status, body, headers or {}))
        return self

    def signin(self, status=200, times=None, token=JWT):
        """Queue sign-in answers. A refusal (401) is queued as often as the client tries a password before
        it counts as wrong (``_api.PASSWORD_CHECK_RETRIES`` + 1), unless ``times`` says otherwise."""
        if status == 200:
            return self.expect('POST', '/api/v1/users/signin', body={'token': token, 'expire': '2030-01-01T00:00:00Z'})
        if times is None:
            times = _api.PASSWORD_CHECK_RETRIES + 1
        for dummy in range(times):
            self.expect('POST', '/api/v1/users/signin', status=status, body={'message': 'Unauthorized'})
        return self

    def fetch_url(self, module, url, data=None, headers=None, method=None, timeout=None, **kwargs):
        parts = urlsplit(url)
        call = dict(
            method=method,
            url=url,
            path=parts.path,
            query={key: values[0] for key, values in parse_qs(parts.query).items()},
            headers=dict(headers or {}),
            body=json.loads(data) if data else None,
            timeout=timeout,
            ca_path=kwargs.get('ca_path'),
        )
        self.calls.append(call)
        if not self.expected:
            raise AssertionError(f'unexpected request {method} {url}')
        exp_method, exp_path, status, body, answer_headers = self.expected.pop(0)
        if (exp_method, exp_path) != (method, parts.path):
            raise AssertionError(f'expected {exp_method} {exp_path}, got {method} {parts.path}')
        if status == -1:
            return None, dict(url=url, status=-1, msg=body)
        if callable(body):
            body = body(call['body'])
        if isinstance(body, (dict, list)):
            raw = json.dumps(body).encode()
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = b''
        info = dict(url=url, status=status)
        info.update({key.lower(): value for key, value in answer_headers.items()})
        if status >= 400:
            info.update(msg=f'HTTP Error {status}', body=raw)
            return None, info
        info['msg'] = 'OK'
        return _Body(raw), info

    def sleep(self, seconds):
        self.sleeps.append(seconds)

    def requests(self):
        """(method, path) of every request, in order."""
        return [(call['method'], call['path']) for call in self.calls]

    def methods(self):
        return {call['method'] for call in self.calls}

    def assert_done(self):
        assert not self.expected, f'answers never asked for: {self.expected}'


@pytest.fixture
def manager(monkeypatch):
    fake = FakeManager()
    monkeypatch.setattr(_http, 'fetch_url', fake.fetch_url)
    monkeypatch.setattr(_api, '_sleep', fake.sleep)
    monkeypatch.delenv('DRAGONFLY_MANAGER_URL', raising=False)
    monkeypatch.delenv('DRAGONFLY_TOKEN', raising=False)
    return fake


@pytest.fixture
def run_module():
    """Run a module's ``main`` with the given arguments; returns the ``ModuleExit``."""
    def run(main, args):
        with patch_module_args(args):
            with pytest.raises(ModuleExit) as exc_info:
                main()
        return exc_info.value
    return run


class Clock(object):
    """The clock of the job waits (``_jobs.monotonic``/``sleep``): sleeping moves it on at once."""

    def __init__(self, start=500.0):
        self.now = start

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    """A ``Clock`` at 500.0 in place of the job waits' clock."""
    fake = Clock()
    monkeypatch.setattr(_jobs, 'monotonic', fake.time)
    monkeypatch.setattr(_jobs, 'sleep', fake.sleep)
    return fake
