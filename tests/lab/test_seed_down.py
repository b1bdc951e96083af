"""One seed host's seed peer stopped (issue 15), on the fleet lab (tests/lab/README.md).

The dfdaemon container of the second seed host is stopped (`docker stop`, as an operator or a crash would leave it;
the host itself stays reachable). Then:
- preheat.yml with all_seed_peers fails, and its failure names that seed host (its address: the module's check of
  the job's false success, dragonfly issue 3699); verify.yml then names it among the seed peers lacking the content;
- preheat.yml on a group naming the live seed host only (`dragonfly_seed_peer_group`, so the preheat's `ips` are the
  live one's) succeeds: the content is on the live seed;
- nothing else changed: every container of every host is the one that ran before, started at the same time (the
  stopped one excepted), and the stopped seed's cache holds what it held;
- site.yml heals it: only that host changes, the earlier preheated content verifies on both seed hosts again, and a
  preheat with all_seed_peers lands on both.
"""
import json
import re

import pytest

from conftest import SEED_CACHE, SEED_DFDAEMON as DFDAEMON, SITE, preheat_vars

# Preheated by no other test: one image for the failing preheat, another for the one on the live seed only (so that
# its success is a preheat, not the failing run's leftovers found cached).
FAILING_IMAGE, LIVE_IMAGE = "p2p-test/parallel:1.0", "p2p-test/parallel:2.0"
TIMEOUT = 300  # dragonfly_preheat_timeout of the failing preheat: seconds per image


def containers(fleet, host):
    """Every container of a host's engine: {name: (id, status, started at)}."""
    found = {}
    listing = fleet.ssh(host, "sudo docker ps -aq --no-trunc | xargs -r sudo docker inspect -f "
                              "'{{.Name}} {{.Id}} {{.State.Status}} {{.State.StartedAt}}'")
    for line in listing.splitlines():
        name, container_id, status, started = line.split()
        found[name.lstrip("/")] = (container_id, status, started)
    return found


@pytest.mark.usefixtures("preheated")
def test_one_seed_host_stopped(fleet, tmp_path):
    live, down = sorted(fleet.group("dragonfly_seed_peer"))
    before = {host: containers(fleet, host) for host in fleet.hosts}
    down_cache = fleet.cached_digests(down, SEED_CACHE)

    fleet.ssh(down, "sudo docker stop %s" % DFDAEMON)
    rc, output, dummy = fleet.playbook("playbooks/preheat.yml", dict(
        preheat_vars(tmp_path / "all.json", images=[FAILING_IMAGE], files=()), dragonfly_preheat_timeout=TIMEOUT))
    assert rc != 0, "a preheat with all_seed_peers passed with the seed peer of %s stopped:\n%s" % (
        down, output[-6000:])
    failure = "\n".join(line for line in output.splitlines() if "fatal:" in line)
    # The module's words for a task the job left unfinished on requested seed peers: "not finished on <ip>[, <ip>]".
    unfinished = {ip for found in re.findall(r"not finished on ((?:\d+\.\d+\.\d+\.\d+(?:, )?)+)", failure)
                  for ip in found.split(", ")}
    assert unfinished == {fleet.hosts[down]}, "the failure does not name %s (%s) alone: %s\n%s" % (
        down, fleet.hosts[down], unfinished, output[-6000:])

    # verify.yml names it too: the failed job's content is on the live seed only.
    rc, output, dummy = fleet.playbook("playbooks/verify.yml", preheat_vars(
        tmp_path / "down.json", images=[FAILING_IMAGE], files=()))
    missing = json.loads((tmp_path / "down.json").read_text())["missing"]
    assert rc != 0 and len(missing) == 1, (missing, output[-6000:])
    assert "not on %s-seed-peer (%s)" % (down, fleet.hosts[down]) in missing[0], missing
    assert fleet.hosts[live] not in missing[0], missing

    # The live seed host alone: a group of its own for the playbook (its `ips` are then the live seed's only).
    live_group = tmp_path / "live-seed.yml"
    live_group.write_text(json.dumps({"all": {"children": {"live_seed_peers": {"hosts": {live: {}}}}}}))
    rc, output, found = fleet.playbook("playbooks/preheat.yml", dict(
        preheat_vars(tmp_path / "live.json", images=[LIVE_IMAGE], files=()),
        dragonfly_seed_peer_group="live_seed_peers"), inventories=[live_group])
    assert rc == 0, output[-8000:]
    assert down not in found, found
    report = json.loads((tmp_path / "live.json").read_text())
    assert report["ok"] and [seed["ip"] for seed in report["seed_peers"]] == [fleet.hosts[live]], report

    after = {host: containers(fleet, host) for host in fleet.hosts}
    stopped = before[down].pop(DFDAEMON), after[down].pop(DFDAEMON)
    assert stopped[1][1] == "exited" and stopped[0][0] == stopped[1][0], stopped
    for host in fleet.hosts:
        assert after[host] == before[host], "%s changed: %s -> %s" % (host, before[host], after[host])
    assert fleet.cached_digests(down, SEED_CACHE) == down_cache

    # Healed by the next site.yml: only the stopped seed's host changes.
    rc, output, found = fleet.playbook(SITE)
    assert rc == 0, output[-8000:]
    changed = {host for host, counters in found.items() if counters["changed"]}
    assert changed == {down}, "changed: %s\n%s" % (changed, output[-8000:])
    assert containers(fleet, down)[DFDAEMON][1] == "running"
    rc, output, found = fleet.playbook("playbooks/verify.yml", preheat_vars(tmp_path / "verify.json"))
    assert rc == 0, output[-8000:]
    assert json.loads((tmp_path / "verify.json").read_text())["ok"]
    rc, output, found = fleet.playbook("playbooks/preheat.yml", preheat_vars(
        tmp_path / "healed.json", images=[FAILING_IMAGE, LIVE_IMAGE], files=()))
    assert rc == 0, output[-8000:]
    report = json.loads((tmp_path / "healed.json").read_text())
    assert report["ok"] and len(report["seed_peers"]) == 2, report
