"""Helpers for end-to-end tests that run real playbooks against this host's Docker engine."""
import contextlib
import hashlib
import json
import os
import subprocess

import pytest

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


# --- the all-in-one stack of the molecule default scenario, with the test origin -----------------
MOLECULE_INVENTORY = os.path.join(REPO, "extensions/molecule/default/inventory.yml")
GATEWAY = "172.31.250.1"  # the lab network's gateway, which the components advertise
BASE = "/opt/dragonfly-molecule"  # dragonfly_base_dir of the molecule default scenario
CONTENT = os.path.join(os.environ.get("P2P_DRAGONFLY_CACHE", "/var/cache/p2p-dragonfly"), "content")
ORIGIN_FILE = os.path.join(REPO, "tests/images/fixtures/origin/compose.yaml")


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def molecule_playbook(name, *extra, inventories=()):
    """ansible-playbook on the molecule default inventory (plus `inventories`, e.g. a peer added to it);
    extra: "k=v" strings or dicts. Returns (rc, output)."""
    command = ["ansible-playbook", "-i", MOLECULE_INVENTORY]
    for inventory in inventories:
        command += ["-i", str(inventory)]
    command.append(os.path.join(REPO, name))
    for item in extra:
        command += ["-e", item if isinstance(item, str) else json.dumps(item)]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False,
                            env=dict(os.environ, ANSIBLE_NOCOLOR="1"))
    return result.returncode, result.stdout + result.stderr


def origin_registry_container(origin_project):
    return origin_project + "-registry-1"


def run_tasks(tmp_path, tasks_yaml, check=False):
    """Run tasks on localhost with the manager connection set once for the collection (JSON callback);
    returns (rc, {task name: result}, stdout)."""
    play = tmp_path / "play.yml"
    play.write_text("""
- hosts: localhost
  gather_facts: false
  module_defaults:
    group/p2p.dragonfly.dragonfly:
      manager_url: http://127.0.0.1:8080
      token: "{{ lookup('ansible.builtin.file', '%s/manager/secrets/token') }}"
  tasks:
%s
""" % (BASE, tasks_yaml))
    command = ["ansible-playbook", "-i", MOLECULE_INVENTORY, str(play)] + (["--check", "--diff"] if check else [])
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False,
                            env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="json"))
    output = json.loads(result.stdout[result.stdout.index("{"):])
    tasks = {t["task"]["name"]: t["hosts"]["localhost"] for t in output["plays"][0]["tasks"]}
    return result.returncode, tasks, result.stdout


@contextlib.contextmanager
def deployed_stack(origin_project, inventories=()):
    """A fresh all-in-one deployment (playbooks/site.yml; `inventories` add to the molecule default one) and
    the test origin; yields content.json."""
    subprocess.run(["python3", os.path.join(REPO, "tests/images/content.py"), "generate", CONTENT], check=True,
                   capture_output=True)
    with open(os.path.join(CONTENT, "content.json")) as handle:
        content = json.load(handle)
    origin = ["docker", "compose", "-f", ORIGIN_FILE, "-p", origin_project]
    origin_env = dict(os.environ, ORIGIN_IP=GATEWAY, ORIGIN_FILES_DIR=content["files_dir"])
    for step in ("prepare.yml", "destroy.yml"):
        rc, out = molecule_playbook("extensions/molecule/default/" + step, inventories=inventories)
        assert rc == 0, out[-3000:]
    subprocess.run(origin + ["up", "-d", "--wait"], check=True, env=origin_env)
    try:
        subprocess.run(["python3", os.path.join(REPO, "tests/images/content.py"), "push", CONTENT,
                        "http://127.0.0.1:15000"], check=True)
        rc, out = molecule_playbook("playbooks/site.yml", inventories=inventories)
        assert rc == 0, out[-3000:]
        yield content
    finally:
        molecule_playbook("extensions/molecule/default/destroy.yml", inventories=inventories)
        subprocess.run(origin + ["down", "-v"], check=False, env=origin_env)
