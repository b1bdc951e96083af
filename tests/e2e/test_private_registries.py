"""Preheats from registries as sites run them: TLS from a private CA, basic authentication and bearer tokens from a
token service (tests/images/fixtures/secure-origin, started with the shared stack, which trusts the lab CA through
dragonfly_registry_ca_bundle). Through playbooks/preheat.yml with one credential entry per registry; a peer's
containerd pulls afterwards through its proxy with the registry's credentials and never downloads from the origin;
the failures a site meets first (a wrong password, a CA missing on the controller side or on the manager) fail
naming what to fix and preheat nothing; no credential shows in any playbook output, container log, docker inspect or
docker event; verify warns when a proxy would compute other task IDs for Docker Hub images than the preheat.
"""
import base64
import json
import os
import re
import subprocess

import pytest

from conftest import BASE, FILES_URL, PREFIX, STACK, e2e_playbook, run_tasks, secret_levels
from p2p_lab.registry_log import completed_requests
from p2p_lab.secure_origin import BASIC_REGISTRY, FOREIGN_REGISTRY, FORWARD_PROXY, TOKEN_REALM, TOKEN_REGISTRY, USER
from p2p_lab.witness import blob_requests, piece_downloads, piece_sources

IMAGE = "p2p-test/multilayer:1.0"
SMALL = "p2p-test/small:1.0"
PEER_CONTAINER = STACK.container("peer", "dfdaemon")
SEED_CONTAINER = STACK.container("seed-peer", "dfdaemon")
TOKEN_SERVICE_ADDRESS = TOKEN_REALM.split("/")[2]
SEED_CACHE = STACK.seed_peer_cache
# Every playbook output of this module and every password it used, for the scan at its end.
OUTPUTS = []
PASSWORDS = []


def entry(secure, registry, password=None, ca=None):
    """One entry of dragonfly_registry_credentials; ca: a CA file's path, default the lab CA, False for none."""
    password = password or secure.password
    PASSWORDS.append(password)
    item = {"registry": registry, "username": USER, "password": password}
    if ca is not False:
        item["ca_certificate"] = secure.ca_pem(ca or secure.ca_path)
    return item


def playbook(name, images, credentials, *extra):
    rc, out = e2e_playbook(name, {"dragonfly_preheat_images": images, "dragonfly_registry_credentials": credentials},
                           "--verbose", *extra)
    OUTPUTS.append(out)
    return rc, out


def flat(text):
    return " ".join(text.split())


def text_of(path):
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "replace")


def test_preheat_from_tls_registries_with_basic_and_bearer_auth(lab, tmp_path):
    secure = lab["secure"]
    images = [BASIC_REGISTRY + "/" + IMAGE, TOKEN_REGISTRY + "/" + IMAGE]
    credentials = [entry(secure, BASIC_REGISTRY), entry(secure, TOKEN_REGISTRY)]
    report = tmp_path / "report.json"
    rc, out = playbook("playbooks/preheat.yml", images, credentials, {"dragonfly_report_path": str(report)})
    assert rc == 0, out[-4000:]
    rows = json.loads(report.read_text())["seed_peers"][0]["content"]
    assert [row["ok"] for row in rows] == [True, True], rows
    # Byte-exact: the cache assertion hashed every blob (config and three layers) against its digest.
    assert [row["verified"] for row in rows] == [4, 4], rows

    # Nothing preheated twice; the registry CA files written by the first run stay as they are.
    rc, out = playbook("playbooks/preheat.yml", images, credentials)
    assert rc == 0, out[-4000:]
    assert re.search(r"localhost\s+: ok=\d+\s+changed=0 ", out), out[-3000:]
    rc, out = playbook("playbooks/verify.yml", images, credentials)
    assert rc == 0, out[-4000:]


