# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake AWX API on loopback, enough for the awx.awx modules extensions/awx/setup.yml uses.

It keeps objects in memory and answers the way AWX 24 does where the modules' change detection depends on it:
list views filtered by the query (`name=`, `organization=`, `or__id`/`or__name`), `url` and `related.survey_spec` in
every object, credential inputs that the credential type marks `secret` read back as `$encrypted$`, password
question defaults of a survey read back as `$encrypted$`, association sub-lists (`credentials/`, `success_nodes/`), the
`unified_job_templates` union that workflow nodes are looked up in, and AWX's refusal of a second credential of one
type on a job template. Every request is recorded, so a test can say which ones changed something.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

ENCRYPTED = '$encrypted$'
API = '/api/v2/'
PRODUCT_VERSION = '24.6.1'


class FakeAWX(object):
    """In-memory AWX. seed(endpoint, **fields) adds an existing object; requests lists (method, path, body)."""

    def __init__(self, username='admin', password='fake-admin-password'):
        self.username, self.password = username, password
        self.objects = {}
        self.surveys = {}
        self.associations = {}
        self.requests = []
        self._next_id = 1
        self._lock = threading.Lock()
        self._server = None

    # ------------------------------------------------------------------ store
    def seed(self, endpoint, **fields):
        return self._create(endpoint, fields)

    def _create(self, endpoint, fields):
        obj = dict(fields)
        obj['id'] = self._next_id
        self._next_id += 1
        obj['type'] = endpoint[:-1] if endpoint.endswith('s') else endpoint
        obj['url'] = '%s%s/%d/' % (API, endpoint, obj['id'])
        obj['related'] = ({'survey_spec': obj['url'] + 'survey_spec/'}
                          if endpoint in ('job_templates', 'workflow_job_templates') else {})
        self.objects.setdefault(endpoint, []).append(obj)
        return obj

    def _find(self, endpoint, object_id):
        for obj in self.objects.get(endpoint, []):
            if obj['id'] == object_id:
                return obj
        return None

    def _secret_inputs(self, credential):
        ctype = self._find('credential_types', credential.get('credential_type'))
        fields = (ctype or {}).get('inputs', {}).get('fields', [])
        return set(f['id'] for f in fields if f.get('secret'))

    def view(self, endpoint, obj):
        """An object as AWX shows it: secrets of credentials masked."""
        shown = copy.deepcopy(obj)
        if endpoint == 'credentials' and isinstance(shown.get('inputs'), dict):
            for key in self._secret_inputs(obj) & set(shown['inputs']):
                if shown['inputs'][key]:
                    shown['inputs'][key] = ENCRYPTED
        return shown

    def survey_view(self, spec):
        shown = copy.deepcopy(spec)
        for question in shown.get('spec', []):
            if question.get('type') == 'password' and question.get('default'):
                question['default'] = ENCRYPTED
        return shown

    def writes(self, since=0):
        """(method, path) of the requests from index `since` on that write (logins excluded)."""
        return [r[:2] for r in self.requests[since:]
                if r[0] in ('POST', 'PATCH', 'PUT', 'DELETE') and '/tokens/' not in r[1]]

    # ------------------------------------------------------------------ HTTP
    def handle(self, method, path, query, body, authorization):
        self.requests.append((method, path, body))
        if path == API + 'tokens/' and method == 'POST':
            expected = 'Basic ' + base64.b64encode(('%s:%s' % (self.username, self.password)).encode()).decode()
            if authorization != expected:
                return 401, {'detail': 'Authentication credentials were not provided.'}
            return 201, {'id': 9000, 'token': 'fake-oauth-token'}
        if path.startswith(API + 'tokens/') and method == 'DELETE':
            return 204, None
        if authorization != 'Bearer fake-oauth-token':
            return 401, {'detail': 'Authentication credentials were not provided.'}
        parts = [p for p in path[len(API):].split('/') if p]
        if not path.startswith(API) or not parts:
            return 404, {'detail': 'Not found.'}
        endpoint = parts[0]
        if len(parts) == 1:
            if method == 'GET':
                return 200, self._list(endpoint, query)
            if method == 'POST':
                return 201, self.view(endpoint, self._create(endpoint, body or {}))
            return 405, {'detail': 'Method not allowed.'}
        obj = self._find(endpoint, int(parts[1])) if parts[1].isdigit() else None
        if obj is None:
            return 404, {'detail': 'Not found.'}
        if len(parts) == 2:
            if method == 'GET':
                return 200, self.view(endpoint, obj)
            if method == 'PATCH':
                obj.update(body or {})
                return 200, self.view(endpoint, obj)
            return 405, {'detail': 'Method not allowed.'}
        sub = parts[2]
        key = (endpoint, obj['id'], sub)
        if sub == 'survey_spec':
            if method == 'GET':
                return 200, self.survey_view(self.surveys.get(key, {}))
            if method == 'POST':
                self.surveys[key] = body or {}
                return 200, None
            if method == 'DELETE':
                self.surveys.pop(key, None)
                return 200, None
        if method == 'GET':
            # Members of another kind than the sub-list's name (success_nodes are workflow_job_template_nodes).
            member_endpoint = 'workflow_job_template_nodes' if sub.endswith('_nodes') else sub
            members = [self._find(member_endpoint, i) for i in self.associations.get(key, [])]
            return 200, {'count': len(members), 'next': None, 'previous': None,
                         'results': [self.view(member_endpoint, m) for m in members if m]}
        if method == 'POST':
            ids = self.associations.setdefault(key, [])
            if (body or {}).get('disassociate'):
                ids.remove(body['id'])
            elif body['id'] not in ids:
                refused = self._second_of_its_type(endpoint, sub, ids, body['id'])
                if refused:
                    return 400, {'error': refused}
                ids.append(body['id'])
            return 204, None
        return 405, {'detail': 'Method not allowed.'}

    def _second_of_its_type(self, endpoint, sub, ids, new_id):
        """AWX's JobTemplateCredentialsList: a job template holds one credential of each type (vault ids aside)."""
        if endpoint != 'job_templates' or sub != 'credentials':
            return None
        new = self._find('credentials', new_id) or {}
        types = set((self._find('credentials', i) or {}).get('credential_type') for i in ids)
        if new.get('credential_type') in types:
            ctype = self._find('credential_types', new['credential_type']) or {}
            return 'Cannot assign multiple %s credentials.' % ctype.get('name')
        return None

    def _list(self, endpoint, query):
        either = {k[4:]: v for k, v in query.items() if k.startswith('or__')}
        exact = {k: v for k, v in query.items() if not k.startswith('or__') and k not in ('page', 'page_size')}
        found = []
        # AWX's union of everything a workflow node can run; the objects keep their own type.
        objects = (self.objects.get('job_templates', []) + self.objects.get('workflow_job_templates', [])
                   if endpoint == 'unified_job_templates' else self.objects.get(endpoint, []))
        for obj in objects:
            if any(str(obj.get(k)) != v for k, v in exact.items()):
                continue
            if either and not any(str(obj.get(k)) == v for k, v in either.items()):
                continue
            found.append(self.view(endpoint, obj))
        return {'count': len(found), 'next': None, 'previous': None, 'results': found}

    # ------------------------------------------------------------------ server
    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                split = urlsplit(self.path)
                length = int(self.headers.get('Content-Length') or 0)
                raw = self.rfile.read(length) if length else b''
                body = json.loads(raw) if raw else None
                with fake._lock:
                    status, payload = fake.handle(self.command, split.path, dict(parse_qsl(split.query)), body,
                                                  self.headers.get('Authorization'))
                data = b'' if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('X-API-Product-Name', 'AWX')
                self.send_header('X-API-Product-Version', PRODUCT_VERSION)
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        self._server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return 'http://127.0.0.1:%d' % self._server.server_address[1]

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
