"""The fleet lab for pytest: `lab.py up` once per session (tests/lab/README.md), `down` at its end unless
P2P_FLEET_KEEP=1. Playbooks run from the checkout over SSH on inventories/lab."""
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))  # p2p_lab: the registry log's parser

import lab  # noqa: E402 pylint: disable=wrong-import-position
from p2p_lab.registry_log import parse_completed  # noqa: E402 pylint: disable=wrong-import-position

SITE = "playbooks/site.yml"
# What the suite preheats on every seed peer (test_fleet.py, or the fixture `preheated` when that did not run).
IMAGE = "p2p-test/multilayer:1.0"
PLATFORM = "linux/amd64"
FILE = "medium.bin"
MANAGER_DIR = "/opt/dragonfly/manager"  # dragonfly_manager_dir by default
SEED_CACHE = "/opt/dragonfly/seed-peer/cache"  # dragonfly_seed_peer_cache_dir by default
PEER_CACHE = "/opt/dragonfly/peer/cache"  # dragonfly_peer_cache_dir by default
# The dfdaemon containers: <dragonfly_compose_project_prefix>-<dragonfly_*_name>-dfdaemon-1, by default.
SEED_DFDAEMON, PEER_DFDAEMON = "dragonfly-seed-peer-dfdaemon-1", "dragonfly-peer-dfdaemon-1"
HOSTS_DIR = "/etc/containerd/certs.d"  # where the peer role found containerd's config_path (Debian's containerd)
PROXY = "127.0.0.1:4001"  # dragonfly_peer_proxy_port by default
# The origin registry's container on the origin host (tests/lab/origin/compose.yaml).
ORIGIN_REGISTRY_CONTAINER = "p2p-fleet-origin-registry-1"

# The modules in this order (pytest keeps the order of the tests within a module): the ones that read the topology of
# inventories/lab before test_join.py adds hosts for a while.
MODULE_ORDER = ["test_fleet.py", "test_pulls.py", "test_cluster_info.py", "test_stranger.py", "test_seed_down.py",
                "test_join.py", "test_upgrade.py"]
TIMINGS = {}  # what took how long, printed at the end of the session
LOG_DIRS = []  # where the playbooks' output is kept


def pytest_collection_modifyitems(items):
    rank = {name: index for index, name in enumerate(MODULE_ORDER)}
    items.sort(key=lambda item: rank.get(os.path.basename(str(item.fspath)), len(rank)))


def timed(name, started):
    TIMINGS[name] = time.time() - started


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("fleet lab timings")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line("%-40s %7.1f s" % (name, seconds))
        for log_dir in LOG_DIRS:
            terminalreporter.write_line("playbook output (profile_tasks at the end of each): %s" % log_dir)


