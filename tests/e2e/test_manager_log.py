"""The manager's log holds no access token at the roles' default level, even while its database is slow.

At `warn` the manager (v2.5.1) logs every database statement slower than 100 ms with its values (its database logger,
zapgorm2 v1.3.0's slow-query threshold; manager/database/mysql.go): among them the lookup of the access token that
authenticates each API request, and the insert of a preheat job with its registry credentials. The test stalls the
stack's MariaDB (`docker pause`) for a second under one request with the token: at the default level (`error`) the
manager's log gets nothing; the contrast, the manager reconfigured at `warn`, logs the token. The manager is put back
on the default level at the end, whatever happened.
"""
import subprocess
import threading
import time

import pytest

from conftest import MANAGER, STACK, docker_now, e2e_playbook, secret_levels

STALL = 1.0  # seconds the database is paused under the request: ten times the slow-query threshold
DATABASE, MANAGER_CONTAINER = STACK.container("manager", "mariadb"), STACK.container("manager", "manager")


def manager_log_during_a_stalled_request(token):
    """The manager's log while its database stalls under one request authenticated with ``token``."""
    since = docker_now()
    answers = []
    request = threading.Thread(target=lambda: answers.append(MANAGER.status("/oapi/v1/jobs?per_page=1", bearer=token)))
    subprocess.run(["docker", "pause", DATABASE], check=True, capture_output=True)
    try:
        request.start()
        time.sleep(STALL)
    finally:
        subprocess.run(["docker", "unpause", DATABASE], check=True, capture_output=True)
    request.join()
    assert answers == [200], answers
    logs = subprocess.run(["docker", "logs", "--since", since, MANAGER_CONTAINER], capture_output=True, text=True,
                          errors="replace", check=True)
    return logs.stdout + logs.stderr


def manager_at(level=None):
    """site.yml for the manager alone, at ``level`` (None: the role's default)."""
    rc, out = e2e_playbook("playbooks/site.yml", "--tags=manager",
                           *([{"dragonfly_manager_log_level": level}] if level else []))
    assert rc == 0, out[-3000:]
    return out


@pytest.mark.usefixtures("lab")
def test_a_stalled_database_puts_no_token_in_the_manager_log_at_the_default_level():
    token = STACK.token()
    assert secret_levels(manager_log_during_a_stalled_request(token), [token]) == []

    # The contrast: the same stall with the manager at warn logs the token's lookup with its value.
    try:
        out = manager_at("warn")
        assert "changed=0" not in out, "the manager's configuration did not change:\n" + out[-3000:]
        assert secret_levels(manager_log_during_a_stalled_request(token), [token]) == ["WARN"]
    finally:
        manager_at()
    assert secret_levels(manager_log_during_a_stalled_request(token), [token]) == []
