# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry client: reads image manifests as the manager does (token or basic auth) and resolves an image to
the blobs the manager preheats. Upstream behaviour it follows: docs/dev/module-utils.md#registry."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import re
from urllib.parse import urlencode

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.p2p.dragonfly.plugins.module_utils import _http
from ansible_collections.p2p.dragonfly.plugins.module_utils._image_reference import (
    blob_url,
    format_platform,
    is_manifest_list,
    manifest_references,
    parse_manifest_url,
    parse_platform,
    select_manifests,
)
from ansible_collections.p2p.dragonfly.plugins.module_utils._preheat import PreheatError

MANIFEST_MEDIA_TYPES = (
    'application/vnd.docker.distribution.manifest.v2+json',
    'application/vnd.docker.distribution.manifest.list.v2+json',
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.docker.distribution.manifest.v1+prettyjws',
    'application/json',
)
_MAX_INDEX_DEPTH = 4
_CHALLENGE_PARAM_RE = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def basic_authorization(username, password):
    """The value of an ``Authorization`` header with basic credentials."""
    raw = f'{username}:{password or ""}'.encode('utf-8')
    return 'Basic ' + base64.b64encode(raw).decode('ascii')


def parse_challenge(header):
    """``WWW-Authenticate`` -> ``(scheme, {param: value})``; ``(None, {})`` when absent."""
    header = (header or '').strip()
    if not header:
        return None, {}
    scheme, dummy, rest = header.partition(' ')
    params = {}
    for match in _CHALLENGE_PARAM_RE.finditer(rest):
        value = match.group(2) if match.group(2) is not None else match.group(3)
        params[match.group(1).lower()] = value.replace('\\"', '"')
    return scheme.lower(), params


def _registry_message(body):
    try:
        document = json.loads(to_text(body or b'', errors='surrogate_or_replace'))
    except ValueError:
        text = ' '.join(to_text(body or b'', errors='surrogate_or_replace').split())
        return text[:300]
    errors = document.get('errors') if isinstance(document, dict) else None
    if isinstance(errors, list):
        return '; '.join(f"{error.get('code', '')}: {error.get('message', '')}".strip(': ')
                         for error in errors if isinstance(error, dict))
    return ''


