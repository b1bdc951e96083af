"""Check what `ansible-galaxy collection build` put into the tarball: what must ship and what must not."""
import sys
import tarfile

# galaxy.yml is turned into MANIFEST.json: `ansible-galaxy collection build` never ships it.
MUST_CONTAIN = ["MANIFEST.json", "FILES.json", "README.md", "CHANGELOG.rst", "changelogs/changelog.yaml",
                "LICENSES/GPL-3.0-or-later.txt", "meta/runtime.yml",
                "meta/execution-environment.yml", "meta/ee-requirements.txt", "meta/ee-bindep.txt"]
MUST_NOT_START_WITH = ["tests/", ".venv", ".ci/", ".git/", "scripts/", "extensions/molecule/", "tests"]


def main(path):
    with tarfile.open(path) as tar:
        names = [n[2:] if n.startswith("./") else n for n in tar.getnames()]
    missing = [n for n in MUST_CONTAIN if n not in names]
    unwanted = sorted(n for n in names if any(n == p.rstrip("/") or n.startswith(p) for p in MUST_NOT_START_WITH))
    unwanted += sorted(n for n in names if "__pycache__" in n or n.endswith(".pyc"))
    if missing or unwanted:
        print("collection tarball %s:\n  missing: %s\n  must not contain: %s" % (path, missing, unwanted[:20]))
        return 1
    print("collection tarball %s: %d entries, required files present, no test/venv/build files" % (path, len(names)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
