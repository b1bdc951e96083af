"""Pulls through a peer after a preheat, with a real containerd wired by the peer role.

The all-in-one stack gets a peer on the same host whose runtime wiring points a private containerd (Debian's
package, its own config, socket, root and state below the test's tmp directory; the Docker engine running the
stack is not touched) at the peer's proxy for the test registry. The witnesses are the origin registry's access
log, the dfdaemon logs (which piece came from where) and the peer's cache directory.

What the origin sees, from client v1.4.0's source (resource/task.rs download_task_started, backend http.rs stat):
a peer that starts a task it does not hold probes the origin once for the headers with a GET whose body it drops
(stat), even when every piece then comes from the seed peer. Piece downloads from the origin carry a Range header
(206). So "the pull never downloaded from the origin" is: no ranged blob GET after the preheat, every piece
"from parent", and the peer's copy byte-exact; the contrast image (not preheated) shows the ranged GETs.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from urllib.parse import urlsplit

import pytest

from conftest import BASE, GATEWAY, deployed_stack, molecule_playbook, origin_registry_container, run_tasks

ORIGIN_PROJECT = "p2p-df-e2e-pull-origin"
REGISTRY = GATEWAY + ":15000"
PEER_DIR = BASE + "/peer"
SEED_LOG = BASE + "/seed-peer/log/dfdaemon/dfdaemon.log"
PEER_LOG = PEER_DIR + "/log/dfdaemon/dfdaemon.log"
CRICTL = os.path.join(os.environ.get("P2P_DRAGONFLY_CACHE", "/var/cache/p2p-dragonfly"), "bin/crictl-v1.34.0/crictl")
LOGFMT = re.compile(r'([\w.]+)=("(?:[^"\\]|\\.)*"|\S+)')


class Containerd:
    """A private containerd: Debian 12's version-2 config with every path below `root`."""

    def __init__(self, root):
        self.root = root
        self.config = root / "etc" / "config.toml"
        self.hosts_dir = root / "certs.d"
        self.socket = root / "containerd.sock"
        # The drop-in the role writes for CRI-O/Podman, in a directory the wiring creates (and removes again).
        self.containers_file = root / "containers" / "registries.conf"
        # Podman refuses a run root longer than 50 characters: its storage lives in a short directory of its own.
        self.podman_dir = tempfile.mkdtemp(prefix="p2p-podman-")
        self.process = None
        for sub in ("etc", "certs.d", "root", "state"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        self.config.write_text("""version = 2
root = "{r}/root"
state = "{r}/state"

[grpc]
  address = "{r}/containerd.sock"

[ttrpc]
  address = "{r}/containerd-ttrpc.sock"

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.invalid/pause:3.6"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "native"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "{r}/cni"
  [plugins."io.containerd.internal.v1.opt"]
    path = "{r}/opt"
""".format(r=root))
        (root / "crictl.yaml").write_text("runtime-endpoint: unix://{s}\nimage-endpoint: unix://{s}\ntimeout: 120\n"
                                          .format(s=self.socket))

    def start(self):
        log = open(self.root / "containerd.log", "ab")  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(["containerd", "--config", str(self.config)],  # pylint: disable=consider-using-with
                                        stdout=log, stderr=log)
        for _attempt in range(100):
            if self.ctr("version", check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise AssertionError("private containerd did not start: " + (self.root / "containerd.log").read_text()[-2000:])

    def stop(self):
        shutil.rmtree(self.podman_dir, ignore_errors=True)
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def ctr(self, *args, check=True):
        return subprocess.run(["ctr", "--address", str(self.socket), "-n", "p2p-test"] + list(args),
                              capture_output=True, text=True, check=check)

    def podman(self, *args):
        """Podman with its own storage, reading only the role's drop-in as its registries.conf."""
        env = dict(os.environ, CONTAINERS_REGISTRIES_CONF=str(self.containers_file))
        return subprocess.run(["podman", "--root", self.podman_dir + "/root", "--runroot", self.podman_dir + "/run",
                               "--storage-driver", "vfs", "--events-backend", "none",
                               "--cgroup-manager", "cgroupfs"] + list(args),
                              capture_output=True, text=True, check=False, env=env)

    def crictl(self, *args):
        return subprocess.run([CRICTL, "--config", str(self.root / "crictl.yaml")] + list(args),
                              capture_output=True, text=True, check=False)


def tree_digest(path):
    """{relative path: (mode, sha256)} of every file and directory below path (the restore is byte for byte)."""
    found = {}
    for directory, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(directory, name)
            st = os.lstat(full)
            content = hashlib.sha256(open(full, "rb").read()).hexdigest() if name in files else "dir"  # pylint: disable=consider-using-with
            found[os.path.relpath(full, path)] = (oct(st.st_mode), content)
    return found


def registry_requests():
    """The origin registry's completed requests, oldest first: dicts of its logfmt fields."""
    logs = subprocess.run(["docker", "logs", origin_registry_container(ORIGIN_PROJECT)], capture_output=True,
                          text=True, check=True)
    entries = []
    for line in (logs.stdout + logs.stderr).splitlines():
        if 'msg="response completed"' in line:
            fields = {key: value.strip('"') for key, value in LOGFMT.findall(line)}
            fields["path"] = urlsplit(fields.get("http.request.uri", "")).path
            entries.append(fields)
    return entries


def blob_requests(entries, digests):
    """digest -> [(method, status, bytes written, user agent)] of the blob requests among entries."""
    found = {digest: [] for digest in digests}
    for entry in entries:
        digest = entry["path"].rsplit("/", 1)[-1]
        if "/blobs/" in entry["path"] and digest in found:
            found[digest].append((entry["http.request.method"], int(entry["http.response.status"]),
                                  int(entry.get("http.response.written", 0)), entry.get("http.request.useragent")))
    return found


def piece_sources(log_file, task_id):
    """Where the pieces of a task came from, per the dfdaemon log: {"parent": n, "source": n}."""
    with open(log_file, errors="replace") as handle:
        text = handle.read()
    return {kind: len(re.findall(r"finished piece %s-\d+ from %s" % (task_id, kind), text))
            for kind in ("parent", "source")}


def preheat(tmp_path, image, platform):
    rc, tasks, out = run_tasks(tmp_path, """
    - name: preheat
      p2p.dragonfly.preheat:
        image: %s
        platform: %s
        insecure_registry: true
        scope: single_seed_peer
        cache_dir: %s/seed-peer/cache
""" % (image, platform, BASE))
    assert rc == 0, out[-3000:]
    result = tasks["preheat"]
    assert result["verified_locally"], result
    return result


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("containerd")
    runtime = Containerd(root)
    original = {"config": runtime.config.read_bytes(), "hosts": tree_digest(runtime.hosts_dir),
                "containers_dir": runtime.containers_file.parent.exists()}
    peer_inventory = root / "peer-inventory.json"
    peer_inventory.write_text(json.dumps({"all": {"children": {"dragonfly_peer": {"hosts": {"localhost": {
        "dragonfly_peer_runtime_state": "present",
        # The private instance reads config.toml when the test starts it; nothing to restart.
        "dragonfly_peer_runtime_restart": False,
        "dragonfly_peer_containerd_config_file": str(runtime.config),
        "dragonfly_peer_containerd_hosts_dir": str(runtime.hosts_dir),
        "dragonfly_peer_containerd_registries": [{"host": REGISTRY, "insecure": True}],
        # CRI-O/Podman name no registry to the proxy: it forwards them to the registry mirror, the test origin here.
        "dragonfly_peer_registry_mirror": "http://" + REGISTRY,
        "dragonfly_peer_containers_registries": [{"host": REGISTRY, "insecure": True}],
        "dragonfly_peer_containers_registries_file": str(runtime.containers_file),
    }}}}}}))
    assert os.access(CRICTL, os.X_OK), "crictl missing: run tests/images/build.sh --fixtures-only"
    with deployed_stack(ORIGIN_PROJECT, inventories=[peer_inventory]) as content:
        runtime.start()
        try:
            yield {"runtime": runtime, "content": content, "original": original, "inventory": peer_inventory}
        finally:
            runtime.stop()


def test_role_wired_containerd(lab):
    runtime = lab["runtime"]
    hosts_toml = (runtime.hosts_dir / REGISTRY / "hosts.toml").read_text()
    assert 'server = "http://%s"' % REGISTRY in hosts_toml
    assert '[host."http://127.0.0.1:4001"]' in hosts_toml
    assert 'X-Dragonfly-Registry = "http://%s"' % REGISTRY in hosts_toml
    # containerd itself read the config_path the role added (its CRI plugin logs the registry config at start).
    assert "ConfigPath:%s" % runtime.hosts_dir in (runtime.root / "containerd.log").read_text()


def assert_served_by_dragonfly(preheated, before, pull_output):
    """Every blob of the preheat reached the puller through Dragonfly: no ranged GET at the origin since
    `before`, every piece from a parent (the seed peer) in the peer's log, the peer's copy byte-exact."""
    blobs = {blob["digest"]: blob["task_id"] for blob in preheated["expected_tasks"]}
    requests = blob_requests(registry_requests()[before:], blobs)
    for digest, task_id in blobs.items():
        downloads = [r for r in requests[digest] if r[1] == 206]
        assert not downloads, "origin served %s to the pull: %s\n%s" % (digest, requests[digest], pull_output)
        # At most dfdaemon's one header probe per blob (a GET it abandons after the headers).
        assert len(requests[digest]) <= 1, requests[digest]
        sources = piece_sources(PEER_LOG, task_id)
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


def test_crictl_pull_after_preheat_never_downloads_from_origin(lab, tmp_path):
    """The CRI path (what a kubelet uses): config.toml's config_path -> hosts.toml -> the peer's proxy."""
    image = REGISTRY + "/p2p-test/multilayer:1.0"
    preheated = preheat(tmp_path, image, "linux/amd64")
    before = len(registry_requests())
    pull = lab["runtime"].crictl("pull", image)
    assert pull.returncode == 0, pull.stdout + pull.stderr
    assert lab["runtime"].crictl("inspecti", image).returncode == 0
    assert_served_by_dragonfly(preheated, before, pull.stdout + pull.stderr)
    assert_peer_cache_holds(tmp_path, preheated)


def test_ctr_pull_after_preheat_never_downloads_from_origin(lab, tmp_path):
    """ctr with the hosts directory, another platform of the same image (other blobs)."""
    image = REGISTRY + "/p2p-test/multilayer:1.0"
    preheated = preheat(tmp_path, image, "linux/arm64/v8")
    before = len(registry_requests())
    pull = lab["runtime"].ctr("images", "pull", "--hosts-dir", str(lab["runtime"].hosts_dir),
                              "--platform", "linux/arm64/v8", image, check=False)
    assert pull.returncode == 0, pull.stdout + pull.stderr
    assert_served_by_dragonfly(preheated, before, pull.stdout + pull.stderr)
    assert_peer_cache_holds(tmp_path, preheated)


def test_podman_pull_after_preheat_never_downloads_from_origin(lab, tmp_path):
    """CRI-O/Podman: the role's registries.conf drop-in names the proxy as the registry's mirror."""
    text = lab["runtime"].containers_file.read_text()
    assert 'prefix = "%s"' % REGISTRY in text and 'location = "127.0.0.1:4001"' in text, text
    image = REGISTRY + "/p2p-test/large:1.0"
    preheated = preheat(tmp_path, image, "linux/amd64")
    before = len(registry_requests())
    pull = lab["runtime"].podman("pull", "--quiet", image)
    assert pull.returncode == 0, pull.stdout + pull.stderr
    assert_served_by_dragonfly(preheated, before, pull.stdout + pull.stderr)
    assert_peer_cache_holds(tmp_path, preheated)


def test_pull_without_preheat_downloads_from_origin_once(lab):
    """The contrast: an image nobody preheated is fetched from the origin by Dragonfly (ranged piece GETs,
    back to source on the seed peer), so the checks above can fail."""
    image = REGISTRY + "/p2p-test/small:1.0"
    manifest = lab["content"]["images"]["p2p-test/small:1.0"]["platforms"]["linux/amd64"]
    digests = [blob["digest"] for blob in manifest["blobs"]]
    before = len(registry_requests())
    pull = lab["runtime"].ctr("images", "pull", "--hosts-dir", str(lab["runtime"].hosts_dir), image, check=False)
    assert pull.returncode == 0, pull.stdout + pull.stderr
    requests = blob_requests(registry_requests()[before:], digests)
    for blob in manifest["blobs"]:
        ranged = [r for r in requests[blob["digest"]] if r[1] == 206]
        assert ranged, "no download of %s from the origin: %s" % (blob["digest"], requests[blob["digest"]])
        assert sum(r[2] for r in ranged) == blob["size"], (blob, ranged)


def test_wiring_is_idempotent_and_restores_byte_for_byte(lab):
    runtime = lab["runtime"]
    rc, out = molecule_playbook("playbooks/site.yml", inventories=[lab["inventory"]])
    assert rc == 0, out[-3000:]
    assert re.search(r"localhost\s+: ok=\d+\s+changed=0 ", out), out[-3000:]

    rc, out = molecule_playbook("playbooks/site.yml", {"dragonfly_peer_runtime_state": "absent"},
                                inventories=[lab["inventory"]])
    assert rc == 0, out[-3000:]
    assert runtime.config.read_bytes() == lab["original"]["config"]
    assert tree_digest(runtime.hosts_dir) == lab["original"]["hosts"]
    # The drop-in's directory did not exist before the wiring: it is gone again.
    assert not lab["original"]["containers_dir"] and not runtime.containers_file.parent.exists()
    assert not os.path.exists(BASE + "/runtime-backup/dragonfly-peer")

    # Unwired, a pull goes straight to the registry: containerd's own GETs, without the mirror's ns parameter.
    image = REGISTRY + "/p2p-test/small:1.0"
    assert runtime.ctr("images", "rm", "--sync", image, check=False).returncode == 0
    before = len(registry_requests())
    pull = runtime.ctr("images", "pull", "--plain-http", image, check=False)
    assert pull.returncode == 0, pull.stdout + pull.stderr
    direct = [e for e in registry_requests()[before:] if "/blobs/" in e["path"]]
    assert direct and all("ns=" not in e["http.request.uri"] and
                          e["http.request.useragent"].startswith("containerd/") for e in direct), direct
