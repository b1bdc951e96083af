"""Files on this host: the sha256 of a file, and a digest of a whole tree (for restores proved byte for byte).
Standard library only: tests/images/content.py runs with the system's Python."""
import hashlib
import os


def sha256_of(path):
    """The hex sha256 of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_digest(path):
    """{relative path: (mode, sha256 or "dir")} of every file and directory below path."""
    found = {}
    for directory, dirs, names in os.walk(path):
        for name in dirs + names:
            full = os.path.join(directory, name)
            content = sha256_of(full) if name in names else "dir"
            found[os.path.relpath(full, path)] = (oct(os.lstat(full).st_mode), content)
    return found
