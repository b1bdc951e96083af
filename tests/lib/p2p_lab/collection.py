"""This checkout as the collection p2p.dragonfly for programs run outside the test gates (the benchmarks): a
collections tree of their own linking to it, importable (ansible_collections.p2p.dragonfly) and first on
ANSIBLE_COLLECTIONS_PATH; removed when the program ends."""
import atexit
import os
import shutil
import sys
import tempfile

from p2p_lab.roles import REPO

_TREE = []


def tree():
    """The collections tree (made once per process), on sys.path."""
    if not _TREE:
        path = tempfile.mkdtemp(prefix="p2p-bench-collections-")
        # rmtree removes the link, not what it points to.
        atexit.register(shutil.rmtree, path, True)
        os.makedirs(os.path.join(path, "ansible_collections", "p2p"))
        os.symlink(REPO, os.path.join(path, "ansible_collections", "p2p", "dragonfly"))
        sys.path.insert(0, path)
        _TREE.append(path)
    return _TREE[0]


def ansible_env(**extra):
    """The environment for ansible-playbook: the tree first on ANSIBLE_COLLECTIONS_PATH, no colours, plus ``extra``."""
    paths = [tree()] + [path for path in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if path]
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(paths), ANSIBLE_NOCOLOR="1", **extra)
