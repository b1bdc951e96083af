"""upgrade.yml rolls across the hosts group by group (issue 15), on the fleet lab (tests/lab/README.md).

Runs only where an older release set is built beside the default one (`tests/images/build.sh 2.5.1`: client 1.4.2,
about 35 minutes cold; CI builds the default set only), and last: it redeploys the seed peers and peers.
- The seed peers and peers are removed with their caches and deployed again with the older set (its client), and the
  test image is preheated on both seed peers by that client.
- upgrade.yml to the default set: every seed peer and peer host then runs the default set's client, and the engines'
  events show the order: a seed peer's dfdaemon is stopped only after the one before it runs again (serial: 1), and
  a peer's only after the previous batch's runs again (dragonfly_upgrade_peer_batch, 25 % of four: one at a time).
- verify.yml passes on both seed peers: the newer client serves what the older one cached.
- The contrast: upgrade.yml back to the older set is refused as a downgrade and changes no container.
"""
import re
import time

import pytest

import lab
from conftest import PEER_DFDAEMON, SEED_DFDAEMON, SITE, preheat_vars
from p2p_lab import roles

OLDER = "2.5.1"  # the older client (1.4.2) with the same manager and scheduler
DFDAEMON = {"dragonfly_seed_peer": SEED_DFDAEMON, "dragonfly_peer": PEER_DFDAEMON}


def client_image(release_set):
    return "dragonflyoss/client:" + roles.release_set(release_set)["client"]


def dfdaemon_images(fleet):
    """{host: image of its dfdaemon container} on every seed peer and peer host."""
    found = {}
    for group, container in DFDAEMON.items():
        for host in fleet.group(group):
            found[host] = fleet.ssh(host, "sudo docker inspect -f '{{.Config.Image}}' %s" % container).strip()
    return found


def dfdaemon_events(fleet, host, container, since, until):
    """[(time, action)] of a host's dfdaemon container between two Unix times: die and start, oldest first."""
    listing = fleet.ssh(host, "sudo docker events --since %d --until %d --filter type=container --filter event=die "
                              "--filter event=start --filter container=%s --format '{{.TimeNano}} {{.Action}}'"
                        % (since, until, container))
    return [(int(stamp) / 1e9, action) for stamp, action in (line.split() for line in listing.splitlines() if line)]


def test_upgrade_rolls_host_by_host_and_keeps_the_cache(fleet, tmp_path):
    if lab.docker("image", "inspect", client_image(OLDER), check=False).returncode != 0:
        pytest.skip("release set %s is not built here: tests/images/build.sh %s (about 35 min cold)" % (OLDER, OLDER))
    older, target = "dragonfly_release_set=" + OLDER, "dragonfly_release_set=" + roles.default_release_set()
    clients = "%s:%s" % tuple(DFDAEMON)

    rc, output, dummy = fleet.playbook("playbooks/remove.yml", "dragonfly_purge=true", limit=clients)
    assert rc == 0, output[-6000:]
    rc, output, dummy = fleet.playbook(SITE, older)
    assert rc == 0, output[-8000:]
    assert set(dfdaemon_images(fleet).values()) == {lab.MIRROR + "/" + client_image(OLDER)}, dfdaemon_images(fleet)
    # The release set tells the preheat which client computes the task IDs on the seed peers.
    rc, output, dummy = fleet.playbook("playbooks/preheat.yml", preheat_vars(tmp_path / "older.json", files=()), older)
    assert rc == 0, output[-8000:]
    fleet.preheated = False  # the suite's file went with the purge

    since = int(time.time()) - 1
    rc, output, dummy = fleet.playbook("playbooks/upgrade.yml", target)
    assert rc == 0, output[-8000:]
    until = int(time.time()) + 1
    images = dfdaemon_images(fleet)
    assert set(images.values()) == {lab.MIRROR + "/" + client_image(roles.default_release_set())}, images

    # One host (seed peers) or one batch of one (peers) after the other, in the inventory's order: each dfdaemon is
    # stopped only after the one before it started again.
    for group, container in DFDAEMON.items():
        hosts = sorted(fleet.group(group))
        events = {host: dfdaemon_events(fleet, host, container, since, until) for host in hosts}
        for host in hosts:
            actions = [action for dummy, action in events[host]]
            assert actions[:1] == ["die"] and actions[-1:] == ["start"], (host, events[host])
        for previous, host in zip(hosts, hosts[1:]):
            stopped = min(stamp for stamp, action in events[host] if action == "die")
            started = max(stamp for stamp, action in events[previous] if action == "start")
            assert stopped > started, "%s stopped at %.1f, before %s ran again at %.1f: not one at a time" % (
                host, stopped, previous, started)
    assert re.search(r"PLAY \[Upgrade the Dragonfly seed peers, one host at a time\]", output)

    rc, output, dummy = fleet.playbook("playbooks/verify.yml", preheat_vars(tmp_path / "verify.json", files=()))
    assert rc == 0, output[-8000:]

    rc, output, dummy = fleet.playbook("playbooks/upgrade.yml", older)
    assert rc != 0 and "that is a downgrade" in output and "Nothing was changed" in output, output[-6000:]
    assert dfdaemon_images(fleet) == images