def test_wrong_password_fails_naming_the_registry_and_preheats_nothing(lab):
    secure = lab["secure"]
    images = [BASIC_REGISTRY + "/" + SMALL, TOKEN_REGISTRY + "/" + SMALL]
    wrong = [entry(secure, BASIC_REGISTRY, password="wrong-" + secure.password[:6]),
             entry(secure, TOKEN_REGISTRY, password="wrong-" + secure.password[:7])]
    rc, out = playbook("playbooks/preheat.yml", images, wrong)
    assert rc != 0, out[-4000:]
    text = flat(out)
    # Each entry is named with its registry and what to check, the other entry goes on regardless.
    assert ("%s/%s: the registry refused the username '%s' of the credentials entry for %s"
            % (BASIC_REGISTRY, SMALL, USER, BASIC_REGISTRY)) in text, text[-4000:]
    assert ("%s/%s: the registry's token service (https://%s/token/) refused the username '%s' of the credentials "
            "entry for %s and its password" % (TOKEN_REGISTRY, SMALL, TOKEN_SERVICE_ADDRESS, USER, TOKEN_REGISTRY)
            ) in text, text[-4000:]

    # Nothing was preheated: verified with the right credentials, both are missing on the seed peer.
    rc, out = playbook("playbooks/verify.yml", images, [entry(secure, BASIC_REGISTRY), entry(secure, TOKEN_REGISTRY)])
    assert rc != 0, out[-4000:]
    assert flat(out).count("MISS ") == 2, out[-4000:]


def test_missing_ca_fails_naming_the_tls_error_and_the_setting(lab):
    secure = lab["secure"]
    # The module reads the manifest first: without the CA it cannot verify the registry.
    rc, out = playbook("playbooks/preheat.yml", [BASIC_REGISTRY + "/" + SMALL],
                       [entry(secure, BASIC_REGISTRY, ca=False)])
    assert rc != 0, out[-4000:]
    text = flat(out)
    assert "CERTIFICATE_VERIFY_FAILED" in text and "ca_certificate" in text, text[-4000:]

    # The module trusts the foreign registry's CA (its entry gives it), the manager does not: the manager's TLS error,
    # and the variable that gives the manager a CA.
    rc, out = playbook("playbooks/preheat.yml", [FOREIGN_REGISTRY + "/" + SMALL],
                       [entry(secure, FOREIGN_REGISTRY, ca=secure.foreign_ca_path)])
    assert rc != 0, out[-4000:]
    text = flat(out)
    assert "x509: certificate signed by unknown authority" in text, text[-4000:]
    assert "dragonfly_manager_preheat_ca_bundle" in text, text[-4000:]

    # Neither created a job: nothing of them is on the seed peer.
    rc, out = playbook("playbooks/verify.yml", [BASIC_REGISTRY + "/" + SMALL, FOREIGN_REGISTRY + "/" + SMALL],
                       [entry(secure, BASIC_REGISTRY), entry(secure, FOREIGN_REGISTRY, ca=secure.foreign_ca_path)])
    assert rc != 0, out[-4000:]
    assert flat(out).count("MISS ") == 2, out[-4000:]


@pytest.fixture(name="trusting_containerd")
def trusting_containerd_fixture(lab, tmp_path):
    """The stack's private containerd, trusting the lab CA as a host's trust store would (it fetches bearer tokens
    from the token service itself), wired to the peer's proxy (test_runtime_pull.py leaves the wiring removed)."""
    rc, out = e2e_playbook("playbooks/site.yml", "--tags=runtime")
    assert rc == 0, out[-3000:]
    bundle = tmp_path / "ca-bundle.crt"
    with open("/etc/ssl/certs/ca-certificates.crt") as handle:
        bundle.write_text(handle.read() + lab["secure"].ca_pem())
    lab["runtime"].start(env={"SSL_CERT_FILE": str(bundle)})
    try:
        yield lab["runtime"]
    finally:
        lab["runtime"].stop()


# containerd keeps blobs by digest: each pull needs an image whose blobs it does not hold yet (test_runtime_pull.py
# pulled the multi-layer image from the plain registry).
@pytest.mark.parametrize("registry,service,name", [(BASIC_REGISTRY, "basic", "p2p-test/private:1.0"),
                                                   (TOKEN_REGISTRY, "token", "p2p-test/parallel:1.0")])
