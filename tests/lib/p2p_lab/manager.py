"""A plain client of the Dragonfly manager's REST API for tests and benchmarks: requests with a session (JWT) or a
personal access token, and root's sign-in with the retry manager v2.5.x needs. Independent of the collection's own
client (plugins/module_utils/_api.py), whose claims the tests check."""
import json
import ssl
import time
import urllib.error
import urllib.request


class ManagerError(AssertionError):
    """The manager answered with a status the caller did not expect (to a test, a failed check)."""


class Manager:
    """The REST API at ``url``: https through the manager role's TLS proxy, verified with ``ca_file``, or plain
    http (the smoke stack's manager, without a proxy)."""

    def __init__(self, url, ca_file=None, timeout=30):
        self.url = url.rstrip("/")
        self.ca_file = ca_file
        self.timeout = timeout

    def request(self, method, path, body=None, bearer=None):
        """(status, answer bytes) of one request: a refusal is an answer too, not an exception."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if bearer:
            headers["Authorization"] = "Bearer " + bearer
        request = urllib.request.Request(self.url + path, method=method, headers=headers,
                                         data=json.dumps(body).encode() if body is not None else None)
        context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout, context=context) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def status(self, path, bearer=None):
        """The status of a GET."""
        return self.request("GET", path, bearer=bearer)[0]

    def call(self, method, path, body=None, bearer=None, expect=(200,)):
        """The answer, decoded when it is JSON; ManagerError when the status is not one of ``expect``."""
        status, answer = self.request(method, path, body=body, bearer=bearer)
        if status not in expect:
            raise ManagerError("%s %s -> %s %s" % (method, self.url + path, status, answer[:500]))
        return json.loads(answer) if answer.strip().startswith((b"{", b"[")) else answer

    def signin(self, password, name="root", attempts=10, delay=1):
        """A session (JWT) of the user, or None when every attempt is refused. Retried on 401 like the modules'
        sign-in (plugins/module_utils/_api.py, _password_request): manager v2.5.x serves a user row queried in the
        last 30 s from a cache without its password hash, so even the right password is refused for a while after
        another sign-in; only a refusal of every attempt means a wrong one."""
        for attempt in range(attempts):
            status, answer = self.request("POST", "/api/v1/users/signin", body={"name": name, "password": password})
            if status == 200:
                return json.loads(answer)["token"]
            if status != 401:
                raise ManagerError("POST %s/api/v1/users/signin -> %s %s" % (self.url, status, answer[:500]))
            if attempt < attempts - 1:
                time.sleep(delay)
        return None
