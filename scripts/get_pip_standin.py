# Stand-in for ansible-test's get-pip bootstrap script (installed by scripts/bootstrap.sh).
#
# ansible-test builds its own virtualenvs for sanity tests and bootstraps pip in them by downloading
# get-pip-<version>.py from a host that is unreachable here. It runs whatever file sits at
# ~/.ansible/test/cache/get_pip_<version>.py with the new venv's Python and the pip arguments it
# wants (e.g. `pip==24.2 --no-setuptools --no-wheel`). This file does the same job with the
# interpreter's own ensurepip, then installs the requested packages from the package index.
import subprocess
import sys

GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel", "--no-pip"}


def main():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    if args:
        subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    main()
