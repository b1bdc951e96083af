"""The collection on several hosts over SSH (issue 15): inventories/lab on the fleet lab (tests/lab/README.md).

In order, on one lab: site.yml converges; a second run changes nothing on any host; a preheat with scope
all_seed_peers lands on both seed hosts (the playbook's own report, then verify.yml, then this test's own reading of
each seed's cache over SSH).
"""
import json
import time

import lab
from conftest import FILE, IMAGE, PLATFORM, SEED_CACHE, SITE, preheat_vars, timed


def every_host_ok(fleet, recap_found, output):
    assert set(recap_found) == set(fleet.hosts), "hosts in the recap: %s\n%s" % (sorted(recap_found), output[-3000:])
    for host, counters in recap_found.items():
        assert counters["failed"] == 0 and counters["unreachable"] == 0, "%s: %s\n%s" % (host, counters, output[-6000:])


def test_site_converges_over_ssh(fleet):
    started = time.time()
    rc, output, found = fleet.playbook(SITE)
    timed("site.yml, first run", started)
    assert rc == 0, output[-8000:]
    every_host_ok(fleet, found, output)
    # Every host runs its components from images its own engine pulled from the mirror, and has no other image.
    for host in fleet.hosts:
        running = fleet.ssh(host, "sudo docker ps --format '{{.Image}}'").split()
        pulled = fleet.ssh(host, "sudo docker images --format '{{.Repository}}:{{.Tag}}'").split()
        assert running and set(running) <= set(pulled), (host, running, pulled)
        assert all(image.startswith(lab.MIRROR + "/") for image in pulled), (host, pulled)


def test_second_run_changes_nothing(fleet):
    started = time.time()
    rc, output, found = fleet.playbook(SITE)
    timed("site.yml, second run", started)
    assert rc == 0, output[-8000:]
    every_host_ok(fleet, found, output)
    changed = {host: counters["changed"] for host, counters in found.items() if counters["changed"]}
    assert not changed, "changed on a second run: %s\n%s" % (changed, output[-8000:])


def test_preheat_lands_on_both_seed_hosts(fleet, tmp_path):
    seeds = sorted(fleet.group("dragonfly_seed_peer"))
    assert len(seeds) == 2
    started = time.time()
    rc, output, found = fleet.playbook("playbooks/preheat.yml", preheat_vars(tmp_path / "preheat.json"))
    timed("preheat.yml (all_seed_peers)", started)
    assert rc == 0, output[-8000:]
    assert set(found) == {fleet.group("dragonfly_manager")[0]} | set(seeds), found
    report = json.loads((tmp_path / "preheat.json").read_text())
    assert report["ok"] and report["scope"] == "all_seed_peers", report
    assert sorted(seed["ip"] for seed in report["seed_peers"]) == sorted(fleet.hosts[seed] for seed in seeds)
    fleet.preheated = True

    started = time.time()
    rc, output, found = fleet.playbook("playbooks/verify.yml", preheat_vars(tmp_path / "verify.json"))
    timed("verify.yml", started)
    assert rc == 0, output[-8000:]
    assert all(counters["changed"] == 0 for counters in found.values()), found
    assert json.loads((tmp_path / "verify.json").read_text())["ok"]

    # This test's own look, over SSH: the sha256 of every file in each seed's cache must include every blob of the
    # image's linux/amd64 manifest and the file, whatever the playbooks computed.
    manifest = fleet.content["images"][IMAGE]["platforms"][PLATFORM]
    wanted = {blob["digest"].split(":", 1)[1] for blob in manifest["blobs"]} | {fleet.content["files"][FILE]["sha256"]}
    for seed in seeds:
        found_digests = fleet.cached_digests(seed, SEED_CACHE)
        assert wanted <= found_digests, "%s misses %s" % (seed, sorted(wanted - found_digests))
