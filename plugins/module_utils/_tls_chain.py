# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether a generated CA and server certificate (the manager role's TLS directory: ca.key, ca.csr, ca.crt,
server.key, server.csr, server.crt) are all as the role's community.crypto tasks would leave them: the judgement of
the module tls_chain_info (private to this collection).

It is meant to be stricter than those tasks: whatever it does not find exactly as they write it is a reason, and the
caller then runs them, and they decide. Needs the Python library cryptography (3.3 or newer).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import grp
import ipaddress
import os
import pwd
import re
import stat

try:
    import cryptography
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID
    CRYPTOGRAPHY_ERROR = None
    CRYPTOGRAPHY_VERSION = getattr(cryptography, '__version__', '')
except ImportError as exc:  # pragma: no cover - the module reports it
    CRYPTOGRAPHY_ERROR = str(exc)
    CRYPTOGRAPHY_VERSION = ''


def version_tuple(version):
    """The leading numbers of a version string, for comparing: '38.0.4' -> (38, 0, 4)."""
    numbers = []
    for part in version.split('.'):
        match = re.match(r'\d+', part)
        if match is None:
            break
        numbers.append(int(match.group(0)))
        if match.end() < len(part):
            break
    return tuple(numbers)


def cryptography_problem():
    """Why the cryptography library found cannot serve (missing, or older than 3.3), or None when it can."""
    if CRYPTOGRAPHY_ERROR is not None:
        return f'the Python library cryptography cannot be imported: {CRYPTOGRAPHY_ERROR}'
    if not CRYPTOGRAPHY_VERSION or version_tuple(CRYPTOGRAPHY_VERSION) < (3, 3):
        return f'the Python library cryptography is too old ({CRYPTOGRAPHY_VERSION or "version unknown"})'
    return None


class TLSInputError(ValueError):
    """Wrong input (a subject alternative name that is no name), not a finding about the files."""


def chain_argspec():
    """The options tls_chain and tls_chain_info share (documented in the doc fragment p2p.dragonfly.tls_chain)."""
    return dict(
        path=dict(type='path', required=True),
        ca_common_name=dict(type='str', required=True),
        common_name=dict(type='str', required=True),
        subject_alt_names=dict(type='list', elements='str', required=True),
        owner=dict(type='str', default='root'),
        group=dict(type='str', default='root'),
    )


def principal_id(kind, name):
    """The uid (``kind`` owner) or gid (group) of a name or a number; TLSInputError naming the option otherwise."""
    if name.isdigit():
        return int(name)
    try:
        return pwd.getpwnam(name).pw_uid if kind == 'owner' else grp.getgrnam(name).gr_gid
    except KeyError:
        raise TLSInputError(f"{kind} '{name}' does not exist on the host")


# Extensions the ownca and selfsigned providers add beyond those of the CSR.
KEY_IDENTIFIERS = ('subjectKeyIdentifier', 'authorityKeyIdentifier')


class Files(object):
    """Reads the files of one directory, noting what is not as wanted."""

    def __init__(self, directory, uid, gid):
        self.directory = directory
        self.uid, self.gid = uid, gid
        self.reasons = []

    def read(self, name, mode, owned):
        """The bytes of ``name``, or None (with a reason) when it is missing, not a regular file or has another mode
        (and, when ``owned``, another owner or group)."""
        path = os.path.join(self.directory, name)
        try:
            info = os.lstat(path)
        except OSError:
            self.reasons.append(f'{name}: missing')
            return None
        if not stat.S_ISREG(info.st_mode):
            self.reasons.append(f'{name}: not a regular file')
            return None
        if stat.S_IMODE(info.st_mode) != mode:
            self.reasons.append(f'{name}: mode {stat.S_IMODE(info.st_mode):04o}, not {mode:04o}')
        if owned and (info.st_uid != self.uid or info.st_gid != self.gid):
            self.reasons.append(f'{name}: another owner or group')
        try:
            with open(path, 'rb') as stream:
                return stream.read()
        except OSError as exc:
            self.reasons.append(f'{name}: cannot be read ({exc.strerror})')
            return None


