"""Every peer host pulls through its own proxy (issue 15), on the fleet lab (tests/lab/README.md).

Each peer host's containerd was wired by the peer role (/etc/containerd/certs.d/<origin registry>/hosts.toml names the
host's dfdaemon proxy, 127.0.0.1:4001); the pulls here run `ctr images pull --hosts-dir` on the peer hosts over SSH,
all four at the same time. The witness is the origin registry's access log, read on the origin host: what it sent
for each blob, and to whom.

- After a preheat with all_seed_peers (test_fleet.py), no blob request at the origin carries more than one byte: the
  client's `Range: bytes=0-0` probe per blob and task (upstream behaviour, tests/e2e/test_runtime_pull.py) is all the
  origin sees; the pieces came from the seed peers or the other peers. Every peer's cache holds every blob.
- An image nobody preheated: the origin sends each blob's bytes once for the four peers, not once per peer.
- The contrast of both: two peers pulling straight from the origin (no hosts directory) make it send each blob twice,
  so the counting sees per-peer downloads when there are some.
"""
import pytest

import lab
from conftest import HOSTS_DIR, IMAGE, PLATFORM, PROXY, body_bytes

# Not preheated by any test: the other platform of the preheated image (other blobs), and a small image.
COLD_IMAGE, COLD_PLATFORM = IMAGE, "linux/arm64/v8"
DIRECT_IMAGE, DIRECT_PLATFORM = "p2p-test/small:1.0", "linux/amd64"


@pytest.mark.usefixtures("preheated")
def test_peer_role_wired_every_containerd(fleet):
    for peer in fleet.group("dragonfly_peer"):
        hosts_toml = fleet.ssh(peer, "sudo cat %s/%s/hosts.toml" % (HOSTS_DIR, lab.ORIGIN_REGISTRY))
        assert 'server = "http://%s"' % lab.ORIGIN_REGISTRY in hosts_toml, (peer, hosts_toml)
        assert '[host."http://%s"]' % PROXY in hosts_toml, (peer, hosts_toml)


@pytest.mark.usefixtures("preheated")
def test_every_peer_pulls_the_preheated_image_through_its_proxy(fleet):
    peers = sorted(fleet.group("dragonfly_peer"))
    blobs = fleet.blobs(IMAGE, PLATFORM)
    before = len(fleet.origin_requests())
    outputs = fleet.pull(peers, IMAGE, PLATFORM)
    sent = fleet.origin_sent(before, blobs)
    for blob in blobs:
        downloads = [request for request in sent[blob["digest"]] if request[1] > 1]
        assert not downloads, "the origin served %s (%d bytes) after the preheat: %s\n%s" % (
            blob["digest"], blob["size"], sent[blob["digest"]], outputs)
    fleet.assert_peers_cached(peers, blobs)


@pytest.mark.usefixtures("preheated")
def test_an_image_nobody_preheated_leaves_the_origin_once(fleet):
    peers = sorted(fleet.group("dragonfly_peer"))
    blobs = fleet.blobs(COLD_IMAGE, COLD_PLATFORM)
    before = len(fleet.origin_requests())
    fleet.pull(peers, COLD_IMAGE, COLD_PLATFORM)
    sent = fleet.origin_sent(before, blobs)
    for blob in blobs:
        assert body_bytes(sent[blob["digest"]]) == blob["size"], (
            "%s (%d bytes): the origin sent %d bytes for %d peers: %s" % (
                blob["digest"], blob["size"], body_bytes(sent[blob["digest"]]), len(peers), sent[blob["digest"]]))
    fleet.assert_peers_cached(peers, blobs)


@pytest.mark.usefixtures("preheated")
def test_direct_pulls_leave_the_origin_once_per_peer(fleet):
    """The contrast: without the proxy the same count shows each peer's own download."""
    peers = sorted(fleet.group("dragonfly_peer"))[:2]
    blobs = fleet.blobs(DIRECT_IMAGE, DIRECT_PLATFORM)
    before = len(fleet.origin_requests())
    fleet.pull(peers, DIRECT_IMAGE, DIRECT_PLATFORM, through_proxy=False)
    sent = fleet.origin_sent(before, blobs)
    for blob in blobs:
        assert body_bytes(sent[blob["digest"]]) == len(peers) * blob["size"], (blob, sent[blob["digest"]])
        assert {request[2] for request in sent[blob["digest"]]} == {fleet.hosts[peer] for peer in peers}, sent
