# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A new CA and server certificate (the manager role's TLS directory) made and written in one go: what the module
tls_chain does on a first run (private to this collection). The files are those the role's community.crypto tasks
write, byte for byte in form (formats, extensions, digests, modes), so that those tasks and tls_chain_info find
nothing to change afterwards. Needs the Python library cryptography (3.3 or newer).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import ipaddress
import os
import tempfile

from ansible_collections.p2p.dragonfly.plugins.module_utils import _tls_chain

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - _tls_chain.CRYPTOGRAPHY_ERROR says why; the module reports it
    pass

# The six files, in the order they are written: keys first, so that no certificate is ever without its key.
FILES = ('ca.key', 'ca.csr', 'ca.crt', 'server.key', 'server.csr', 'server.crt')


def general_names(subject_alt_names):
    """The names, each ``IP:address`` or ``DNS:name``, as community.crypto's openssl_csr reads them."""
    return [_general_name(name) for name in subject_alt_names]


def _general_name(name):
    kind, dummy, value = name.partition(':')
    if kind == 'IP':
        try:
            return x509.IPAddress(ipaddress.ip_address(value))
        except ValueError as exc:
            raise _tls_chain.TLSInputError(f'subject_alt_names: {exc}')
    if kind == 'DNS' and value:
        return x509.DNSName(value)
    raise _tls_chain.TLSInputError(f"subject_alt_names: '{name}' is neither IP:<address> nor DNS:<name>")


def _key():
    """An ECC secp256r1 key and its PEM as openssl_privatekey writes it (format auto: PKCS#1-style, unencrypted)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption())


def _request(key, common_name, extensions):
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
    for critical, value in extensions:
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(key, hashes.SHA256())


def _certificate(csr, issuer_name, signing_key, days, now, authority_key_id):
    """Signed as x509_certificate's selfsigned and ownca providers sign: the request's subject and extensions, a
    subject key identifier, and for ownca an authority key identifier from the CA's subject key identifier."""
    builder = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(issuer_name)
               .serial_number(x509.random_serial_number()).not_valid_before(now)
               .not_valid_after(now + datetime.timedelta(days=days)).public_key(csr.public_key()))
    for extension in csr.extensions:
        builder = builder.add_extension(extension.value, critical=extension.critical)
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), critical=False)
    if authority_key_id is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(authority_key_id), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def make_chain(ca_common_name, common_name, names, ca_days, days, now=None):
    """{file name: PEM bytes} of the six files; ``names`` from :func:`general_names`."""
    now = (now or datetime.datetime.now(datetime.timezone.utc)).replace(microsecond=0)
    ca_key, ca_key_pem = _key()
    ca_csr = _request(ca_key, ca_common_name, list(_tls_chain.ca_extensions().values()))
    ca = _certificate(ca_csr, ca_csr.subject, ca_key, ca_days, now, None)
    server_key, server_key_pem = _key()
    server_extensions = [(False, x509.SubjectAlternativeName(names))] if names else []
    server_extensions.append((False, _tls_chain.server_extended_key_usage()))
    server_csr = _request(server_key, common_name, server_extensions)
    ca_key_id = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    server = _certificate(server_csr, ca.subject, ca_key, days, now, ca_key_id)
    pem = serialization.Encoding.PEM
    return {'ca.key': ca_key_pem, 'ca.csr': ca_csr.public_bytes(pem), 'ca.crt': ca.public_bytes(pem),
            'server.key': server_key_pem, 'server.csr': server_csr.public_bytes(pem),
            'server.crt': server.public_bytes(pem)}


def existing(directory):
    """Which of the six files exist in ``directory`` (as any kind of entry)."""
    return [name for name in FILES if os.path.lexists(os.path.join(directory, name))]


def write_chain(directory, chain, uid, gid):
    """Writes the six files (keys 0600 owned by ``uid``/``gid``, the rest 0644), each through a temporary file in
    ``directory`` renamed into place; creates ``directory`` when missing and gives it 0700 and ``uid``/``gid`` (as
    the role's own task would, so that a later run finds it as wanted). When a write fails, the files written before
    it are removed again and the error is raised."""
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    os.chown(directory, uid, gid)
    os.chmod(directory, 0o700)
    written = []
    try:
        for name in FILES:
            secret = name.endswith('.key')
            descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f'.{name}.')
            try:
                os.fchmod(descriptor, 0o600 if secret else 0o644)
                if secret:
                    os.fchown(descriptor, uid, gid)
                with os.fdopen(descriptor, 'wb') as stream:
                    stream.write(chain[name])
                os.rename(temporary, os.path.join(directory, name))
            except BaseException:
                if os.path.lexists(temporary):
                    os.unlink(temporary)
                raise
            written.append(name)
    except BaseException:
        for name in written:
            os.unlink(os.path.join(directory, name))
        raise
