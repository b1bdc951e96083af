"""Helpers for end-to-end tests that run real playbooks against this host's Docker engine."""
import hashlib
import json
import os
import pathlib
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import urllib.request

import pytest

from containerd import Containerd

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_playbook(playbook_yaml, tmp_path, extra_vars=None, env=None, check=False, groups=None):
    """Run a playbook given as YAML text on localhost; returns (rc, output)."""
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(playbook_yaml)
    inventory = tmp_path / "inventory.json"
    children = {group: {"hosts": {"localhost": {}}} for group in (groups or [])}
    inventory.write_text(json.dumps({"all": {
        "hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}},
        "children": children}}))
    command = ["ansible-playbook", "-i", str(inventory), str(playbook)]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    if check:
        command += ["--check", "--diff"]
    result = subprocess.run(command, cwd=REPO, env=dict(os.environ, ANSIBLE_NOCOLOR="1", **(env or {})),
                            capture_output=True, text=True, check=False)
    return result.returncode, result.stdout + result.stderr


def docker_containers(label_filter):
    out = subprocess.run(["docker", "ps", "-a", "--filter", "label=" + label_filter, "--format", "{{.Names}}"],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


@pytest.fixture
def playbook_runner(tmp_path):
    def runner(playbook_yaml, **kwargs):
        return run_playbook(playbook_yaml, tmp_path, **kwargs)
    return runner


# --- the one stack the modules share (tests/e2e/inventory.yml) and the test origin -----------------------
# Deployed once, when the first test that needs it runs, beside the molecule scenarios (own compose project
# prefix, base directory and ports). The modules keep out of each other's way: each preheats content of its
# own (tests/images/content.py), and they run in MODULE_ORDER, the one that removes and redeploys last.
INVENTORY = os.path.join(REPO, "tests/e2e/inventory.yml")
MOLECULE_DIR = os.path.join(REPO, "extensions/molecule/default")  # its prepare.yml creates the lab network
GATEWAY = "172.31.250.1"  # the lab network's gateway, which the components advertise
BASE = "/opt/dragonfly-e2e"  # dragonfly_base_dir of the inventory
PREFIX = "p2p-e2e"  # dragonfly_compose_project_prefix of the inventory
MANAGER_PORT = 28080
MANAGER_CA = BASE + "/manager/tls/ca.crt"  # the CA the manager role generated for its TLS proxy
MANAGER_URL = "https://%s:%d" % (GATEWAY, MANAGER_PORT)
PEER_PROXY_PORT = 24001
CONTENT_ROOT = os.path.join(os.environ.get("P2P_DRAGONFLY_CACHE", "/var/cache/p2p-dragonfly"), "content")
ORIGIN_FILE = os.path.join(REPO, "tests/images/fixtures/origin/compose.yaml")
ORIGIN_PROJECT = "p2p-df-e2e-origin"
REGISTRY = GATEWAY + ":15000"
MODULE_ORDER = ["test_preflight.py", "test_preheat.py", "test_runtime_pull.py", "test_playbooks.py"]


def pytest_collection_modifyitems(items):
    """Run the modules in MODULE_ORDER (pytest keeps the order of the tests within a module)."""
    rank = {name: index for index, name in enumerate(MODULE_ORDER)}
    items.sort(key=lambda item: rank.get(os.path.basename(str(item.fspath)), len(rank)))


def manager_urlopen(request, timeout=30):
    """urllib's urlopen, verifying the manager's certificate against the CA the role generated."""
    return urllib.request.urlopen(request, timeout=timeout, context=ssl.create_default_context(cafile=MANAGER_CA))


STRANGER_NETNS = PREFIX + "-stranger"
STRANGER_LINK = "p2pe2e-s0"  # this host's end of the veth pair; the other end lives in the namespace
STRANGER_HOST, STRANGER_ADDRESS = "10.231.250.1", "10.231.250.2"


def _ip(*args, check=True):
    return subprocess.run(["ip"] + list(args), capture_output=True, text=True, check=check)


def _remove_stranger():
    _ip("netns", "delete", STRANGER_NETNS, check=False)
    _ip("link", "delete", STRANGER_LINK, check=False)


@pytest.fixture
def stranger():
    """Another machine on the network: a network namespace with an address that is not this host's, routed to it
    over a veth pair. Yields run(host, rest_port, *ports) -> what tests/e2e/stranger.py found from there."""
    _remove_stranger()  # left by an interrupted run
    _ip("netns", "add", STRANGER_NETNS)
    try:
        _ip("link", "add", STRANGER_LINK, "type", "veth", "peer", "name", "p2pe2e-s1", "netns", STRANGER_NETNS)
        _ip("addr", "add", STRANGER_HOST + "/30", "dev", STRANGER_LINK)
        _ip("link", "set", STRANGER_LINK, "up")
        inside = ["netns", "exec", STRANGER_NETNS, "ip"]
        _ip(*(inside + ["addr", "add", STRANGER_ADDRESS + "/30", "dev", "p2pe2e-s1"]))
        _ip(*(inside + ["link", "set", "p2pe2e-s1", "up"]))
        _ip(*(inside + ["link", "set", "lo", "up"]))
        _ip(*(inside + ["route", "add", "default", "via", STRANGER_HOST]))

        def run(host, rest_port, *ports):
            result = subprocess.run(["ip", "netns", "exec", STRANGER_NETNS, sys.executable,
                                     os.path.join(REPO, "tests/e2e/stranger.py"), host, str(rest_port)]
                                    + [str(port) for port in ports], capture_output=True, text=True, timeout=300, check=False)
            assert result.returncode == 0, result.stderr
            return json.loads(result.stdout)
        yield run
    finally:
        _remove_stranger()


def release_set(name):
    """A set of the roles' release table (roles/common/vars/main.yml): {manager, scheduler, client, ...}."""
    import yaml  # the venv has it

    with open(os.path.join(REPO, "roles/common/vars/main.yml")) as handle:
        return yaml.safe_load(handle)["_dragonfly_release_sets"][name]


def default_release_set():
    """The release set the roles deploy by default (roles/common/defaults/main.yml)."""
    import yaml

    with open(os.path.join(REPO, "roles/common/defaults/main.yml")) as handle:
        return str(yaml.safe_load(handle)["dragonfly_release_set"])


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


_INVENTORIES = [INVENTORY]  # the shared stack's, set by the lab fixture: the inventory plus the peer's wiring


def inventories():
    return list(_INVENTORIES)


def e2e_playbook(name, *extra):
    """ansible-playbook on the shared stack's inventories; extra: "k=v" strings or dicts, or options such as "--check".
    Returns (rc, output)."""
    command = ["ansible-playbook"]
    for inventory in inventories():
        command += ["-i", str(inventory)]
    command.append(os.path.join(REPO, name))
    for item in extra:
        if isinstance(item, str) and item.startswith("--"):
            command.append(item)
        else:
            command += ["-e", item if isinstance(item, str) else json.dumps(item)]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False,
                            env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    return result.returncode, result.stdout + result.stderr


def origin_registry_container():
    return ORIGIN_PROJECT + "-registry-1"


def run_tasks(tmp_path, tasks_yaml, check=False):
    """Run tasks on localhost with the manager connection set once for the collection (JSON callback);
    returns (rc, {task name: result}, stdout)."""
    play = tmp_path / "play.yml"
    play.write_text("""
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/p2p.dragonfly.dragonfly:
      manager_url: https://127.0.0.1:%d
      ca_path: %s
      token: "{{ lookup('ansible.builtin.file', '%s/manager/secrets/token') }}"
  tasks:
%s
""" % (MANAGER_PORT, MANAGER_CA, BASE, tasks_yaml))
    command = ["ansible-playbook", "-i", INVENTORY, str(play)] + (["--check", "--diff"] if check else [])
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False,
                            env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="json"))
    output = json.loads(result.stdout[result.stdout.index("{"):])
    tasks = {t["task"]["name"]: t["hosts"]["localhost"] for t in output["plays"][0]["tasks"]}
    return result.returncode, tasks, result.stdout


