"""The fleet lab for pytest: `lab.py up` once per session (tests/lab/README.md), `down` at its end unless
P2P_FLEET_KEEP=1. Playbooks run from the checkout over SSH on inventories/lab."""
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

import lab  # noqa: E402 pylint: disable=wrong-import-position

TIMINGS = {}  # what took how long, printed at the end of the session
LOG_DIRS = []  # where the playbooks' output is kept


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
        self.hosts = lab.inventory_hosts()
        with open(lab.content_description()) as handle:
            self.content = json.load(handle)
        self.groups = json.loads(subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", self.inventory, "--list"],
            capture_output=True, text=True, check=True).stdout)

    def group(self, name):
        return self.groups[name]["hosts"]

    def playbook(self, name, *extra, limit=None):
        """ansible-playbook PLAYBOOK on the lab inventory; extra: "k=v" strings or dicts. Returns (rc, output, recap).
        The output, with the slowest tasks (profile_tasks) at its end, is kept in the session's log directory."""
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", self.inventory,
                   os.path.join(REPO, name)]
        if limit:
            command += ["--limit", limit]
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
        """A command on a lab host over SSH as the inventory's user; returns its stdout."""
        result = lab.ssh(self.hosts[host], command, check=False)
        if check:
            assert result.returncode == 0, "%s on %s: %s" % (command, host, result.stderr)
        return result.stdout


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
