# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): K peer hosts of the fleet lab pull the large test image at the same time, with the origin's
egress limited, directly and through Dragonfly, in one run.

    .venv/bin/python benchmarks/fleet.py [--rate 200mbit] [--peers 1,2,4,8] [--keep] [--out docs/dev]
    PYTHON-WITH-MATPLOTLIB benchmarks/fleet_plot.py RESULTS.json PNG   (the plot alone, from a run's results)

It runs on the fleet lab (tests/lab/README.md; root, a checkout where scripts/bootstrap.sh and tests/images/build.sh
have run), with four more peer hosts than inventories/lab has (benchmarks/fleet-peers.yml: node-5 to node-8, for
K = 8): `tests/lab/lab.py up` with them, site.yml over both inventories, then the rows, then `lab.py down` (--keep
leaves the lab). Do not run it beside the lab gate or the molecule scenario multihost: the same lab.

The origin host's egress is limited with `tc` (a token bucket on its interface, inside its lab container) so that
the origin is the bottleneck, as a site's registry behind its uplink is. For each mode and K, the K peer hosts run
`ctr images pull` of p2p-test/large:1.0 (linux/amd64: an 8 MiB and a 256 MiB layer) at the same time, over SSH:

    direct      containerd pulls from the origin itself (`--plain-http`, no hosts directory).
    preheated   through each host's dfdaemon proxy (`--hosts-dir /etc/containerd/certs.d`, the peer role's wiring),
                after playbooks/preheat.yml with all_seed_peers put the image on both seed peers.
    cold        through the proxies, nothing preheated: the seed peers and peers fetch from the origin as they need.

Each row pulls a repository of its own (p2p-bench/large-<mode>-k<K>-<run>, the same blobs mounted from
p2p-test/large in the origin registry): the blob URLs, and so Dragonfly's task IDs, are new, and nothing any earlier
row cached is found. Per row: the wall time from the start until the last host has the image (pull and unpack), the
bytes of blob content the origin sent (its registry's access log: every blob response but the one-byte probes), the
bytes that left the origin's interface (tc's counter: HTTP, TCP and IP overhead included), and for `preheated` the
preheat's own time and origin bytes. The run writes RESULTS (JSON), a Markdown table and the PNG plot (time and
origin bytes against K) into --out: fleet-benchmark.{json,md,png}.

The plot needs matplotlib, which is not a requirement of the collection nor of the test venv; install it in a venv of
its own and name its python in FLEET_PLOT_PYTHON (or run benchmarks/fleet_plot.py with it):

    python3 -m venv /var/cache/p2p-dragonfly/bench-plot-venv
    /var/cache/p2p-dragonfly/bench-plot-venv/bin/pip install -r benchmarks/requirements-plot.txt
    FLEET_PLOT_PYTHON=/var/cache/p2p-dragonfly/bench-plot-venv/bin/python .venv/bin/python benchmarks/fleet.py
"""

from __future__ import absolute_import, division, print_function

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
EXTRA_PEERS = os.path.join(HERE, "fleet-peers.yml")
# tests/lab/lab.py reads it when imported: the lab with the four more peers.
os.environ["P2P_FLEET_EXTRA_INVENTORY"] = EXTRA_PEERS
sys.path.insert(0, os.path.join(REPO, "tests", "lab"))

import testlib  # noqa: E402 puts tests/lib on sys.path; pylint: disable=unused-import,wrong-import-position
import lab  # noqa: E402 pylint: disable=wrong-import-position
from p2p_lab import collection as checkout  # noqa: E402 pylint: disable=wrong-import-position
from p2p_lab.registry_log import parse_completed  # noqa: E402 pylint: disable=wrong-import-position

IMAGE_REPO, IMAGE_TAG, PLATFORM = "p2p-test/large", "1.0", "linux/amd64"
HOSTS_DIR = "/etc/containerd/certs.d"
ORIGIN_REGISTRY_CONTAINER = "p2p-fleet-origin-registry-1"  # tests/lab/origin/compose.yaml
ORIGIN_INTERFACE = "eth0"  # the origin lab container's interface on the lab network
MODES = ("direct", "preheated", "cold")
MIB = 1024 * 1024
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def log(message):
    sys.stderr.write("[%s] fleet: %s\n" % (time.strftime("%H:%M:%S"), message))
    sys.stderr.flush()


class BenchmarkError(Exception):
    pass


# ------------------------------------------------------------------------------------------------- the lab
def playbook(name, log_dir, extra=None):
    """ansible-playbook NAME over inventories/lab and the four more peers; the output is kept in log_dir."""
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", lab.INVENTORY,
               "-i", EXTRA_PEERS, os.path.join(REPO, name)]
    if extra:
        command += ["-e", json.dumps(extra)]
    started = time.monotonic()
    result = subprocess.run(command, cwd=REPO, env=checkout.ansible_env(ANSIBLE_FORCE_COLOR="0"),
                            capture_output=True, text=True, check=False)
    path = os.path.join(log_dir, "%s-%s.log" % (time.strftime("%H%M%S"), os.path.basename(name)))
    with open(path, "w") as handle:
        handle.write(result.stdout + result.stderr)
    if result.returncode:
        raise BenchmarkError("%s failed (output in %s):\n%s" % (name, path, (result.stdout + result.stderr)[-3000:]))
    return time.monotonic() - started


def peer_hosts():
    data = json.loads(lab.run(os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", lab.INVENTORY,
                              "-i", EXTRA_PEERS, "--list").stdout)
    return sorted(data["dragonfly_peer"]["hosts"], key=lambda name: int(name.rsplit("-", 1)[1]))


def origin(command, check=True):
    return lab.ssh(lab.ORIGIN_IP, command, check=check)


def limit_egress(rate):
    # A token bucket on the origin's interface: everything the origin sends (registry, file server) leaves at `rate`.
    origin("sudo tc qdisc replace dev %s root tbf rate %s burst 256kb latency 200ms" % (ORIGIN_INTERFACE, rate))


def clear_egress():
    origin("sudo tc qdisc del dev %s root" % ORIGIN_INTERFACE, check=False)


def egress_bytes():
    """Bytes that left the origin's interface through the token bucket since it was set."""
    found = re.search(r"Sent (\d+) bytes", origin("sudo tc -s qdisc show dev %s" % ORIGIN_INTERFACE).stdout)
    if not found:
        raise BenchmarkError("no tc counter on the origin's %s" % ORIGIN_INTERFACE)
    return int(found.group(1))


