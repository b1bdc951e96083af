"""Helpers for end-to-end tests that run real playbooks against this host's Docker engine."""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading

import pytest

from p2p_lab import lab
from p2p_lab.containerd import Containerd
from p2p_lab.files import tree_digest
from p2p_lab.lab import lock as lab_lock  # `lab` is the fixture's name below
from p2p_lab.origin import Origin, generate_content
from p2p_lab.secure_origin import BASIC_REGISTRY, TOKEN_REGISTRY, SecureOrigin

REPO = lab.REPO


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


def docker_now():
    """The engine's clock, for ``docker logs --since``."""
    return subprocess.run(["docker", "info", "--format", "{{.SystemTime}}"], capture_output=True, text=True,
                          check=True).stdout.strip()


def secret_levels(text, secrets):
    """The log levels (the second field; 'text' where there is none) of the lines of ``text`` that hold one of
    ``secrets``, sorted and each once: where a secret leaked, without showing it."""
    return sorted(set((line.split()[1] if len(line.split()) > 1 else "text")
                      for line in text.splitlines() if any(secret in line for secret in secrets)))


@pytest.fixture
def playbook_runner(tmp_path):
    def runner(playbook_yaml, **kwargs):
        return run_playbook(playbook_yaml, tmp_path, **kwargs)
    return runner


# --- the stack the session's modules share and its test origins ------------------------------------------
# One stack per pytest session: P2P_E2E_STACK names it in tests/lib/lab.yml (e2e when unset); scripts/test.sh runs
# three sessions at the same time, each test on one of them. Deployed once, when the first test that needs it runs,
# beside the molecule scenarios and the other sessions' stacks (own compose project prefix, base directory, ports and
# test origin). The modules keep out of each other's way: each preheats content of its own
# (tests/images/content.py), and they run in MODULE_ORDER, the one that removes and redeploys last.
STACK = lab.stack(os.environ.get("P2P_E2E_STACK") or "e2e")  # the inventory, the roles' defaults, the stack's own
INVENTORY = STACK.inventory
GATEWAY = lab.GATEWAY  # the lab network's gateway, which the components advertise
BASE = STACK.base
PREFIX = STACK.prefix
MANAGER_CA = STACK.manager_ca  # the CA the manager role generated for its TLS proxy
MANAGER = STACK.manager()  # the REST API on the gateway, verified with that CA
REGISTRY = STACK.registry  # the stack's test origin: registry (plain HTTP) and file server
FILES_URL = STACK.files_url
MODULE_ORDER = ["test_preflight.py", "test_preheat.py", "test_runtime_pull.py", "test_private_registries.py",
                "test_manager_log.py", "test_playbooks.py"]


def pytest_collection_modifyitems(items):
    """Run the modules in MODULE_ORDER (pytest keeps the order of the tests within a module)."""
    rank = {name: index for index, name in enumerate(MODULE_ORDER)}
    items.sort(key=lambda item: rank.get(os.path.basename(str(item.fspath)), len(rank)))


_INVENTORIES = [INVENTORY]  # the shared stack's, set by the lab fixture: the inventory plus the stack's own vars


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


def run_tasks(tmp_path, tasks_yaml, check=False):
    """Run tasks on localhost with the manager connection set once for the collection (JSON callback);
    returns (rc, {task name: result}, stdout)."""
    play = tmp_path / "play.yml"
    play.write_text("""
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/p2p.dragonfly.dragonfly:
      manager_url: %s
      ca_path: %s
      token: "{{ lookup('ansible.builtin.file', '%s') }}"
  tasks:
%s
""" % (STACK.manager_url("127.0.0.1"), MANAGER_CA, STACK.token_file, tasks_yaml))
    command = ["ansible-playbook", "-i", INVENTORY, str(play)] + (["--check", "--diff"] if check else [])
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False,
                            env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="json"))
    output = json.loads(result.stdout[result.stdout.index("{"):])
    tasks = {t["task"]["name"]: t["hosts"]["localhost"] for t in output["plays"][0]["tasks"]}
    return result.returncode, tasks, result.stdout


