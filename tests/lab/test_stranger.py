"""A stranger on the lab network (issue 15): the origin host, in no group of the inventory, probes the manager host.

From another host on the same network (tests/lab/stranger.py, standard library only, run there over SSH): no sign-up
however the path is spelled, nothing under /api/v1 or /oapi/v1 without a session or token, no plain HTTP on the TLS
port, no MariaDB; the bundled Redis is published (the schedulers live on other hosts) but answers nothing without
its password. The contrast: the same stranger gets the manager's health answer and reaches its gRPC port, which the
schedulers and clients use, so the refusals are the deployment's and not the network's.
"""
import json
import os

import pytest

import lab
import stranger as stranger_requests
from p2p_lab.roles import defaults

HERE = os.path.dirname(os.path.abspath(__file__))
ROLE_DEFAULTS = defaults()  # the lab inventory keeps the roles' ports
REST_PORT, GRPC_PORT = ROLE_DEFAULTS["dragonfly_manager_rest_port"], ROLE_DEFAULTS["dragonfly_manager_grpc_port"]
REDIS_PORT, DATABASE_PORT = ROLE_DEFAULTS["dragonfly_redis_port"], ROLE_DEFAULTS["dragonfly_manager_database_port"]


@pytest.mark.usefixtures("preheated")
def test_a_stranger_on_the_network_gets_nothing(fleet):
    [manager] = fleet.group("dragonfly_manager")
    with open(os.path.join(HERE, "stranger.py")) as handle:
        script = handle.read()
    result = lab.ssh(lab.ORIGIN_IP, "python3 - %s %d redis:%d %d %d" % (
        fleet.hosts[manager], REST_PORT, REDIS_PORT, DATABASE_PORT, GRPC_PORT), input_text=script, check=False)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)

    assert found.pop("GET /healthy") == 200, found
    assert found.pop("connect %d" % GRPC_PORT) == "accepted", found
    assert found.pop("connect redis:%d" % REDIS_PORT).startswith("-NOAUTH"), found
    assert found.pop("connect %d" % DATABASE_PORT) == "refused", found
    # nginx answers plain HTTP on its TLS port with 400 and never forwards it.
    assert found.pop("plain GET /healthy") == 400 and found.pop("plain POST /api/v1/users/signup") == 400, found
    assert found.pop("POST /api/v1/users/signin") == 401, found  # no sign-up went through
    signups = {request: found.pop(request) for request in ["POST " + path for path in stranger_requests.SIGNUP_PATHS]}
    assert set(signups.values()) == {403}, signups
    assert found == {"GET " + path: 401 for path in stranger_requests.CLOSED}, found
