# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""URLs as the Rust client sees them: WHATWG parsing and serialisation the way the url crate (2.5.4) does it,
form encoding (``form_urlencoded``) and Go's query escaping. _task_id builds the canonical URL of a task from it.
Upstream code it follows: docs/dev/module-utils.md#url."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re


# WHATWG special schemes handled here and their default ports (url crate parser.rs default_port).
_SPECIAL_SCHEME_DEFAULT_PORTS = {'http': 80, 'https': 443, 'ws': 80, 'wss': 443, 'ftp': 21}

# Percent-encode sets of the url crate (parser.rs); C0 controls, DEL and non-ASCII are always encoded.
FRAGMENT_SET = frozenset(' "<>`')
_PATH_SET = FRAGMENT_SET | frozenset('#?{}')
_USERINFO_SET = _PATH_SET | frozenset('/:;=@[\\]^|')
_CONTROLS_SET = frozenset()

# idna AsciiDenyList::URL (forbidden domain code points besides controls and space).
_FORBIDDEN_DOMAIN_CHARS = frozenset('%#/:<>?@[\\]^|')
# url crate host.rs Host::parse_opaque.
_FORBIDDEN_OPAQUE_HOST_CHARS = frozenset('\0\t\n\r #/:<>?@[\\]^|')

_C0_CONTROL_OR_SPACE = ''.join(chr(code) for code in range(0x21))
_TAB_OR_NEWLINE_RE = re.compile('[\t\n\r]')
_SCHEME_RE = re.compile(r'([A-Za-z][A-Za-z0-9+.\-]*):')
_FORM_SAFE_BYTES = frozenset(b'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789*-._')
_HEX_DIGITS = frozenset('0123456789abcdefABCDEF')

