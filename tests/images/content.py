"""Test content for the Dragonfly stack: OCI images and plain files with known digests.

    python3 content.py generate ROOT         write the content below ROOT/<key>/ (deterministic, skipped when
                                             already there) and print the path of its content.json
    python3 content.py push ROOT REGISTRY    push the images into an OCI registry (http://host:port), idempotently

<key> is a hash of the definitions below: checkouts whose content is the same share one copy, and a checkout
that changes the content gets a copy of its own instead of reading (or overwriting) another's.

The content is synthetic but real: tar layers of pseudo-random bytes (incompressible, so sizes mean
what they say), image configs and manifests, and a manifest list (OCI index) for two platforms.
ROOT/<key>/content.json describes everything (digests, sizes, media types) and is the ground truth the
tests compare the seed peers' cache with. Standard library only (tests/lib/p2p_lab/files.py is too).
"""
import fcntl
import hashlib
import json
import os
import random
import sys
import tarfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "lib"))
from p2p_lab.files import sha256_of  # noqa: E402  pylint: disable=wrong-import-position

MIB = 1024 * 1024
FORMAT_VERSION = 1
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
# Uncompressed layers: random bytes do not compress, and gzip would only cost time.
LAYER = "application/vnd.oci.image.layer.v1.tar"

# name -> {platform -> [layer sizes]}. Platform-specific layers differ, so a preheat for the wrong
# platform caches the wrong blobs and the assertions see it.
IMAGES = {
    "p2p-test/multilayer:1.0": {
        "linux/amd64": [512 * 1024, 3 * MIB, 9 * MIB],
        "linux/arm64/v8": [640 * 1024, 2 * MIB, 7 * MIB],
    },
    "p2p-test/small:1.0": {"linux/amd64": [2 * MIB]},
    # Used only by tests/e2e/test_playbooks.py, so that the modules sharing one stack keep out of each other's way.
    "p2p-test/lifecycle:1.0": {"linux/amd64": [1 * MIB]},
    # Used only by the eviction test (tests/e2e/test_playbooks.py): a layer the scheduler knows about (over 4 MiB)
    # beside a config it does not (clients 1.4.2 and later fetch 4 MiB or less without it).
    "p2p-test/evict:1.0": {"linux/amd64": [6 * MIB]},
    # Used only by the test of concurrent preheats (tests/e2e/test_playbooks.py).
    "p2p-test/parallel:1.0": {"linux/amd64": [5 * MIB]},
    "p2p-test/parallel:2.0": {"linux/amd64": [6 * MIB]},
    # Used only by tests/e2e/test_private_registries.py: pulled from an authenticated registry by a containerd that
    # holds none of its blobs yet (it would fetch nothing of an image it already pulled from another registry).
    "p2p-test/private:1.0": {"linux/amd64": [3 * MIB]},
    # Preheated by no test: what a verification must report missing.
    "p2p-test/never-preheated:1.0": {"linux/amd64": [1 * MIB]},
    "p2p-test/large:1.0": {"linux/amd64": [8 * MIB, 256 * MIB]},
}
FILES = {
    "hello.txt": b"Hello from the p2p.dragonfly test file server.\n",
    "medium.bin": 16 * MIB,
    "evict.bin": 5 * MIB,
    "large.bin": 384 * MIB,
    # Used only by tests/e2e/test_private_registries.py: downloaded by a seed peer through a forward proxy.
    "proxied.bin": 3 * MIB,
}


def _random_chunks(seed, size, chunk=MIB):
    rnd = random.Random(seed)
    left = size
    while left > 0:
        n = min(chunk, left)
        yield rnd.randbytes(n)
        left -= n


class Store:
    """Content-addressed blob directory, like an OCI layout's blobs/sha256."""

    def __init__(self, root):
        self.dir = os.path.join(root, "blobs", "sha256")
        os.makedirs(self.dir, exist_ok=True)

    def path(self, digest):
        return os.path.join(self.dir, digest.split(":", 1)[1])

    def put_bytes(self, data):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with open(self.path(digest), "wb") as handle:
            handle.write(data)
        return digest, len(data)

    def put_layer(self, seed, payload_size):
        """A tar holding one file of pseudo-random bytes, streamed to disk."""
        tmp = os.path.join(self.dir, ".tmp-layer")
        info = tarfile.TarInfo("data/%s.bin" % seed)
        info.size = payload_size
        info.mtime = 0
        info.mode = 0o644
        # Written by hand rather than through tarfile.addfile, which copies in 16 KiB reads.
        with open(tmp, "wb") as raw:
            raw.write(info.tobuf(format=tarfile.USTAR_FORMAT))
            for chunk in _random_chunks(seed, payload_size):
                raw.write(chunk)
            raw.write(b"\0" * (-payload_size % tarfile.BLOCKSIZE))
            raw.write(b"\0" * (2 * tarfile.BLOCKSIZE))  # end-of-archive marker
        digest = "sha256:" + sha256_of(tmp)
        os.replace(tmp, self.path(digest))
        return digest, os.path.getsize(self.path(digest))


def _canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _descriptor(media_type, digest, size, **extra):
    desc = {"mediaType": media_type, "digest": digest, "size": size}
    desc.update(extra)
    return desc


