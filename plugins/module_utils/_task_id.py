# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Dragonfly task IDs, computed exactly like the Rust client (dfdaemon / seed peers) does.

Source of truth: crate dragonfly-client-util, ``src/id_generator/mod.rs``,
``IDGenerator::task_id``. For a URL based task the client hashes, without separators::

    sha256(canonical_url + tag + application + revision + str(piece_length) + "STANDARD")

where an absent (or empty) tag/application/revision adds nothing and ``piece_length`` is added
whenever it is set (``0`` included). ``canonical_url`` depends on the client release:

* up to v1.5.2 (unchanged from v1.4.0 to v1.5.2): ``url::Url::parse(url)`` with the filtered query
  parameters removed, the rest re-encoded in order (``normalize_url``);
* since v1.5.3 (``src/url/mod.rs`` ``filter_query_params``, "identical to the scheduler"): the URL
  verbatim when the filter list is empty, otherwise parsed, the filtered parameters (and segments
  holding ``;``) removed, the rest sorted by name and escaped like Go's ``url.QueryEscape``
  (``canonical_url``).

Registry blob URLs without a query (what image preheats use) give the same ID under both. The task
ID names the cache file on the peer: ``<storage dir>/content/tasks/<id[:3]>/<id>`` (crate
dragonfly-client-storage, ``content_linux.rs`` ``Content::get_task_path``, unchanged to v1.5.10).

Filtered query parameters: ``IDGenerator::task_id`` uses exactly the list it is given (names are
compared case-sensitively). The defaults are applied by the callers: dfget/dfctl/the proxy when no
list is given (``dragonfly-client-util/src/http/query_params.rs``) and the manager when a job's
``filtered_query_params`` string is empty (Go ``manager/service/job.go`` ``CreatePreheatJob``
uses ``pkg/net/http.RawDefaultFilteredQueryParams``; the string is ``&`` separated and split
with ``pkg/idgen.ParseFilteredQueryParams``). Here ``None`` and ``""`` mean the default list and
an explicit empty list means no filtering.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import re


TASK_TYPE_STANDARD = 'STANDARD'
TASK_TYPE_PERSISTENT = 'PERSISTENT'
TASK_TYPE_PERSISTENT_CACHE = 'PERSISTENT_CACHE'

# Default storage.dir of dfdaemon on Linux (dragonfly-client-config lib.rs default_storage_dir).
DEFAULT_STORAGE_DIR = '/var/lib/dragonfly'

# dragonfly-client-storage content.rs DEFAULT_*_DIR constants.
_CONTENT_DIR = 'content'
_TASK_TYPE_DIRS = {
    TASK_TYPE_STANDARD: 'tasks',
    TASK_TYPE_PERSISTENT: 'persistent-tasks',
    TASK_TYPE_PERSISTENT_CACHE: 'persistent-cache-tasks',
}

# Per vendor lists, in the order of Go pkg/net/http/header.go and Rust http/query_params.rs.
_S3_FILTERED_QUERY_PARAMS = (
    'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires',
    'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token', 'X-Amz-User-Agent',
)
_GCS_FILTERED_QUERY_PARAMS = (
    'X-Goog-Algorithm', 'X-Goog-Credential', 'X-Goog-Date', 'X-Goog-Expires',
    'X-Goog-SignedHeaders', 'X-Goog-Signature',
)
_OSS_FILTERED_QUERY_PARAMS = ('OSSAccessKeyId', 'Expires', 'Signature', 'SecurityToken')
_OBS_FILTERED_QUERY_PARAMS = ('AccessKeyId', 'Signature', 'Expires', 'X-Obs-Date', 'X-Obs-Security-Token')
_COS_FILTERED_QUERY_PARAMS = (
    'q-sign-algorithm', 'q-ak', 'q-sign-time', 'q-key-time', 'q-header-list',
    'q-url-param-list', 'q-signature', 'x-cos-security-token',
)
_CONTAINERD_FILTERED_QUERY_PARAMS = ('ns',)