class Fleet:
    """The running lab: inventory, hosts, origin and content, and helpers to run playbooks and commands."""

    inventory = lab.INVENTORY

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.runs = 0
        self.preheated = False  # IMAGE and FILE are on every seed peer (test_fleet.py or the fixture `preheated`)
        self.hosts = lab.inventory_hosts()
        with open(lab.content_description()) as handle:
            self.content = json.load(handle)
        self.groups = json.loads(subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", self.inventory, "--list"],
            capture_output=True, text=True, check=True).stdout)

    def group(self, name):
        return self.groups[name]["hosts"]

    def playbook(self, name, *extra, limit=None, inventories=(), options=()):
        """ansible-playbook PLAYBOOK on the lab inventory (and more inventories: paths); extra: "k=v" strings or
        dicts; options: more command-line options ("--skip-tags=..."). Returns (rc, output, recap). The output, with
        the slowest tasks (profile_tasks) at its end, is kept in the session's log directory."""
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", self.inventory]
        for inventory in inventories:
            command += ["-i", str(inventory)]
        command.append(os.path.join(REPO, name))
        if limit:
            command += ["--limit", limit]
        command += list(options)
        for item in extra:
            command += ["-e", item if isinstance(item, str) else json.dumps(item)]
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False,
                                env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                                         ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks"))
        output = result.stdout + result.stderr
        self.runs += 1
        with open(os.path.join(self.log_dir, "%02d-%s.log" % (self.runs, os.path.basename(name))), "w") as handle:
            handle.write(output)
        return result.returncode, output, recap(output)

    def ssh(self, host, command, check=True):
        """A command on a lab host (an inventory host or the origin) over SSH as the inventory's user; returns its
        stdout."""
        result = lab.ssh(lab.ORIGIN_IP if host == lab.ORIGIN else self.hosts[host], command, check=False)
        if check:
            assert result.returncode == 0, "%s on %s: %s" % (command, host, result.stderr)
        return result.stdout

    def origin_requests(self):
        """The origin registry's completed requests, oldest first (its access log, read on the origin host)."""
        result = lab.ssh(lab.ORIGIN_IP, "sudo docker logs %s" % ORIGIN_REGISTRY_CONTAINER)
        return parse_completed(result.stdout + result.stderr)

    def cached_digests(self, host, cache_dir):
        """The sha256 of every non-empty file in a dfdaemon cache on a host, read there over SSH."""
        listing = self.ssh(host, "sudo find %s/content -type f -size +0 -exec sha256sum {} +" % cache_dir)
        return {line.split()[0] for line in listing.splitlines() if line.strip()}

    def pull(self, hosts, image, platform, through_proxy=True):
        """`ctr images pull` of a test image from the origin on every host at the same time (through the host's
        dfdaemon proxy, the peer role's containerd wiring, or straight from the origin); returns {host: output}."""
        registry = ("--hosts-dir %s" % HOSTS_DIR) if through_proxy else "--plain-http"
        command = "sudo ctr images pull %s --platform %s %s/%s" % (registry, platform, lab.ORIGIN_REGISTRY, image)

        def pull(host):
            result = lab.ssh(self.hosts[host], command, check=False)
            assert result.returncode == 0, "%s on %s: %s" % (command, host, (result.stdout + result.stderr)[-2000:])
            return result.stdout

        with concurrent.futures.ThreadPoolExecutor(len(hosts)) as pool:
            return dict(zip(hosts, pool.map(pull, hosts)))

    def origin_sent(self, before, blobs):
        """digest -> [(status, bytes written, remote address)] of the origin's requests for these blobs since the
        request number `before` (len(origin_requests()) then)."""
        found = {blob["digest"]: [] for blob in blobs}
        for entry in self.origin_requests()[before:]:
            digest = entry["path"].rsplit("/", 1)[-1]
            if "/blobs/" in entry["path"] and digest in found:
                found[digest].append((int(entry["http.response.status"]), int(entry.get("http.response.written", 0)),
                                      entry.get("http.request.remoteaddr", "").rsplit(":", 1)[0]))
        return found

    def assert_peers_cached(self, peers, blobs):
        wanted = {blob["digest"].split(":", 1)[1] for blob in blobs}
        for peer in peers:
            missing = wanted - self.cached_digests(peer, PEER_CACHE)
            assert not missing, "the cache of %s misses %s" % (peer, sorted(missing))

    def blobs(self, image, platform):
        """The blobs (digest, size) of one platform of a test image, as tests/images/content.py made them."""
        return self.content["images"][image]["platforms"][platform]["blobs"]


def recap(output):
    """{host: {ok, changed, unreachable, failed, skipped, rescued, ignored}} from a PLAY RECAP."""
    found = {}
    for host, counters in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.MULTILINE):
        found[host] = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", counters)}
    return found


@pytest.fixture(scope="session")
def fleet():
    # Beside the checkout's test-run logs (scripts/lib.sh exports CHECKOUT_STATE); pytest's own temporary directories
    # are rotated away by the next sessions on this machine.
    log_dir = os.path.join(os.environ.get("CHECKOUT_STATE") or tempfile.gettempdir(), "lab-runs",
                           time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(log_dir, exist_ok=True)
    LOG_DIRS.append(log_dir)
    started = time.time()
    result = subprocess.run([sys.executable, os.path.join(HERE, "lab.py"), "up"], capture_output=True, text=True,
                            check=False)
    timed("lab up", started)
    if result.returncode != 0:
        pytest.fail("lab.py up failed:\n%s" % (result.stderr + result.stdout)[-4000:], pytrace=False)
    try:
        yield Fleet(log_dir)
    finally:
        if os.environ.get("P2P_FLEET_KEEP") != "1":
            started = time.time()
            subprocess.run([sys.executable, os.path.join(HERE, "lab.py"), "down"], check=False)
            timed("lab down", started)


def body_bytes(requests):
    """The bytes of blob content the origin sent in these requests (Fleet.origin_sent): every response but the client's
    one-byte probes."""
    return sum(written for dummy, written, dummy in requests if written > 1)


def preheat_vars(report, images=(IMAGE,), files=(FILE,)):
    """The preheat (and verify) of test images and files from the lab's origin, on every seed peer."""
    return {"dragonfly_preheat_images": ["%s/%s" % (lab.ORIGIN_REGISTRY, image) for image in images],
            "dragonfly_preheat_files": ["%s/%s" % (lab.ORIGIN_FILES, name) for name in files],
            "dragonfly_preheat_scope": "all_seed_peers", "dragonfly_preheat_insecure_registry": True,
            "dragonfly_report_path": str(report)}


@pytest.fixture(name="preheated")
def preheated_fixture(fleet, tmp_path):
    """The lab deployed with IMAGE and FILE on every seed peer: what test_fleet.py leaves, or done here when a test
    runs without it (pytest tests/lab/test_pulls.py)."""
    if not fleet.preheated:
        rc, output, dummy = fleet.playbook(SITE)
        assert rc == 0, output[-8000:]
        rc, output, dummy = fleet.playbook("playbooks/preheat.yml", preheat_vars(tmp_path / "preheat.json"))
        assert rc == 0, output[-8000:]
        fleet.preheated = True
    return fleet