def generate_content():
    """The test content (tests/images/content.py), generated when missing; returns content.json's data."""
    path = subprocess.run(["python3", os.path.join(REPO, "tests/images/content.py"), "generate", CONTENT_ROOT],
                          check=True, capture_output=True, text=True).stdout.strip()
    with open(path) as handle:
        return json.load(handle)


class SharedStack:
    """The shared stack: playbooks/site.yml on the inventory plus a peer wired to a private containerd (created
    here, started by test_runtime_pull.py), and the test origin with the test content.

    Its deployment starts in the background as soon as pytest has collected a test that needs it (most of it is
    waiting for the scheduler's seed ring), so the tests that need no stack run meanwhile."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="p2p-e2e-containerd-")
        self.runtime = Containerd(pathlib.Path(self.root))
        self.original = {"config": self.runtime.config.read_bytes(), "hosts": tree_digest(self.runtime.hosts_dir),
                         "containers_dir": self.runtime.containers_file.parent.exists()}
        self.peer_inventory = pathlib.Path(self.root) / "peer-inventory.json"
        self.content = None
        self.origin_env = None
        self.failure = None
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self._deploy, name="e2e-shared-stack", daemon=True)
        self.thread.start()

    def _deploy(self):
        try:
            self.content = generate_content()
            runtime = self.runtime
            self.peer_inventory.write_text(json.dumps({"all": {"children": {"dragonfly_peer": {"hosts": {"localhost": {
                "dragonfly_peer_runtime_state": "present",
                # The private instance reads config.toml when the test starts it; nothing to restart.
                "dragonfly_peer_runtime_restart": False,
                "dragonfly_peer_containerd_config_file": str(runtime.config),
                "dragonfly_peer_containerd_hosts_dir": str(runtime.hosts_dir),
                "dragonfly_peer_containerd_registries": [{"host": REGISTRY, "insecure": True}],
                # CRI-O/Podman name no registry to the proxy: it forwards them to the registry mirror, here the
                # test origin.
                "dragonfly_peer_registry_mirror": "http://" + REGISTRY,
                "dragonfly_peer_containers_registries": [{"host": REGISTRY, "insecure": True}],
                "dragonfly_peer_containers_registries_file": str(runtime.containers_file),
            }}}}}}))
            _INVENTORIES[:] = [INVENTORY, str(self.peer_inventory)]
            self.origin_env = dict(os.environ, ORIGIN_IP=GATEWAY, ORIGIN_FILES_DIR=self.content["files_dir"])
            for step in ("extensions/molecule/default/prepare.yml", "extensions/molecule/default/destroy.yml"):
                rc, out = e2e_playbook(step)
                if rc != 0:
                    raise RuntimeError("%s failed:\n%s" % (step, out[-3000:]))
            subprocess.run(self.origin + ["up", "-d", "--wait"], check=True, env=self.origin_env,
                           capture_output=True, text=True)
            subprocess.run(["python3", os.path.join(REPO, "tests/images/content.py"), "push", CONTENT_ROOT,
                            "http://127.0.0.1:15000"], check=True, capture_output=True, text=True)
            rc, out = e2e_playbook("playbooks/site.yml")
            if rc != 0:
                raise RuntimeError("playbooks/site.yml failed:\n%s" % out[-3000:])
        except Exception as error:  # pylint: disable=broad-exception-caught
            self.failure = "deploying the shared stack failed: %s" % (getattr(error, "stderr", None) or error)

    @property
    def origin(self):
        return ["docker", "compose", "-f", ORIGIN_FILE, "-p", ORIGIN_PROJECT]

    def wait(self):
        self.thread.join()
        if self.failure:
            pytest.fail(self.failure, pytrace=False)
        return {"content": self.content, "runtime": self.runtime, "original": self.original,
                "inventory": self.peer_inventory}

    def remove(self):
        self.thread.join()
        self.runtime.stop()
        e2e_playbook("extensions/molecule/default/destroy.yml")
        if self.origin_env:
            subprocess.run(self.origin + ["down", "-v"], check=False, env=self.origin_env, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


_SHARED = []  # the SharedStack of this session, once a collected test needs it


def pytest_collection_finish(session):
    if any("lab" in getattr(item, "fixturenames", ()) for item in session.items):
        _SHARED.append(SharedStack())
        _SHARED[0].start()


@pytest.fixture(scope="session")
def lab():
    """The shared stack (SharedStack): {"content", "runtime", "original", "inventory"}; removed at the end of
    the session."""
    try:
        yield _SHARED[0].wait()
    finally:
        _SHARED[0].remove()


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
