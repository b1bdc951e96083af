# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The first-run chain (plugins/module_utils/_tls_generate.py): what it writes is what tls_chain_info's judgement
(_tls_chain) calls up to date; bad names are refused; a write that fails leaves nothing behind. That the role's
community.crypto tasks keep it is tests/runtime/test_tls_chain.py."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import os
import stat

import pytest

from ansible_collections.p2p.dragonfly.plugins.module_utils import _tls_chain, _tls_generate

cryptography = pytest.importorskip('cryptography')
from cryptography import x509  # noqa: E402

CA_NAME = 'p2p.dragonfly manager CA manager-1'
HOST = 'manager-1'
NAMES = ('IP:192.0.2.10', 'IP:127.0.0.1', 'DNS:localhost', 'DNS:manager-1')
NOW = datetime.datetime(2027, 1, 1, 12, 0, 0, 123456, tzinfo=datetime.timezone.utc)


def chain(names=NAMES):
    return _tls_generate.make_chain(CA_NAME, HOST, _tls_generate.general_names(names), 3650, 825, now=NOW)


def test_what_it_writes_is_up_to_date(tmp_path):
    directory = str(tmp_path / 'tls')
    _tls_generate.write_chain(directory, chain(), os.getuid(), os.getgid())
    assert _tls_chain.directory_reasons(directory, 0o700, os.getuid(), os.getgid()) == []
    assert _tls_chain.chain_reasons(directory, CA_NAME, HOST, list(NAMES), 30, os.getuid(), os.getgid(),
                                    now=NOW + datetime.timedelta(seconds=1)) == []
    assert sorted(os.listdir(directory)) == sorted(_tls_generate.FILES)
    for name in _tls_generate.FILES:
        assert stat.S_IMODE(os.stat(os.path.join(directory, name)).st_mode) == (0o600 if name.endswith('.key') else 0o644)


def test_keys_as_openssl_privatekey_writes_them_and_validity_in_whole_seconds():
    files = chain()
    assert files['ca.key'].startswith(b'-----BEGIN EC PRIVATE KEY-----')
    ca = x509.load_pem_x509_certificate(files['ca.crt'])
    server = x509.load_pem_x509_certificate(files['server.crt'])
    before = getattr(server, 'not_valid_before_utc', None) or server.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    after = getattr(ca, 'not_valid_after_utc', None) or ca.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    assert before == NOW.replace(microsecond=0)
    assert after - before == datetime.timedelta(days=3650)
    assert server.issuer == ca.subject


def test_other_names_are_not_up_to_date(tmp_path):
    # The contrast of the first test: the same judgement tells what does not match.
    directory = str(tmp_path)
    os.chmod(directory, 0o700)
    _tls_generate.write_chain(directory, chain(), os.getuid(), os.getgid())
    assert _tls_chain.chain_reasons(directory, CA_NAME, HOST, list(NAMES) + ['DNS:other'], 30, os.getuid(), os.getgid(),
                                    now=NOW) == ['server.csr: other subject alternative names than wanted']


@pytest.mark.parametrize('name, message', [
    ('IP:300.1.1.1', "subject_alt_names: '300.1.1.1' does not appear to be an IPv4 or IPv6 address"),
    ('URI:https://x', "subject_alt_names: 'URI:https://x' is neither IP:<address> nor DNS:<name>"),
    ('DNS:', "subject_alt_names: 'DNS:' is neither IP:<address> nor DNS:<name>"),
])
def test_a_name_that_is_no_name(name, message):
    with pytest.raises(_tls_chain.TLSInputError) as caught:
        _tls_generate.general_names([name])
    assert str(caught.value) == message


def test_an_existing_directory_gets_the_mode_the_role_wants(tmp_path):
    os.chmod(str(tmp_path), 0o755)
    _tls_generate.write_chain(str(tmp_path), chain(), os.getuid(), os.getgid())
    assert _tls_chain.directory_reasons(str(tmp_path), 0o700, os.getuid(), os.getgid()) == []


def test_what_exists_is_found(tmp_path):
    assert _tls_generate.existing(str(tmp_path / 'none')) == []
    (tmp_path / 'ca.key').write_text('')
    os.symlink('/nonexistent', str(tmp_path / 'server.crt'))
    assert _tls_generate.existing(str(tmp_path)) == ['ca.key', 'server.crt']


def test_a_failing_write_leaves_nothing(tmp_path, monkeypatch):
    directory = str(tmp_path)
    real_rename = os.rename

    def rename(source, target):
        if target.endswith('server.key'):
            raise OSError(28, 'No space left on device')
        real_rename(source, target)

    monkeypatch.setattr(os, 'rename', rename)
    with pytest.raises(OSError):
        _tls_generate.write_chain(directory, chain(), os.getuid(), os.getgid())
    assert os.listdir(directory) == []
