# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sha256 of files as fast as the disk allows (large sequential reads, files in parallel threads), and sha256
digests given by users checked and normalised."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import os
import re
from concurrent.futures import ThreadPoolExecutor

# Big reads keep the per-call Python overhead negligible; hashlib releases the GIL while hashing,
# so several files are hashed in parallel by threads.
BLOCK_SIZE = 8 * 1024 * 1024
MAX_WORKERS = 8

_SHA256_RE = re.compile(r'^[0-9a-f]{64}\Z')


def sha256_file(path, block_size=BLOCK_SIZE):
    """Return ``(hex digest, bytes read)`` of a file, read sequentially in large blocks."""
    digest = hashlib.sha256()
    buffer = bytearray(block_size)
    view = memoryview(buffer)
    total = 0
    with open(path, 'rb', buffering=0) as stream:
        try:
            os.posix_fadvise(stream.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        except (AttributeError, OSError):
            pass
        readinto = stream.readinto
        update = digest.update
        while True:
            count = readinto(buffer)
            if not count:
                break
            update(view[:count])
            total += count
    return digest.hexdigest(), total


def hash_files(paths, workers=None):
    """``{path: (hex digest, bytes) or OSError}`` for every path, hashed in parallel."""
    unique = list(dict.fromkeys(paths))
    if not unique:
        return {}
    workers = max(1, min(workers or MAX_WORKERS, os.cpu_count() or 1, len(unique)))

    def one(path):
        try:
            return path, sha256_file(path)
        except OSError as exc:
            return path, exc

    if workers == 1:
        return dict(one(path) for path in unique)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(one, unique))


def normalize_sha256(value, label):
    """``sha256:<hex>`` or ``<hex>`` -> ``<hex>``; raises ValueError for anything else."""
    if value is None:
        return None
    text = value.strip().lower()
    if text.startswith('sha256:'):
        text = text[len('sha256:'):]
    if not _SHA256_RE.match(text):
        raise ValueError(f'{label}: {value!r} is not a sha256 digest (64 hex characters, optionally prefixed by sha256:)')
    return text