class Registry(object):
    """Reads image manifests with ``fetch_url`` the way the manager does (token or basic auth).

    ``authorization`` ends up holding the header that worked; ``basic_auth`` tells whether it is a
    basic one, which the manager would not forward to the seed peers by itself.
    """

    def __init__(self, module, username=None, password=None, headers=None, timeout=30, ca_path=None, name=None,
                 login_entry=None):
        self.module = module
        # For messages: the registry as an entry of option credentials names it (docker.io for Docker Hub), and the
        # entry the username came from (None: from registry_username).
        self.name = name
        self.login_entry = login_entry
        self.username = username or None
        self.password = password or ''
        self.timeout = timeout
        self.ca_path = ca_path
        self.extra_headers = {}
        self.authorization = None
        self.basic_auth = False
        self.given_authorization = False
        for name, value in (headers or {}).items():
            if name.lower() == 'authorization':
                # Like the manager: a given Authorization is used as it is, without a token exchange.
                self.authorization = value
                self.given_authorization = True
            else:
                self.extra_headers[name] = value
        self._tried_challenge = False
        self._manifest_url = None

    def _name(self, url):
        if self.name:
            return self.name
        try:
            return parse_manifest_url(url).host
        except ValueError:
            return _http.origin(url or '')[1]

    def _user(self):
        if self.login_entry:
            return f'the username {self.username!r} of the credentials entry for {self.login_entry}'
        return f'registry_username {self.username!r}'

    def _set_credentials(self, url):
        return f'set registry_username and registry_password (or the credentials entry for {self._name(url)})'

    def _secret(self, value):
        if value:
            self.module.no_log_values.add(value)
        return value

    def _get(self, url, headers):
        # Credentials stay with the first request: a redirect (to a storage backend, or anywhere) gets none.
        answer = _http.send(self.module, 'GET', url, headers=headers, timeout=self.timeout, ca_path=self.ca_path)
        return answer.status, answer.body, answer.info

    def manifest(self, url, repository):
        """Return the manifest document at ``url`` as a dict."""
        self._manifest_url = url
        headers = dict(self.extra_headers)
        headers['Accept'] = ', '.join(MANIFEST_MEDIA_TYPES)
        if self.authorization:
            headers['Authorization'] = self.authorization
        status, body, info = self._get(url, headers)
        if status == 401 and not self.authorization and not self._tried_challenge:
            self._tried_challenge = True
            self._authenticate(info, repository, url)
            headers['Authorization'] = self.authorization
            status, body, info = self._get(url, headers)
        if not 200 <= status < 300:
            raise PreheatError(self._explain(status, url, info, body, repository), http_status=status)
        try:
            document = json.loads(to_text(body, errors='surrogate_or_replace'))
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise PreheatError(f'the registry answered GET {url} with something that is not a JSON manifest: is this a '
                               'manifest URL of an OCI registry?')
        return document

    def _authenticate(self, info, repository, url):
        scheme, params = parse_challenge(info.get('www-authenticate'))
        if scheme == 'bearer' and params.get('realm'):
            self.authorization = 'Bearer ' + self._secret(self._bearer_token(params, repository))
        elif scheme == 'basic':
            if not self.username:
                raise PreheatError(f'the registry asks for credentials (basic auth) to read {url}: '
                                   f'{self._set_credentials(url)}', http_status=401)
            self.authorization = self._secret(basic_authorization(self.username, self.password))
            self.basic_auth = True
        else:
            raise PreheatError(f'the registry answered 401 to GET {url} without a usable WWW-Authenticate challenge '
                               f'({scheme or "none"}): cannot authenticate', http_status=401)

    def _bearer_token(self, params, repository):
        query = {'scope': params.get('scope') or f'repository:{repository}:pull'}
        if params.get('service'):
            query['service'] = params['service']
        realm = params['realm']
        token_url = realm + ('&' if '?' in realm else '?') + urlencode(sorted(query.items()))
        headers = {'Accept': 'application/json'}
        if self.username:
            headers['Authorization'] = self._secret(basic_authorization(self.username, self.password))
        status, body, info = self._get(token_url, headers)
        if status == -1:
            reason = to_text(info.get('msg'))
            if is_certificate_error(reason):
                raise PreheatError(self._tls_message(realm, reason, f"the registry's token service at {realm}"))
            raise PreheatError(f"the registry's token service at {realm} is unreachable: {reason}")
        if status in (401, 403):
            if self.username:
                raise PreheatError(f"the registry's token service ({realm}) refused {self._user()} and its password "
                                   f'(HTTP {status}): check the credentials', http_status=status)
            raise PreheatError(f"the registry's token service ({realm}) refused an anonymous token for "
                               f'{repository} (HTTP {status}): {self._set_credentials(self._manifest_url)}',
                               http_status=status)
        if not 200 <= status < 300:
            raise PreheatError(f"the registry's token service ({realm}) answered HTTP {status}: "
                               f'{_registry_message(body)}', http_status=status)
        try:
            document = json.loads(to_text(body, errors='surrogate_or_replace'))
        except ValueError:
            document = None
        token = None
        if isinstance(document, dict):
            token = document.get('token') or document.get('access_token')
        if not token:
            raise PreheatError(f"the registry's token service ({realm}) answered without a token")
        return token

    def _explain(self, status, url, info, body, repository):
        message = _registry_message(body)
        shown = f' ({message})' if message else ''
        if status == -1 and is_certificate_error(to_text(info.get('msg'))):
            return self._tls_message(url, to_text(info.get('msg')), f'the registry {parse_manifest_url(url).host}')
        if status == -1:
            return (f"registry unreachable: GET {url} failed: {to_text(info.get('msg'))}. The module reads the manifest "
                    'from the host it runs on (the controller unless delegate_to says otherwise): check the registry '
                    'address, option scheme/insecure_registry (http or https), and the network')
        if status == 401:
            if self.given_authorization:
                return (f'the registry refused the Authorization header given in option headers for GET {url} (HTTP 401)'
                        f'{shown}: renew it, or remove it and set registry_username and registry_password')
            if self.username:
                return f'the registry refused {self._user()} for GET {url} (HTTP 401){shown}: check the credentials'
            return f'the registry requires credentials for GET {url} (HTTP 401){shown}: {self._set_credentials(url)}'
        if status == 403:
            return f'the registry denied GET {url} (HTTP 403){shown}: the credentials lack pull access to {repository}'
        if status == 404:
            return (f'manifest not found: GET {url} answered HTTP 404{shown}: check the image name and tag '
                    '(option image or url)')
        if status == 429:
            return (f'the registry rate-limited GET {url} (HTTP 429){shown}: retry later, or authenticate '
                    '(Docker Hub limits anonymous pulls)')
        return f'the registry answered GET {url} with HTTP {status}{shown}'

    def _tls_message(self, url, reason, what):
        # The module's own check (fetch_url); the manager's is another (job.preheat.tls), see _preheat.
        return (f'{what} presented a TLS certificate the module could not verify: {reason} (GET {url}); set '
                f'registry_ca_path (or ca_path of the credentials entry for {self._name(self._manifest_url)}) to a PEM '
                'file of the CA that signed it')


