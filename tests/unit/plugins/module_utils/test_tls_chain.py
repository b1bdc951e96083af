# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The judgement whether the manager role's generated TLS chain needs work (plugins/module_utils/_tls_chain.py): a
directory written the way the role's community.crypto tasks write it is up to date; each thing those tasks would
change (a key's mode, a missing file, other names, a certificate inside the renewal window, a chain that does not
verify, a request for another key) is a reason."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import ipaddress
import os

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils import _tls_chain

cryptography = pytest.importorskip('cryptography')
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402


CA_NAME = 'p2p.dragonfly manager CA manager-1'
HOST = 'manager-1'
NAMES = ('IP:192.0.2.10', 'IP:127.0.0.1', 'DNS:localhost', 'DNS:manager-1')
NOW = datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc)
KEY_USAGE = x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False)


def general_names(names):
    found = []
    for name in names:
        kind, dummy, value = name.partition(':')
        found.append(x509.IPAddress(ipaddress.ip_address(value)) if kind == 'IP' else x509.DNSName(value))
    return found


def write(directory, name, data, mode):
    path = os.path.join(directory, name)
    with open(path, 'wb') as stream:
        stream.write(data)
    os.chmod(path, mode)


def pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def make_csr(key, common_name, extensions):
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(key, hashes.SHA256())


def make_certificate(csr, issuer_name, signing_key, days, issuer_key_id=None, not_before=None):
    not_before = not_before or NOW - datetime.timedelta(days=1)
    builder = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(issuer_name)
               .public_key(csr.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_before + datetime.timedelta(days=days)))
    for extension in csr.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), critical=False)
    if issuer_key_id is not None:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier(issuer_key_id, None, None), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def write_chain(directory, names=NAMES, ca_days=3650, server_days=825, curve=None, server_not_before=None):
    """Writes the six files the role's tasks write: keys 0600, requests and certificates 0644, directory 0700."""
    os.chmod(directory, 0o700)
    ca_key = ec.generate_private_key(curve or ec.SECP256R1())
    ca_csr = make_csr(ca_key, CA_NAME, [(x509.BasicConstraints(ca=True, path_length=0), True), (KEY_USAGE, True)])
    ca = make_certificate(ca_csr, ca_csr.subject, ca_key, ca_days)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_csr = make_csr(server_key, HOST, [
        (x509.SubjectAlternativeName(general_names(names)), False),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
    ])
    ca_key_id = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()).digest
    server = make_certificate(server_csr, ca.subject, ca_key, server_days, ca_key_id, server_not_before)
    write(directory, 'ca.key', pem_key(ca_key), 0o600)
    write(directory, 'ca.csr', ca_csr.public_bytes(serialization.Encoding.PEM), 0o644)
    write(directory, 'ca.crt', ca.public_bytes(serialization.Encoding.PEM), 0o644)
    write(directory, 'server.key', pem_key(server_key), 0o600)
    write(directory, 'server.csr', server_csr.public_bytes(serialization.Encoding.PEM), 0o644)
    write(directory, 'server.crt', server.public_bytes(serialization.Encoding.PEM), 0o644)
    return dict(ca_key=ca_key, ca=ca, server_key=server_key, server_csr=server_csr)


def reasons(directory, names=NAMES, now=NOW):
    return _tls_chain.chain_reasons(str(directory), CA_NAME, HOST, list(names), 30, os.getuid(), os.getgid(), now=now)


def test_as_the_role_writes_it(tmp_path):
    write_chain(str(tmp_path))
    assert reasons(tmp_path) == []
    assert _tls_chain.directory_reasons(str(tmp_path), 0o700, os.getuid(), os.getgid()) == []


def test_addresses_are_compared_in_their_canonical_form(tmp_path):
    write_chain(str(tmp_path), names=['IP:2001:db8::1', 'DNS:localhost'])
    assert reasons(tmp_path, names=['IP:2001:0db8:0:0::1', 'DNS:localhost']) == []