_ALL_VENDOR_FILTERED_QUERY_PARAMS = (
    _S3_FILTERED_QUERY_PARAMS + _GCS_FILTERED_QUERY_PARAMS + _OSS_FILTERED_QUERY_PARAMS
    + _OBS_FILTERED_QUERY_PARAMS + _COS_FILTERED_QUERY_PARAMS + _CONTAINERD_FILTERED_QUERY_PARAMS
)


def _unique(names):
    unique_names = []
    for name in names:
        if name not in unique_names:
            unique_names.append(name)
    return tuple(unique_names)


# The 30 distinct default names (Signature and Expires appear in two vendor lists).
DEFAULT_FILTERED_QUERY_PARAMS = _unique(_ALL_VENDOR_FILTERED_QUERY_PARAMS)

FILTERED_QUERY_PARAMS_SEPARATOR = '&'

# What the manager stores in a job's args when filtered_query_params was left empty (Go keeps duplicates).
RAW_DEFAULT_FILTERED_QUERY_PARAMS = FILTERED_QUERY_PARAMS_SEPARATOR.join(_ALL_VENDOR_FILTERED_QUERY_PARAMS)

# WHATWG special schemes handled here and their default ports (url crate parser.rs default_port).
_SPECIAL_SCHEME_DEFAULT_PORTS = {'http': 80, 'https': 443, 'ws': 80, 'wss': 443, 'ftp': 21}

# Percent-encode sets of the url crate (parser.rs); C0 controls, DEL and non-ASCII are always encoded.
_FRAGMENT_SET = frozenset(' "<>`')
_PATH_SET = _FRAGMENT_SET | frozenset('#?{}')
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

# dragonfly-client-util src/digest/mod.rs BLOB_URL_REGEX; \Z because Rust's $ never matches before a final newline.
_BLOB_URL_RE = re.compile(r'^(.*)://(.*)/v2/(.*)/blobs/([^?]+)(?:\?.*)?\Z')
# Digest::from_str only checks the algorithm and the length of the encoded part.
_BLOB_DIGEST_LENGTHS = {'crc32': 10, 'sha256': 64, 'sha512': 128}

_READ_CHUNK_SIZE = 64 * 1024