class SharedStack:
    """The shared stack: playbooks/site.yml on the inventory plus the stack's own variables and a peer wired to a
    private containerd (created here, started by test_runtime_pull.py), and the test origin with the test content;
    the authenticated origins where the stack runs them (lab.yml secure_origin).

    Its deployment starts in the background as soon as pytest has collected a test that needs it (most of it is
    waiting for the scheduler's seed ring), so the tests that need no stack run meanwhile."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="p2p-e2e-containerd-")
        self.runtime = Containerd(pathlib.Path(self.root))
        self.original = {"config": self.runtime.config.read_bytes(), "hosts": tree_digest(self.runtime.hosts_dir),
                         "containers_dir": self.runtime.containers_file.parent.exists()}
        self.peer_inventory = pathlib.Path(self.root) / "peer-inventory.json"
        self.content = None
        self.origin = None
        # The authenticated registries (TLS from the lab CA): the stack trusts that CA, as a site trusts its own. A
        # fixture beside the test origin, outside the stack's compose prefix (its loader is published on loopback).
        self.secure = SecureOrigin(STACK.origin_project + "-secure") if STACK.secure_origin else None
        self.failure = None
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self._deploy, name="e2e-shared-stack", daemon=True)
        self.thread.start()

    def _deploy(self):
        try:
            self.content = generate_content()
            trust, registries = {}, [{"host": REGISTRY, "insecure": True}]
            if self.secure:
                self.secure.up()
                trust["dragonfly_registry_ca_bundle"] = self.secure.ca_pem()
                registries += [{"host": BASIC_REGISTRY}, {"host": TOKEN_REGISTRY}]
            runtime = self.runtime
            peer = {
                "dragonfly_peer_runtime_state": "present",
                # The private instance reads config.toml when the test starts it; nothing to restart.
                "dragonfly_peer_runtime_restart": False,
                "dragonfly_peer_containerd_config_file": str(runtime.config),
                "dragonfly_peer_containerd_hosts_dir": str(runtime.hosts_dir),
                "dragonfly_peer_containerd_registries": registries,
                # CRI-O/Podman name no registry to the proxy: it forwards them to the registry mirror, here the
                # test origin.
                "dragonfly_peer_registry_mirror": "http://" + REGISTRY,
                "dragonfly_peer_containers_registries": [{"host": REGISTRY, "insecure": True}],
                "dragonfly_peer_containers_registries_file": str(runtime.containers_file),
            }
            # The stack's own variables as host variables: they outrank the inventory's group variables.
            self.peer_inventory.write_text(json.dumps({"all": {
                "vars": trust, "hosts": {"localhost": STACK.overrides},
                "children": {"dragonfly_peer": {"hosts": {"localhost": peer}}}}}))
            _INVENTORIES[:] = [INVENTORY, str(self.peer_inventory)]
            self.origin = Origin(STACK, self.content)
            # The molecule default scenario's prepare.yml creates the lab network: one session at a time.
            with lab_lock("lab-network"):
                rc, out = e2e_playbook("extensions/molecule/default/prepare.yml")
            if rc == 0:
                rc, out = e2e_playbook("extensions/molecule/default/destroy.yml")
            if rc != 0:
                raise RuntimeError("preparing the stack failed:\n%s" % out[-3000:])
            self.origin.up()
            rc, out = e2e_playbook("playbooks/site.yml")
            if rc != 0:
                raise RuntimeError("playbooks/site.yml failed:\n%s" % out[-3000:])
        except Exception as error:  # pylint: disable=broad-exception-caught
            self.failure = "deploying the shared stack failed: %s" % (getattr(error, "stderr", None) or error)

    def wait(self):
        self.thread.join()
        if self.failure:
            pytest.fail(self.failure, pytrace=False)
        return {"content": self.content, "runtime": self.runtime, "original": self.original,
                "inventory": self.peer_inventory, "secure": self.secure}

    def remove(self):
        self.thread.join()
        self.runtime.stop()
        e2e_playbook("extensions/molecule/default/destroy.yml")
        if self.origin:
            self.origin.down()
        if self.secure:
            self.secure.down()
        shutil.rmtree(self.root, ignore_errors=True)


_SHARED = []  # the SharedStack of this session, once a collected test needs it


def pytest_collection_finish(session):
    if any("lab" in getattr(item, "fixturenames", ()) for item in session.items):
        _SHARED.append(SharedStack())
        _SHARED[0].start()


@pytest.fixture(scope="session")
def lab():
    """The shared stack (SharedStack): {"content", "runtime", "original", "inventory", "secure"}; removed at the end
    of the session."""
    try:
        yield _SHARED[0].wait()
    finally:
        _SHARED[0].remove()
