"""Seconds until a freshly started stack really preheats: used by benchmarks/converge.sh (not a test).

`docker compose up --wait` returns when the containers are healthy, but the scheduler only builds its
seed-peer ring one minute after it starts (upstream, not configurable): until then every preheat
fails with "no seed peer available". The roles' converge ends only once a probe preheat landed, so
the fair comparison is plain compose *plus* this wait. This script signs in to the manager (root,
upstream's default password on a fresh stack), creates a preheat job of the manager's own /healthy
answer every few seconds, and returns when that answer shows up in the seed peer's cache directory.

    ready_to_preheat.py MANAGER_URL CACHE_DIR [--ca CA_FILE] [--password dragonfly] [--timeout 300]
(MANAGER_URL https://...: the manager role's TLS proxy, verified with CA_FILE.)
Prints the seconds spent waiting; exits 1 on timeout.
"""
import argparse
import glob
import os
import sys
import time

import testlib  # puts tests/lib on sys.path; pylint: disable=unused-import
from p2p_lab.manager import Manager


def landed(cache_dir, answer):
    for path in glob.glob(os.path.join(cache_dir, "content", "tasks", "*", "*")):
        try:
            if os.path.getsize(path) == len(answer):
                with open(path, "rb") as handle:
                    if handle.read() == answer:
                        return True
        except OSError:
            continue
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manager_url")
    parser.add_argument("cache_dir")
    parser.add_argument("--ca", help="CA certificate that signed the manager's TLS certificate")
    parser.add_argument("--password", default="dragonfly")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    manager = Manager(args.manager_url, ca_file=args.ca)
    started = time.monotonic()
    status, answer = manager.request("GET", "/healthy")  # the bytes the probe preheats, compared on disk
    if status != 200:
        sys.exit("the manager's /healthy answered %s" % status)
    # Retried on 401 for up to --timeout seconds: manager v2.5.x refuses the right password after a read of the row.
    jwt = manager.signin(args.password, attempts=max(1, int(args.timeout)))
    if jwt is None:
        sys.exit("cannot sign in as root")
    attempt = 0
    while time.monotonic() - started < args.timeout:
        attempt += 1
        manager.call("POST", "/api/v1/jobs", body={
            "type": "preheat", "args": {"type": "file", "urls": [manager.url + "/healthy"],
                                        "application": "benchmark-ready-%d-%d" % (os.getpid(), attempt),
                                        "scope": "all_seed_peers"}}, bearer=jwt)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if landed(args.cache_dir, answer):
                print("%.1f" % (time.monotonic() - started))
                return
            time.sleep(0.2)
    sys.exit("no preheat landed within %s s" % args.timeout)


if __name__ == "__main__":
    main()