def is_certificate_error(reason):
    """Whether fetch_url's message (status -1) says a TLS certificate was not verified."""
    text = (reason or '').lower()
    return 'certificate_verify_failed' in text or 'certificate verify failed' in text


def _platform_label(descriptor):
    platform = descriptor.get('platform') or {}
    parts = [platform.get('os') or '?', platform.get('architecture') or '?']
    if platform.get('variant'):
        parts.append(platform['variant'])
    return '/'.join(parts)


def resolve_image(registry, manifest_url_value, platform):
    """Read the manifests the manager would preheat; returns ``(entries, platforms)``.

    ``entries``: ``(blob URL, digest)`` in the manager's order. ``platforms``: the platforms the
    index offers (empty for a single-platform manifest).
    """
    parsed = parse_manifest_url(manifest_url_value)
    wanted = parse_platform(platform)
    manifests, offered = [], []

    def resolve(reference, depth):
        url = f'{parsed.scheme}://{parsed.host}/v2/{parsed.repository}/manifests/{reference}'
        document = registry.manifest(url, parsed.repository)
        if not is_manifest_list(document):
            manifests.append(document)
            return
        if depth >= _MAX_INDEX_DEPTH:
            raise PreheatError(f'image index nesting deeper than {_MAX_INDEX_DEPTH} levels at {url}')
        descriptors = [item for item in document.get('manifests') or [] if isinstance(item, dict)]
        if depth == 0:
            offered.extend(label for label in (_platform_label(item) for item in descriptors)
                           if label not in offered and not label.startswith('unknown/'))
        for descriptor in select_manifests(document, wanted):
            resolve(descriptor['digest'], depth + 1)

    resolve(parsed.reference, 0)
    if not manifests:
        raise PreheatError(f'platform {format_platform(wanted)} is not in the image index of {manifest_url_value}; it '
                           f"offers: {', '.join(offered) or 'nothing'}. Set option platform to one of them",
                           available_platforms=offered)
    entries = []
    for manifest in manifests:
        try:
            digests = manifest_references(manifest)
        except ValueError as exc:
            raise PreheatError(f'cannot read the image manifest of {manifest_url_value}: {exc}')
        for digest in digests:
            entries.append((blob_url(parsed.scheme, parsed.host, parsed.repository, digest), digest))
    return entries, offered
