# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): pulling the large test image through a peer after a preheat, without a preheat, and
directly from the registry, in one run.

    scripts/bootstrap.sh && tests/images/build.sh      # once: tools, images, fixtures (crictl is not needed)
    .venv/bin/python benchmarks/pull.py [--runs 3] [--keep]

It deploys what it measures and removes it afterwards (--keep leaves it): the all-in-one stack of the molecule
default scenario (/opt/dragonfly-molecule) plus a peer on this host (proxy 127.0.0.1:4001), the test origin
(registry on 172.31.250.1:15000 with the test content), and a private containerd (Debian's package, every path in a
temporary directory; the Docker engine running the stack is not touched). Do not run it beside the e2e or molecule
gates: same base directory, ports and project names.

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
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

from images import client_builds  # benchmarks/images.py

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get('P2P_DRAGONFLY_CACHE', '/var/cache/p2p-dragonfly')
CONTENT = os.path.join(CACHE, 'content')


INVENTORY = os.path.join(REPO, 'extensions/molecule/default/inventory.yml')
BASE = '/opt/dragonfly-molecule'
GATEWAY = '172.31.250.1'
REGISTRY = GATEWAY + ':15000'
PROXY = 'http://127.0.0.1:4001'
IMAGE = 'p2p-test/large:1.0'
ORIGIN_PROJECT = 'p2p-df-bench-origin'
ORIGIN_FILE = os.path.join(REPO, 'tests/images/fixtures/origin/compose.yaml')
LOGFMT = re.compile(r'([\w.]+)=("(?:[^"\\]|\\.)*"|\S+)')


def content_description():
    """content.json of the test content (tests/images/content.py writes it below CONTENT when missing)."""
    return subprocess.run(['python3', os.path.join(REPO, 'tests/images/content.py'), 'generate', CONTENT],
                          capture_output=True, text=True, check=True).stdout.strip()


class BenchmarkError(Exception):
    pass


def run(command, check=True, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, check=check, **kwargs)


def collection_env():
    """ansible-playbook sees this checkout as p2p.dragonfly."""
    tree = tempfile.mkdtemp(prefix='p2p-bench-collections-')
    atexit.register(shutil.rmtree, tree, True)
    os.makedirs(os.path.join(tree, 'ansible_collections', 'p2p'))
    os.symlink(REPO, os.path.join(tree, 'ansible_collections', 'p2p', 'dragonfly'))
    paths = [tree] + [p for p in os.environ.get('ANSIBLE_COLLECTIONS_PATH', '').split(os.pathsep) if p]
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(paths), ANSIBLE_NOCOLOR='1')


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


