"""scripts/lib.sh: every checkout finds itself as p2p.dragonfly, never another checkout on the same machine.

Two checkouts share one cache directory (as two clones on one machine do); each activates the environment the
gates use and asks ansible-galaxy where p2p.dragonfly is. With one link in the shared cache, the checkout that
ran last would win for both: the contrast is checkout A asked again after B.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_checkout(root, version):
    """A minimal checkout: the scripts' library, a galaxy.yml of its own version, and the venv link."""
    (root / "scripts").mkdir(parents=True)
    shutil.copy(os.path.join(REPO, "scripts/lib.sh"), root / "scripts" / "lib.sh")
    (root / "meta").mkdir()
    shutil.copy(os.path.join(REPO, "meta/runtime.yml"), root / "meta" / "runtime.yml")
    (root / "galaxy.yml").write_text("namespace: p2p\nname: dragonfly\nversion: %s\nreadme: README.md\n"
                                     "authors: [test]\n" % version)
    (root / "README.md").write_text("test checkout\n")
    (root / ".venv").symlink_to(sys.prefix)
    return root


def found_collection(checkout, cache):
    """(path, version) of p2p.dragonfly as the gates of `checkout` see it."""
    script = '. scripts/lib.sh && venv_activate && ansible-galaxy collection list p2p.dragonfly --format json'
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "VIRTUAL_ENV", "PYTHONPATH"))}
    env.update(P2P_DRAGONFLY_CACHE=str(cache), HOME=str(cache / "home"), ANSIBLE_NOCOLOR="1")
    result = subprocess.run(["bash", "-c", script], cwd=checkout, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    listing = json.loads(result.stdout)
    found = [(os.path.realpath(os.path.join(tree, "p2p", "dragonfly")), info["version"])
             for tree, collections in listing.items() for name, info in collections.items() if name == "p2p.dragonfly"]
    assert len(found) == 1, listing
    return found[0]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_each_checkout_finds_itself(tmp_path):
    cache = tmp_path / "cache"
    first = make_checkout(tmp_path / "first", "1.0.0")
    second = make_checkout(tmp_path / "second", "2.0.0")

    assert found_collection(first, cache) == (str(first.resolve()), "1.0.0")
    assert found_collection(second, cache) == (str(second.resolve()), "2.0.0")
    # The contrast: after the second checkout ran, the first still finds itself, not the second.
    assert found_collection(first, cache) == (str(first.resolve()), "1.0.0")
    # And each has a collections tree of its own below the shared cache.
    trees = sorted(os.listdir(cache / "checkouts"))
    assert len(trees) == 2, trees
