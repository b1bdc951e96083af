"""The fleet lab: several Debian hosts on this machine, reached over real SSH (tests/lab/README.md).

    python3 tests/lab/lab.py up                 create what is missing, start what is stopped (idempotent)
    python3 tests/lab/lab.py down               remove every container, the network and the state directory
    python3 tests/lab/lab.py status             what runs, where, whether SSH answers, memory
    python3 tests/lab/lab.py ssh HOST [CMD...]  an SSH session (or one command) on a lab host, as the inventory's user
    python3 tests/lab/lab.py rm HOST...         remove hosts added for a while (a test's joining hosts), and their state

The hosts are the inventory's (inventories/lab: each host's ansible_host is its address on the lab network, and
those of the inventories named in P2P_FLEET_EXTRA_INVENTORY, paths separated by colons: benchmarks/fleet.py adds
four more peers that way),
plus the test origin (`origin`, registry and file server with the test content) and the registry mirror every
host's engine pulls from. Each host is a container with systemd, sshd and a container engine of its own
(Docker-in-Docker: tests/lab/host/Dockerfile; why: docs/dev/issue-15-lab.md).

Everything the lab makes is named p2p-fleet-*, labelled org.p2p-dragonfly.lab=p2p-fleet, lives on the docker
network p2p-fleet (172.31.240.0/24) and below /var/lib/p2p-fleet; the only published port is the mirror's
127.0.0.1:25000, through which this machine's engine pushes the images. Standard library only (ansible-inventory
reads the inventory).
"""
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
INVENTORY = os.path.join(REPO, "inventories", "lab")
# More hosts for the lab beside inventories/lab (more peers for a benchmark): inventory paths, colon-separated.
EXTRA_INVENTORIES = [path for path in os.environ.get("P2P_FLEET_EXTRA_INVENTORY", "").split(":") if path]

NAME = "p2p-fleet"
LABEL = "org.p2p-dragonfly.lab"
STATE = "/var/lib/p2p-fleet"  # inventories/lab/group_vars/all/ssh.yml names the key and known_hosts below it
SSH_DIR = os.path.join(STATE, "ssh")
KEY = os.path.join(SSH_DIR, "id_ed25519")
KNOWN_HOSTS = os.path.join(SSH_DIR, "known_hosts")
USER = "admin"  # the lab host image's unprivileged user (passwordless sudo)

NETWORK = NAME
SUBNET, GATEWAY, BRIDGE = "172.31.240.0/24", "172.31.240.1", "p2p-fleet0"
# The site's registry mirror: the name every host's engine knows it by (its /etc/hosts) and trusts as an insecure
# registry (tests/lab/host/daemon.json); this machine's engine pushes to it on loopback.
MIRROR_IP, MIRROR_NAME, MIRROR_PORT, PUSH_PORT = "172.31.240.2", "mirror.p2p-fleet.test", 5000, 25000
MIRROR = "%s:%d" % (MIRROR_NAME, MIRROR_PORT)
MIRROR_CONTAINER = NAME + "-mirror"
# The test origin, a host of its own: registry on :5000 and file server on :80 (tests/lab/origin/compose.yaml).
ORIGIN, ORIGIN_IP = "origin", "172.31.240.40"
ORIGIN_REGISTRY, ORIGIN_FILES = ORIGIN_IP + ":5000", "http://%s" % ORIGIN_IP

BASE_IMAGE = "localhost/p2p-dragonfly/debian:bookworm"
HOST_IMAGE = "localhost/p2p-fleet/host:bookworm"
INPUT_LABEL = "org.p2p-dragonfly.inputs"
FIXTURES = "localhost/p2p-dragonfly"
COMPOSE_PLUGIN = "/usr/local/lib/docker/cli-plugins/docker-compose"
CACHE = os.environ.get("P2P_DRAGONFLY_CACHE", "/var/cache/p2p-dragonfly")
CONTENT_ROOT = os.path.join(CACHE, "content")