def origin_requests():
    result = origin("sudo docker logs %s" % ORIGIN_REGISTRY_CONTAINER)
    return parse_completed(result.stdout + result.stderr)


def blob_bytes(entries, repository):
    """Bytes of blob content the origin sent for a repository, and to whom: every response but the one-byte probes."""
    sent, receivers = 0, {}
    for entry in entries:
        written = int(entry.get("http.response.written", 0))
        if entry["path"].startswith("/v2/%s/blobs/" % repository) and written > 1:
            sent += written
            address = entry.get("http.request.remoteaddr", "").rsplit(":", 1)[0]
            receivers[address] = receivers.get(address, 0) + written
    return sent, receivers


# --------------------------------------------------------------------------------------------- the content
def registry(method, path, data=None, headers=None):
    request = urllib.request.Request("http://%s%s" % (lab.ORIGIN_REGISTRY, path), data=data, method=method,
                                     headers=headers or {})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, response.read()


def image_blobs():
    """The large image's manifest (bytes) and its blobs, read from the origin registry (the lab's test content)."""
    status, body = registry("GET", "/v2/%s/manifests/%s" % (IMAGE_REPO, IMAGE_TAG), headers={"Accept": MANIFEST})
    manifest = json.loads(body)
    if status != 200 or manifest.get("mediaType", MANIFEST) != MANIFEST:
        raise BenchmarkError("%s:%s is not a single OCI manifest in the origin" % (IMAGE_REPO, IMAGE_TAG))
    return body, [manifest["config"]] + manifest["layers"]


def alias(repository, manifest, blobs):
    """The large image again as repository:1.0 in the origin registry: its blobs mounted, not copied."""
    for blob in blobs:
        status, dummy = registry("POST", "/v2/%s/blobs/uploads/?mount=%s&from=%s" % (repository, blob["digest"],
                                                                                     IMAGE_REPO), data=b"")
        if status != 201:
            raise BenchmarkError("mounting %s into %s: HTTP %d" % (blob["digest"], repository, status))
    registry("PUT", "/v2/%s/manifests/%s" % (repository, IMAGE_TAG), data=manifest,
             headers={"Content-Type": MANIFEST})
    return "%s/%s:%s" % (lab.ORIGIN_REGISTRY, repository, IMAGE_TAG)


# ------------------------------------------------------------------------------------------------ the rows
def pull_at_once(hosts, reference, direct):
    """`ctr images pull` on every host at the same time; seconds until the last one has the image, and each's."""
    registry_args = "--plain-http" if direct else "--hosts-dir " + HOSTS_DIR
    command = "sudo ctr images pull %s --platform %s %s" % (registry_args, PLATFORM, reference)
    started = time.monotonic()

    def pull(host):
        result = lab.ssh(lab_hosts()[host], command, check=False, timeout=1800)
        if result.returncode:
            raise BenchmarkError("%s on %s: %s" % (command, host, (result.stdout + result.stderr)[-1500:]))
        return time.monotonic() - started

    with concurrent.futures.ThreadPoolExecutor(len(hosts)) as pool:
        each = list(pool.map(pull, hosts))
    return time.monotonic() - started, each


def remove_image(hosts, reference):
    for host in hosts:
        lab.ssh(lab_hosts()[host], "sudo ctr images rm --sync %s" % reference, check=False)


_HOSTS = []


def lab_hosts():
    if not _HOSTS:
        _HOSTS.append(lab.inventory_hosts())
    return _HOSTS[0]