def test_the_directory(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    assert _tls_chain.directory_reasons(str(tmp_path), 0o700, os.getuid(), os.getgid()) == [
        f'{tmp_path}: another mode, owner or group']
    assert _tls_chain.directory_reasons(str(tmp_path / 'none'), 0o700, os.getuid(), os.getgid()) == [
        f"{tmp_path / 'none'}: missing"]


@pytest.mark.parametrize('name', ['ca.key', 'ca.csr', 'ca.crt', 'server.key', 'server.csr', 'server.crt'])
def test_a_missing_file(tmp_path, name):
    write_chain(str(tmp_path))
    os.unlink(str(tmp_path / name))
    assert f'{name}: missing' in reasons(tmp_path)


@pytest.mark.parametrize('name, mode', [('ca.key', 0o640), ('server.key', 0o644), ('server.crt', 0o600),
                                        ('ca.csr', 0o664)])
def test_a_mode(tmp_path, name, mode):
    write_chain(str(tmp_path))
    os.chmod(str(tmp_path / name), mode)
    wanted = 0o600 if name.endswith('.key') else 0o644
    assert reasons(tmp_path) == [f'{name}: mode {mode:04o}, not {wanted:04o}']


def test_a_key_of_another_owner(tmp_path):
    write_chain(str(tmp_path))
    found = _tls_chain.chain_reasons(str(tmp_path), CA_NAME, HOST, NAMES, 30, os.getuid() + 1, os.getgid(), now=NOW)
    assert found == ['ca.key: another owner or group', 'server.key: another owner or group']


def test_other_names(tmp_path):
    write_chain(str(tmp_path))
    assert reasons(tmp_path, names=list(NAMES) + ['DNS:manager.example.com']) == [
        'server.csr: other subject alternative names than wanted']
    assert reasons(tmp_path, names=list(reversed(NAMES))) == ['server.csr: other subject alternative names than wanted']


def test_a_certificate_in_the_renewal_window(tmp_path):
    write_chain(str(tmp_path), server_days=40)
    assert reasons(tmp_path) == []
    later = NOW + datetime.timedelta(days=10)
    found = reasons(tmp_path, now=later)
    assert len(found) == 1 and found[0].startswith('server.crt: not valid at the renewal time')
    write_chain(str(tmp_path), ca_days=20)
    found = reasons(tmp_path)
    assert len(found) == 1 and found[0].startswith('ca.crt: not valid at the renewal time')


def test_a_certificate_not_yet_valid_at_the_renewal_time(tmp_path):
    write_chain(str(tmp_path), server_not_before=NOW + datetime.timedelta(days=40))
    found = reasons(tmp_path)
    assert len(found) == 1 and found[0].startswith('server.crt: not valid at the renewal time')


def test_a_server_certificate_of_another_ca(tmp_path):
    write_chain(str(tmp_path))
    other = tmp_path / 'other'
    other.mkdir()
    write_chain(str(other))
    # The other CA has the same name: only the signature tells.
    for name in ('ca.key', 'ca.csr', 'ca.crt'):
        os.replace(str(other / name), str(tmp_path / name))
    found = reasons(tmp_path)
    assert 'server.crt: its signature does not verify with the issuer key' in found
    assert 'server.crt: names another authority key' in found


def test_a_request_for_another_key(tmp_path):
    write_chain(str(tmp_path))
    write(str(tmp_path), 'server.key', pem_key(ec.generate_private_key(ec.SECP256R1())), 0o600)
    assert reasons(tmp_path) == ['server.csr: made for another key', 'server.crt: made for another key']


def test_a_key_of_another_curve(tmp_path):
    write_chain(str(tmp_path), curve=ec.SECP384R1())
    assert 'ca.key: not an ECC secp256r1 key' in reasons(tmp_path)


def test_a_certificate_that_differs_from_its_request(tmp_path):
    chain = write_chain(str(tmp_path))
    # A server certificate without the extended key usage its request asks for.
    builder = (x509.CertificateBuilder().subject_name(chain['server_csr'].subject).issuer_name(chain['ca'].subject)
               .public_key(chain['server_key'].public_key()).serial_number(1)
               .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=800))
               .add_extension(x509.SubjectAlternativeName(general_names(NAMES)), critical=False))
    certificate = builder.sign(chain['ca_key'], hashes.SHA256())
    write(str(tmp_path), 'server.crt', certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    assert reasons(tmp_path) == ['server.crt: other extensions than its signing request']


def test_another_common_name(tmp_path):
    write_chain(str(tmp_path))
    found = _tls_chain.chain_reasons(str(tmp_path), CA_NAME, 'manager-2', NAMES, 30, os.getuid(), os.getgid(), now=NOW)
    assert found == ['server.csr: another subject than CN=manager-2']
    found = _tls_chain.chain_reasons(str(tmp_path), 'another CA', HOST, NAMES, 30, os.getuid(), os.getgid(), now=NOW)
    assert 'ca.csr: another subject than CN=another CA' in found and 'server.crt: another issuer' in found


def test_garbage(tmp_path):
    write_chain(str(tmp_path))
    write(str(tmp_path), 'server.crt', b'not a certificate\n', 0o644)
    write(str(tmp_path), 'ca.key', b'not a key\n', 0o600)
    found = reasons(tmp_path)
    assert 'server.crt: not a PEM certificate' in found
    assert 'ca.key: not a PEM private key without a passphrase' in found


def test_a_wrong_name_is_refused(tmp_path):
    write_chain(str(tmp_path))
    with pytest.raises(ValueError, match='subject_alt_names'):
        reasons(tmp_path, names=['IP:not-an-address'])


@pytest.mark.parametrize('version, expected', [('38.0.4', (38, 0, 4)), ('3.3', (3, 3)), ('42.0.0rc1', (42, 0, 0)),
                                               ('3.4.dev1', (3, 4)), ('', ())])
def test_version_tuple(version, expected):
    assert _tls_chain.version_tuple(version) == expected
    assert _tls_chain.CRYPTOGRAPHY_VERSION == cryptography.__version__


@pytest.mark.parametrize('error, version, expected', [
    (None, '38.0.4', None),
    (None, '3.2.1', 'the Python library cryptography is too old (3.2.1)'),
    (None, '', 'the Python library cryptography is too old (version unknown)'),
    ("No module named 'cryptography'", '', "the Python library cryptography cannot be imported: No module named 'cryptography'"),
])
def test_cryptography_problem(monkeypatch, error, version, expected):
    monkeypatch.setattr(_tls_chain, 'CRYPTOGRAPHY_ERROR', error)
    monkeypatch.setattr(_tls_chain, 'CRYPTOGRAPHY_VERSION', version)
    assert _tls_chain.cryptography_problem() == expected
