# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): how soon a preheat is verified on the seed peer's disk, and how fast cache_assert hashes.

Run with the repository's virtualenv (it has ansible-core):

    .venv/bin/python benchmarks/preheat.py                  # (a) and (b), against a running all-in-one stack
    .venv/bin/python benchmarks/preheat.py --hash-only      # (b) only, on a generated 1 GiB file; no stack needed
    .venv/bin/python benchmarks/preheat.py --hash-only DIR  # (b) only, on the files under DIR

(a) needs the all-in-one stack of the molecule default scenario (playbooks/site.yml) and the test origin
(registry and file server on the lab gateway, test content pushed), as benchmarks/pull.py deploys them (--keep).
The defaults (--help shows them) are that stack's and the origin's: stack `benchmark` of tests/lib/lab.yml and its
inventory. The ground truth (digests, sizes) comes from the content.json that
`tests/images/content.py generate $P2P_DRAGONFLY_CACHE/content` writes and prints.

(a) For the small image (p2p-test/small:1.0, linux/amd64) and the large file (large.bin, 384 MiB), each measured
    from a cold seed cache:

    * naive client: POST the preheat job, read GET /oapi/v1/jobs/:id every second until SUCCESS, then sha256 the
      content files on disk. Wall time from the POST to the end of the hashing. The manager rewrites a job row only
      about 0, 30, 90, 210 s after creating it, so this takes at least ~30 s.
    * seed download time, measured during the naive run: from the POST until the content files are complete on disk.
      The benchmark looks at the disk every 50 ms with the collection's own watcher (module_utils/_cache.CacheWatcher,
      which the preheat module uses; files above 16 MiB hashed once quiet for 0.25 s). The client creates each content file at its full length when the
      download starts (dragonfly-client-storage v1.4.0 create_task: set_len + fallocate), so "the file reached the
      blob size" is true at once and proves nothing; a file counts as complete when its sha256 matches. The moment
      of completion is the file's last write (its mtime, read when its hash first matched), which is exact whatever
      the polling interval; the time the 50 ms poller noticed it is shown too.
    * the module: one ansible-playbook run of p2p.dragonfly.preheat with cache_dir set (and checksums for the
      file), then p2p.dragonfly.cache_assert on the same content. "preheat-to-verified" runs from the start of the
      preheat task to the end of the cache_assert task (ansible's own task timestamps); the wall time of the whole
      ansible-playbook process (start-up included) is shown too.

    Cold cache without deleting anything first: every measurement preheats with its own `application` (for example
    bench-1732612345-small-naive), which is part of the task ID, so each measurement creates new tasks and the seed
    downloads them from the origin; the benchmark checks that their content files do not exist beforehand. Deleting
    before a measurement would be worse: delete_task takes effect asynchronously, and content files removed by hand
    leave the seed's metadata marking the task finished, so the next preheat would be a false SUCCESS without a
    download. Afterwards the benchmark removes the tasks it created with delete_task jobs through the manager (never
    by hand) and waits until their files are gone (--keep leaves them).

(b) Hashing throughput of cache_assert (module_utils/_hashing.hash_files, which cache_assert uses, and
    _hashing.sha256_file, one file after the other) against `sha256sum` over the same files, each read once beforehand so
    that all of them hash from the page cache; best of --hash-rounds rounds. With the stack: the large file and the
    blobs cached by (a). Target: at least 90 % of sha256sum's MB/s.

Targets printed with the figures: small image, module preheat-to-verified <= 2x the seed download time; naive
client >= 30 s (expected, not a goal); hashing >= 90 % of sha256sum. The exit status is non-zero only on errors
(stack unreachable, a preheat failing, content not cached), never because a target was missed.
"""

from __future__ import absolute_import, division, print_function

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import testlib  # puts tests/lib on sys.path; pylint: disable=unused-import
from images import client_builds  # benchmarks/images.py
from p2p_lab import collection as checkout, lab
from p2p_lab.files import sha256_of
from p2p_lab.origin import generate_content

REPO = lab.REPO
BENCH = lab.stack('benchmark')
MIB = 1024 * 1024
SMALL_IMAGE = 'p2p-test/small:1.0'
PLATFORM = 'linux/amd64'
LARGE_FILE = 'large.bin'
DISK_POLL = 0.05
# Files above this size are hashed by the disk poller only once they stopped changing (the module does the same
# with its own thresholds).
POLL_SMALL_FILE = 16 * MIB
POLL_QUIET = 0.25
CLUSTER_IDS = [1]


class BenchmarkError(Exception):
    pass


# --- the collection's own code ------------------------------------------------------------------

def collection():
    """The module_utils the modules use (unit-tested), imported from this checkout."""
    checkout.tree()
    try:
        from ansible_collections.p2p.dragonfly.plugins.module_utils import (
            _api, _cache, _hashing, _image_reference, _jobs, _preheat, _registry, _task_id)
    except ImportError as exc:
        raise SystemExit(f'cannot import the collection ({exc}): run with the virtualenv that has ansible-core, '
                         f'{REPO}/.venv/bin/python (scripts/bootstrap.sh creates it)')
    return dict(api=_api, cache=_cache, hashing=_hashing, image_reference=_image_reference, jobs=_jobs, preheat=_preheat,
                registry=_registry, task_id=_task_id)


class ShimModule(object):
    """What ManagerClient and Registry need of an AnsibleModule: fetch_url reads ``params`` and ``tmpdir``."""

    def __init__(self, timeout=30):
        self.params = dict(validate_certs=True, timeout=timeout)
        self.tmpdir = None
        self.no_log_values = set()

    def fail_json(self, msg, **kwargs):
        raise BenchmarkError(msg)

    def warn(self, warning):
        print(f'warning: {warning}', file=sys.stderr)


# --- small helpers -----------------------------------------------------------------------------

def read_through(paths):
    """Read every file once, so that the timed runs read from the page cache."""
    for path in paths:
        with open(path, 'rb') as stream:
            while stream.read(8 * MIB):
                pass


def http_get_discard(url):
    """GET a URL and drop the body (warms the origin's page cache)."""
    with urllib.request.urlopen(url, timeout=300) as response:
        while response.read(8 * MIB):
            pass


def parse_iso(text):
    return datetime.datetime.strptime(text.replace('Z', '+0000'), '%Y-%m-%dT%H:%M:%S.%f%z').timestamp()


def fmt(seconds, digits=1):
    return '-' if seconds is None else f'{seconds:.{digits}f}'


# --- watching the seed peer's disk ------------------------------------------------------------------

class DiskWatch(threading.Thread):
    """Polls the collection's CacheWatcher every 50 ms until each content file's sha256 matches.

    Per file it records ``written``: the mtime of the file when it was first verified (the moment of its last
    write, that is when the download ended) and ``noticed``: when this poller saw it complete.
    """

    def __init__(self, cache, cache_dir, files, timeout):
        super(DiskWatch, self).__init__(daemon=True)
        self.watcher = cache.CacheWatcher(cache_dir, files, small_file=POLL_SMALL_FILE, quiet_min=POLL_QUIET,
                                          quiet_max=POLL_QUIET)
        self.files = {item['task_id']: dict(written=None, noticed=None) for item in files}
        self.deadline = time.time() + timeout
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.is_set() and time.time() < self.deadline:
            for result in self.watcher.poll():
                found = self.files[result['task_id']]
                if result['verified'] and found['noticed'] is None:
                    found.update(written=os.stat(result['path']).st_mtime, noticed=time.time())
            if self.complete:
                return
            self.stop_event.wait(DISK_POLL)

    @property
    def complete(self):
        return all(found['written'] is not None for found in self.files.values())

    def finish(self, wait=5.0):
        self.join(wait)
        self.stop_event.set()
        self.join()

    def written(self):
        return max(found['written'] for found in self.files.values()) if self.complete else None

    def noticed(self):
        return max(found['noticed'] for found in self.files.values()) if self.complete else None


# --- the stack ------------------------------------------------------------------------------------

class Stack(object):
    def __init__(self, args, code):
        self.args = args
        self.code = code
        with open(args.token_file) as stream:
            self.token = stream.read().strip()
        self.shim = ShimModule()
        self.client = code['api'].ManagerClient(self.shim, args.manager_url, token=self.token, timeout=30,
                                                ca_path=args.ca_file)
        if args.content:
            with open(args.content) as stream:
                self.content = json.load(stream)
        else:
            self.content = generate_content()
        self.created_tasks = []

    def check(self):
        self.code['jobs'].check_jobs_access(self.client)
        if not os.path.isdir(os.path.join(self.args.cache_dir, 'content', 'tasks')):
            raise BenchmarkError(f'{self.args.cache_dir} has no content/tasks: is it the seed peer\'s cache directory?')

    # What the module would preheat, computed by the module's own code.

    def image_target(self, application):
        code = self.code
        reference = code['image_reference'].parse_image_reference(f'{self.args.registry}/{SMALL_IMAGE}')
        manifest_url = code['image_reference'].manifest_url(reference, scheme='http')
        registry = code['registry'].Registry(self.shim, timeout=30)
        entries, dummy = code['registry'].resolve_image(registry, manifest_url, PLATFORM)
        tasks = code['preheat'].expected_tasks(entries, application=application)
        sizes = dict((blob['digest'], blob['size'])
                     for blob in self.content['images'][SMALL_IMAGE]['platforms'][PLATFORM]['blobs'])
        files = []
        for task in tasks:
            if task['digest'] not in sizes:
                raise BenchmarkError(f"the registry's {SMALL_IMAGE} has blob {task['digest']}, which content.json does not "
                                     'list: push the test content again (tests/images/content.py push)')
            files.append(dict(url=task['url'], task_id=task['task_id'], sha256=task['digest'].split(':', 1)[1],
                              size=sizes[task['digest']], path=self.path(task['task_id'])))
        return dict(kind='image', target=manifest_url, platform=PLATFORM, urls=None, files=files)

    def file_target(self, application):
        url = f"{self.args.files_url.rstrip('/')}/{LARGE_FILE}"
        truth = self.content['files'][LARGE_FILE]
        task = self.code['preheat'].expected_tasks([(url, None)], application=application)[0]
        files = [dict(url=url, task_id=task['task_id'], sha256=truth['sha256'], size=truth['size'],
                      path=self.path(task['task_id']))]
        return dict(kind='file', target=None, platform=None, urls=[url], files=files)

    def path(self, task_id_value):
        return self.code['task_id'].task_content_path(self.args.cache_dir, task_id_value)

    def ensure_cold(self, target):
        for item in target['files']:
            self.created_tasks.append(item)
            if os.path.exists(item['path']):
                raise BenchmarkError(f"{item['path']} exists before the preheat: task {item['task_id']} is cached "
                                     'already; run again (each run uses new application values)')

    def preheat_body(self, target, application):
        params = dict(scope='single_seed_peer', registry_username=None, registry_password=None, tag='',
                      application=application, filtered_query_params=[], piece_length=None, count=None, percentage=None,
                      concurrent_task_count=None, concurrent_peer_count=None, ips=None, preheat_timeout=None,
                      scheduler_cluster_ids=CLUSTER_IDS)
        return self.code['preheat'].preheat_body(params, target['kind'], target['target'], target['platform'], target['urls'],
                                                 {})

    # The measurements.

    def naive(self, target, application):
        """POST, GET the row every second until SUCCESS, sha256 the files; the disk poller runs alongside."""
        self.ensure_cold(target)
        watch = DiskWatch(self.code['cache'], self.args.cache_dir, target['files'], self.args.timeout)
        body = self.preheat_body(target, application)
        posted = time.time()
        row = self.client.create_job(body)
        watch.start()
        polls = 0
        while True:
            time.sleep(1)
            polls += 1
            row = self.client.get_job(row['id'])
            if row.get('state') == 'SUCCESS':
                break
            if row.get('state') == 'FAILURE':
                watch.finish(0)
                raise BenchmarkError(f"naive client: preheat job {row['id']} FAILURE: {json.dumps(row.get('result'))[:500]}")
            if time.time() - posted > self.args.timeout:
                watch.finish(0)
                raise BenchmarkError(f"naive client: preheat job {row['id']} still {row.get('state')} after "
                                     f'{self.args.timeout} s')
        success_seen = time.time()
        for item in target['files']:
            if sha256_of(item['path']) != item['sha256']:
                raise BenchmarkError(f"naive client: job {row['id']} SUCCESS but {item['path']} does not hash to "
                                     f"{item['sha256']}")
        done = time.time()
        watch.finish()
        if not watch.complete:
            raise BenchmarkError('the disk poller did not see the content complete although it hashes right')
        return dict(job_id=row['id'], wall=done - posted, success_seen=success_seen - posted, row_reads=polls,
                    seed_download=watch.written() - posted, seed_noticed=watch.noticed() - posted)

    def module(self, target, application):
        """One ansible-playbook run: preheat with cache_dir, then cache_assert."""
        self.ensure_cold(target)
        work = tempfile.mkdtemp(prefix='p2p-bench-play-')
        try:
            preheat_args = dict(manager_url=self.args.manager_url, ca_path=self.args.ca_file, token='{{ bench_token }}',
                                application=application, cache_dir=self.args.cache_dir, wait_timeout=int(self.args.timeout))
            if self.args.seed_ip:
                preheat_args['seed_ip'] = self.args.seed_ip
            assert_args = dict(cache_dir=self.args.cache_dir)
            if target['kind'] == 'image':
                preheat_args.update(url=target['target'], platform=target['platform'])
                assert_args['preheat_result'] = '{{ preheat }}'
            else:
                preheat_args.update(type='file', urls=target['urls'],
                                    checksums=dict((item['url'], item['sha256']) for item in target['files']))
                assert_args.update(application=application, files=[dict(url=item['url'], sha256=item['sha256'],
                                                                        size=item['size']) for item in target['files']])
            play = [dict(hosts='localhost', gather_facts=False, tasks=[
                {'name': 'preheat', 'p2p.dragonfly.preheat': preheat_args, 'register': 'preheat'},
                {'name': 'verify', 'p2p.dragonfly.cache_assert': assert_args},
            ])]
            with open(os.path.join(work, 'play.yml'), 'w') as stream:
                json.dump(play, stream)  # JSON is YAML
            with open(os.path.join(work, 'vars.json'), 'w') as stream:
                json.dump(dict(bench_token=self.token), stream)
            os.chmod(os.path.join(work, 'vars.json'), 0o600)
            with open(os.path.join(work, 'inventory'), 'w') as stream:
                stream.write(f'localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n')
            env = checkout.ansible_env(ANSIBLE_STDOUT_CALLBACK='json', ANSIBLE_LOCALHOST_WARNING='False',
                                       ANSIBLE_INVENTORY_UNPARSED_WARNING='False')
            playbook = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
            if not os.path.exists(playbook):
                playbook = 'ansible-playbook'
            command = [playbook, '-i', os.path.join(work, 'inventory'), '-e', '@' + os.path.join(work, 'vars.json'),
                       os.path.join(work, 'play.yml')]
            started = time.time()
            process = subprocess.run(command, capture_output=True, text=True, env=env, cwd=work, check=False)
            ended = time.time()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        try:
            output = json.loads(process.stdout[process.stdout.index('{'):])
            tasks = dict((task['task']['name'], task) for task in output['plays'][0]['tasks'])
        except (ValueError, KeyError, IndexError):
            raise BenchmarkError(f'ansible-playbook (rc {process.returncode}) printed no JSON result:\n'
                                 f'{process.stdout[-2000:]}\n{process.stderr[-2000:]}')
        results = dict((name, task['hosts']['localhost']) for name, task in tasks.items())
        for name in ('preheat', 'verify'):
            if name not in results or results[name].get('failed'):
                message = (results.get(name) or {}).get('msg', 'did not run')
                raise BenchmarkError(f'module run: task {name} failed: {message}')
        preheat_start = parse_iso(tasks['preheat']['task']['duration']['start'])
        verify_end = parse_iso(tasks['verify']['task']['duration']['end'])
        preheat_end = parse_iso(tasks['preheat']['task']['duration']['end'])
        written = [os.stat(item['path']).st_mtime for item in target['files']]
        result = results['preheat']
        return dict(wall=ended - started, to_verified=verify_end - preheat_start, preheat_task=preheat_end - preheat_start,
                    module_elapsed=result.get('elapsed'), verified_locally=result.get('verified_locally'),
                    job_state=(result.get('job') or {}).get('state'), job_id=(result.get('job') or {}).get('id'),
                    disk_after_start=max(written) - preheat_start,
                    assert_mib_per_second=results['verify'].get('summary', {}).get('mib_per_second'))

    def warm_origin(self, target):
        for item in target['files']:
            http_get_discard(item['url'])

    def cleanup(self):
        """delete_task jobs for every task this run created; wait until their files are gone."""
        if not self.created_tasks:
            return None
        for item in self.created_tasks:
            self.client.create_job(dict(type='delete_task', scheduler_cluster_ids=CLUSTER_IDS,
                                        args=dict(task_id=item['task_id'])))
        deadline = time.time() + self.args.cleanup_timeout
        while time.time() < deadline:
            left = [item['path'] for item in self.created_tasks if os.path.exists(item['path'])]
            if not left:
                return []
            time.sleep(2)
        return [item['path'] for item in self.created_tasks if os.path.exists(item['path'])]


# --- (b) hashing -----------------------------------------------------------------------------------

def hashing_benchmark(paths, rounds, code):
    cache = code['hashing']
    paths = [path for path in paths if os.path.getsize(path) > 0]
    if not paths:
        raise BenchmarkError('no non-empty file to hash')
    total = sum(os.path.getsize(path) for path in paths)
    read_through(paths)
    sha256sum = shutil.which('sha256sum')
    if sha256sum is None:
        raise BenchmarkError('sha256sum not found')

    def timed(action):
        best = None
        for dummy in range(rounds):
            started = time.perf_counter()
            action()
            seconds = time.perf_counter() - started
            best = seconds if best is None else min(best, seconds)
        return best

    def run_sha256sum():
        subprocess.run([sha256sum] + paths, check=True, stdout=subprocess.DEVNULL)

    def run_sequential():
        for path in paths:
            cache.sha256_file(path)

    def run_cache_assert():
        answers = cache.hash_files(paths)
        bad = [path for path, answer in answers.items() if isinstance(answer, OSError)]
        if bad:
            raise BenchmarkError(f'cannot read {bad}')

    figures = dict(files=len(paths), bytes=total)
    for name, action in (('sha256sum', run_sha256sum), ('sequential', run_sequential), ('cache_assert', run_cache_assert)):
        seconds = timed(action)
        figures[name] = dict(seconds=seconds, mb_per_second=total / seconds / 1e6)
    return figures


def hash_only(args, code):
    generated = None
    if args.directory:
        paths = []
        for root, dummy, names in os.walk(args.directory):
            paths.extend(os.path.join(root, name) for name in sorted(names) if os.path.isfile(os.path.join(root, name)))
        if not paths:
            raise BenchmarkError(f'no files under {args.directory}')
    else:
        generated = tempfile.mkdtemp(prefix='p2p-bench-hash-')
        path = os.path.join(generated, 'random-1GiB.bin')
        with open(path, 'wb') as stream:
            for dummy in range(1024):
                stream.write(os.urandom(MIB))
        paths = [path]
    try:
        return hashing_benchmark(paths, args.hash_rounds, code)
    finally:
        if generated:
            shutil.rmtree(generated, ignore_errors=True)


# --- report ----------------------------------------------------------------------------------------

def print_hashing(figures):
    ratio = figures['cache_assert']['mb_per_second'] / figures['sha256sum']['mb_per_second']
    sequential_ratio = figures['sequential']['mb_per_second'] / figures['sha256sum']['mb_per_second']
    print(f"\n(b) hashing {figures['files']} file(s), {figures['bytes'] / MIB:.0f} MiB, from the page cache, best of the rounds")
    print(f"  {'tool':<44} {'seconds':>8} {'MB/s':>8}")
    print(f"  {'sha256sum':<44} {figures['sha256sum']['seconds']:>8.2f} {figures['sha256sum']['mb_per_second']:>8.0f}")
    print(f"  {'_hashing.sha256_file, one file after the other':<44} {figures['sequential']['seconds']:>8.2f} "
          f"{figures['sequential']['mb_per_second']:>8.0f}")
    print(f"  {'cache_assert (_hashing.hash_files)':<44} {figures['cache_assert']['seconds']:>8.2f} "
          f"{figures['cache_assert']['mb_per_second']:>8.0f}")
    verdict = 'met' if ratio >= 0.9 else 'MISSED'
    print(f'  cache_assert / sha256sum: {ratio:.0%} (one file after the other: {sequential_ratio:.0%}); '
          f'target >= 90 %: {verdict}')


def print_stack(rows):
    print('\nclient build: %s' % client_builds())
    print('\n(a) preheat, cold seed cache (seconds; "download" = POST to the last write of the content on disk)')
    header = (f"  {'content':<34} {'seed download':>13} {'(noticed)':>9} {'naive':>7} {'module':>7} {'(wall)':>7} "
              f"{'(module elapsed)':>16} {'verified_locally':>16} {'job state':>9}")
    print(header)
    for row in rows:
        naive, module = row['naive'], row['module']
        print(f"  {row['label']:<34} {fmt(naive['seed_download'], 2):>13} {fmt(naive['seed_noticed'], 2):>9} "
              f"{fmt(naive['wall']):>7} {fmt(module['to_verified'], 2):>7} {fmt(module['wall']):>7} "
              f"{fmt(module['module_elapsed']):>16} {str(module['verified_locally']):>16} {str(module['job_state']):>9}")
    print('  naive = POST, GET the job row every 1 s until SUCCESS, sha256 on disk. module = preheat task start to '
          'cache_assert task end; (wall) = the whole ansible-playbook process.')
    for row in rows:
        module = row['module']
        print(f"  {row['label']}: module run's content on disk {fmt(module['disk_after_start'], 2)} s after the preheat "
              f"task started; cache_assert hashed at {fmt(module['assert_mib_per_second'], 0)} MiB/s")
    print('\n  targets')
    for row in rows:
        naive, module = row['naive'], row['module']
        if row['key'] == 'small':
            limit = 2 * naive['seed_download']
            verdict = 'met' if module['to_verified'] <= limit else 'MISSED'
            wall_verdict = 'met' if module['wall'] <= limit else 'missed'
            print(f"  {row['label']}: module preheat-to-verified {module['to_verified']:.2f} s <= 2 x seed download "
                  f"({limit:.2f} s): {verdict} (whole ansible-playbook process {module['wall']:.1f} s: {wall_verdict})")
        verdict = 'as expected' if naive['wall'] >= 30 else 'faster than expected'
        print(f"  {row['label']}: naive client {naive['wall']:.1f} s >= 30 s expected: {verdict}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog='See the docstring of benchmarks/preheat.py for what is measured and how.')
    parser.add_argument('--manager-url', default=BENCH.manager_url(), help='(default: %(default)s)')
    parser.add_argument('--ca-file', default=BENCH.manager_ca,
                        help="the CA that signed the manager's TLS certificate (default: %(default)s)")
    parser.add_argument('--token-file', default=BENCH.token_file, help='(default: %(default)s)')
    parser.add_argument('--cache-dir', default=BENCH.seed_peer_cache, help='(default: %(default)s)')
    parser.add_argument('--registry', default=BENCH.registry, help='(default: %(default)s)')
    parser.add_argument('--files-url', default=BENCH.files_url, help='(default: %(default)s)')
    parser.add_argument('--content', help='content.json of tests/images/content.py (digests and sizes); default: '
                        'the one `tests/images/content.py generate $P2P_DRAGONFLY_CACHE/content` prints')
    parser.add_argument('--seed-ip', help="the seed peer's advertised IP, passed to the module as seed_ip")
    parser.add_argument('--timeout', type=float, default=600, help='seconds one preheat may take (default 600)')
    parser.add_argument('--cleanup-timeout', type=float, default=180,
                        help='seconds to wait for delete_task to remove the tasks created (default 180)')
    parser.add_argument('--keep', action='store_true', help='leave the tasks created in the seed cache')
    parser.add_argument('--skip-large', action='store_true', help='measure the small image only')
    parser.add_argument('--hash-rounds', type=int, default=3, help='rounds of each hashing run; the best counts')
    parser.add_argument('--hash-only', dest='directory', nargs='?', const='', default=None, metavar='DIR',
                        help='only (b): hash the files under DIR, or a generated 1 GiB file; needs no stack')
    args = parser.parse_args(argv)

    code = collection()
    try:
        if args.directory is not None:
            print_hashing(hash_only(args, code))
            return 0
        return run_stack(args, code)
    except BenchmarkError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1
    except code['api'].ManagerAPIError as exc:
        print(f'error: manager: {exc}', file=sys.stderr)
        return 1
    except code['preheat'].PreheatError as exc:
        print(f'error: {exc.message}', file=sys.stderr)
        return 1


def run_stack(args, code):
    stack = Stack(args, code)
    stack.check()
    run_id = str(int(time.time()))
    plans = [('small', f'{SMALL_IMAGE} ({PLATFORM})', stack.image_target)]
    if not args.skip_large:
        plans.append(('large', f'{LARGE_FILE} (384 MiB)', stack.file_target))
    rows = []
    hashed_paths = []
    failed = None
    try:
        for key, label, make in plans:
            naive_app, module_app = f'bench-{run_id}-{key}-naive', f'bench-{run_id}-{key}-module'
            naive_target, module_target = make(naive_app), make(module_app)
            stack.warm_origin(naive_target)
            print(f'{label}: naive client ...', file=sys.stderr)
            naive = stack.naive(naive_target, naive_app)
            print(f'{label}: module ...', file=sys.stderr)
            module = stack.module(module_target, module_app)
            rows.append(dict(key=key, label=label, naive=naive, module=module))
            hashed_paths.extend(item['path'] for item in module_target['files'])
        print_stack(rows)
        print_hashing(hashing_benchmark(hashed_paths, args.hash_rounds, code))
    except (BenchmarkError, code['api'].ManagerAPIError, code['preheat'].PreheatError) as exc:
        failed = exc
    finally:
        if not args.keep:
            try:
                left = stack.cleanup()
            except code['api'].ManagerAPIError as exc:
                print(f'cleanup: delete_task failed: {exc}', file=sys.stderr)
            else:
                if left:
                    print(f'cleanup: delete_task left {len(left)} content files after {args.cleanup_timeout:.0f} s: {left}',
                          file=sys.stderr)
    if failed is not None:
        raise failed
    return 0


if __name__ == '__main__':
    sys.exit(main())