# The first client release whose canonical URL sorts the query like the scheduler (upstream PR #2014).
SORTED_QUERY_SINCE = (1, 5, 3)
# Bytes Go's url.QueryEscape (and client v1.5.3+ query_escape) leave as they are.
_GO_QUERY_UNRESERVED = frozenset(b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~')


def _percent_encode(text, encode_set):
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


def _form_decode(text):
    # form_urlencoded::parse: '+' is a space, then percent-decoding, then lossy UTF-8.
    data = text.encode('utf-8').replace(b'+', b' ')
    return _percent_decode_bytes(data).decode('utf-8', 'replace')


def _form_encode(text, safe_bytes=_FORM_SAFE_BYTES):
    # form_urlencoded::byte_serialize, used by Url::query_pairs_mut().extend_pairs(); with _GO_QUERY_UNRESERVED,
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


def parse_filtered_query_params(filtered_query_params=None):
    """Return the list of query parameter names the task ID ignores.

    ``None`` or ``""``: ``DEFAULT_FILTERED_QUERY_PARAMS`` (what the manager and dfget use).
    A string: the manager's form, names separated by ``&`` (``pkg/idgen.ParseFilteredQueryParams``);
    it is split as-is, like the Go code, so no trimming.
    A list/tuple/set of strings: used as given; an empty one filters nothing.
    """
    if filtered_query_params is None:
        return list(DEFAULT_FILTERED_QUERY_PARAMS)
    if isinstance(filtered_query_params, str):
        if filtered_query_params == '':
            return list(DEFAULT_FILTERED_QUERY_PARAMS)
        return filtered_query_params.split(FILTERED_QUERY_PARAMS_SEPARATOR)
    if isinstance(filtered_query_params, (list, tuple, set, frozenset)):
        names = list(filtered_query_params)
        for name in names:
            if not isinstance(name, str):
                raise ValueError('filtered query parameter names must be strings, got %r' % (name,))
        return names
    raise ValueError('filtered_query_params must be None, a string or a list of strings, got %r' % (filtered_query_params,))


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
    return _percent_encode(host, _CONTROLS_SET)


def _serialize_userinfo(userinfo):
    # url crate parser.rs parse_userinfo: the first ':' separates the password, an empty password drops the ':'.
    username, colon, password = userinfo.partition(':')
    username = _percent_encode(username, _USERINFO_SET)
    password = _percent_encode(password, _USERINFO_SET) if colon else ''
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
        encoded = _percent_encode(buffer, _PATH_SET)
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
        name = _form_decode(name)
        if name in filtered_names:
            continue
        kept.append('%s=%s' % (_form_encode(name), _form_encode(_form_decode(value))))
    return '&'.join(kept) if kept else None


def normalize_url(url, filtered_query_params=None):
    """Return the exact string the Rust client hashes for ``url``.

    Mirrors ``Url::parse`` (url crate 2.5.4, WHATWG URL) plus the filtering in
    ``IDGenerator::task_id``: scheme and host lower-cased (special schemes only), default port
    dropped, dot segments resolved, the query decoded, filtered and re-encoded as
    ``application/x-www-form-urlencoded`` (space becomes ``+``, only ``A-Za-z0-9*-._`` stay
    literal) or dropped when no pair is left, the fragment kept, and a path of just ``/`` trimmed
    from the end. Raises ValueError for URLs the client would reject and for URLs without a host.
    """
    if not isinstance(url, str):
        raise ValueError('URL must be a string, got %r' % (url,))
    try:
        url.encode('utf-8')
    except UnicodeEncodeError:
        raise ValueError('URL %r is not valid Unicode' % url)
    filtered_names = frozenset(parse_filtered_query_params(filtered_query_params))

    text = _TAB_OR_NEWLINE_RE.sub('', url.strip(_C0_CONTROL_OR_SPACE))
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
    fragment = _percent_encode(fragment, _FRAGMENT_SET) if hash_sign else None
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


def _has_empty_path(url):
    # src/url/mod.rs has_empty_path: the authority split like Go's url.Parse (the url crate would add "/").
    scheme, separator, rest = url.partition('://')
    if not separator:
        return False
    return '/' not in re.split('[?#]', rest, maxsplit=1)[0]


def canonical_url(url, filtered_query_params=None, client_version=None):
    """Return the exact string the client of ``client_version`` hashes for ``url``.

    ``client_version`` ``None`` means the newest rules. Before v1.5.3 this is ``normalize_url``.
    Since v1.5.3 (``filter_query_params``): with an empty filter list the URL as given; otherwise
    the URL as ``Url::parse`` serialises it, the query split on ``&``, segments holding ``;``
    dropped, filtered names dropped, the pairs sorted by name (a name's values keep their order)
    and escaped like Go's ``url.QueryEscape``, the query dropped when nothing is left, and the
    path ``/`` left out only when the URL had no path.
    """
    version = parse_client_version(client_version) if client_version is not None else None
    if version is not None and version < SORTED_QUERY_SINCE:
        return normalize_url(url, filtered_query_params)
    filtered_names = frozenset(parse_filtered_query_params(filtered_query_params))
    if not isinstance(url, str):
        raise ValueError('URL must be a string, got %r' % (url,))
    if not filtered_names:
        return url
    text = _TAB_OR_NEWLINE_RE.sub('', url.strip(_C0_CONTROL_OR_SPACE))
    before_fragment, hash_sign, fragment = text.partition('#')
    before_query, question_mark, query = before_fragment.partition('?')
    # normalize_url without a query: the url crate's serialisation, minus a path of just "/".
    base = normalize_url(before_query, [])
    if '/' not in base.partition('://')[2] and not _has_empty_path(url):
        base += '/'
    pairs = []
    for segment in query.split('&') if question_mark else ():
        if not segment or ';' in segment:
            continue
        name, dummy, value = segment.partition('=')
        name = _form_decode(name)
        if name not in filtered_names:
            pairs.append((name, _form_decode(value)))
    pairs.sort(key=lambda pair: pair[0].encode('utf-8'))
    canonical = base
    if pairs:
        canonical += '?' + '&'.join('%s=%s' % (_form_encode(name, _GO_QUERY_UNRESERVED), _form_encode(value, _GO_QUERY_UNRESERVED))
                                    for name, value in pairs)
    if hash_sign:
        canonical += '#' + _percent_encode(fragment, _FRAGMENT_SET)
    return canonical


def _optional_text(value, name):
    if value is None:
        return ''
    if not isinstance(value, str):
        raise ValueError('%s must be a string, got %r' % (name, value))
    return value


def parse_client_version(client_version):
    match = re.match(r'^v?(\d+)\.(\d+)\.(\d+)', str(client_version).strip())
    if not match:
        raise ValueError('client_version must look like "1.4.0" or "v1.4.0", got %r' % (client_version,))
    return tuple(int(part) for part in match.groups())


def task_id(url, piece_length=None, tag=None, application=None, filtered_query_params=None, revision=None, client_version=None):
    """Return the URL based task ID of a standard (``TaskType::Standard``) task.

    ``filtered_query_params``: see ``parse_filtered_query_params`` (``None`` = the default list).
    ``revision`` is only set by the client for Hugging Face / ModelScope downloads.
    ``client_version`` selects the rules of that client release: before v0.2.28 there was no
    "STANDARD" suffix, v1.2.12 to v1.2.14 hashed the revision after the piece length, no revision
    existed before v1.2.12, and the canonical URL changed in v1.5.3 (``canonical_url``). ``None``
    means the newest rules.
    """
    if piece_length is not None:
        if isinstance(piece_length, bool) or not isinstance(piece_length, int) or not 0 <= piece_length < 2 ** 64:
            raise ValueError('piece_length must be an unsigned 64-bit integer, got %r' % (piece_length,))
        piece_length_text = str(piece_length)
    else:
        piece_length_text = ''
    tag = _optional_text(tag, 'tag')
    application = _optional_text(application, 'application')
    revision = _optional_text(revision, 'revision')

    version = parse_client_version(client_version) if client_version is not None else None
    if version is not None and version < (0, 2, 13):
        raise ValueError('task IDs of clients older than v0.2.13 are not supported')
    if revision and version is not None and version < (1, 2, 12):
        raise ValueError('clients older than v1.2.12 do not hash a revision')

    parts = [canonical_url(url, filtered_query_params, client_version), tag, application]
    if version is not None and (1, 2, 12) <= version < (1, 2, 15):
        parts.extend([piece_length_text, revision])
    else:
        parts.extend([revision, piece_length_text])
    if version is None or version >= (0, 2, 28):
        parts.append(TASK_TYPE_STANDARD)
    return hashlib.sha256(''.join(parts).encode('utf-8')).hexdigest()


def _hash_stream(hasher, stream):
    while True:
        chunk = stream.read(_READ_CHUNK_SIZE)
        if not chunk:
            return hasher
        hasher.update(chunk)


def content_task_id(content):
    """Return the task ID the client derives from ``content_for_calculating_task_id``: sha256 hex of it.

    ``content`` is text (hashed as UTF-8), bytes, or a binary file object (read in chunks).
    """
    hasher = hashlib.sha256()
    if isinstance(content, str):
        hasher.update(content.encode('utf-8'))
    elif isinstance(content, (bytes, bytearray)):
        hasher.update(content)
    elif hasattr(content, 'read'):
        _hash_stream(hasher, content)
    else:
        raise ValueError('content must be text, bytes or a binary file object, got %r' % (content,))
    return hasher.hexdigest()


def file_content_task_id(path):
    """Return ``content_task_id`` of the bytes of the file at ``path``, streamed."""
    with open(path, 'rb') as stream:
        return _hash_stream(hashlib.sha256(), stream).hexdigest()


def is_blob_url(url):
    """Whether the client treats ``url`` as an OCI blob URL (digest/mod.rs is_blob_url)."""
    return bool(_BLOB_URL_RE.match(url))


def blob_digest_task_id(url):
    """Return the task ID of an OCI blob URL in blob digest mode: the encoded part of its digest.

    Used by the client only when the download sets ``enable_task_id_based_blob_digest``
    (the proxy can, manager preheat jobs do not). Raises ValueError if the URL is not
    ``<scheme>://<host>/v2/<name>/blobs/<algorithm>:<encoded>``.
    """
    match = _BLOB_URL_RE.match(url)
    if not match:
        raise ValueError('%r is not an OCI blob URL (<scheme>://<host>/v2/<name>/blobs/<digest>)' % url)
    algorithm, colon, encoded = match.group(4).partition(':')
    if not colon:
        raise ValueError('invalid digest %r in blob URL %r' % (match.group(4), url))
    if algorithm not in _BLOB_DIGEST_LENGTHS:
        raise ValueError('invalid digest algorithm %r in blob URL %r' % (algorithm, url))
    if len(encoded) != _BLOB_DIGEST_LENGTHS[algorithm]:
        raise ValueError('invalid %s digest length %d, expected %d, in blob URL %r' % (algorithm, len(encoded), _BLOB_DIGEST_LENGTHS[algorithm], url))
    return encoded


def persistent_task_id(url, region, endpoint):
    """Return the persistent task ID of an object storage object (``IDGenerator::persistent_task_id``)."""
    data = ''.join((url, region, endpoint, TASK_TYPE_PERSISTENT))
    return hashlib.sha256(data.encode('utf-8')).hexdigest()


def persistent_cache_task_id(path, piece_length=None, tag=None, application=None):
    """Return the persistent cache task ID of a local file (``IDGenerator::persistent_cache_task_id``)."""
    hasher = hashlib.sha256()
    with open(path, 'rb') as stream:
        _hash_stream(hasher, stream)
    hasher.update(_optional_text(tag, 'tag').encode('utf-8'))
    hasher.update(_optional_text(application, 'application').encode('utf-8'))
    if piece_length is not None:
        if isinstance(piece_length, bool) or not isinstance(piece_length, int) or not 0 <= piece_length < 2 ** 64:
            raise ValueError('piece_length must be an unsigned 64-bit integer, got %r' % (piece_length,))
        hasher.update(str(piece_length).encode('ascii'))
    hasher.update(TASK_TYPE_PERSISTENT_CACHE.encode('ascii'))
    return hasher.hexdigest()


def task_content_path(storage_dir, task_id_value, task_type=TASK_TYPE_STANDARD):
    """Return where a peer keeps the content of a task: ``<storage_dir>/content/<type dir>/<id[:3]>/<id>``.

    ``task_type`` is one of ``TASK_TYPE_STANDARD`` (``tasks``), ``TASK_TYPE_PERSISTENT``
    (``persistent-tasks``) and ``TASK_TYPE_PERSISTENT_CACHE`` (``persistent-cache-tasks``).
    """
    if task_type not in _TASK_TYPE_DIRS:
        raise ValueError('task_type must be one of %s, got %r' % (', '.join(sorted(_TASK_TYPE_DIRS)), task_type))
    if not isinstance(task_id_value, str) or len(task_id_value) < 3 or '/' in task_id_value or task_id_value.strip('.') == '':
        raise ValueError('invalid task ID %r' % (task_id_value,))
    return os.path.join(storage_dir, _CONTENT_DIR, _TASK_TYPE_DIRS[task_type], task_id_value[:3], task_id_value)
