"""What a stranger on the network gets from the manager host: run on a lab host that is not in the inventory (the
origin, tests/lab/test_stranger.py), with the standard library only. Prints one JSON object: request -> HTTP status,
or "refused" / "timeout" / an error name when nothing answered.

    python3 stranger.py HOST REST_PORT [redis:PORT] PORT...

PORT: a plain TCP port, "accepted" or why not; redis:PORT: the first line Redis answers to PING without a password.

A stranger does not know the manager's CA, so TLS is not verified here: what counts is what the server answers.
"""
import http.client
import json
import socket
import ssl
import sys

SIGNUP_BODY = json.dumps({"name": "stranger", "password": "stranger-password-1", "email": "stranger@example.com"})
# The sign-up path as a client may spell it; the manager (gin) routes each of these, or redirects to it.
SIGNUP_PATHS = ["/api/v1/users/signup", "//api/v1/users/signup", "/api/v1//users/signup", "/api/v1/users/signup/",
                "/api/v1/users/%73ignup", "/api/v1/users/./signup", "/api/v1/x/../users/signup", "/API/v1/users/signup",
                "/api/v1/users/signup?x=1"]
# Everything else under /api/v1 needs a session; /oapi/v1 a personal access token.
CLOSED = ["/api/v1/users", "/api/v1/personal-access-tokens", "/api/v1/jobs", "/api/v1/configs", "/api/v1/users/1",
          "/api/v1/schedulers", "/api/v1/seed-peers", "/api/v1/audits", "/oapi/v1/jobs", "/oapi/v1/clusters"]


def status(connection_factory, method, path, body=None):
    try:
        connection = connection_factory()
        headers = {"Content-Type": "application/json"} if body else {}
        connection.request(method, path, body=body, headers=headers)
        return connection.getresponse().status
    except socket.timeout:
        return "timeout"
    except ConnectionRefusedError:
        return "refused"
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__


def connect(host, port):
    """"accepted" (for redis:PORT, the first line of the answer to PING), or why the connection failed."""
    redis = port.startswith("redis:")
    try:
        with socket.create_connection((host, int(port.split(":")[-1])), timeout=5) as connection:
            if not redis:
                return "accepted"
            connection.sendall(b"PING\r\n")
            return connection.makefile("rb").readline().decode(errors="replace").strip()
    except OSError as exc:
        return "refused" if isinstance(exc, ConnectionRefusedError) else type(exc).__name__


def main():
    host, rest_port, plain_ports = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE

    def tls():
        return http.client.HTTPSConnection(host, rest_port, timeout=10, context=context)

    def plain():
        return http.client.HTTPConnection(host, rest_port, timeout=10)

    found = {"GET /healthy": status(tls, "GET", "/healthy"),
             "plain GET /healthy": status(plain, "GET", "/healthy"),
             "plain POST /api/v1/users/signup": status(plain, "POST", "/api/v1/users/signup", SIGNUP_BODY)}
    for path in SIGNUP_PATHS:
        found["POST " + path] = status(tls, "POST", path, SIGNUP_BODY)
    # Had any sign-up got through, the stranger could now sign in.
    found["POST /api/v1/users/signin"] = status(tls, "POST", "/api/v1/users/signin", SIGNUP_BODY)
    for path in CLOSED:
        found["GET " + path] = status(tls, "GET", path)
    for port in plain_ports:
        found["connect " + port] = connect(host, port)
    print(json.dumps(found))


if __name__ == "__main__":
    main()
