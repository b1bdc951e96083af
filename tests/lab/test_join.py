"""A peer host and a seed peer host join the deployed lab with `site.yml --limit` (issue 15), over SSH.

Two new hosts (tests/lab/joining.yml, made by `lab.py up` with that file as an extra inventory) join with a run that
leaves the manager and scheduler hosts out: the roles read the deployed manager's endpoint on its host. Then:
- the contrast first: the same --limit run with that step skipped (the tag manager_endpoint) fails, saying the run
  does not know the manager, before it changes anything on the new host;
- the join changes only the two new hosts, each of them converges (the seed peer's verification includes its
  registration with the manager at its own address);
- the new peer's containerd, wired by the peer role, pulls the preheated image through its proxy and the origin
  sends no blob body for it: the pieces come from the seed peers or the other peers;
- a preheat with all_seed_peers then lands on the three seed hosts (the report names their addresses), verify.yml
  passes on them, and this test reads the new seed's cache over SSH.
The new hosts are removed at the end (remove.yml with purge, then `lab.py rm`), so the lab is the inventory's again.
"""
import json
import os
import subprocess
import sys

import pytest
import yaml

import lab
from conftest import FILE, IMAGE, PLATFORM, SEED_CACHE, SITE, body_bytes, preheat_vars

JOINING = os.path.join(os.path.dirname(os.path.abspath(__file__)), "joining.yml")


def joining_hosts():
    """{group: {host: address}} of tests/lab/joining.yml."""
    with open(JOINING) as handle:
        children = yaml.safe_load(handle)["all"]["children"]
    return {group: {host: settings["ansible_host"] for host, settings in content["hosts"].items()}
            for group, content in children.items()}


@pytest.fixture(name="joining")
def joining_fixture(fleet):
    """The joining hosts up (only the lab's inventory hosts before), known to the Fleet while the test runs, and gone
    after it together with what the roles deployed on them."""
    groups = joining_hosts()
    hosts = {host: address for members in groups.values() for host, address in members.items()}
    assert not set(hosts) & set(fleet.hosts), "the joining hosts must be new to the lab"
    result = subprocess.run([sys.executable, lab.__file__, "up"], capture_output=True, text=True, check=False,
                            env=dict(os.environ, P2P_FLEET_EXTRA_INVENTORY=JOINING))
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    fleet.hosts.update(hosts)
    try:
        yield groups
    finally:
        rc, output, dummy = fleet.playbook("playbooks/remove.yml", "dragonfly_purge=true", limit=",".join(hosts),
                                           inventories=[JOINING])
        for host in hosts:
            del fleet.hosts[host]
        subprocess.run([sys.executable, lab.__file__, "rm", *sorted(hosts)], check=True, capture_output=True)
        assert rc == 0, output[-4000:]


@pytest.mark.usefixtures("preheated")
def test_a_peer_and_a_seed_host_join_with_limit_and_without_the_manager_host(fleet, joining, tmp_path):
    [peer] = joining["dragonfly_peer"]
    [seed] = joining["dragonfly_seed_peer"]
    limit = "%s,%s" % (peer, seed)

    rc, output, dummy = fleet.playbook(SITE, limit=peer, inventories=[JOINING], options=["--skip-tags=manager_endpoint"])
    assert rc != 0 and "does not know the manager" in output, output[-4000:]
    assert fleet.ssh(peer, "test -e /opt/dragonfly && echo present || echo absent").strip() == "absent", \
        "the refused run changed something on %s" % peer

    rc, output, found = fleet.playbook(SITE, limit=limit, inventories=[JOINING])
    assert rc == 0, output[-8000:]
    assert set(found) == {peer, seed}, "hosts in the run: %s" % sorted(found)
    for host, counters in found.items():
        assert counters["changed"] > 0 and counters["failed"] == 0, (host, counters)
    assert "Read the deployed manager's endpoint on its host" in output, output[-4000:]

    # The new peer pulls the preheated image through its own proxy: no blob body from the origin.
    blobs = fleet.blobs(IMAGE, PLATFORM)
    before = len(fleet.origin_requests())
    pulled = fleet.pull([peer], IMAGE, PLATFORM)
    sent = fleet.origin_sent(before, blobs)
    for blob in blobs:
        assert body_bytes(sent[blob["digest"]]) == 0, "the origin served %s to the new peer: %s\n%s" % (
            blob["digest"], sent[blob["digest"]], pulled)
    fleet.assert_peers_cached([peer], blobs)

    # A preheat with all_seed_peers covers the new seed host; verify.yml too, and this test's own look at its cache.
    seeds = sorted(fleet.group("dragonfly_seed_peer")) + [seed]
    rc, output, found = fleet.playbook("playbooks/preheat.yml", preheat_vars(tmp_path / "preheat.json"),
                                       inventories=[JOINING])
    assert rc == 0, output[-8000:]
    report = json.loads((tmp_path / "preheat.json").read_text())
    assert report["ok"], report
    assert sorted(entry["ip"] for entry in report["seed_peers"]) == sorted(fleet.hosts[host] for host in seeds), report
    rc, output, found = fleet.playbook("playbooks/verify.yml", preheat_vars(tmp_path / "verify.json"),
                                       inventories=[JOINING])
    assert rc == 0, output[-8000:]
    assert "OK   %s-seed-peer" % seed in output, output[-4000:]
    wanted = {blob["digest"].split(":", 1)[1] for blob in blobs} | {fleet.content["files"][FILE]["sha256"]}
    missing = wanted - fleet.cached_digests(seed, SEED_CACHE)
    assert not missing, "the cache of %s misses %s" % (seed, sorted(missing))
