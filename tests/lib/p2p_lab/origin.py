"""The test content (tests/images/content.py: images and files with known digests, generated below the lab's content
root) and the test origin serving it (tests/images/fixtures/origin: registry and file server on the lab gateway),
one compose project per stack that runs it."""
import json
import os
import subprocess
import sys

from p2p_lab import lab

CONTENT_SCRIPT = os.path.join(lab.REPO, "tests/images/content.py")


def generate_content():
    """The test content's description (content.json: digests, sizes, files_dir), generated when missing."""
    path = subprocess.run([sys.executable, CONTENT_SCRIPT, "generate", lab.CONTENT_ROOT], check=True,
                          capture_output=True, text=True).stdout.strip()
    with open(path) as handle:
        return json.load(handle)


def push_content(registry_url):
    """Push the test images into a registry (http://host:port); blobs it holds already are skipped."""
    subprocess.run([sys.executable, CONTENT_SCRIPT, "push", lab.CONTENT_ROOT, registry_url], check=True,
                   capture_output=True, text=True)


def registry_container(project):
    """The registry's container in the origin's compose project ``project``."""
    return project + "-registry-1"


class ComposeFixture:
    """A fixture's compose file run as the project ``project`` with the environment ``env`` (its settings)."""

    def __init__(self, compose_file, project, env):
        self.compose_file = compose_file
        self.project = project
        self.env = dict(os.environ, **env)

    def compose(self, *args, check=True):
        return subprocess.run(["docker", "compose", "-f", self.compose_file, "-p", self.project] + list(args),
                              check=check, env=self.env, capture_output=True, text=True)


class Origin(ComposeFixture):
    """The test origin of a stack (lab.Stack: its origin_project and ports), serving ``content`` (generate_content's
    answer)."""

    def __init__(self, stack, content):
        super().__init__(lab.ORIGIN_FILE, stack.origin_project, dict(
            ORIGIN_IP=lab.GATEWAY, ORIGIN_FILES_DIR=content["files_dir"], ORIGIN_REGISTRY_PORT=str(stack.registry_port),
            ORIGIN_FILES_PORT=str(stack.files_port)))
        self.push_url = stack.registry_push_url

    def up(self):
        """Start the origin and push the test images into its registry."""
        self.compose("up", "-d", "--wait")
        push_content(self.push_url)

    def down(self):
        self.compose("down", "-v", check=False)
