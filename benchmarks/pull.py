# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): pulling the large test image through a peer after a preheat, without a preheat, and
directly from the registry, in one run.

    scripts/bootstrap.sh && tests/images/build.sh      # once: tools, images, fixtures (crictl is not needed)
    .venv/bin/python benchmarks/pull.py [--runs 3] [--keep]

It deploys what it measures and removes it afterwards (--keep leaves it): the all-in-one stack of the molecule
default scenario plus a peer on this host (its proxy on loopback), the test origin (registry on the lab gateway with
the test content), and a private containerd (Debian's package, every path in a temporary directory; the Docker
engine running the stack is not touched); stack `benchmark` of tests/lib/lab.yml says where. Do not run it beside
the molecule gate: same base directory, ports and project names.

Rows, for p2p-test/large:1.0 (linux/amd64: 8 MiB + 256 MiB layers), each pull cold: `ctr content fetch` (the
download, timed alone), then `ctr images pull` (finds the content, unpacks it into the native snapshotter); the image
and its content are removed with `ctr images rm --sync` after each:

    direct       containerd pulls from the registry itself (no hosts.toml).
    peer, cold   through the peer's proxy, content that no peer holds: the seed peer downloads from the origin
                 and the peer from the seed (or the origin).
    peer, warm   preheated to the seed peer first (p2p.dragonfly.preheat with cache_dir: returns once the seed's
                 copy is verified), then pulled through the peer; the peer itself holds nothing yet.

Cold without deleting anything: every peer pull sends its own `X-Dragonfly-Application` header (hosts.toml
`header`), and the preheat of the warm row uses the same application; the application is part of the task ID, so
each run creates new tasks. For each row: wall time of the pull (median and all runs), and what the origin served
for the image's blobs: ranged GETs (206, piece downloads) and their bytes, other GETs (client v1.4 probes a blob's
headers with a GET whose body it drops, see docs/container-runtime.md) and their bytes. The exit status is non-zero
only on errors.
"""

from __future__ import absolute_import, division, print_function

import argparse
import atexit
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import testlib  # puts tests/lib on sys.path; pylint: disable=unused-import
from images import client_builds  # benchmarks/images.py
from p2p_lab import collection as checkout, lab
from p2p_lab.containerd import Containerd
from p2p_lab.origin import Origin, generate_content, registry_container
from p2p_lab.registry_log import blob_requests, completed_requests

REPO = lab.REPO
BENCH = lab.stack('benchmark')
INVENTORY = BENCH.inventory
BASE = BENCH.base
REGISTRY = BENCH.registry
PROXY = 'http://127.0.0.1:%d' % BENCH.var('dragonfly_peer_proxy_port')
IMAGE = 'p2p-test/large:1.0'


class BenchmarkError(Exception):
    pass


def playbook(env, path, *inventories, extra=None):
    command = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', INVENTORY]
    for inventory in inventories:
        command += ['-i', inventory]
    command.append(path)
    if extra:
        command += ['-e', json.dumps(extra)]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise BenchmarkError('%s failed:\n%s' % (os.path.basename(path), (result.stdout + result.stderr)[-3000:]))
    return result.stdout


def cold_pull(runtime, reference, hosts_dir=None):
    """Seconds of a cold pull into the private containerd: (fetch, fetch + unpack). `ctr content fetch` downloads
    what `ctr images pull` would, then the pull finds the content present and only unpacks. Everything is removed
    afterwards."""
    registry = ['--platform', 'linux/amd64'] + (['--hosts-dir', hosts_dir] if hosts_dir else ['--plain-http'])
    timings = []
    for command in (['content', 'fetch'], ['images', 'pull']):
        started = time.monotonic()
        result = runtime.ctr(*(command + registry + [reference]), check=False)
        timings.append(time.monotonic() - started)
        if result.returncode:
            raise BenchmarkError(' '.join(command) + ' failed: ' + result.stdout[-1000:] + result.stderr[-1000:])
    runtime.ctr('images', 'rm', '--sync', reference)
    if runtime.ctr('content', 'ls', '-q').stdout.strip():
        raise BenchmarkError('content left in the private containerd after removing the image')
    return timings[0], timings[0] + timings[1]


def hosts_dir(root, application):
    """A hosts directory sending pulls of the test registry through the peer with their own application."""
    directory = os.path.join(root, 'hosts-' + application)
    os.makedirs(os.path.join(directory, REGISTRY))
    with open(os.path.join(directory, REGISTRY, 'hosts.toml'), 'w') as handle:
        handle.write('server = "http://{r}"\n\n[host."{p}"]\ncapabilities = ["pull", "resolve"]\n\n'
                     '[host."{p}".header]\nX-Dragonfly-Registry = "http://{r}"\nX-Dragonfly-Application = "{a}"\n'
                     .format(r=REGISTRY, p=PROXY, a=application))
    return directory


def origin_blob_requests(digests):
    """The origin registry's completed blob requests for the given digests, oldest first: (status, bytes written)."""
    entries = completed_requests(registry_container(BENCH.origin_project))
    return [(int(entry['http.response.status']), int(entry.get('http.response.written', 0)))
            for dummy, entry in blob_requests(entries, digests)]


