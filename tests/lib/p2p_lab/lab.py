"""The lab on this host (tests/lib/lab.yml): network, test origin, paths below $P2P_DRAGONFLY_CACHE, and the stacks
the tests, benchmarks and main job deploy, each as its inventory and the roles' defaults define it.

    python -m p2p_lab.lab NAME      print one value for a shell script (scripts/lib.sh lab_value): a dotted path
                                    into lab.yml (network.gateway), content_root, crictl, or stacks.STACK.ATTRIBUTE
                                    (stacks.molecule_default.base, stacks.e2e.manager_url)
"""
import contextlib
import fcntl
import os
import re
import sys

import yaml

from p2p_lab import roles
from p2p_lab.manager import Manager

REPO = roles.REPO
with open(os.path.join(REPO, "tests/lib/lab.yml")) as _handle:
    LAB = yaml.safe_load(_handle)["p2p_lab"]

CACHE = os.environ.get("P2P_DRAGONFLY_CACHE", "/var/cache/p2p-dragonfly")  # scripts/lib.sh sets it
NETWORK = LAB["network"]
GATEWAY = NETWORK["gateway"]
CONTENT_ROOT = os.path.join(CACHE, LAB["content_dir"])
CRICTL = os.path.join(CACHE, "bin", "crictl-" + LAB["crictl_version"], "crictl")
ORIGIN_FILE = os.path.join(REPO, LAB["origin"]["compose_file"])

_REFERENCE = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class LabError(Exception):
    pass


class Stack:
    """One stack of lab.yml: the roles' defaults, then its inventory's variables (all.vars), then its own ``vars``."""

    def __init__(self, name):
        self.name = name
        self.spec = LAB["stacks"][name]
        self.inventory = os.path.join(REPO, self.spec["inventory"]) if "inventory" in self.spec else None
        self.origin_project = self.spec.get("origin_project")
        self.vars = roles.defaults()
        if self.inventory:
            with open(self.inventory) as handle:
                self.vars.update(yaml.safe_load(handle)["all"].get("vars") or {})
        # What the stack sets beyond its inventory: the tests hand these to Ansible as host variables.
        self.overrides = dict(self.spec.get("vars") or {})
        self.vars.update(self.overrides)
        self.secure_origin = bool(self.spec.get("secure_origin"))
        ports = dict(LAB["origin"], **(self.spec.get("origin_ports") or {}))
        self.registry_port, self.files_port = int(ports["registry_port"]), int(ports["files_port"])
        self.registry = "%s:%d" % (GATEWAY, self.registry_port)  # its test origin's registry (plain HTTP)
        self.registry_push_url = "http://127.0.0.1:%d" % self.registry_port
        self.files_url = "http://%s:%d" % (GATEWAY, self.files_port)
        advertised = self.spec.get("inventory") and self.vars.get("dragonfly_advertise_ip")
        if advertised and "{{" not in str(advertised) and advertised != GATEWAY:
            raise LabError("%s: dragonfly_advertise_ip %s is not the lab network's gateway %s (tests/lib/lab.yml)"
                           % (self.spec["inventory"], advertised, GATEWAY))

    def var(self, name):
        """A variable as the roles see it; templates that only name other variables are resolved."""
        value = self.vars[name]
        if isinstance(value, str):
            value = _REFERENCE.sub(lambda match: str(self.var(match.group(1))), value)
            if "{{" in value or "{%" in value:
                raise LabError("%s: %s is %r, which only Ansible can template" % (self.name, name, value))
        return value

    @property
    def base(self):
        return self.var("dragonfly_base_dir")

    @property
    def prefix(self):
        return self.var("dragonfly_compose_project_prefix")

    @property
    def manager_port(self):
        return int(self.var("dragonfly_manager_rest_port"))

    @property
    def manager_dir(self):
        return self.var("dragonfly_manager_dir")

    @property
    def manager_ca(self):
        """The CA the manager role generated for its TLS proxy (a site's own certificate comes with its own CA)."""
        return self.manager_dir + "/tls/ca.crt"

    @property
    def token_file(self):
        return self.manager_dir + "/secrets/token"

    @property
    def seed_peer_cache(self):
        return self.var("dragonfly_seed_peer_cache_dir")

    def manager_url(self, host=GATEWAY):
        return "https://%s:%d" % (host, self.manager_port)

    def manager(self, host=GATEWAY, timeout=30):
        """The manager's REST API through the role's TLS proxy, verified with the role's CA."""
        return Manager(self.manager_url(host), ca_file=self.manager_ca, timeout=timeout)

    def token(self):
        """The access token the manager role created."""
        with open(self.token_file) as handle:
            return handle.read().strip()

    def container(self, project, service):
        """The container of a service in one of the stack's compose projects (manager, scheduler, seed-peer, ...)."""
        return "%s-%s-%s-1" % (self.prefix, project, service)


def stack(name):
    return Stack(name)


@contextlib.contextmanager
def lock(name):
    """Hold the lab-wide lock ``name`` (a file below the cache) while test sessions running at once set up what
    they share."""
    directory = os.path.join(CACHE, "locks")
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def value(name):
    """A value for the shell scripts (see the module's docstring)."""
    computed = {"content_root": CONTENT_ROOT, "crictl": CRICTL, "origin.compose_file": ORIGIN_FILE}
    if name in computed:
        return computed[name]
    parts = name.split(".")
    if parts[0] == "stacks" and len(parts) == 3:
        found = getattr(stack(parts[1]), parts[2])
        return found() if callable(found) else found
    found = LAB
    for part in parts:
        found = found[part]
    return found


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(value(sys.argv[1]))