def run_row(mode, k, peers, run_id, content, log_dir):
    manifest, blobs = content
    repository = "p2p-bench/large-%s-k%d-%s" % (mode, k, run_id)
    reference = alias(repository, manifest, blobs)
    row = {"mode": mode, "k": k, "image": reference, "image_bytes": sum(blob["size"] for blob in blobs)}
    if mode == "preheated":
        mark, egress = len(origin_requests()), egress_bytes()
        row["preheat_s"] = playbook("playbooks/preheat.yml", log_dir, {
            "dragonfly_preheat_images": [reference], "dragonfly_preheat_scope": "all_seed_peers",
            "dragonfly_preheat_insecure_registry": True, "dragonfly_preheat_platform": PLATFORM})
        row["preheat_egress_bytes"] = egress_bytes() - egress
        row["preheat_origin_bytes"], row["preheat_receivers"] = blob_bytes(origin_requests()[mark:], repository)
    hosts = peers[:k]
    mark = len(origin_requests())
    egress = egress_bytes()
    row["wall_s"], row["each_s"] = pull_at_once(hosts, reference, mode == "direct")
    row["egress_bytes"] = egress_bytes() - egress
    row["origin_bytes"], row["receivers"] = blob_bytes(origin_requests()[mark:], repository)
    remove_image(hosts, reference)
    log("%-9s K=%d: %.1f s, origin sent %.0f MiB (%.2f x the image)%s" % (
        mode, k, row["wall_s"], row["origin_bytes"] / MIB, row["origin_bytes"] / row["image_bytes"],
        "; preheat %.0f s, %.0f MiB" % (row["preheat_s"], row["preheat_origin_bytes"] / MIB) if mode == "preheated" else ""))
    return row


# ---------------------------------------------------------------------------------------------- the output
def table(results):
    rows = results["rows"]
    image = rows[0]["image_bytes"]
    lines = [
        "| mode | K | wall time of the pulls (s) | origin blob bytes, pulls (MiB) | preheat (s) | origin blob bytes, "
        "preheat (MiB) | origin blob bytes in all (x image) | origin egress by tc, pulls + preheat (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        preheat = row.get("preheat_origin_bytes", 0)
        lines.append("| %s | %d | %.1f | %.0f | %s | %s | %.2f | %.0f |" % (
            row["mode"], row["k"], row["wall_s"], row["origin_bytes"] / MIB,
            "%.0f" % row["preheat_s"] if "preheat_s" in row else "-", "%.0f" % (preheat / MIB) if "preheat_s" in row else "-",
            (row["origin_bytes"] + preheat) / image, (row["egress_bytes"] + row.get("preheat_egress_bytes", 0)) / MIB))
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rate", default="200mbit", help="the origin's egress limit (tc rate)")
    parser.add_argument("--peers", default="1,2,4,8", help="the values of K")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--out", default=os.path.join(REPO, "docs", "dev"))
    parser.add_argument("--keep", action="store_true", help="leave the lab up (with its eight peers)")
    args = parser.parse_args()
    ks = [int(k) for k in args.peers.split(",")]
    modes = [mode for mode in args.modes.split(",") if mode]
    log_dir = os.path.join(os.environ.get("CHECKOUT_STATE") or "/var/tmp", "fleet-benchmark",
                           time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(log_dir, exist_ok=True)
    log("playbook output in %s" % log_dir)

    subprocess.run([sys.executable, os.path.join(REPO, "tests", "lab", "lab.py"), "up"], check=True)
    peers = peer_hosts()
    if len(peers) < max(ks):
        raise BenchmarkError("%d peer hosts, K up to %d" % (len(peers), max(ks)))
    log("site.yml over %d hosts: %.0f s" % (len(lab_hosts()), playbook("playbooks/site.yml", log_dir)))
    content = image_blobs()
    run_id = time.strftime("%H%M%S")
    results = {"image": "%s:%s" % (IMAGE_REPO, IMAGE_TAG), "rate": args.rate, "ks": ks,
               "date": time.strftime("%Y-%m-%d"), "rows": []}
    try:
        limit_egress(args.rate)
        for mode in modes:
            for k in ks:
                results["rows"].append(run_row(mode, k, peers, run_id, content, log_dir))
    finally:
        clear_egress()
        if not args.keep:
            subprocess.run([sys.executable, os.path.join(REPO, "tests", "lab", "lab.py"), "down"], check=False)
    os.makedirs(args.out, exist_ok=True)
    results_path = os.path.join(args.out, "fleet-benchmark.json")
    with open(results_path, "w") as handle:
        json.dump(results, handle, indent=1)
        handle.write("\n")
    with open(os.path.join(args.out, "fleet-benchmark.md"), "w") as handle:
        handle.write(table(results))
    sys.stdout.write(table(results))
    plotter = os.environ.get("FLEET_PLOT_PYTHON", sys.executable)
    png = os.path.join(args.out, "fleet-benchmark.png")
    if subprocess.run([plotter, os.path.join(HERE, "fleet_plot.py"), results_path, png], check=False).returncode:
        log("no plot (matplotlib missing?): see the docstring for FLEET_PLOT_PYTHON")
    else:
        log("plot: %s" % png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