def directory_reasons(directory, mode, uid, gid):
    try:
        info = os.lstat(directory)
    except OSError:
        return [f'{directory}: missing']
    if not stat.S_ISDIR(info.st_mode):
        return [f'{directory}: not a directory']
    if stat.S_IMODE(info.st_mode) != mode or info.st_uid != uid or info.st_gid != gid:
        return [f'{directory}: another mode, owner or group']
    return []


def normalize_name(name):
    """A subject alternative name as C(IP:...) or C(DNS:...), IP addresses in their canonical form."""
    kind, dummy, value = name.partition(':')
    if kind == 'IP':
        return 'IP:' + str(ipaddress.ip_address(value))
    return f'{kind}:{value}'


def _names_of(general_names):
    names = []
    for entry in general_names:
        if isinstance(entry, x509.DNSName):
            names.append('DNS:' + entry.value)
        elif isinstance(entry, x509.IPAddress):
            names.append('IP:' + str(entry.value))
        else:
            names.append('other:' + repr(entry))
    return names


def _public_bytes(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _load_key(files, name, reasons, owner_mode=0o600):
    data = files.read(name, owner_mode, True)
    if data is None:
        return None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        reasons.append(f'{name}: not a PEM private key without a passphrase')
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != 'secp256r1':
        reasons.append(f'{name}: not an ECC secp256r1 key')
        return None
    return key


def _subject_is(name, common_name):
    return [(attribute.oid, attribute.value) for attribute in name] == [(NameOID.COMMON_NAME, common_name)]


def _extensions(item):
    """{oid name: (critical, value)} of a CSR or certificate."""
    return dict((extension.oid._name, (extension.critical, extension.value)) for extension in item.extensions)


def _read_pem(files, name, load, what, reasons):
    """The request or certificate in ``name`` (mode 0644) as ``load`` parses it, or None (with a reason)."""
    data = files.read(name, 0o644, False)
    if data is None:
        return None
    try:
        return load(data)
    except ValueError:
        reasons.append(f'{name}: not a PEM {what}')
        return None


def _check_key(item, key, name, reasons):
    if key is not None and _public_bytes(item.public_key()) != _public_bytes(key.public_key()):
        reasons.append(f'{name}: made for another key')


def _readable_extensions(item, name, reasons):
    """:func:`_extensions` of a request or certificate, or None (with a reason) when they cannot be read."""
    try:
        return _extensions(item)
    except (ValueError, x509.DuplicateExtension):
        reasons.append(f'{name}: extensions that cannot be read')
        return None


def _load_csr(files, name, key, common_name, wanted_extensions, reasons):
    csr = _read_pem(files, name, x509.load_pem_x509_csr, 'certificate signing request', reasons)
    if csr is None:
        return None
    if not csr.is_signature_valid:
        reasons.append(f'{name}: its signature does not verify')
    _check_key(csr, key, name, reasons)
    if not _subject_is(csr.subject, common_name):
        reasons.append(f'{name}: another subject than CN={common_name}')
    found = _readable_extensions(csr, name, reasons)
    if found is None:
        return None
    if wanted_extensions is not None and found != wanted_extensions:
        reasons.append(f'{name}: other extensions than wanted')
    return csr


def _not_before_after(certificate):
    before = getattr(certificate, 'not_valid_before_utc', None)
    after = getattr(certificate, 'not_valid_after_utc', None)
    if before is None:  # cryptography before 42: naive datetimes in UTC
        before = certificate.not_valid_before.replace(tzinfo=datetime.timezone.utc)
        after = certificate.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return before, after


def _load_certificate(files, name, key, csr, issuer, renewal_at, reasons):
    """The certificate, checked against its key, its CSR (subject, extensions) and its issuer (``(subject, public
    key, subject key identifier)``)."""
    certificate = _read_pem(files, name, x509.load_pem_x509_certificate, 'certificate', reasons)
    if certificate is None:
        return None
    before, after = _not_before_after(certificate)
    if not before <= renewal_at <= after:
        reasons.append(f'{name}: not valid at the renewal time (expires {after.isoformat()})')
    _check_key(certificate, key, name, reasons)
    if not isinstance(certificate.signature_hash_algorithm, hashes.SHA256):
        reasons.append(f'{name}: not signed with SHA-256')
    found = _readable_extensions(certificate, name, reasons)
    if found is None:
        return None
    if csr is not None:
        if certificate.subject != csr.subject:
            reasons.append(f'{name}: another subject than its signing request')
        wanted = _extensions(csr)
        if dict((oid, value) for oid, value in found.items() if oid not in KEY_IDENTIFIERS) != wanted:
            reasons.append(f'{name}: other extensions than its signing request')
    issuer_subject, issuer_key, issuer_key_id = issuer
    if certificate.issuer != issuer_subject:
        reasons.append(f'{name}: another issuer')
    if issuer_key is None:
        return certificate
    try:
        issuer_key.verify(certificate.signature, certificate.tbs_certificate_bytes,
                          ec.ECDSA(certificate.signature_hash_algorithm))
    except (InvalidSignature, ValueError, TypeError, AttributeError):
        reasons.append(f'{name}: its signature does not verify with the issuer key')
    authority = found.get('authorityKeyIdentifier')
    if authority is not None and issuer_key_id is not None and authority[1].key_identifier != issuer_key_id:
        reasons.append(f'{name}: names another authority key')
    return certificate


def _key_id(certificate):
    try:
        return certificate.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER).value.digest
    except x509.ExtensionNotFound:
        return None


