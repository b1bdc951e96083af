"""Preflight refuses bad input with a clear message and changes nothing (real ansible-playbook runs)."""
import os
import stat

import pytest

from conftest import docker_containers
from p2p_lab import lab

MANAGER_PLAY = """
- hosts: localhost
  gather_facts: true
  roles:
    - p2p.dragonfly.manager
"""
SEED_PLAY = """
- hosts: localhost
  gather_facts: true
  roles:
    - p2p.dragonfly.seed_peer
"""
# A compose project prefix of their own: the stacks of the other gates (molecule) come and go meanwhile, and the
# "nothing changed" checks count the containers of these projects.
PREFIX = lab.stack("preflight").prefix
# A cache capacity of its own, so that this host's disk usage cannot decide the outcome (cases below unset it).
COMMON = {"dragonfly_advertise_ip": "127.0.0.1", "dragonfly_seed_peer_manager_address": "127.0.0.1:65003",
          "dragonfly_compose_project_prefix": PREFIX, "dragonfly_seed_peer_gc_disk_threshold": "8GiB"}


def assert_nothing_changed(base_dir, project, containers_before):
    assert not os.path.exists(base_dir), "preflight failure left %s behind" % base_dir
    assert docker_containers("com.docker.compose.project=" + project) == containers_before


def fake_docker(tmp_path, command, answer):
    """A docker CLI that answers exactly `docker <command>` with ``answer``; every other command (the modules' own
    `docker version`, compose itself) goes to the real CLI. Returns the environment that puts it first on PATH."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    real_docker = "/usr/local/bin/docker" if os.path.exists("/usr/local/bin/docker") else "/usr/bin/docker"
    docker = fake_bin / "docker"
    docker.write_text('#!/bin/sh\ncase "$*" in "%s") echo %s; exit 0 ;; esac\nexec %s "$@"\n' % (command, answer, real_docker))
    docker.chmod(docker.stat().st_mode | stat.S_IEXEC)
    return {"PATH": "%s:%s" % (fake_bin, os.environ["PATH"])}


MANAGER = (MANAGER_PLAY, PREFIX + "-manager")
SEED = (SEED_PLAY, PREFIX + "-seed-peer")


@pytest.mark.parametrize("role, bad, message", [
    (MANAGER, {"dragonfly_manager_image_tag": "latest"}, "is not pinned"),
    (MANAGER, {"dragonfly_manager_image": "docker.io/dragonflyoss/manager", "dragonfly_manager_image_tag": "",
               "dragonfly_release_set": "9.9.9"}, "dragonfly_release_set must be one of: 2.5.0, 2.5.1, 2.5.1+1.5.10"),
    (MANAGER, {"dragonfly_manager_admin_password": "short"}, "8-20 characters"),
    (MANAGER, {"dragonfly_compose_project_prefix": "Staging Cluster"}, "is not a valid compose project name"),
    (MANAGER, {"dragonfly_manager_database_bundled": False}, "needs dragonfly_manager_database_host"),
    (SEED, {"dragonfly_seed_peer_type": "weak"}, "only `super` seed peers receive preheats"),
    (SEED, {"dragonfly_seed_peer_extra_config": {"seedPeer": {"type": "strong"}}}, "only `super` seed peers receive preheats"),
    (SEED, {"dragonfly_seed_peer_extra_config": {"storage": {"dir": "/data/cache"}}}, "would live in"),
    (SEED, {"dragonfly_seed_peer_extra_config": {"storage": {"keep": False}}}, "keep required"),
    (SEED, {"dragonfly_seed_peer_image_tag": "latest"}, "is not pinned"),
    (SEED, {"dragonfly_seed_peer_image": "dragonflyoss/client", "dragonfly_seed_peer_image_tag": "v1.5.10",
            "dragonfly_seed_peer_cache_min_free_mb": 10 ** 9}, "below the required"),
    # Whole-filesystem collection on a filesystem (this one) already past the high percentage.
    (SEED, {"dragonfly_seed_peer_gc_disk_threshold": "", "dragonfly_seed_peer_gc_disk_high_threshold_percent": 2,
            "dragonfly_seed_peer_gc_disk_low_threshold_percent": 1}, "would evict every cached task at start"),
    (SEED, {"dragonfly_seed_peer_gc_disk_threshold": "lots"}, "it must be empty or a size such as"),
    # TEST-NET-1: no host has it.
    (MANAGER, {"dragonfly_bind_address": "192.0.2.1"}, "is not an address of"),
    (MANAGER, {"dragonfly_manager_rest_bind_address": "192.0.2.1"}, "TLS port could not bind to it"),
    (MANAGER, {"dragonfly_manager_tls_certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"},
     "give dragonfly_manager_tls_certificate"),
    (SEED, {"dragonfly_seed_peer_gc_disk_low_threshold_percent": 80}, "(1 to below the high one)"),
    (SEED, {"dragonfly_healthcheck_interval": "10"}, "must be durations with a unit, such as 10s"),
])
def test_preflight_refuses_and_changes_nothing(playbook_runner, tmp_path, role, bad, message):
    play, project = role
    base = str(tmp_path / "base")
    before = docker_containers("com.docker.compose.project=" + project)
    rc, out = playbook_runner(play, extra_vars=dict(COMMON, dragonfly_base_dir=base, **bad))
    assert rc != 0, out
    assert message in out, out
    assert_nothing_changed(base, project, before)


def test_manager_host_without_the_cryptography_library_is_refused(playbook_runner, tmp_path):
    """A Python without the cryptography library, as on a manager host that lacks python3-cryptography: the role could
    not generate its proxy's certificate. -S leaves out every site directory; Ansible wants the interpreter as one path,
    hence the wrapper. The contrast is test_valid_input_passes_preflight_and_check_mode_changes_nothing: the same
    preflight with this venv's Python, which has the library, passes."""
    python = tmp_path / "python3-without-site"
    python.write_text("#!/bin/sh\nexec /usr/bin/python3 -S \"$@\"\n")
    python.chmod(0o755)
    play, project = MANAGER
    base = str(tmp_path / "base")
    before = docker_containers("com.docker.compose.project=" + project)
    rc, out = playbook_runner(play, extra_vars=dict(COMMON, dragonfly_base_dir=base, ansible_python_interpreter=str(python)))
    assert rc != 0, out
    assert "needs the Python library cryptography 3.3 or newer" in out and "python3-cryptography" in out, out
    assert_nothing_changed(base, project, before)


