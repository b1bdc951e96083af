# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Dragonfly task IDs as the Rust client (dfdaemon, the seed peers) computes them, by client release, the
filtered query parameters they ignore, and where a task's content lies in a peer's cache. Upstream code it
follows: docs/dev/module-utils.md#task-ids."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import re

from ansible_collections.p2p.dragonfly.plugins.module_utils import _url


TASK_TYPE_STANDARD = 'STANDARD'

# dragonfly-client-storage content.rs DEFAULT_CONTENT_DIR and DEFAULT_TASK_DIR.
_TASKS_DIR = os.path.join('content', 'tasks')

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

# The first client release whose canonical URL sorts the query like the scheduler (upstream PR #2014).
SORTED_QUERY_SINCE = (1, 5, 3)


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


def normalize_url(url, filtered_query_params=None):
    """The string client releases before v1.5.3 hash for ``url``: its url crate serialisation without the
    filtered query parameters (see ``parse_filtered_query_params``), and a path of just ``/`` trimmed."""
    if not isinstance(url, str):
        raise ValueError('URL must be a string, got %r' % (url,))
    return _url.serialize(url, frozenset(parse_filtered_query_params(filtered_query_params)))


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
    text = _url.strip(url)
    before_fragment, hash_sign, fragment = text.partition('#')
    before_query, question_mark, query = before_fragment.partition('?')
    # normalize_url without a query: the url crate's serialisation, minus a path of just "/".
    base = normalize_url(before_query, [])
    if '/' not in base.partition('://')[2] and not _url.has_empty_path(url):
        base += '/'
    pairs = []
    for segment in query.split('&') if question_mark else ():
        if not segment or ';' in segment:
            continue
        name, dummy, value = segment.partition('=')
        name = _url.form_decode(name)
        if name not in filtered_names:
            pairs.append((name, _url.form_decode(value)))
    pairs.sort(key=lambda pair: pair[0].encode('utf-8'))
    canonical = base
    if pairs:
        canonical += '?' + '&'.join('%s=%s' % (_url.form_encode(name, _url.GO_QUERY_UNRESERVED), _url.form_encode(value, _url.GO_QUERY_UNRESERVED))
                                    for name, value in pairs)
    if hash_sign:
        canonical += '#' + _url.percent_encode(fragment, _url.FRAGMENT_SET)
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


def task_content_path(storage_dir, task_id_value):
    """Where a peer keeps the content of a (standard) task: ``<storage_dir>/content/tasks/<id[:3]>/<id>``."""
    if not isinstance(task_id_value, str) or len(task_id_value) < 3 or '/' in task_id_value or task_id_value.strip('.') == '':
        raise ValueError('invalid task ID %r' % (task_id_value,))
    return os.path.join(storage_dir, _TASKS_DIR, task_id_value[:3], task_id_value)