def test_pull_through_the_proxy_with_the_registry_credentials(lab, trusting_containerd, tmp_path, registry, service,
                                                              name):
    secure = lab["secure"]
    image = registry + "/" + name
    # The module with the credentials option.
    rc, tasks, out = run_tasks(tmp_path, """
    - name: preheat
      p2p.dragonfly.preheat:
        image: %s
        credentials: [{registry: %s, username: %s, password: "%s", ca_path: %s}]
        scope: single_seed_peer
        cache_dir: %s
""" % (image, registry, USER, secure.password, secure.ca_path, SEED_CACHE))
    OUTPUTS.append(out)
    assert rc == 0, out[-3000:]
    preheated = tasks["preheat"]
    assert preheated["verified_locally"] and preheated["credentials_used"] == registry, preheated

    container = secure.container(service)
    before = len(completed_requests(container))
    pull = trusting_containerd.crictl("pull", "--creds", "%s:%s" % (USER, secure.password), image)
    OUTPUTS.append(pull.stdout + pull.stderr)
    assert pull.returncode == 0, pull.stdout + pull.stderr
    entries = completed_requests(container)[before:]
    # The pull reached the registry through the proxy (manifests, with the credentials containerd sent) ...
    assert any("/manifests/" in e["path"] and e["http.response.status"] == "200" for e in entries), entries
    # ... and its blobs through Dragonfly: no piece from the origin, every piece from the seed peer.
    blobs = {blob["digest"]: blob["task_id"] for blob in preheated["expected_tasks"]}
    requests = blob_requests(entries, blobs)
    for digest, task_id in blobs.items():
        assert not piece_downloads(requests[digest]), (digest, requests[digest])
        assert len(requests[digest]) <= 1, requests[digest]
        sources = piece_sources(PEER_CONTAINER, task_id)
        assert sources["parent"] >= 1 and sources["source"] == 0, (digest, sources)


def test_seed_peer_downloads_through_the_http_proxy_it_is_given(lab, tmp_path):
    secure = lab["secure"]
    # The contrast: nothing above set a proxy, and nothing went through it.
    assert secure.proxy_requests() == []
    proxies = {"dragonfly_seed_peer_http_proxy": FORWARD_PROXY, "dragonfly_seed_peer_https_proxy": FORWARD_PROXY}
    try:
        rc, out = e2e_playbook("playbooks/site.yml", proxies)
        OUTPUTS.append(out)
        assert rc == 0, out[-4000:]
        env = json.loads(subprocess.run(["docker", "inspect", "--format", "{{json .Config.Env}}", SEED_CONTAINER],
                                        capture_output=True, text=True, check=True).stdout)
        assert "HTTP_PROXY=%s" % FORWARD_PROXY in env and "https_proxy=%s" % FORWARD_PROXY in env, env
        url = FILES_URL + "/proxied.bin"
        values = (url, url, lab["content"]["files"]["proxied.bin"]["sha256"], SEED_CACHE, BASIC_REGISTRY, BASIC_REGISTRY,
                  USER, secure.password, secure.ca_path, SEED_CACHE)
        rc, tasks, out = run_tasks(tmp_path, """
    - name: file
      p2p.dragonfly.preheat:
        type: file
        urls: [%s]
        checksums: {%s: "%s"}
        scope: single_seed_peer
        cache_dir: %s
    - name: image
      p2p.dragonfly.preheat:
        image: %s/p2p-test/parallel:2.0
        credentials: [{registry: %s, username: %s, password: "%s", ca_path: %s}]
        scope: single_seed_peer
        cache_dir: %s
""" % values)
        OUTPUTS.append(out)
        assert rc == 0, out[-3000:]
        assert tasks["file"]["verified_locally"] and tasks["image"]["verified_locally"], tasks
        requests = secure.proxy_requests()
        # The file over plain HTTP: the seed peer's request itself; the registry over HTTPS: a tunnel to it.
        assert "GET " + url in requests, requests
        assert "CONNECT " + BASIC_REGISTRY in requests, requests
    finally:
        rc, out = e2e_playbook("playbooks/site.yml")
        OUTPUTS.append(out)
        assert rc == 0, out[-4000:]