def test_old_compose_plugin_is_refused(playbook_runner, tmp_path):
    env = fake_docker(tmp_path, "compose version --short", "2.17.0")
    base = str(tmp_path / "base")
    before = docker_containers("com.docker.compose.project=%s-manager" % PREFIX)
    rc, out = playbook_runner(MANAGER_PLAY, extra_vars=dict(COMMON, dragonfly_base_dir=base), env=env)
    assert rc != 0, out
    assert "docker compose v2 plugin 2.18.0 or newer is required" in out and "found: 2.17.0" in out, out
    # The message says what to install and from where.
    assert "docker-compose-plugin from Docker's apt repository" in " ".join(out.split()), out
    assert_nothing_changed(base, PREFIX + "-manager", before)


@pytest.mark.parametrize("settings", [
    {},
    # The disk usage check's contrast: the same filesystem passes below a high percentage it has not reached.
    {"dragonfly_seed_peer_gc_disk_threshold": "", "dragonfly_seed_peer_gc_disk_high_threshold_percent": 99},
], ids=["own-capacity", "whole-filesystem"])
def test_valid_input_passes_preflight_and_check_mode_changes_nothing(playbook_runner, tmp_path, settings):
    # The contrast to the refusals above: valid input passes every check, and check mode predicts
    # changes without making any.
    base = str(tmp_path / "base")
    before = docker_containers("com.docker.compose.project=%s-seed-peer" % PREFIX)
    rc, out = playbook_runner(SEED_PLAY, extra_vars=dict(COMMON, dragonfly_base_dir=base, **settings), check=True)
    assert rc == 0, out
    assert "changed=0" not in out, out
    assert_nothing_changed(base, PREFIX + "-seed-peer", before)


def test_health_checks_start_every_second_where_the_engine_has_start_interval(playbook_runner, tmp_path):
    """Docker Engine 25 (API 1.44) checks a starting container every dragonfly_healthcheck_start_interval: the compose
    file the seed peer role would write (check mode, diff) has it. The contrast is this host's engine (Debian 12's
    20.10, API 1.41), for which compose would refuse the setting: the same run leaves it out. Both keep the 10 s
    interval once healthy and give the start dragonfly_wait_timeout seconds."""
    found = {}
    for engine, env in (("1.44", fake_docker(tmp_path, "version --format {{.Server.APIVersion}}", "1.44")), ("this host's", None)):
        base = str(tmp_path / "base")
        rc, out = playbook_runner(SEED_PLAY, extra_vars=dict(COMMON, dragonfly_base_dir=base, dragonfly_wait_timeout=240),
                                  check=True, env=env)
        assert rc == 0, out
        assert "interval: 10s" in out and "retries: 3" in out and "start_period: 240s" in out, out[-4000:]
        found[engine] = "start_interval: 1s" in out
    assert found == {"1.44": True, "this host's": False}, found
