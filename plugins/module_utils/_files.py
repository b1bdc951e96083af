# -*- coding: utf-8 -*-
# Copyright (c) 2026, p2p.dragonfly contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writing files that may hold secrets, and the marker of directories this collection created: shared by host_secrets,
project_files and runtime_wiring (private to this collection)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import tempfile


def write_atomically(module, path, data, validate=None):
    """Replace ``path`` with ``data`` atomically; a new file never has a mode wider than 0600 before its mode is set.

    ``validate``, if given, is called with the path of the written temporary file (beside ``path``, so that relative
    paths in it resolve as in the real file) and returns ``None`` to go on or a reason to leave ``path`` as it is.
    Returns ``None`` on success, else a reason that names no content (OSError and atomic_move's own errors name
    paths only), for the caller's message.
    """
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f'.{os.path.basename(path)[:40]}.', suffix='.tmp')
        with os.fdopen(fd, 'wb') as stream:
            stream.write(data)
        reason = validate(tmp) if validate else None
        if reason is not None:
            return reason
        # atomic_move gives a new file the mode 0666 minus the umask: 0600 with this one.
        umask = os.umask(0o077)
        try:
            module.atomic_move(tmp, path)
        finally:
            os.umask(umask)
    except Exception as exc:
        return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    finally:
        if tmp is not None and os.path.lexists(tmp):
            os.unlink(tmp)
    return None


# The text of the marker file the roles have written into each directory they create: their purge deletes only
# directories that hold it.
MARKER_TEXT = ('p2p.dragonfly created this directory. A purge (dragonfly_state=absent, dragonfly_purge=true) deletes it '
               'with everything in it; it deletes no directory without this file.\n')


def write_marker(module, directory, name):
    """Write the marker ``name`` (mode 0644) into ``directory``; returns ``None`` or a reason naming no content."""
    path = os.path.join(directory, name)
    reason = write_atomically(module, path, MARKER_TEXT.encode('utf-8'))
    if reason is None:
        try:
            os.chmod(path, 0o644)
        except OSError as exc:
            reason = exc.strerror
    return reason


def is_file_name(name):
    """Whether ``name`` names a file inside a directory (no path separator, not . or ..)."""
    return bool(name) and '/' not in name and name not in ('.', '..')