class Containerd:
    def __init__(self, root):
        self.root = root
        os.makedirs(root)
        self.socket = os.path.join(root, 'containerd.sock')
        config = os.path.join(root, 'config.toml')
        with open(config, 'w') as handle:
            handle.write('version = 2\nroot = "{r}/root"\nstate = "{r}/state"\n[grpc]\n  address = "{r}/containerd.sock"\n'
                         '[ttrpc]\n  address = "{r}/containerd-ttrpc.sock"\n'
                         '[plugins]\n  [plugins."io.containerd.grpc.v1.cri"]\n    sandbox_image = "registry.invalid/pause:3.6"\n'
                         '    [plugins."io.containerd.grpc.v1.cri".containerd]\n      snapshotter = "native"\n'
                         '  [plugins."io.containerd.internal.v1.opt"]\n    path = "{r}/opt"\n'.format(r=root))
        self.log = open(os.path.join(root, 'containerd.log'), 'ab')  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(['containerd', '--config', config],  # pylint: disable=consider-using-with
                                        stdout=self.log, stderr=self.log)
        atexit.register(self.stop)
        for _attempt in range(100):
            if self.ctr('version', check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise BenchmarkError('the private containerd did not start: see %s/containerd.log' % root)

    def ctr(self, *args, check=True):
        return run(['ctr', '--address', self.socket, '-n', 'p2p-bench'] + list(args), check=check)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def pull(self, reference, hosts_dir=None):
        """Seconds of a cold pull: (fetch, fetch + unpack). `ctr content fetch` downloads what `ctr images pull`
        would, then the pull finds the content present and only unpacks. Everything is removed afterwards."""
        registry = ['--platform', 'linux/amd64'] + (['--hosts-dir', hosts_dir] if hosts_dir else ['--plain-http'])
        timings = []
        for command in (['content', 'fetch'], ['images', 'pull']):
            started = time.monotonic()
            result = self.ctr(*(command + registry + [reference]), check=False)
            timings.append(time.monotonic() - started)
            if result.returncode:
                raise BenchmarkError(' '.join(command) + ' failed: ' + result.stdout[-1000:] + result.stderr[-1000:])
        self.ctr('images', 'rm', '--sync', reference)
        if self.ctr('content', 'ls', '-q').stdout.strip():
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
    """The origin registry's completed blob requests for the given digests, oldest first."""
    logs = run(['docker', 'logs', ORIGIN_PROJECT + '-registry-1'])
    found = []
    for line in (logs.stdout + logs.stderr).splitlines():
        if 'msg="response completed"' not in line:
            continue
        fields = {key: value.strip('"') for key, value in LOGFMT.findall(line)}
        path = urlsplit(fields.get('http.request.uri', '')).path
        if '/blobs/' in path and path.rsplit('/', 1)[-1] in digests:
            found.append((int(fields['http.response.status']), int(fields.get('http.response.written', 0))))
    return found


def preheat(env, root, application):
    play = os.path.join(root, 'preheat-%s.yml' % application)
    with open(play, 'w') as handle:
        handle.write("""- hosts: localhost
  gather_facts: false
  tasks:
    - p2p.dragonfly.preheat:
        manager_url: https://127.0.0.1:8080
        ca_path: %s/manager/tls/ca.crt
        token: "{{ lookup('ansible.builtin.file', '%s/manager/secrets/token') }}"
        image: %s/%s
        platform: linux/amd64
        insecure_registry: true
        scope: single_seed_peer
        application: %s
        cache_dir: %s/seed-peer/cache
        wait_timeout: 600
      register: preheat
    - ansible.builtin.assert:
        that: preheat.verified_locally
""" % (BASE, BASE, REGISTRY, IMAGE, application, BASE))
    started = time.monotonic()
    playbook(env, play)
    return time.monotonic() - started


def deploy(env, peer_inventory, release_set=None):
    with open(content_description()) as handle:
        content = json.load(handle)
    origin_env = dict(os.environ, ORIGIN_IP=GATEWAY, ORIGIN_FILES_DIR=content['files_dir'])
    playbook(env, 'extensions/molecule/default/prepare.yml')
    playbook(env, 'extensions/molecule/default/destroy.yml', peer_inventory)
    run(['docker', 'compose', '-f', ORIGIN_FILE, '-p', ORIGIN_PROJECT, 'up', '-d', '--wait'], env=origin_env)
    run(['python3', os.path.join(REPO, 'tests/images/content.py'), 'push', CONTENT, 'http://127.0.0.1:15000'])
    playbook(env, 'playbooks/site.yml', peer_inventory,
             extra={'dragonfly_release_set': release_set} if release_set else None)
    return content, origin_env


def teardown(env, peer_inventory, origin_env):
    playbook(env, 'extensions/molecule/default/destroy.yml', peer_inventory)
    run(['docker', 'compose', '-f', ORIGIN_FILE, '-p', ORIGIN_PROJECT, 'down', '-v'], env=origin_env, check=False)


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

    env = collection_env()
    root = tempfile.mkdtemp(prefix='p2p-bench-pull-')
    atexit.register(shutil.rmtree, root, True)
    peer_inventory = os.path.join(root, 'peer.json')
    with open(peer_inventory, 'w') as handle:
        json.dump({'all': {'children': {'dragonfly_peer': {'hosts': {'localhost': {}}}}}}, handle)

    print('client build: %s' % client_builds())
    started = time.monotonic()
    if args.deployed:
        with open(content_description()) as handle:
            content = json.load(handle)
        origin_env = dict(os.environ, ORIGIN_IP=GATEWAY, ORIGIN_FILES_DIR=content['files_dir'])
    else:
        content, origin_env = deploy(env, peer_inventory, args.release_set)
        print('deployed stack, peer and origin in %.0f s' % (time.monotonic() - started))
    try:
        blobs = content['images'][IMAGE]['platforms']['linux/amd64']['blobs']
        digests = {blob['digest'] for blob in blobs}
        size = sum(blob['size'] for blob in blobs)
        runtime = Containerd(os.path.join(root, 'containerd'))
        reference = '%s/%s' % (REGISTRY, IMAGE)
        stamp = time.strftime('%Y%m%d%H%M%S')
        results = {'direct': ([], []), 'peer, cold': ([], []), 'peer, warm': ([], [])}
        preheat_seconds = []
        for index in range(args.runs):
            for label in results:
                before = len(origin_blob_requests(digests))
                application = 'bench-%s-%d-%s' % (stamp, index, label.split()[-1])
                if label == 'direct':
                    timings = runtime.pull(reference)
                else:
                    if label == 'peer, warm':
                        preheat_seconds.append(preheat(env, root, application))
                        before = len(origin_blob_requests(digests))
                    timings = runtime.pull(reference, hosts_dir(root, application))
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
            teardown(env, peer_inventory, origin_env)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except BenchmarkError as error:
        print('benchmark failed: %s' % error, file=sys.stderr)
        sys.exit(1)
