"""Pulls through a peer after a preheat, with a real containerd wired by the peer role.

The shared stack of tests/e2e has a peer on the same host whose runtime wiring points a private containerd
(tests/lib/p2p_lab/containerd.py: Debian's package, its own config, socket, root and state below the test's tmp directory; the
Docker engine running the stack is not touched) at the peer's proxy for the test registry. The witnesses are the origin registry's access
log, the peer's dfdaemon log (its container's output: which piece came from where) and the peer's cache directory.

What the origin sees and what counts as a download from it: tests/lib/p2p_lab/witness.py. So "the pull never
downloaded from the origin" is: no piece download (a 206 of more than one byte) after the preheat, every piece "from
parent" in the peer's log (written at debug level: the inventory sets the peer's log level), and the peer's copy
byte-exact; the contrast image (not preheated) shows the piece downloads.
"""
import json
import os
import re

import pytest

from conftest import BASE, PREFIX, REGISTRY, STACK, e2e_playbook, run_tasks
from p2p_lab.files import tree_digest
from p2p_lab.lab import CRICTL
from p2p_lab.origin import registry_container
from p2p_lab.registry_log import completed_requests
from p2p_lab.witness import blob_requests, piece_downloads, piece_sources

PEER_DIR = STACK.var("dragonfly_peer_dir")
PEER_PROXY_PORT = STACK.var("dragonfly_peer_proxy_port")
# The roles' default log output is the console: dfdaemon's log is the container's output.
PEER_CONTAINER = STACK.container("peer", "dfdaemon")


def registry_requests():
    """The origin registry's completed requests, oldest first: dicts of its logfmt fields."""
    return completed_requests(registry_container(STACK.origin_project))


def preheat(tmp_path, image, platform):
    rc, tasks, out = run_tasks(tmp_path, """
    - name: preheat
      p2p.dragonfly.preheat:
        image: %s
        platform: %s
        insecure_registry: true
        scope: single_seed_peer
        cache_dir: %s
""" % (image, platform, STACK.seed_peer_cache))
    assert rc == 0, out[-3000:]
    result = tasks["preheat"]
    assert result["verified_locally"], result
    return result


@pytest.fixture(scope="module", name="pulls")
def pulls_fixture(lab):
    """The shared stack with its private containerd running (the peer's wiring was applied at deploy time)."""
    assert os.access(CRICTL, os.X_OK), "crictl missing: run tests/images/build.sh --fixtures-only"
    lab["runtime"].start()
    try:
        yield lab
    finally:
        lab["runtime"].stop()


def test_role_wired_containerd(pulls):
    runtime = pulls["runtime"]
    hosts_toml = (runtime.hosts_dir / REGISTRY / "hosts.toml").read_text()
    assert 'server = "http://%s"' % REGISTRY in hosts_toml
    assert '[host."http://127.0.0.1:%d"]' % PEER_PROXY_PORT in hosts_toml
    assert 'X-Dragonfly-Registry = "http://%s"' % REGISTRY in hosts_toml
    # containerd itself read the config_path the role added (its CRI plugin logs the registry config at start).
    assert "ConfigPath:%s" % runtime.hosts_dir in (runtime.root / "containerd.log").read_text()


def assert_served_by_dragonfly(preheated, before, pull_output):
    """Every blob of the preheat reached the puller through Dragonfly: no ranged GET at the origin since
    `before`, every piece from a parent (the seed peer) in the peer's log, the peer's copy byte-exact."""
    blobs = {blob["digest"]: blob["task_id"] for blob in preheated["expected_tasks"]}
    requests = blob_requests(registry_requests()[before:], blobs)
    for digest, task_id in blobs.items():
        downloads = piece_downloads(requests[digest])
        assert not downloads, "origin served %s to the pull: %s\n%s" % (digest, requests[digest], pull_output)
        # At most dfdaemon's one probe per blob (see the module docstring).
        assert len(requests[digest]) <= 1, requests[digest]
        sources = piece_sources(PEER_CONTAINER, task_id)
        assert sources["parent"] >= 1 and sources["source"] == 0, (digest, sources)


def assert_peer_cache_holds(tmp_path, preheated):
    rc, tasks, out = run_tasks(tmp_path, """
    - name: peer cache
      p2p.dragonfly.cache_assert:
        cache_dir: %s/cache
        preheat_result: %s
        mode: full
""" % (PEER_DIR, json.dumps({"expected_tasks": preheated["expected_tasks"]})))
    assert rc == 0, out[-3000:]
    summary = tasks["peer cache"]["summary"]
    assert summary["verified"] == summary["total"] == len(preheated["expected_tasks"]), summary