def _build_image(store, name, platforms):
    manifests = {}
    for platform, sizes in platforms.items():
        os_name, arch = platform.split("/")[:2]
        variant = platform.split("/")[2] if platform.count("/") == 2 else None
        layers = []
        diff_ids = []
        for index, size in enumerate(sizes):
            digest, blob_size = store.put_layer("%s|%s|%d" % (name, platform, index), size)
            layers.append(_descriptor(LAYER, digest, blob_size))
            diff_ids.append(digest)  # uncompressed layers: diff id == digest
        config = {"architecture": arch, "os": os_name, "rootfs": {"type": "layers", "diff_ids": diff_ids},
                  "config": {"Cmd": ["/bin/true"]}, "created": "2026-01-01T00:00:00Z"}
        if variant:
            config["variant"] = variant
        config_digest, config_size = store.put_bytes(_canonical(config))
        manifest = {"schemaVersion": 2, "mediaType": MANIFEST,
                    "config": _descriptor(CONFIG, config_digest, config_size), "layers": layers}
        manifest_digest, manifest_size = store.put_bytes(_canonical(manifest))
        plat = {"os": os_name, "architecture": arch}
        if variant:
            plat["variant"] = variant
        manifests[platform] = {
            "digest": manifest_digest, "size": manifest_size, "platform": plat,
            "config": config_digest,
            "blobs": [_descriptor(CONFIG, config_digest, config_size)] + layers,
        }
    result = {"platforms": manifests}
    if len(platforms) > 1:
        index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": [
            _descriptor(MANIFEST, m["digest"], m["size"], platform=m["platform"]) for m in manifests.values()]}
        digest, size = store.put_bytes(_canonical(index))
        result["index"] = {"digest": digest, "size": size}
    return result


def content_key():
    """Hash of everything that decides the content."""
    definition = json.dumps([FORMAT_VERSION, IMAGES, {name: repr(spec) for name, spec in FILES.items()}],
                            sort_keys=True)
    return hashlib.sha256(definition.encode()).hexdigest()[:12]


def generate(parent):
    """Write the content below parent/<key>/ unless it is there; returns the path of its content.json.
    Gates running at the same time may ask at once: the first writes, the others wait for it."""
    root = os.path.join(parent, content_key())
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _generate(root)


def _generate(root):
    description_path = os.path.join(root, "content.json")
    if os.path.exists(description_path):
        with open(description_path) as handle:
            if json.load(handle).get("format") == FORMAT_VERSION:
                return description_path
    store = Store(os.path.join(root, "oci"))
    images = {name: _build_image(store, name, platforms) for name, platforms in IMAGES.items()}
    files_dir = os.path.join(root, "files")
    os.makedirs(files_dir, exist_ok=True)
    files = {}
    for name, spec in FILES.items():
        path = os.path.join(files_dir, name)
        with open(path, "wb") as handle:
            if isinstance(spec, bytes):
                handle.write(spec)
            else:
                for chunk in _random_chunks("file|" + name, spec):
                    handle.write(chunk)
        files[name] = {"sha256": sha256_of(path), "size": os.path.getsize(path)}
    description = {"format": FORMAT_VERSION, "images": images, "files": files,
                   "blob_dir": store.dir, "files_dir": files_dir}
    with open(description_path + ".tmp", "w") as handle:
        json.dump(description, handle, indent=2, sort_keys=True)
    os.replace(description_path + ".tmp", description_path)
    return description_path


def _request(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        if method == "HEAD" and err.code == 404:
            return 404, err.headers, b""
        raise RuntimeError("%s %s -> %s %s" % (method, url, err.code, err.read()[:300])) from err


def _push_blob(registry, repo, store, digest):
    if _request("HEAD", "%s/v2/%s/blobs/%s" % (registry, repo, digest))[0] == 200:
        return False
    headers = _request("POST", "%s/v2/%s/blobs/uploads/" % (registry, repo))[1]
    location = headers["Location"]
    if location.startswith("/"):
        location = registry + location
    separator = "&" if "?" in location else "?"
    with open(store.path(digest), "rb") as handle:
        data = handle.read()
    _request("PUT", "%s%sdigest=%s" % (location, separator, digest), data=data,
             headers={"Content-Type": "application/octet-stream"})
    return True


def push(parent, registry):
    description_path = generate(parent)
    with open(description_path) as handle:
        description = json.load(handle)
    store = Store(os.path.join(os.path.dirname(description_path), "oci"))
    registry = registry.rstrip("/")
    pushed = 0
    for name, image in description["images"].items():
        repo, tag = name.rsplit(":", 1)
        for manifest in image["platforms"].values():
            for blob in manifest["blobs"]:
                pushed += _push_blob(registry, repo, store, blob["digest"])
            with open(store.path(manifest["digest"]), "rb") as handle:
                body = handle.read()
            # Without an index the single manifest carries the tag; with one, manifests go by digest.
            ref = tag if "index" not in image else manifest["digest"]
            _request("PUT", "%s/v2/%s/manifests/%s" % (registry, repo, ref), data=body,
                     headers={"Content-Type": MANIFEST})
        if "index" in image:
            with open(store.path(image["index"]["digest"]), "rb") as handle:
                body = handle.read()
            _request("PUT", "%s/v2/%s/manifests/%s" % (registry, repo, tag), data=body,
                     headers={"Content-Type": INDEX})
    return pushed


def main(argv):
    if len(argv) >= 2 and argv[0] == "generate":
        print(generate(argv[1]))
    elif len(argv) >= 3 and argv[0] == "push":
        print("pushed %d new blobs" % push(argv[1], argv[2]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
