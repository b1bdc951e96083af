# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A preheat job as the manager takes it: the tasks it is expected to create (each URL with the task ID the seed peer
computes for it), the job's body, the advice for a refused job, the error the preheat modules report, and how they
end on it. Upstream behaviour: docs/dev/module-utils.md#preheat."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.p2p.dragonfly.plugins.module_utils._api import ManagerAPIError
from ansible_collections.p2p.dragonfly.plugins.module_utils._jobs import BIO, JOB_TYPE_PREHEAT
from ansible_collections.p2p.dragonfly.plugins.module_utils._task_id import (
    FILTERED_QUERY_PARAMS_SEPARATOR,
    task_id as compute_task_id,
)


NANOSECONDS = 1000000000


class PreheatError(Exception):
    """A failure with a message for the user (no secrets); ``details`` go into the module result."""

    def __init__(self, message, **details):
        super(PreheatError, self).__init__(message)
        self.message = message
        self.details = details


class PreheatTimeout(PreheatError):
    """The wait ended at its deadline with tasks still missing: not a failure of the job, which goes on."""


def exit_with(module, execute, failure_fields=None):
    """Exit with what ``execute()`` returns, or fail with the message of the PreheatError or ManagerAPIError it raises
    and the keys ``failure_fields()`` (when given) returns: what the module knew when it failed."""
    try:
        result = execute()
    except PreheatError as exc:
        module.fail_json(msg=exc.message, **dict(exc.details, **(failure_fields() if failure_fields else {})))
    except ManagerAPIError as exc:
        module.fail_json(msg=str(exc), http_status=exc.status, **(failure_fields() if failure_fields else {}))
    module.exit_json(**result)


def filtered_query_params_text(names):
    """The manager's form of filtered_query_params: ``&``-separated, ``''`` for its default list."""
    return FILTERED_QUERY_PARAMS_SEPARATOR.join(names or [])


def expected_tasks(entries, tag=None, application=None, filtered_query_params=None, piece_length=None, client_version=None):
    """``entries``: ``(url, digest or None)``; returns ``[{url, task_id[, digest]}]`` without repeats.

    The task ID is the one the seed peer of ``client_version`` computes (docs/dev/module-utils.md#preheat).
    """
    filters = filtered_query_params_text(filtered_query_params)
    tasks, seen = [], set()
    for url, digest in entries:
        if url in seen:
            continue
        seen.add(url)
        task_id_value = compute_task_id(url, piece_length=piece_length, tag=tag, application=application,
                                        filtered_query_params=filters, client_version=client_version)
        task = dict(url=url, task_id=task_id_value)
        if digest:
            task['digest'] = digest
        tasks.append(task)
    return tasks


def preheat_body(params, kind, target, platform, urls, headers, username=None, password=None):
    """The body of the preheat job: the module's options ``params``, the type ``kind``, for images the manifest URL
    ``target``, ``platform`` and the registry's ``username`` and ``password``, for files the ``urls`` to preheat, and
    the ``headers`` the seed peers send."""
    args = dict(type=kind, scope=params['scope'])
    if kind == 'image':
        args.update(url=target, platform=platform)
        if username:
            args['username'] = username
        if password:
            args['password'] = password
    else:
        args['urls'] = urls
    for option in ('tag', 'application'):
        if params[option]:
            args[option] = params[option]
    if params['filtered_query_params']:
        args['filtered_query_params'] = filtered_query_params_text(params['filtered_query_params'])
    for option in ('piece_length', 'count', 'percentage', 'concurrent_task_count', 'concurrent_peer_count'):
        if params[option] is not None:
            args[option] = params[option]
    if params['ips']:
        args['ips'] = list(params['ips'])
    if params['preheat_timeout']:
        args['timeout'] = params['preheat_timeout'] * NANOSECONDS
    if headers:
        args['headers'] = headers
    return dict(type=JOB_TYPE_PREHEAT, bio=BIO % JOB_TYPE_PREHEAT, scheduler_cluster_ids=list(params['scheduler_cluster_ids']),
                args=args)


# Go's crypto/tls and crypto/x509 errors, as the manager's registry client returns them.
_TLS_MARKERS = ('x509:', 'tls:', 'certificate signed by unknown authority', 'failed to verify certificate')
_UNAUTHORIZED_RE = re.compile(r'\b(?:401|unauthorized)\b', re.IGNORECASE)


def manager_error_hint(exc):
    """Extra advice for a failed preheat POST, beyond what the client says."""
    text = exc.server_message or ''
    if exc.status and exc.status >= 500 and ('ip ' in text and 'is invalid' in text):
        return (' The manager refuses registries at loopback or link-local addresses (127.0.0.1, localhost): use an '
                'address of the host the manager can reach.')
    if exc.status and exc.status >= 500 and 'no matching manifest' in text:
        return ' The manager found no manifest for the platform: check option platform.'
    return ''


def preheat_post_error(exc, registry=None, login_entry=None, host=None):
    """The ``ManagerAPIError`` to raise for a refused preheat POST ``exc``. For an image (``host``: the registry host of
    its manifest URL; ``registry``: its name as an entry of option credentials spells it; ``login_entry``: the entry
    its username came from), a registry error of the manager's own manifest read (TLS, 401) replaces the client's
    generic advice; the server message is already scrubbed of secrets by the client."""
    host = host or registry
    text = exc.server_message or ''
    prefix = f'{exc.method} {exc.path} failed with HTTP {exc.status}'
    message = None
    if registry and exc.status and exc.status >= 500 and any(marker in text.lower() for marker in _TLS_MARKERS):
        # The module verified the registry itself; the manager uses its own transport and CAs (job.preheat.tls).
        message = (f"{prefix}: the manager could not verify {host}'s certificate: {text}; set the manager's "
                   "job.preheat.tls.caCert: the manager role's variable dragonfly_manager_preheat_ca_bundle (or "
                   'dragonfly_manager_preheat_insecure_skip_verify, not recommended)')
    elif registry and exc.status and exc.status >= 500 and _UNAUTHORIZED_RE.search(text):
        fields = (f'the username and password of the credentials entry for {login_entry}' if login_entry else
                  f'registry_username and registry_password (or the credentials entry for {registry})')
        message = (f"{prefix}: the registry {host} refused the manager's request for the manifest ({text}): "
                   f'set or check {fields}')
    if message is None:
        message = str(exc) + manager_error_hint(exc)
    return ManagerAPIError(message, status=exc.status, method=exc.method, path=exc.path, server_message=exc.server_message)