def test_crictl_pull_after_preheat_never_downloads_from_origin(pulls, tmp_path):
    """The CRI path (what a kubelet uses): config.toml's config_path -> hosts.toml -> the peer's proxy."""
    image = REGISTRY + "/p2p-test/multilayer:1.0"
    preheated = preheat(tmp_path, image, "linux/amd64")
    before = len(registry_requests())
    pull = pulls["runtime"].crictl("pull", image)
    assert pull.returncode == 0, pull.stdout + pull.stderr
    assert pulls["runtime"].crictl("inspecti", image).returncode == 0
    assert_served_by_dragonfly(preheated, before, pull.stdout + pull.stderr)
    assert_peer_cache_holds(tmp_path, preheated)


def test_ctr_pull_after_preheat_never_downloads_from_origin(pulls, tmp_path):
    """ctr with the hosts directory, another platform of the same image (other blobs)."""
    image = REGISTRY + "/p2p-test/multilayer:1.0"
    preheated = preheat(tmp_path, image, "linux/arm64/v8")
    before = len(registry_requests())
    pull = pulls["runtime"].ctr("images", "pull", "--hosts-dir", str(pulls["runtime"].hosts_dir),
                                "--platform", "linux/arm64/v8", image, check=False)
    assert pull.returncode == 0, pull.stdout + pull.stderr
    assert_served_by_dragonfly(preheated, before, pull.stdout + pull.stderr)
    assert_peer_cache_holds(tmp_path, preheated)


def test_podman_pull_after_preheat_never_downloads_from_origin(pulls, tmp_path):
    """CRI-O/Podman: the role's registries.conf drop-in names the proxy as the registry's mirror."""
    text = pulls["runtime"].containers_file.read_text()
    assert 'prefix = "%s"' % REGISTRY in text and 'location = "127.0.0.1:%d"' % PEER_PROXY_PORT in text, text
    image = REGISTRY + "/p2p-test/large:1.0"
    preheated = preheat(tmp_path, image, "linux/amd64")
    before = len(registry_requests())
    pull = pulls["runtime"].podman("pull", "--quiet", image)
    assert pull.returncode == 0, pull.stdout + pull.stderr
    assert_served_by_dragonfly(preheated, before, pull.stdout + pull.stderr)
    assert_peer_cache_holds(tmp_path, preheated)


def test_pull_without_preheat_downloads_from_origin_once(pulls):
    """The contrast: an image nobody preheated is fetched from the origin by Dragonfly (ranged piece GETs,
    back to source on the seed peer), so the checks above can fail."""
    image = REGISTRY + "/p2p-test/small:1.0"
    manifest = pulls["content"]["images"]["p2p-test/small:1.0"]["platforms"]["linux/amd64"]
    digests = [blob["digest"] for blob in manifest["blobs"]]
    before = len(registry_requests())
    pull = pulls["runtime"].ctr("images", "pull", "--hosts-dir", str(pulls["runtime"].hosts_dir), image, check=False)
    assert pull.returncode == 0, pull.stdout + pull.stderr
    requests = blob_requests(registry_requests()[before:], digests)
    for blob in manifest["blobs"]:
        ranged = piece_downloads(requests[blob["digest"]])
        assert ranged, "no download of %s from the origin: %s" % (blob["digest"], requests[blob["digest"]])
        assert sum(r[2] for r in ranged) == blob["size"], (blob, ranged)


def test_wiring_is_idempotent_and_restores_byte_for_byte(pulls):
    runtime = pulls["runtime"]
    rc, out = e2e_playbook("playbooks/site.yml")
    assert rc == 0, out[-3000:]
    assert re.search(r"localhost\s+: ok=\d+\s+changed=0 ", out), out[-3000:]

    rc, out = e2e_playbook("playbooks/site.yml", {"dragonfly_peer_runtime_state": "absent"})
    assert rc == 0, out[-3000:]
    assert runtime.config.read_bytes() == pulls["original"]["config"]
    assert tree_digest(runtime.hosts_dir) == pulls["original"]["hosts"]
    # The drop-in's directory did not exist before the wiring: it is gone again.
    assert not pulls["original"]["containers_dir"] and not runtime.containers_file.parent.exists()
    assert not os.path.exists(BASE + "/runtime-backup/%s-peer" % PREFIX)

    # Unwired, a pull goes straight to the registry: containerd's own GETs, without the mirror's ns parameter.
    image = REGISTRY + "/p2p-test/small:1.0"
    assert runtime.ctr("images", "rm", "--sync", image, check=False).returncode == 0
    before = len(registry_requests())
    pull = runtime.ctr("images", "pull", "--plain-http", image, check=False)
    assert pull.returncode == 0, pull.stdout + pull.stderr
    direct = [e for e in registry_requests()[before:] if "/blobs/" in e["path"]]
    assert direct and all("ns=" not in e["http.request.uri"] and
                          e["http.request.useragent"].startswith("containerd/") for e in direct), direct
