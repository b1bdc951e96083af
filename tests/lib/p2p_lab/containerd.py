"""A private containerd for pulls through a peer (tests/e2e/test_runtime_pull.py, benchmarks/pull.py): Debian's
package, its own config, socket, root and state below a directory of the caller's, so the Docker engine running the
stacks is never touched; ctr, crictl and Podman (its own storage) to pull with.

tests/e2e/conftest.py creates one (the peer's runtime wiring is pointed at its files when the shared stack is
deployed) and test_runtime_pull.py starts and stops it; benchmarks/pull.py pulls with ctr only.
"""
import os
import shutil
import subprocess
import tempfile
import time

from p2p_lab.lab import CRICTL


class Containerd:
    """A private containerd: Debian 12's version-2 config with every path below `root` (a pathlib.Path); its images
    in the ctr namespace `namespace`."""

    def __init__(self, root, namespace="p2p-test"):
        self.root = root
        self.namespace = namespace
        self.config = root / "etc" / "config.toml"
        self.hosts_dir = root / "certs.d"
        self.socket = root / "containerd.sock"
        # The drop-in the role writes for CRI-O/Podman, in a directory the wiring creates (and removes again).
        self.containers_file = root / "containers" / "registries.conf"
        # Podman refuses a run root longer than 50 characters: its storage lives in a short directory of its own.
        self.podman_dir = tempfile.mkdtemp(prefix="p2p-podman-")
        self.process = None
        for sub in ("etc", "certs.d", "root", "state"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        self.config.write_text("""version = 2
root = "{r}/root"
state = "{r}/state"

[grpc]
  address = "{r}/containerd.sock"

[ttrpc]
  address = "{r}/containerd-ttrpc.sock"

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.invalid/pause:3.6"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "native"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "{r}/cni"
  [plugins."io.containerd.internal.v1.opt"]
    path = "{r}/opt"
""".format(r=root))
        (root / "crictl.yaml").write_text("runtime-endpoint: unix://{s}\nimage-endpoint: unix://{s}\ntimeout: 120\n"
                                          .format(s=self.socket))

    def start(self, env=None):
        """Start it; ``env``: more environment (SSL_CERT_FILE: the CAs it trusts, as a host's trust store would)."""
        log = open(self.root / "containerd.log", "ab")  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(["containerd", "--config", str(self.config)],  # pylint: disable=consider-using-with
                                        stdout=log, stderr=log, env=dict(os.environ, **(env or {})))
        for _attempt in range(100):
            if self.ctr("version", check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise AssertionError("private containerd did not start: " + (self.root / "containerd.log").read_text()[-2000:])

    def stop(self):
        shutil.rmtree(self.podman_dir, ignore_errors=True)
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def ctr(self, *args, check=True):
        return subprocess.run(["ctr", "--address", str(self.socket), "-n", self.namespace] + list(args),
                              capture_output=True, text=True, check=check)

    def podman(self, *args):
        """Podman with its own storage, reading only the role's drop-in as its registries.conf."""
        env = dict(os.environ, CONTAINERS_REGISTRIES_CONF=str(self.containers_file))
        return subprocess.run(["podman", "--root", self.podman_dir + "/root", "--runroot", self.podman_dir + "/run",
                               "--storage-driver", "vfs", "--events-backend", "none",
                               "--cgroup-manager", "cgroupfs"] + list(args),
                              capture_output=True, text=True, check=False, env=env)

    def crictl(self, *args):
        return subprocess.run([CRICTL, "--config", str(self.root / "crictl.yaml")] + list(args),
                              capture_output=True, text=True, check=False)