# Bytes Go's url.QueryEscape (and client v1.5.3+ query_escape) leave as they are.
GO_QUERY_UNRESERVED = frozenset(b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~')


def strip(url):
    """``url`` without leading and trailing C0 controls and spaces, and without tabs and newlines (WHATWG)."""
    return _TAB_OR_NEWLINE_RE.sub('', url.strip(_C0_CONTROL_OR_SPACE))


def percent_encode(text, encode_set):
    encoded = []
    for byte in bytearray(text.encode('utf-8')):
        if byte < 0x20 or byte >= 0x7F or chr(byte) in encode_set:
            encoded.append('%%%02X' % byte)
        else:
            encoded.append(chr(byte))
    return ''.join(encoded)


def _percent_decode_bytes(data):
    # Like percent_encoding::percent_decode: invalid escapes are kept literally.
    decoded = bytearray()
    index = 0
    length = len(data)
    while index < length:
        byte = data[index]
        if byte == 0x25 and index + 2 < length and chr(data[index + 1]) in _HEX_DIGITS and chr(data[index + 2]) in _HEX_DIGITS:
            decoded.append(int(data[index + 1:index + 3].decode('ascii'), 16))
            index += 3
        else:
            decoded.append(byte)
            index += 1
    return bytes(decoded)


def form_decode(text):
    # form_urlencoded::parse: '+' is a space, then percent-decoding, then lossy UTF-8.
    data = text.encode('utf-8').replace(b'+', b' ')
    return _percent_decode_bytes(data).decode('utf-8', 'replace')


def form_encode(text, safe_bytes=_FORM_SAFE_BYTES):
    # form_urlencoded::byte_serialize, used by Url::query_pairs_mut().extend_pairs(); with GO_QUERY_UNRESERVED,
    # Go's url.QueryEscape (client v1.5.3+ query_escape): the same but for '*' and '~'.
    encoded = []
    for byte in bytearray(text.encode('utf-8')):
        if byte in safe_bytes:
            encoded.append(chr(byte))
        elif byte == 0x20:
            encoded.append('+')
        else:
            encoded.append('%%%02X' % byte)
    return ''.join(encoded)


def _parse_ipv4_number(text):
    # url crate host.rs parse_ipv4number: returns (valid, value); value None on u32 overflow.
    if not text:
        return False, None
    radix = 10
    if text[:2] in ('0x', '0X'):
        text = text[2:]
        radix = 16
    elif len(text) >= 2 and text[0] == '0':
        text = text[1:]
        radix = 8
    if not text:
        return True, 0
    allowed = {8: '01234567', 10: '0123456789', 16: '0123456789abcdefABCDEF'}[radix]
    if any(char not in allowed for char in text):
        return False, None
    value = int(text, radix)
    if value > 0xFFFFFFFF:
        return True, None
    return True, value


def _ends_in_a_number(domain):
    parts = domain.split('.')
    last = parts[-1]
    if last == '':
        if len(parts) == 1:
            return False
        last = parts[-2]
    if last and all('0' <= char <= '9' for char in last):
        return True
    return _parse_ipv4_number(last)[0]


def _parse_ipv4(domain, url):
    parts = domain.split('.')
    if parts[-1] == '':
        parts.pop()
    if len(parts) > 4:
        raise ValueError('invalid IPv4 address in URL %r' % url)
    numbers = []
    for part in parts:
        valid, value = _parse_ipv4_number(part)
        if not valid or value is None:
            raise ValueError('invalid IPv4 address in URL %r' % url)
        numbers.append(value)
    address = numbers.pop()
    if address > (0xFFFFFFFF >> (8 * len(numbers))) or any(number > 255 for number in numbers):
        raise ValueError('invalid IPv4 address in URL %r' % url)
    for position, number in enumerate(numbers):
        address += number << (8 * (3 - position))
    return '.'.join(str((address >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def _parse_ipv6(text, url):
    # Port of url crate host.rs parse_ipv6addr (WHATWG IPv6 parser); Python's ipaddress accepts other forms.
    error = ValueError('invalid IPv6 address in URL %r' % url)
    length = len(text)
    pieces = [0] * 8
    piece_pointer = 0
    compress_pointer = None
    index = 0
    is_ipv4 = False
    if length < 2:
        raise error
    if text[0] == ':':
        if text[1] != ':':
            raise error
        index = 2
        piece_pointer = 1
        compress_pointer = 1
    while index < length:
        if piece_pointer == 8:
            raise error
        if text[index] == ':':
            if compress_pointer is not None:
                raise error
            index += 1
            piece_pointer += 1
            compress_pointer = piece_pointer
            continue
        start = index
        end = min(length, start + 4)
        value = 0
        while index < end and text[index] in _HEX_DIGITS:
            value = value * 16 + int(text[index], 16)
            index += 1
        if index < length:
            if text[index] == '.':
                if index == start or piece_pointer > 6:
                    raise error
                index = start
                is_ipv4 = True
            elif text[index] == ':':
                index += 1
                if index == length:
                    raise error
            else:
                raise error
        if is_ipv4:
            break
        pieces[piece_pointer] = value
        piece_pointer += 1
    if is_ipv4:
        if piece_pointer > 6:
            raise error
        numbers_seen = 0
        while index < length:
            if numbers_seen > 0:
                if numbers_seen < 4 and text[index] == '.':
                    index += 1
                else:
                    raise error
            ipv4_piece = None
            while index < length and '0' <= text[index] <= '9':
                digit = int(text[index])
                if ipv4_piece is None:
                    ipv4_piece = digit
                elif ipv4_piece == 0:
                    raise error
                else:
                    ipv4_piece = ipv4_piece * 10 + digit
                    if ipv4_piece > 255:
                        raise error
                index += 1
            if ipv4_piece is None:
                raise error
            pieces[piece_pointer] = pieces[piece_pointer] * 0x100 + ipv4_piece
            numbers_seen += 1
            if numbers_seen in (2, 4):
                piece_pointer += 1
        if numbers_seen != 4:
            raise error
    if index < length:
        raise error
    if compress_pointer is not None:
        swaps = piece_pointer - compress_pointer
        piece_pointer = 7
        while swaps > 0:
            other = compress_pointer + swaps - 1
            pieces[piece_pointer], pieces[other] = pieces[other], pieces[piece_pointer]
            swaps -= 1
            piece_pointer -= 1
    elif piece_pointer != 8:
        raise error
    return _serialize_ipv6(pieces)


def _serialize_ipv6(pieces):
    # WHATWG serializer: compress the first longest run (length >= 2) of zero pieces, lower-case hex.
    best_start, best_length, run_start = -1, 1, None
    for position in range(9):
        if position < 8 and pieces[position] == 0:
            if run_start is None:
                run_start = position
        elif run_start is not None:
            if position - run_start > best_length:
                best_start, best_length = run_start, position - run_start
            run_start = None
    if best_start < 0:
        return '[%s]' % ':'.join('%x' % piece for piece in pieces)
    head = ':'.join('%x' % piece for piece in pieces[:best_start])
    tail = ':'.join('%x' % piece for piece in pieces[best_start + best_length:])
    return '[%s::%s]' % (head, tail)


def _parse_special_host(host, url):
    if host.startswith('['):
        if not host.endswith(']'):
            raise ValueError('invalid IPv6 address in URL %r' % url)
        return _parse_ipv6(host[1:-1], url)
    decoded = _percent_decode_bytes(host.encode('utf-8'))
    try:
        domain = decoded.decode('ascii')
    except UnicodeDecodeError:
        # UTS #46 mapping needs Unicode tables the standard library does not have (encodings.idna is IDNA 2003).
        raise ValueError('internationalized host names are not supported, use the punycode (xn--) form: %r' % url)
    for char in domain:
        if char <= ' ' or char == '\x7f' or char in _FORBIDDEN_DOMAIN_CHARS:
            raise ValueError('invalid character %r in the host of URL %r' % (char, url))
    domain = domain.lower()
    for label in domain.split('.'):
        if label.startswith('xn--'):
            _check_punycode_label(label, url)
    if not domain:
        raise ValueError('URL %r has an empty host' % url)
    if _ends_in_a_number(domain):
        return _parse_ipv4(domain, url)
    return domain


def _check_punycode_label(label, url):
    try:
        decoded = label[4:].encode('ascii').decode('punycode')
    except (UnicodeError, ValueError):
        raise ValueError('invalid punycode label %r in the host of URL %r' % (label, url))
    if not decoded or all(ord(char) < 0x80 for char in decoded):
        raise ValueError('invalid punycode label %r in the host of URL %r' % (label, url))


def _parse_opaque_host(host, url):
    if host.startswith('['):
        if not host.endswith(']'):
            raise ValueError('invalid IPv6 address in URL %r' % url)
        return _parse_ipv6(host[1:-1], url)
    for char in host:
        if char in _FORBIDDEN_OPAQUE_HOST_CHARS:
            raise ValueError('invalid character %r in the host of URL %r' % (char, url))
    return percent_encode(host, _CONTROLS_SET)


def _serialize_userinfo(userinfo):
    # url crate parser.rs parse_userinfo: the first ':' separates the password, an empty password drops the ':'.
    username, colon, password = userinfo.partition(':')
    username = percent_encode(username, _USERINFO_SET)
    password = percent_encode(password, _USERINFO_SET) if colon else ''
    if password:
        return '%s:%s@' % (username, password)
    if username:
        return '%s@' % username
    return ''


def _serialize_path(path, special):
    # WHATWG path state, including "." / ".." (also percent-encoded dots) resolution.
    separators = r'[/\\]' if special else '/'
    if not path:
        return '/' if special else ''
    if path[0] == '/' or (special and path[0] == '\\'):
        path = path[1:]
    segments = []
    buffers = re.split(separators, path)
    for position, buffer in enumerate(buffers):
        is_last = position == len(buffers) - 1
        encoded = percent_encode(buffer, _PATH_SET)
        lowered = encoded.lower()
        if lowered in ('..', '.%2e', '%2e.', '%2e%2e'):
            if segments:
                segments.pop()
            if is_last:
                segments.append('')
        elif lowered in ('.', '%2e'):
            if is_last:
                segments.append('')
        else:
            segments.append(encoded)
    return '/' + '/'.join(segments)


def _filter_query(query, filtered_names):
    # Url::query_pairs() + query_pairs_mut().clear().extend_pairs(): decoded, filtered, re-encoded.
    kept = []
    for pair in query.split('&'):
        if not pair:
            continue
        name, dummy, value = pair.partition('=')
        name = form_decode(name)
        if name in filtered_names:
            continue
        kept.append('%s=%s' % (form_encode(name), form_encode(form_decode(value))))
    return '&'.join(kept) if kept else None


def serialize(url, filtered_names=frozenset()):
    """``url`` as ``Url::parse`` (url crate 2.5.4, WHATWG URL) serialises it, with the query pairs named in
    ``filtered_names`` left out (``IDGenerator::task_id`` before client v1.5.3).

    Scheme and host lower-cased (special schemes only), default port dropped, dot segments resolved, the query
    decoded, filtered and re-encoded as ``application/x-www-form-urlencoded`` (space becomes ``+``, only
    ``A-Za-z0-9*-._`` stay literal) or dropped when no pair is left, the fragment kept, and a path of just ``/``
    trimmed from the end. Raises ValueError for URLs the client would reject and for URLs without a host.
    """
    if not isinstance(url, str):
        raise ValueError('URL must be a string, got %r' % (url,))
    try:
        url.encode('utf-8')
    except UnicodeEncodeError:
        raise ValueError('URL %r is not valid Unicode' % url)

    text = strip(url)
    match = _SCHEME_RE.match(text)
    if not match:
        raise ValueError('URL %r has no scheme' % url)
    scheme = match.group(1).lower()
    rest = text[match.end():]
    special = scheme in _SPECIAL_SCHEME_DEFAULT_PORTS
    if scheme == 'file':
        raise ValueError('file URLs are not supported: %r' % url)

    if special:
        rest = rest.lstrip('/\\')
        delimiters = '/\\?#'
    elif rest.startswith('//'):
        rest = rest[2:]
        delimiters = '/?#'
    else:
        raise ValueError('URL %r has no host' % url)

    authority_end = len(rest)
    for position, char in enumerate(rest):
        if char in delimiters:
            authority_end = position
            break
    authority = rest[:authority_end]
    userinfo, at_sign, host_and_port = authority.rpartition('@')
    userinfo_text = _serialize_userinfo(userinfo) if at_sign else ''

    # The host ends at the first ':' outside brackets; the port runs up to / \ ? # (url crate parse_port).
    host_end = len(host_and_port)
    inside_brackets = False
    for position, char in enumerate(host_and_port):
        if char == '[':
            inside_brackets = True
        elif char == ']':
            inside_brackets = False
        elif char == ':' and not inside_brackets:
            host_end = position
            break
    host = host_and_port[:host_end]
    remainder = rest[authority_end:]
    port = None
    if host_end < len(host_and_port):
        port_text = host_and_port[host_end + 1:] + remainder
        digits_end = len(port_text)
        for position, char in enumerate(port_text):
            if char in '/\\?#':
                digits_end = position
                break
        digits, remainder = port_text[:digits_end], port_text[digits_end:]
        if any(not '0' <= char <= '9' for char in digits) or (digits and int(digits) > 0xFFFF):
            raise ValueError('invalid port in URL %r' % url)
        if digits:
            port = int(digits)
        if not host:
            raise ValueError('URL %r has an empty host' % url)
    if not host:
        raise ValueError('URL %r has no host' % url)
    host = _parse_special_host(host, url) if special else _parse_opaque_host(host, url)
    if port is not None and port == _SPECIAL_SCHEME_DEFAULT_PORTS.get(scheme):
        port = None

    # The path ends at the first '?' or '#'; a '?' after the '#' belongs to the fragment.
    path, hash_sign, fragment = remainder.partition('#')
    path, question_mark, query = path.partition('?')
    if not question_mark:
        query = None
    path = _serialize_path(path, special)
    fragment = percent_encode(fragment, FRAGMENT_SET) if hash_sign else None
    query = _filter_query(query, filtered_names) if query is not None else None

    normalized = '%s://%s%s%s%s' % (scheme, userinfo_text, host, ':%d' % port if port is not None else '', path)
    if query is not None:
        normalized += '?' + query
    if fragment is not None:
        normalized += '#' + fragment
    # The client trims the trailing '/'s of the serialisation when the path is just "/".
    if path == '/' and normalized.endswith('/'):
        normalized = normalized.rstrip('/')
    return normalized


def has_empty_path(url):
    # src/url/mod.rs has_empty_path: the authority split like Go's url.Parse (the url crate would add "/").
    scheme, separator, rest = url.partition('://')
    if not separator:
        return False
    return '/' not in re.split('[?#]', rest, maxsplit=1)[0]
