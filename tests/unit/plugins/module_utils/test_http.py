# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Credentials never follow a redirect: the real fetch_url against two HTTP servers on loopback (two origins).

Server "a" redirects to server "b", which records what it was sent. Through ``_http.send`` (and so the manager
client and the registry client) "b" never sees the ``Authorization`` sent to "a"; the manager client refuses an
answer from another origin, naming where the redirect went. The contrast: plain ``fetch_url``, as the clients called
it before, hands the header to "b".
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args
from ansible.module_utils.urls import fetch_url

from ansible_collections.p2p.dragonfly.plugins.module_utils import _http
from ansible_collections.p2p.dragonfly.plugins.module_utils._api import ManagerAPIError, ManagerClient
from ansible_collections.p2p.dragonfly.plugins.module_utils._registry import Registry

SECRET = 'Bearer redirect-test-token-0123456789'
MANIFEST = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'layers': []}


class Server(object):
    """One origin on loopback. ``redirect_to`` (a URL prefix) makes it answer every request with a 302 there."""

    def __init__(self):
        self.seen = []
        self.redirect_to = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.seen.append((self.path, self.headers.get('Authorization')))
                if server.redirect_to:
                    self.send_response(302)
                    self.send_header('Location', server.redirect_to + self.path)
                    self.send_header('Content-Length', '0')
                    self.end_headers()
                    return
                body = json.dumps(MANIFEST if '/manifests/' in self.path else []).encode()
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d' % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(name='servers')
def servers_fixture():
    a, b = Server(), Server()
    a.redirect_to = b.url
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture(name='module')
def module_fixture():
    with patch_module_args({}):
        return AnsibleModule(argument_spec={})


def test_send_keeps_the_credentials_from_another_origin(servers, module):
    a, b = servers
    answer = _http.send(module, 'GET', a.url + '/v2/r/manifests/1', headers={'Authorization': SECRET, 'Accept': '*/*'})
    assert answer.status == 200 and answer.redirected_elsewhere and answer.url.startswith(b.url)
    assert a.seen == [('/v2/r/manifests/1', SECRET)]
    assert b.seen == [('/v2/r/manifests/1', None)]


def test_plain_fetch_url_hands_the_credentials_on(servers, module):
    # The contrast: what the clients did before, and what _http.send prevents.
    a, b = servers
    fetch_url(module, a.url + '/v2/r/manifests/1', headers={'Authorization': SECRET}, method='GET', use_netrc=False)
    assert b.seen == [('/v2/r/manifests/1', SECRET)]


def test_registry_reads_the_manifest_without_sending_credentials_on(servers, module):
    a, b = servers
    registry = Registry(module, headers={'Authorization': SECRET})
    assert registry.manifest(a.url + '/v2/r/manifests/1', 'r') == MANIFEST
    assert [auth for _path, auth in a.seen] == [SECRET]
    assert [auth for _path, auth in b.seen] == [None]


def test_manager_client_refuses_an_answer_from_another_origin(servers, module):
    a, b = servers
    client = ManagerClient(module, a.url, token=SECRET.split()[1])
    with pytest.raises(ManagerAPIError) as error:
        client.request('GET', '/oapi/v1/jobs')
    message = str(error.value)
    assert 'redirected to %s' % b.url in message and 'set manager_url' in message
    assert SECRET.split()[1] not in message
    assert [auth for _path, auth in b.seen] == [None]


def test_same_origin_answer_is_accepted(servers, module):
    _a, b = servers
    client = ManagerClient(module, b.url, token=SECRET.split()[1])
    assert client.request('GET', '/oapi/v1/jobs') == []
    assert b.seen[0][1] == SECRET
