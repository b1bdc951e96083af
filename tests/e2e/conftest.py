"""Helpers for end-to-end tests that run real playbooks against this host's Docker engine."""
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