def preheat(env, root, application):
    play = os.path.join(root, 'preheat-%s.yml' % application)
    with open(play, 'w') as handle:
        handle.write("""- hosts: localhost
  gather_facts: false
  tasks:
    - p2p.dragonfly.preheat:
        manager_url: %s
        ca_path: %s
        token: "{{ lookup('ansible.builtin.file', '%s') }}"
        image: %s/%s
        platform: linux/amd64
        insecure_registry: true
        scope: single_seed_peer
        application: %s
        cache_dir: %s
        wait_timeout: 600
      register: preheat
    - ansible.builtin.assert:
        that: preheat.verified_locally
""" % (BENCH.manager_url('127.0.0.1'), BENCH.manager_ca, BENCH.token_file, REGISTRY, IMAGE, application, BENCH.seed_peer_cache))
    started = time.monotonic()
    playbook(env, play)
    return time.monotonic() - started


def deploy(env, peer_inventory, origin, release_set=None):
    playbook(env, 'extensions/molecule/default/prepare.yml')  # the lab network
    playbook(env, 'extensions/molecule/default/destroy.yml', peer_inventory)
    origin.up()
    playbook(env, 'playbooks/site.yml', peer_inventory,
             extra={'dragonfly_release_set': release_set} if release_set else None)


def teardown(env, peer_inventory, origin):
    playbook(env, 'extensions/molecule/default/destroy.yml', peer_inventory)
    origin.down()


def summarize(label, timings, requests, size):
    fetch = [t[0] for t in timings]
    total = [t[1] for t in timings]
    ranged = [w for status, w in requests if status == 206]
    other = [w for status, w in requests if status != 206]
    runs = len(timings)
    print('%-11s %6.2f s  %-17s %6.2f s  %-17s %4d / %6.1f MiB   %3d / %6.1f MiB' % (
        label, statistics.median(fetch), ' '.join('%.2f' % s for s in fetch),
        statistics.median(total), ' '.join('%.2f' % s for s in total),
        len(ranged) // runs, sum(ranged) / runs / 2 ** 20, len(other) // runs, sum(other) / runs / 2 ** 20))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--keep', action='store_true', help='leave the stack, origin and peer running')
    parser.add_argument('--release-set', help='the release set to deploy (default: the roles\' default)')
    parser.add_argument('--deployed', action='store_true',
                        help='use what an earlier --keep run left running instead of deploying')
    args = parser.parse_args()

    env = checkout.ansible_env()
    root = tempfile.mkdtemp(prefix='p2p-bench-pull-')
    atexit.register(shutil.rmtree, root, True)
    peer_inventory = os.path.join(root, 'peer.json')
    with open(peer_inventory, 'w') as handle:
        json.dump({'all': {'children': {'dragonfly_peer': {'hosts': {'localhost': {}}}}}}, handle)

    print('client build: %s' % client_builds())
    started = time.monotonic()
    content = generate_content()
    origin = Origin(BENCH, content)
    if not args.deployed:
        deploy(env, peer_inventory, origin, args.release_set)
        print('deployed stack, peer and origin in %.0f s' % (time.monotonic() - started))
    try:
        blobs = content['images'][IMAGE]['platforms']['linux/amd64']['blobs']
        digests = {blob['digest'] for blob in blobs}
        size = sum(blob['size'] for blob in blobs)
        runtime = Containerd(pathlib.Path(root) / 'containerd', namespace='p2p-bench')
        atexit.register(runtime.stop)
        runtime.start()
        reference = '%s/%s' % (REGISTRY, IMAGE)
        stamp = time.strftime('%Y%m%d%H%M%S')
        results = {'direct': ([], []), 'peer, cold': ([], []), 'peer, warm': ([], [])}
        preheat_seconds = []
        for index in range(args.runs):
            for label in results:
                before = len(origin_blob_requests(digests))
                application = 'bench-%s-%d-%s' % (stamp, index, label.split()[-1])
                if label == 'direct':
                    timings = cold_pull(runtime, reference)
                else:
                    if label == 'peer, warm':
                        preheat_seconds.append(preheat(env, root, application))
                        before = len(origin_blob_requests(digests))
                    timings = cold_pull(runtime, reference, hosts_dir(root, application))
                results[label][0].append(timings)
                results[label][1].extend(origin_blob_requests(digests)[before:])
        print('\n%s (%.0f MiB in %d blobs), %d runs per row, cold pulls into a private containerd\n'
              % (IMAGE, size / 2 ** 20, len(blobs), args.runs))
        print('%-11s %-27s %-27s %-19s %s' % ('row', 'fetch: median, runs', 'pull (fetch + unpack)',
                                              'origin 206 / MiB', 'other GET / MiB'))
        for label, (timings, requests) in results.items():
            summarize(label, timings, requests, size)
        print('\npreheat to the seed peer before each warm pull (not in the pull time): median %.1f s (%s)'
              % (statistics.median(preheat_seconds), ' '.join('%.1f' % s for s in preheat_seconds)))
        print('origin columns: per pull; 206 = piece downloads from the origin, other = header probes (GETs whose body '
              'the client drops) and, for direct, containerd\'s own full GETs')
    finally:
        if not args.keep:
            teardown(env, peer_inventory, origin)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except BenchmarkError as error:
        print('benchmark failed: %s' % error, file=sys.stderr)
        sys.exit(1)