def ca_extensions():
    """{oid name: (critical, value)} the CA's request and certificate carry (the role's openssl_csr task)."""
    return {
        'basicConstraints': (True, x509.BasicConstraints(ca=True, path_length=0)),
        'keyUsage': (True, x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False)),
    }


def server_extended_key_usage():
    return x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])


def chain_reasons(directory, ca_common_name, common_name, subject_alt_names, renewal_days, uid, gid, now=None):
    """Why the role's community.crypto tasks could change something in ``directory`` (its files; the directory itself
    is :func:`directory_reasons`); an empty list when they would not."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    renewal_at = now + datetime.timedelta(days=renewal_days)
    files = Files(directory, uid, gid)
    reasons = []

    ca_key = _load_key(files, 'ca.key', reasons)
    ca_csr = _load_csr(files, 'ca.csr', ca_key, ca_common_name, ca_extensions(), reasons)
    ca_subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_common_name)])
    ca_public = ca_key.public_key() if ca_key is not None else None
    ca = _load_certificate(files, 'ca.crt', ca_key, ca_csr, (ca_subject, ca_public, None), renewal_at, reasons)

    server_key = _load_key(files, 'server.key', reasons)
    try:
        wanted_names = [normalize_name(name) for name in subject_alt_names]
    except ValueError as exc:
        raise TLSInputError(f'subject_alt_names: {exc}')
    server_extensions = {
        'subjectAltName': (False, None),
        'extendedKeyUsage': (False, server_extended_key_usage()),
    }
    server_csr = _load_csr(files, 'server.csr', server_key, common_name, None, reasons)
    if server_csr is not None:
        found = _extensions(server_csr)
        names = found.get('subjectAltName')
        if names is None or names[0] or _names_of(names[1]) != wanted_names:
            reasons.append('server.csr: other subject alternative names than wanted')
        if set(found) != set(server_extensions) or found['extendedKeyUsage'] != server_extensions['extendedKeyUsage']:
            reasons.append('server.csr: other extensions than wanted')
    ca_key_id = _key_id(ca) if ca is not None else None
    _load_certificate(files, 'server.crt', server_key, server_csr, (ca_subject, ca_public, ca_key_id), renewal_at, reasons)

    # The files' own reasons (missing, mode, owner) first, then what their content says.
    return files.reasons + reasons