def test_verify_warns_when_a_proxy_uses_another_docker_hub_host(lab):
    secure = lab["secure"]
    warning = "WARNING: Docker Hub images are preheated from index.docker.io"
    # The stack's peer sends Docker Hub pulls to the test origin (its registry mirror), the seed peer to
    # registry-1.docker.io: both differ from index.docker.io. The image cannot be resolved here (no Docker Hub), so
    # the run fails after the warning.
    rc, out = playbook("playbooks/verify.yml", ["alpine:3.20"], [], {"dragonfly_docker_hub_host": "index.docker.io"})
    text = flat(out)
    assert rc != 0 and warning in text, text[-3000:]
    assert "localhost: registry mirror https://registry-1.docker.io" in text, text[-3000:]
    # The contrast: no Docker Hub image, no warning.
    rc, out = playbook("playbooks/verify.yml", [BASIC_REGISTRY + "/" + IMAGE], [entry(secure, BASIC_REGISTRY)],
                       {"dragonfly_docker_hub_host": "index.docker.io"})
    assert rc == 0 and "WARNING: Docker Hub" not in out, out[-3000:]


def test_no_credential_in_any_output_log_inspect_or_event(lab):
    """The last of the module: everything above ran with these passwords."""
    secrets = set(PASSWORDS)
    secrets |= {base64.b64encode(("%s:%s" % (USER, password)).encode()).decode() for password in PASSWORDS}
    assert secrets and OUTPUTS

    def leaks(text):
        return secret_levels(text, secrets)

    for out in OUTPUTS:
        assert not leaks(out), "a credential in a playbook output (%d characters)" % len(out)
    names = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}", "--filter", "name=^" + PREFIX],
                           capture_output=True, text=True, check=True).stdout.split()
    assert len(names) >= 6, names
    for name in names:
        inspect = subprocess.run(["docker", "inspect", name], capture_output=True, text=True, check=True).stdout
        assert not leaks(inspect), "docker inspect %s" % name
        logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True, errors="replace", check=True)
        if name == PEER_CONTAINER:
            # The contrast: this peer runs at debug (the inventory, for the piece witness), and dfdaemon logs each
            # proxied request with its headers at info already: why the roles' default is warn.
            assert "INFO" in leaks(logs.stdout + logs.stderr), "the peer's log at debug shows no credential"
            continue
        found = leaks(logs.stdout + logs.stderr)
        assert not found, "docker logs %s: lines at %s" % (name, found)
    events = subprocess.run(["docker", "events", "--since", "60m", "--until", "0s", "--format", "{{json .}}"],
                            capture_output=True, text=True, check=True).stdout
    assert not leaks(events), "docker events"
    # Files others can read. The manager's database and Redis (its job queue) keep each job's arguments, registry
    # credentials included (upstream's API returns them to every manager user): MariaDB writes its files 0660, Redis
    # its AOF 0644 in a directory the role made 0700.
    assert os.stat(STACK.var("dragonfly_redis_data_dir")).st_mode & 0o777 == 0o700
    for root, dirs, files in os.walk(BASE):
        dirs[:] = [name for name in dirs if os.stat(os.path.join(root, name)).st_mode & 0o001]
        for name in files:
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.stat(path).st_mode & 0o004:
                continue
            assert not leaks(text_of(path)), "%s (mode %o)" % (path, os.stat(path).st_mode)
    # The contrast: the Redis AOF does hold them, behind its directory's mode.
    aof = os.path.join(STACK.var("dragonfly_redis_data_dir"), "appendonlydir")
    assert any(leaks(text_of(os.path.join(aof, name))) for name in os.listdir(aof)), aof
