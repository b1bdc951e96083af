"""What the collection's roles define for the tests: their defaults (roles/*/defaults/main.yml) and the release
sets they deploy (roles/_common/vars/main.yml), read from this checkout."""
import os

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLES = ("_common", "manager", "scheduler", "seed_peer", "peer")


def _load(path):
    with open(os.path.join(REPO, path)) as handle:
        return yaml.safe_load(handle)


def defaults():
    """Every role's defaults in one dict (their names do not overlap: each carries its role's prefix)."""
    found = {}
    for role in ROLES:
        found.update(_load("roles/%s/defaults/main.yml" % role))
    return found


def default_release_set():
    """The release set the roles deploy by default (roles/_common/defaults/main.yml)."""
    return str(_load("roles/_common/defaults/main.yml")["dragonfly_release_set"])


def release_sets():
    """The roles' release table (roles/_common/vars/main.yml): {name: {manager, scheduler, client, ...}}."""
    return _load("roles/_common/vars/main.yml")["_dragonfly_release_sets"]


def release_set(name):
    """One set of the roles' release table."""
    return release_sets()[name]
