# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP transport of the collection's API clients (the manager's REST API, container registries).

One request through ansible-core's ``fetch_url`` (no Python dependency on the targets), its answer read once.
Credentials never follow a redirect: ``fetch_url`` (urllib) copies every header to the redirected request, so an
``Authorization`` for one host would reach whatever host a redirect names (docs/dev/module-utils.md#http).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from urllib.parse import urlsplit

from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.urls import fetch_url

# Headers that carry credentials: attached to the first request only, never to a redirected one.
CREDENTIAL_HEADERS = ('Authorization', 'Proxy-Authorization', 'Cookie')


def origin(url):
    """(scheme, host, port) of a URL, the port filled in from the scheme."""
    parts = urlsplit(url)
    scheme = (parts.scheme or '').lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or '').lower(), port or {'http': 80, 'https': 443}.get(scheme)


class Answer(object):
    """What one request got: ``status`` (-1 when no HTTP answer came), ``body`` (bytes), ``info`` (fetch_url's dict,
    header names in lower case), ``reason`` (fetch_url's message), ``url`` (the URL that answered, after redirects,
    or the requested one)."""

    def __init__(self, status, body, info, reason, url, requested):
        self.status = status
        self.body = body
        self.info = info
        self.reason = reason
        self.url = url or requested
        self.requested = requested

    @property
    def redirected_elsewhere(self):
        """A redirect led to another origin (scheme, host or port) than the one asked."""
        return origin(self.url) != origin(self.requested)


def send(module, method, url, data=None, headers=None, timeout=30, ca_path=None):
    """Send one request; return an ``Answer``. Never raises for HTTP or connection errors."""
    headers = dict(headers or {})
    response, info = fetch_url(
        module, url, data=data, headers=headers, method=method, timeout=timeout, ca_path=ca_path,
        # Our Authorization header must not compete with ~/.netrc credentials.
        use_netrc=False,
        unredirected_headers=[name for name in headers if name.title() in CREDENTIAL_HEADERS],
    )
    status = info.get('status')
    if status is None:
        status = -1
    body = None
    if 200 <= status < 300 and response is not None:
        try:
            body = response.read()
        except (AttributeError, TypeError, OSError):
            body = None
    if body is None:
        body = info.get('body') or b''
    return Answer(status, body, info, to_text(info.get('msg') or ''), info.get('url'), url)
