# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): the CPU seconds a command costs this machine, by program, from the kernel's process
accounting (acct(2), every process that exits, in every container and lab host too). Run as root:

    python3 benchmarks/cpu_by_program.py -- benchmarks/suite.sh warm

Long-running processes count when they exit, so run a command that tears down what it starts (the suite does).
Prints the programs by CPU seconds (user + system), and the total beside the command's wall time."""

import argparse
import collections
import ctypes
import os
import struct
import subprocess
import sys
import tempfile
import time

# struct acct_v3 (linux/acct.h): flag, version, tty, exitcode, uid, gid, pid, ppid, btime, etime (float),
# utime, stime, mem, io, rw, minflt, majflt, swaps (comp_t), comm[16].
RECORD = struct.Struct('<BBHIIIIIIf8H16s')
TICKS = 100  # AHZ


def comp_t(value):
    """comp_t: 13-bit mantissa, 3-bit base-8 exponent."""
    return (value & 0x1fff) << (3 * ((value >> 13) & 0x7))


def records(path):
    with open(path, 'rb') as stream:
        data = stream.read()
    for offset in range(0, len(data) - RECORD.size + 1, RECORD.size):
        fields = RECORD.unpack_from(data, offset)
        if fields[1] != 3:
            continue
        utime, stime = comp_t(fields[10]), comp_t(fields[11])
        comm = fields[18].split(b'\0', 1)[0].decode('ascii', 'replace')
        yield comm, (utime + stime) / TICKS


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--top', type=int, default=25)
    parser.add_argument('command', nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ['--'] else args.command
    if not command:
        parser.error('give the command after --')
    libc = ctypes.CDLL(None, use_errno=True)
    fd, path = tempfile.mkstemp(prefix='p2p-acct-', dir='/var/tmp')
    os.close(fd)
    if libc.acct(path.encode()) != 0:
        sys.exit(f'acct({path}) failed: {os.strerror(ctypes.get_errno())} (run as root)')
    started = time.monotonic()
    try:
        status = subprocess.call(command)
    finally:
        libc.acct(None)
    wall = time.monotonic() - started
    totals, counts = collections.Counter(), collections.Counter()
    for comm, seconds in records(path):
        totals[comm] += seconds
        counts[comm] += 1
    total = sum(totals.values())
    print(f'\nCPU seconds by program (process accounting, {path}):')
    print(f"{'program':<18} {'processes':>9} {'cpu s':>9} {'share':>6}")
    for comm, seconds in totals.most_common(args.top):
        print(f'{comm:<18} {counts[comm]:>9} {seconds:>9.1f} {100 * seconds / total:>5.1f}%')
    print(f'total {total:.0f} CPU s in {wall:.0f} s of wall time on {os.cpu_count()} cores '
          f'({100 * total / (wall * os.cpu_count()):.0f}% of what they can do); command exited {status}')
    return status


if __name__ == '__main__':
    sys.exit(main())