# Local image -> its name in the mirror. The Dragonfly images keep upstream's path below the mirror
# (dragonfly_image_registry); the fixtures standing in for MariaDB, Redis and nginx (and the origin's) keep theirs.
FIXTURE_IMAGES = ["mariadb:10.11", "redis:7.0", "nginx:1.22", "registry:3.1.1", "fileserver:1"]


def log(message):
    sys.stderr.write("[%s] lab: %s\n" % (time.strftime("%H:%M:%S"), message))
    sys.stderr.flush()


def run(*args, check=True, capture=True, input_text=None, timeout=None):
    result = subprocess.run(list(args), capture_output=capture, text=True, check=False, input=input_text,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise SystemExit("lab: `%s` failed (%d): %s" % (" ".join(args), result.returncode,
                                                        (result.stderr or result.stdout or "").strip()[-2000:]))
    return result


def docker(*args, **kwargs):
    return run("docker", *args, **kwargs)


def container_name(host):
    return "%s-%s" % (NAME, host)


# ------------------------------------------------------------------------------------------- the hosts
def inventory_hosts():
    """{name: address} of every host of inventories/lab (and EXTRA_INVENTORIES), from ansible-inventory (the venv's,
    else PATH's)."""
    tool = os.path.join(os.path.dirname(sys.executable), "ansible-inventory")
    if not os.path.exists(tool):
        tool = shutil.which("ansible-inventory") or os.path.join(REPO, ".venv", "bin", "ansible-inventory")
    sources = [INVENTORY] + EXTRA_INVENTORIES
    data = json.loads(run(tool, *[arg for source in sources for arg in ("-i", source)], "--list").stdout)
    hosts = {}
    for name, hostvars in data.get("_meta", {}).get("hostvars", {}).items():
        address = hostvars.get("ansible_host")
        if not address or not address.startswith(SUBNET.rsplit(".", 1)[0] + "."):
            raise SystemExit("lab: inventory host %s needs an ansible_host on %s (has %r)" % (name, SUBNET, address))
        hosts[name] = address
    if ORIGIN in hosts or len(set(hosts.values())) != len(hosts) or {MIRROR_IP, ORIGIN_IP, GATEWAY} & set(hosts.values()):
        raise SystemExit("lab: the inventory's names and addresses must be unique and leave %s, %s (origin) and %s "
                         "(mirror) to the lab" % (ORIGIN, ORIGIN_IP, MIRROR_IP))
    return hosts


def lab_hosts():
    """Every lab host: the inventory's and the origin."""
    hosts = inventory_hosts()
    hosts[ORIGIN] = ORIGIN_IP
    return hosts


def ssh_command(address, *command, tty=False):
    return (["ssh", "-i", KEY, "-o", "UserKnownHostsFile=" + KNOWN_HOSTS, "-o", "StrictHostKeyChecking=yes",
             "-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR"]
            + (["-t"] if tty else []) + ["%s@%s" % (USER, address)] + list(command))


def ssh(address, command, check=True, input_text=None, timeout=600):
    return run(*ssh_command(address, command), check=check, input_text=input_text, timeout=timeout)


# ---------------------------------------------------------------------------------------- the host image
def build_host_image():
    """The lab host image (tests/lab/host/), rebuilt only when its inputs changed (label with their hash)."""
    if not os.path.exists(COMPOSE_PLUGIN):
        raise SystemExit("lab: %s missing: run scripts/bootstrap.sh (it builds the compose plugin)" % COMPOSE_PLUGIN)
    if docker("image", "inspect", BASE_IMAGE, check=False).returncode != 0:
        raise SystemExit("lab: base image %s missing: tests/images/build.sh makes it" % BASE_IMAGE)
    context_dir = os.path.join(HERE, "host")
    digest = hashlib.sha256()
    for name in sorted(os.listdir(context_dir)):
        with open(os.path.join(context_dir, name), "rb") as handle:
            digest.update(name.encode() + b"\0" + handle.read())
    with open(COMPOSE_PLUGIN, "rb") as handle:
        digest.update(hashlib.sha256(handle.read()).digest())
    digest.update(docker("image", "inspect", "-f", "{{.Id}}", BASE_IMAGE).stdout.strip().encode())
    inputs = digest.hexdigest()[:16]
    found = docker("image", "inspect", "-f", '{{index .Config.Labels "%s"}}' % INPUT_LABEL, HOST_IMAGE, check=False)
    if found.returncode == 0 and found.stdout.strip() == inputs:
        return
    log("building %s" % HOST_IMAGE)
    with tempfile.TemporaryDirectory(prefix="p2p-fleet-host-") as context:
        for name in os.listdir(context_dir):
            shutil.copy(os.path.join(context_dir, name), context)
        shutil.copy(COMPOSE_PLUGIN, os.path.join(context, "docker-compose"))
        docker("build", "--network", "host", "--build-arg", "BASE_IMAGE=" + BASE_IMAGE, "--label",
               "%s=%s" % (INPUT_LABEL, inputs), "--label", "%s=%s" % (LABEL, NAME), "-t", HOST_IMAGE, context)


# ------------------------------------------------------------------------------------- network and keys
def ensure_network():
    if docker("network", "inspect", NETWORK, check=False).returncode == 0:
        return
    log("creating network %s (%s)" % (NETWORK, SUBNET))
    docker("network", "create", "--subnet", SUBNET, "--gateway", GATEWAY, "-o",
           "com.docker.network.bridge.name=" + BRIDGE, "--label", "%s=%s" % (LABEL, NAME), NETWORK)


def ensure_keys(hosts):
    """The user's key (SSH_DIR, 0600), a host key per host and known_hosts naming exactly those keys."""
    os.makedirs(SSH_DIR, mode=0o700, exist_ok=True)
    if not os.path.exists(KEY):
        run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", NAME, "-f", KEY)
    with open(KEY + ".pub") as handle:
        authorized = handle.read()
    lines = []
    for host, address in sorted(hosts.items()):
        directory = os.path.join(STATE, "hosts", host, "ssh")
        os.makedirs(directory, exist_ok=True)
        host_key = os.path.join(directory, "ssh_host_ed25519_key")
        if not os.path.exists(host_key):
            run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", host, "-f", host_key)
        write_if_changed(os.path.join(directory, "authorized_keys"), authorized, 0o644)
        with open(host_key + ".pub") as handle:
            key_type, key = handle.read().split()[:2]
        lines.append("%s %s %s\n" % (address, key_type, key))
    write_if_changed(KNOWN_HOSTS, "".join(lines), 0o644)


def write_if_changed(path, content, mode):
    try:
        with open(path) as handle:
            if handle.read() == content:
                os.chmod(path, mode)
                return
    except FileNotFoundError:
        pass
    with open(path + ".tmp", "w") as handle:
        handle.write(content)
    os.chmod(path + ".tmp", mode)
    os.replace(path + ".tmp", path)


# ------------------------------------------------------------------------------------------- the mirror
def ensure_container(name, args, image):
    """Start the container `name`, creating it with args + image when missing. Returns True when it was created.
    One made with other arguments or another image (the host image rebuilt, the test content redefined) is left as
    it is, with a word: replacing it would drop what runs on it."""
    image_id = docker("image", "inspect", "-f", "{{.Id}}", image).stdout.strip()
    spec = hashlib.sha256(json.dumps([args, image_id]).encode()).hexdigest()[:16]
    state = docker("inspect", "-f", '{{.State.Running}} {{index .Config.Labels "%s.spec"}}' % LABEL, name, check=False)
    if state.returncode == 0:
        running, current = (state.stdout.split() + [""])[:2]
        if current != spec:
            log("%s was made with other settings or another image: `down` and `up` to remake it" % name)
        if running != "true":
            docker("start", name)
        return False
    docker("run", "-d", "--name", name, "--label", "%s=%s" % (LABEL, NAME), "--label", "%s.spec=%s" % (LABEL, spec),
           *args, image)
    return True


def ensure_mirror():
    data = os.path.join(STATE, "mirror")
    os.makedirs(data, exist_ok=True)
    ensure_container(MIRROR_CONTAINER, ["--restart", "unless-stopped", "--network", NETWORK, "--ip", MIRROR_IP,
                                        "-p", "127.0.0.1:%d:%d" % (PUSH_PORT, MIRROR_PORT),
                                        "-v", data + ":/var/lib/registry"], FIXTURES + "/registry:3.1.1")
    wait_for(lambda: http_status("http://127.0.0.1:%d/v2/" % PUSH_PORT) == 200, 60, "the mirror registry")


def http_status(url, headers=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


def mirror_config_digest(path):
    """The config digest of the manifest the mirror holds for path (repo:tag), or None."""
    repo, tag = path.rsplit(":", 1)
    request = urllib.request.Request("http://127.0.0.1:%d/v2/%s/manifests/%s" % (PUSH_PORT, repo, tag), headers={
        "Accept": "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response).get("config", {}).get("digest")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def release_images():
    """Upstream references of every release set whose images are on this machine; the default set must be."""
    # Imported here: p2p_lab needs PyYAML, which main() makes sure of first.
    sys.path.insert(0, os.path.join(HERE, "..", "lib"))
    from p2p_lab import roles  # pylint: disable=import-outside-toplevel

    sets, default = roles.release_sets(), roles.default_release_set()
    images = []
    for name, release in sets.items():
        refs = ["dragonflyoss/manager:" + release["manager"], "dragonflyoss/scheduler:" + release["scheduler"],
                "dragonflyoss/client:" + release["client"]]
        missing = [ref for ref in refs if docker("image", "inspect", ref, check=False).returncode != 0]
        if missing and name == default:
            raise SystemExit("lab: images of the default release set %s missing (%s): tests/images/build.sh builds them"
                             % (name, ", ".join(missing)))
        images += [ref for ref in refs if ref not in missing and ref not in images]
    return images


def push_images():
    """Every image the hosts run, into the mirror under the mirror's name; skipped when the mirror has it already."""
    pairs = [(ref, ref) for ref in release_images()]
    pairs += [("%s/%s" % (FIXTURES, image), "p2p-dragonfly/" + image) for image in FIXTURE_IMAGES]
    for local, path in pairs:
        found = docker("image", "inspect", "-f", "{{.Id}}", local, check=False)
        if found.returncode != 0:
            raise SystemExit("lab: image %s missing: tests/images/build.sh builds it" % local)
        if mirror_config_digest(path) == found.stdout.strip():
            continue
        push_tag = "127.0.0.1:%d/%s" % (PUSH_PORT, path)
        log("pushing %s as %s/%s" % (local, MIRROR, path))
        docker("tag", local, push_tag)
        try:
            docker("push", "-q", push_tag)
        finally:
            # Only the tag this made: the image keeps its own.
            docker("image", "rm", push_tag, check=False)


# -------------------------------------------------------------------------------------------- the hosts
def host_args(host, address):
    directory = os.path.join(STATE, "hosts", host)
    for sub in ("docker", "containerd"):
        os.makedirs(os.path.join(directory, sub), exist_ok=True)
    args = [
        "--hostname", host, "--label", "%s.host=%s" % (LABEL, host),
        # What --privileged gives, minus CAP_SYS_RESOURCE, which this machine's bounding set lacks (docker's
        # --privileged then fails with "unable to apply caps"): every other capability, no seccomp or AppArmor
        # profile, /proc unmasked, every device, and the cgroup tree writable for the inner engine.
        "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
        "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
        "--security-opt", "systempaths=unconfined", "--device-cgroup-rule", "a *:* rwm",
        "-v", "/sys/fs/cgroup:/sys/fs/cgroup",
        "--tmpfs", "/run", "--tmpfs", "/run/lock",
        "--network", NETWORK, "--ip", address, "--add-host", "%s:%s" % (MIRROR_NAME, MIRROR_IP),
        "-v", os.path.join(directory, "ssh") + ":/etc/ssh/lab:ro",
        # The inner engines' storage on this machine's filesystem (ext4): overlayfs cannot sit on overlayfs.
        "-v", os.path.join(directory, "docker") + ":/var/lib/docker",
        "-v", os.path.join(directory, "containerd") + ":/var/lib/containerd",
    ]
    if host == ORIGIN:
        args += ["-v", origin_files_dir() + ":/srv/origin/files:ro"]
    return args


def origin_files_dir():
    return os.path.join(os.path.dirname(content_description()), "files")


_CONTENT = []


def content_description():
    """The path of the test content's content.json (tests/images/content.py generates it once per definition)."""
    if not _CONTENT:
        _CONTENT.append(run(sys.executable, os.path.join(REPO, "tests/images/content.py"), "generate",
                            CONTENT_ROOT).stdout.strip())
    return _CONTENT[0]


def wait_for(probe, timeout, what):
    deadline = time.time() + timeout
    while True:
        if probe():
            return
        if time.time() > deadline:
            raise SystemExit("lab: %s not ready after %d s" % (what, timeout))
        time.sleep(1)


def host_ready(address):
    try:
        return ssh(address, "sudo -n docker info --format '{{.ServerVersion}}'", check=False, timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def ensure_origin():
    """The origin's compose project (images from the mirror) and the test content in its registry."""
    with open(os.path.join(HERE, "origin", "compose.yaml")) as handle:
        compose = handle.read()
    ssh(ORIGIN_IP, "sudo install -d -m 0755 /opt/p2p-fleet-origin && sudo tee /opt/p2p-fleet-origin/compose.yaml "
        ">/dev/null", input_text=compose)
    ssh(ORIGIN_IP, "sudo docker compose --project-directory /opt/p2p-fleet-origin -p p2p-fleet-origin up -d "
        "--wait --quiet-pull")
    wait_for(lambda: http_status("http://%s/v2/" % ORIGIN_REGISTRY) == 200, 60, "the origin registry")
    pushed = run(sys.executable, os.path.join(REPO, "tests/images/content.py"), "push", CONTENT_ROOT,
                 "http://" + ORIGIN_REGISTRY).stdout.strip()
    log("origin: test content in http://%s (%s), files at %s/" % (ORIGIN_REGISTRY, pushed, ORIGIN_FILES))


@contextlib.contextmanager
def lab_lock():
    """One lab command changes the lab at a time (the suite and a user may both call `up`)."""
    os.makedirs(STATE, exist_ok=True)
    with open(os.path.join(STATE, ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def up():
    started = time.time()
    hosts = lab_hosts()
    with lab_lock():
        build_host_image()
        ensure_network()
        ensure_keys(hosts)
        ensure_mirror()
        push_images()
        content_description()
        created = [host for host, address in sorted(hosts.items())
                   if ensure_container(container_name(host), host_args(host, address), HOST_IMAGE)]
        if created:
            log("created %s" % ", ".join(created))
        for host, address in sorted(hosts.items()):
            wait_for(lambda address=address: host_ready(address), 120, "SSH and the engine of %s" % host)
        ensure_origin()
    log("up in %.0f s: %d hosts (%s), mirror %s, origin %s" % (time.time() - started, len(hosts),
                                                               ", ".join(sorted(hosts)), MIRROR, ORIGIN_IP))


def down():
    with lab_lock():
        names = docker("ps", "-aq", "--filter", "label=%s=%s" % (LABEL, NAME)).stdout.split()
        if names:
            # systemd stops each host's engine and containers on SIGRTMIN+3 (the image's stop signal).
            docker("stop", "-t", "30", *names, check=False)
            docker("rm", "-f", "-v", *names)
        if docker("network", "inspect", NETWORK, check=False).returncode == 0:
            docker("network", "rm", NETWORK)
        for entry in os.listdir(STATE):
            path = os.path.join(STATE, entry)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif entry != ".lock":
                os.remove(path)
    shutil.rmtree(STATE, ignore_errors=True)
    log("down: removed %d containers, the network %s and %s (the image %s stays)"
        % (len(names), NETWORK, STATE, HOST_IMAGE))


def remove(hosts):
    """Remove hosts (their containers and state directories) and leave the rest of the lab as it is: for hosts of an
    extra inventory that a test or a benchmark added for a while. known_hosts keeps their lines until the next `up`."""
    if ORIGIN in hosts:
        raise SystemExit("lab: the origin is part of the lab: `down` removes it")
    with lab_lock():
        for host in hosts:
            container = container_name(host)
            if docker("inspect", container, check=False).returncode == 0:
                docker("stop", "-t", "30", container, check=False)
                docker("rm", "-f", "-v", container)
            shutil.rmtree(os.path.join(STATE, "hosts", host), ignore_errors=True)
    log("removed %s" % ", ".join(hosts))


def memory_mib(container):
    """Resident memory of a container and everything it runs (a lab host's engine and containers), from its memory
    cgroup (cgroup v1; `docker stats` reports 0 B on this machine's engine). None when unknown."""
    found = docker("inspect", "-f", "{{.Id}}", container, check=False)
    try:
        with open("/sys/fs/cgroup/memory/docker/%s/memory.stat" % found.stdout.strip()) as handle:
            stats = dict(line.split() for line in handle)
        return int(stats["total_rss"]) // 1048576
    except (OSError, KeyError, ValueError):
        return None


def status():
    hosts = lab_hosts()
    rows = [("host", "address", "container", "ssh", "rss MiB", "containers")]
    total = 0
    for host, address in sorted(hosts.items(), key=lambda item: tuple(int(p) for p in item[1].split("."))):
        state = docker("inspect", "-f", "{{.State.Status}}", container_name(host), check=False)
        container = state.stdout.strip() if state.returncode == 0 else "missing"
        reach, inner, rss = "-", "-", None
        if container == "running" and os.path.exists(KEY):
            result = ssh(address, "sudo -n docker ps --format '{{.Names}}'", check=False, timeout=20)
            reach = "ok" if result.returncode == 0 else "no (%d)" % result.returncode
            inner = " ".join(sorted(result.stdout.split())) if result.returncode == 0 else "-"
            rss = memory_mib(container_name(host))
        total += rss or 0
        rows.append((host, address, container, reach, "-" if rss is None else str(rss), inner or "none"))
    mirror = docker("inspect", "-f", "{{.State.Status}}", MIRROR_CONTAINER, check=False)
    rss = memory_mib(MIRROR_CONTAINER) if mirror.returncode == 0 else None
    total += rss or 0
    rows.append(("(mirror)", MIRROR_IP, mirror.stdout.strip() if mirror.returncode == 0 else "missing",
                 "-", "-" if rss is None else str(rss), "%s, push 127.0.0.1:%d" % (MIRROR, PUSH_PORT)))
    rows.append(("(total)", "", "", "", str(total), ""))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + "  " + row[5])
    return 0 if all(row[2] == "running" for row in rows[1:-1]) else 1


def ssh_main(host, command):
    hosts = lab_hosts()
    if host not in hosts:
        raise SystemExit("lab: no host %s (hosts: %s)" % (host, ", ".join(sorted(hosts))))
    argv = ssh_command(hosts[host], *command, tty=not command and sys.stdin.isatty())
    os.execvp(argv[0], argv)


def main(argv):
    try:
        import yaml  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
    except ImportError:  # not the project's venv: run again with it (it has PyYAML and ansible-inventory)
        venv_python = os.path.join(REPO, ".venv", "bin", "python")
        if os.path.exists(venv_python) and not os.environ.get("P2P_FLEET_REEXEC"):
            os.environ["P2P_FLEET_REEXEC"] = "1"
            os.execv(venv_python, [venv_python, os.path.abspath(__file__)] + argv)
        raise SystemExit("lab: PyYAML missing: run scripts/bootstrap.sh (it makes the venv .venv)")
    if argv[:1] == ["up"] and len(argv) == 1:
        up()
    elif argv[:1] == ["down"] and len(argv) == 1:
        down()
    elif argv[:1] == ["status"] and len(argv) == 1:
        return status()
    elif argv[:1] == ["ssh"] and len(argv) >= 2:
        ssh_main(argv[1], argv[2:])
    elif argv[:1] == ["rm"] and len(argv) >= 2:
        remove(argv[1:])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
