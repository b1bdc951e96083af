"""The authenticated test origins (tests/images/fixtures/secure-origin; lab.yml `secure_origin`): the lab CA and the
files the registries and the token service read (certificates, htpasswd, the token signing key and its JWKS), the
compose project, the test images pushed into the store they share, and the forward proxy's log.

The credentials are made anew for every start (a random password), so a test that finds them in some output found a
leak, not a constant. The token service (distribution's contrib/token-server) grants a user pull and push on the
repositories below its name: the user is the test images' namespace (p2p-test).
"""
import base64
import crypt  # pylint: disable=deprecated-module  # bcrypt for htpasswd (libxcrypt), no extra package; Python 3.11
import datetime
import hashlib
import ipaddress
import json
import os
import re
import secrets
import shutil
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from p2p_lab import lab
from p2p_lab.origin import ComposeFixture, push_content

SPEC = lab.LAB["secure_origin"]
COMPOSE_FILE = os.path.join(lab.REPO, SPEC["compose_file"])
BASIC_REGISTRY = "%s:%d" % (lab.GATEWAY, SPEC["basic_port"])
TOKEN_REGISTRY = "%s:%d" % (lab.GATEWAY, SPEC["token_port"])
FOREIGN_REGISTRY = "%s:%d" % (lab.GATEWAY, SPEC["foreign_port"])
FORWARD_PROXY = "http://%s:%d" % (lab.GATEWAY, SPEC["forward_proxy_port"])
TOKEN_REALM = "https://%s:%d/token/" % (lab.GATEWAY, SPEC["token_service_port"])
TOKEN_SERVICE = "p2p-test-registry"
TOKEN_ISSUER = "distribution-token-server"  # the token service's default -issuer
USER = SPEC["user"]


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def make_ca(common_name):
    """A self-signed CA: (key, certificate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(_name(common_name))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_server_cert(ca_key, ca_cert, addresses):
    """A server certificate for IP addresses, signed by the CA: (key, certificate)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    names = [x509.IPAddress(ipaddress.ip_address(address)) for address in addresses] + [x509.DNSName("localhost")]
    cert = (x509.CertificateBuilder().subject_name(_name("p2p-dragonfly secure origin")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def libtrust_key_id(public_key):
    """The key ID the token service (docker/libtrust) puts in the token's JWK: the SHA-256 of the DER public key,
    240 bits in base32, in groups of four."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    text = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(text[index:index + 4] for index in range(0, len(text), 4))


def _b64url(number):
    return base64.urlsafe_b64encode(number.to_bytes(32, "big")).decode().rstrip("=")


def jwks(public_key):
    """The registry's trusted keys (auth.token.jwks), with the key ID the token service uses: distribution v3 keys a
    certificate bundle by its RFC 7638 thumbprint, which is not libtrust's key ID."""
    numbers = public_key.public_numbers()
    return {"keys": [{"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": libtrust_key_id(public_key),
                      "x": _b64url(numbers.x), "y": _b64url(numbers.y)}]}


def registry_config(auth, certificate="server"):
    return {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": False}},
        # The loader writes the store; these two only read it.
        "storage": {"filesystem": {"rootdirectory": "/var/lib/registry"},
                    "maintenance": {"readonly": {"enabled": True}, "uploadpurging": {"enabled": False}}},
        "http": {"addr": ":5000", "tls": {"certificate": "/etc/secure-origin/%s.crt" % certificate,
                                          "key": "/etc/secure-origin/%s.key" % certificate}},
        "auth": auth,
    }


class SecureOrigin(ComposeFixture):
    """The authenticated origins as the compose project ``project``, their files in ``directory`` (made anew)."""

    def __init__(self, project, directory=None):
        self.directory = directory or os.path.join(lab.CACHE, "secure-origin", project)
        self.password = None
        super().__init__(COMPOSE_FILE, project, dict(
            SECURE_ORIGIN_IP=lab.GATEWAY, SECURE_ORIGIN_DIR=self.directory, SECURE_BASIC_PORT=str(SPEC["basic_port"]),
            SECURE_TOKEN_PORT=str(SPEC["token_port"]), SECURE_TOKEN_SERVICE_PORT=str(SPEC["token_service_port"]),
            SECURE_LOADER_PORT=str(SPEC["loader_port"]), SECURE_FOREIGN_PORT=str(SPEC["foreign_port"]),
            SECURE_PROXY_PORT=str(SPEC["forward_proxy_port"])))

    @property
    def ca_path(self):
        """The lab CA's certificate (PEM): what a site's private CA is to its registries."""
        return os.path.join(self.directory, "ca.crt")

    @property
    def foreign_ca_path(self):
        """The certificate of the CA that signed the foreign registry's: a CA the stacks do not trust."""
        return os.path.join(self.directory, "foreign-ca.crt")

    def ca_pem(self, path=None):
        with open(path or self.ca_path) as handle:
            return handle.read()

    def _write(self, name, data, mode=0o600):
        path = os.path.join(self.directory, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as handle:
            handle.write(data if isinstance(data, bytes) else data.encode())
        return path

    def write_files(self):
        shutil.rmtree(self.directory, ignore_errors=True)
        os.makedirs(self.directory, mode=0o700)
        ca_key, ca_cert = make_ca("p2p-dragonfly lab CA")
        key, cert = make_server_cert(ca_key, ca_cert, [lab.GATEWAY, "127.0.0.1"])
        self._write("ca.crt", ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
        self._write("server.crt", cert.public_bytes(serialization.Encoding.PEM) +
                    ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
        self._write("server.key", _pem_key(key))
        foreign_ca_key, foreign_ca_cert = make_ca("p2p-dragonfly foreign CA")
        foreign_key, foreign_cert = make_server_cert(foreign_ca_key, foreign_ca_cert, [lab.GATEWAY, "127.0.0.1"])
        self._write("foreign-ca.crt", foreign_ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
        self._write("foreign.crt", foreign_cert.public_bytes(serialization.Encoding.PEM), 0o644)
        self._write("foreign.key", _pem_key(foreign_key))
        signing_key = ec.generate_private_key(ec.SECP256R1())
        self._write("token-signing.key", _pem_key(signing_key))
        self._write("token-jwks.json", json.dumps(jwks(signing_key.public_key())), 0o644)
        self.password = secrets.token_urlsafe(18)
        self._write("htpasswd", "%s:%s\n" % (USER, crypt.crypt(self.password, crypt.mksalt(crypt.METHOD_BLOWFISH))))
        self._write("registry-basic.yml", json.dumps(registry_config(
            {"htpasswd": {"realm": "p2p-test", "path": "/etc/secure-origin/htpasswd"}})), 0o644)
        self._write("registry-foreign.yml", json.dumps(registry_config(
            {"htpasswd": {"realm": "p2p-test", "path": "/etc/secure-origin/htpasswd"}}, "foreign")), 0o644)
        self._write("registry-token.yml", json.dumps(registry_config(
            {"token": {"realm": TOKEN_REALM, "service": TOKEN_SERVICE, "issuer": TOKEN_ISSUER,
                       "jwks": "/etc/secure-origin/token-jwks.json"}})), 0o644)

    def up(self):
        """New files, the project started, the test images pushed into the shared store."""
        self.compose("down", "-v", check=False)
        self.write_files()
        self.compose("up", "-d", "--wait")
        push_content("http://127.0.0.1:%d" % SPEC["loader_port"])

    def down(self):
        self.compose("down", "-v", check=False)
        shutil.rmtree(self.directory, ignore_errors=True)

    def container(self, service):
        return "%s-%s-1" % (self.project, service)

    def proxy_requests(self):
        """The requests the forward proxy served, oldest first: "GET http://..." or "CONNECT host:port" (its log)."""
        logs = subprocess.run(["docker", "logs", self.container("forward-proxy")], capture_output=True, text=True,
                              check=True)
        return re.findall(r"Request \(file descriptor \d+\): (\S+ \S+) HTTP/", logs.stdout + logs.stderr)
