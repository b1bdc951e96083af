# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The manager client verifies the manager's TLS certificate against ``ca_path``: the real fetch_url against an HTTPS
server on loopback whose certificate a CA made here signed. The contrast: without ``ca_path`` the same request fails,
naming the option to set."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import ipaddress
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.p2p.dragonfly.plugins.module_utils._api import ManagerAPIError, ManagerClient, manager_argument_spec

cryptography = pytest.importorskip('cryptography')
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

TOKEN = 'tls-test-token-0123456789abcdef'


def _certificate(subject, issuer, key, signing_key, ca, sans=()):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


@pytest.fixture(name='tls_server', scope='module')
def tls_server_fixture(tmp_path_factory):
    """An HTTPS server on 127.0.0.1 with a certificate of its own CA; yields (url, ca_path, seen)."""
    root = tmp_path_factory.mktemp('tls')
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'p2p.dragonfly test CA')])
    ca = _certificate(ca_name, ca_name, ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'manager')])
    certificate = _certificate(server_name, ca_name, key, ca_key, ca=False,
                               sans=[x509.IPAddress(ipaddress.ip_address('127.0.0.1'))])
    (root / 'ca.crt').write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (root / 'server.crt').write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (root / 'server.key').write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append((self.path, self.headers.get('Authorization')))
            body = json.dumps([]).encode()
            self.send_response(200)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(root / 'server.crt'), str(root / 'server.key'))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield 'https://127.0.0.1:%d' % httpd.server_address[1], str(root / 'ca.crt'), seen
    httpd.shutdown()
    httpd.server_close()


def module_with(monkeypatch, environment=None, **params):
    monkeypatch.delenv('DRAGONFLY_MANAGER_CA_PATH', raising=False)
    for name, value in (environment or {}).items():
        monkeypatch.setenv(name, value)
    with patch_module_args(params):
        return AnsibleModule(argument_spec=manager_argument_spec())


def test_ca_path_verifies_the_manager(tls_server, monkeypatch):
    url, ca_path, seen = tls_server
    client = ManagerClient.from_module(module_with(monkeypatch, manager_url=url, token=TOKEN, ca_path=ca_path))
    assert client.request('GET', '/oapi/v1/jobs') == []
    assert seen[-1] == ('/oapi/v1/jobs', 'Bearer ' + TOKEN)


def test_ca_path_from_the_environment(tls_server, monkeypatch):
    url, ca_path, _seen = tls_server
    module = module_with(monkeypatch, {'DRAGONFLY_MANAGER_CA_PATH': ca_path}, manager_url=url, token=TOKEN)
    assert module.params['ca_path'] == ca_path
    assert ManagerClient.from_module(module).request('GET', '/oapi/v1/jobs') == []


def test_without_ca_path_the_certificate_is_refused(tls_server, monkeypatch):
    url, _ca_path, seen = tls_server
    before = len(seen)
    client = ManagerClient.from_module(module_with(monkeypatch, manager_url=url, token=TOKEN))
    with pytest.raises(ManagerAPIError) as error:
        client.request('GET', '/oapi/v1/jobs')
    message = str(error.value)
    assert 'was not verified' in message and 'Set ca_path (or DRAGONFLY_MANAGER_CA_PATH)' in message
    assert TOKEN not in message
    # The handshake failed: the request, and with it the token, never reached the server.
    assert len(seen) == before


def test_another_ca_is_refused(tls_server, monkeypatch, tmp_path):
    url, _ca_path, _seen = tls_server
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'another CA')])
    other = tmp_path / 'other-ca.crt'
    other.write_bytes(_certificate(other_name, other_name, other_key, other_key, ca=True)
                      .public_bytes(serialization.Encoding.PEM))
    client = ManagerClient.from_module(module_with(monkeypatch, manager_url=url, token=TOKEN, ca_path=str(other)))
    with pytest.raises(ManagerAPIError, match='was not verified'):
        client.request('GET', '/oapi/v1/jobs')


def test_an_empty_ca_file_counts_as_none(tls_server, monkeypatch, tmp_path):
    # What an AWX credential without a CA certificate writes: the system's CAs apply (and refuse the test CA).
    url, _ca_path, _seen = tls_server
    empty = tmp_path / 'empty.crt'
    empty.write_text('')
    module = module_with(monkeypatch, {'DRAGONFLY_MANAGER_CA_PATH': str(empty)}, manager_url=url, token=TOKEN)
    client = ManagerClient.from_module(module)
    assert client.ca_path is None
    with pytest.raises(ManagerAPIError, match='was not verified'):
        client.request('GET', '/oapi/v1/jobs')
