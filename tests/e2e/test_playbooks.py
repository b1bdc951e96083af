"""The playbooks end to end, against the real stack: the AWX way (ansible-runner), lifecycle, upgrade.

The shared stack of tests/e2e (conftest.py `lab`) serves the module, which runs last (it removes and redeploys
the stack) and preheats content no other module touches; the tests run in file order: preheat/verify through
ansible-runner, then remove + redeploy, backup + restore of a destroyed database, purge refusal, disk garbage
collection, then upgrade.
"""
import datetime
import glob
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import urllib.request

import ansible_runner
import pytest
import yaml

from conftest import (BASE, FILES_URL as FILES, GATEWAY, MANAGER, MANAGER_CA, PREFIX, REGISTRY, REPO, STACK,
                      docker_containers, docker_now, e2e_playbook as playbook, inventories, run_tasks)
from p2p_lab.files import sha256_of, tree_digest
from p2p_lab.manager import ManagerError
from p2p_lab.roles import default_release_set, release_set

CACHE_DIR = STACK.seed_peer_cache
COLLECTIONS = os.environ["P2P_DRAGONFLY_COLLECTIONS"]  # this checkout's collections tree (scripts/lib.sh)
SMALL_IMAGE = "p2p-test/lifecycle:1.0"  # preheated by this module only
CONTENT_VARS = {"dragonfly_preheat_images": "%s/%s" % (REGISTRY, SMALL_IMAGE),
                "dragonfly_preheat_files": FILES + "/hello.txt",
                "dragonfly_preheat_insecure_registry": "true"}


def token():
    return STACK.token()


def token_accepted(value):
    return MANAGER.status("/oapi/v1/jobs?per_page=1", bearer=value) == 200


def cached_files():
    """sha256 of every content file in the seed peer's cache, by path."""
    return {path: sha256_of(path) for path in glob.glob(CACHE_DIR + "/content/tasks/*/*") if os.path.isfile(path)}


def kept(before):
    """Every file of ``before`` is still in the cache with the same content (readiness probes add files)."""
    after = cached_files()
    return all(after.get(path) == digest for path, digest in before.items())


def small_image_digests(content):
    return {blob["digest"].split(":", 1)[1]
            for blob in content["images"][SMALL_IMAGE]["platforms"]["linux/amd64"]["blobs"]}


def running_images():
    """The Dragonfly images running in the shared stack's compose projects (other gates' stacks run beside it)."""
    out = subprocess.run(["docker", "ps", "--format", '{{.Label "com.docker.compose.project"}} {{.Image}}'],
                         capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines() if len(line.split()) == 2]
    return sorted(image for project, image in rows
                  if project.startswith(PREFIX + "-") and image.startswith("dragonflyoss/"))


@pytest.fixture(scope="module")
def stack(lab):
    return lab["content"]


def survey_answers(survey, answers):
    """Extra vars as an AWX survey sends them: every question's default unless answered, all strings."""
    with open(os.path.join(REPO, "extensions/awx/surveys", survey)) as handle:
        spec = yaml.safe_load(handle)["spec"]
    values = {question["variable"]: str(question.get("default", "")) for question in spec}
    unknown = set(answers) - set(values)
    assert not unknown, "answers to questions the survey does not ask: %s" % unknown
    values.update(answers)
    return values


def run_like_awx(tmp_path, name, extravars, secret, registry=None):
    """Run examples/awx-project/<name>.yml through ansible-runner with a private data dir, as AWX does:
    inventory and extra vars in files, the credentials' values only in the environment (registry: the inputs of a
    "Dragonfly registry" credential, which AWX injects as DRAGONFLY_REGISTRY*, the CA as a file, empty when none)."""
    data = tmp_path / ("runner-%s-%d" % (name, len(list(tmp_path.iterdir()))))
    shutil.copytree(os.path.join(REPO, "examples/awx-project"), data / "project")
    (data / "inventory").mkdir(parents=True)
    for index, inventory in enumerate(inventories()):
        shutil.copy(inventory, data / "inventory" / ("%d-%s" % (index, os.path.basename(inventory))))
    (data / "env").mkdir()
    (data / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    envvars = {"DRAGONFLY_MANAGER_URL": MANAGER.url, "DRAGONFLY_TOKEN": secret, "DRAGONFLY_MANAGER_CA_PATH": MANAGER_CA,
               "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS, "ANSIBLE_NOCOLOR": "1"}
    if registry:
        ca_file = data / "registry-ca.pem"
        ca_file.write_text("")
        envvars.update({"DRAGONFLY_REGISTRY": registry["registry"], "DRAGONFLY_REGISTRY_USERNAME": registry["username"],
                        "DRAGONFLY_REGISTRY_PASSWORD": registry["password"], "DRAGONFLY_REGISTRY_CA_PATH": str(ca_file)})
    (data / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    result = ansible_runner.run(private_data_dir=str(data), playbook=name + ".yml", quiet=True)
    events = [json.dumps(event) for event in result.events]
    stdout = result.stdout.read()
    return result, events, stdout, data


def leaked(values, *texts):
    """Names of the secrets (name -> value) that any of the texts (output, JSON events) contains."""
    return sorted(name for name, value in values.items() if any(value in text for text in texts))


# A "Dragonfly registry" credential for the test registry. The registry is anonymous and never asks for it, but the
# module hands it to the manager in the job's arguments: a leak would show in the events all the same.
REGISTRY_CREDENTIAL = {"registry": REGISTRY, "username": "e2e-reader",
                       "password": "e2e-registry-%s" % os.urandom(8).hex()}


def test_preheat_and_verify_the_awx_way(stack, tmp_path):
    secret = token()
    secrets = dict(secret_values(), registry=REGISTRY_CREDENTIAL["password"])
    extravars = survey_answers("preheat.yml", CONTENT_VARS)
    assert all(isinstance(value, str) for value in extravars.values())

    result, events, stdout, data = run_like_awx(tmp_path, "preheat", extravars, secret, REGISTRY_CREDENTIAL)
    assert result.status == "successful" and result.rc == 0, stdout[-4000:]
    assert leaked(secrets, stdout, *events) == []
    assert secret not in (data / "env" / "extravars").read_text()
    assert sum(result.stats["changed"].values()) > 0, "the first preheat must change something"
    # Independently of the modules: every blob of the image is in the seed peer's cache, byte-exact.
    hashes = set(cached_files().values())
    assert small_image_digests(stack) <= hashes, "blobs missing from %s" % CACHE_DIR
    assert stack["files"]["hello.txt"]["sha256"] in hashes

    report_path = tmp_path / "verify-report.json"
    extravars = dict(survey_answers("verify.yml", CONTENT_VARS), dragonfly_report_path=str(report_path))
    result, events, stdout, _data = run_like_awx(tmp_path, "verify", extravars, secret, REGISTRY_CREDENTIAL)
    assert result.status == "successful", stdout[-4000:]
    assert "OK   localhost-seed-peer" in stdout and "MISS" not in stdout
    assert leaked(secrets, stdout, *events) == []
    # What an AWX workflow's next job gets (set_stats, in the runner's stats event), and the report file: the same.
    [stats] = [json.loads(event)["event_data"]["artifact_data"] for event in events
               if json.loads(event).get("event") == "playbook_on_stats"]
    report = stats["dragonfly_cache_report"]
    assert report == json.loads(report_path.read_text()), report
    assert report["ok"] is True and report["missing"] == [] and report["scope"] == "all_seed_peers", report
    [seed] = report["seed_peers"]
    assert seed["cache_dir"] == CACHE_DIR and seed["ok"] is True
    assert [row["ok"] for row in seed["content"]] == [True, True] and all(row["items"] > 0 for row in seed["content"]), seed
    assert sum(result.stats.get("changed", {}).values()) == 0

    # A second preheat finds everything cached: no change, no new job.
    result, events, stdout, _data = run_like_awx(tmp_path, "preheat", extravars, secret, REGISTRY_CREDENTIAL)
    assert result.status == "successful", stdout[-4000:]
    assert sum(result.stats.get("changed", {}).values()) == 0, stdout[-4000:]
    assert leaked(secrets, stdout, *events) == []


def test_verify_fails_and_names_what_is_missing(stack, tmp_path):
    report_path = tmp_path / "report.json"
    missing = {"dragonfly_preheat_images": "%s/p2p-test/never-preheated:1.0" % REGISTRY,
               "dragonfly_preheat_insecure_registry": "true", "dragonfly_report_path": str(report_path)}
    rc, out = playbook("playbooks/verify.yml", missing)
    assert rc != 0
    assert "MISS localhost-seed-peer" in out and "file absent" in out
    assert "Not cached where requested (scope all_seed_peers)" in out
    # The report is written before the verdict, so a failed run reports too.
    report = json.loads(report_path.read_text())
    assert report["ok"] is False and len(report["missing"]) == 1 and "never-preheated" in report["missing"][0], report
    assert [row["ok"] for row in report["seed_peers"][0]["content"]] == [False], report


EVICT_VARS = {"dragonfly_evict_images": "%s/p2p-test/evict:1.0" % REGISTRY, "dragonfly_evict_files": FILES + "/evict.bin",
              "dragonfly_evict_insecure_registry": "true"}
EVICT_PREHEAT_VARS = {"dragonfly_preheat_images": EVICT_VARS["dragonfly_evict_images"],
                      "dragonfly_preheat_files": EVICT_VARS["dragonfly_evict_files"],
                      "dragonfly_preheat_insecure_registry": "true"}


def test_evict_removes_the_content_everywhere_and_a_new_preheat_downloads_it_again(stack):
    """preheat, then evict.yml: check mode names the holders and keeps everything; the run empties the seed peer's
    cache of the content, the blobs the scheduler knows about through delete_task and the small ones it does not
    through dfctl; a second run does nothing. The contrast: verify then fails, and a new preheat lands the content
    again (had only the files gone, the client's metadata would still say finished and the preheat would end SUCCESS
    with nothing on disk)."""
    digests = {blob["digest"].split(":", 1)[1]
               for blob in stack["images"]["p2p-test/evict:1.0"]["platforms"]["linux/amd64"]["blobs"]}
    digests.add(stack["files"]["evict.bin"]["sha256"])
    rc, out = playbook("playbooks/preheat.yml", EVICT_PREHEAT_VARS)
    assert rc == 0, out[-3000:]
    assert digests <= set(cached_files().values())

    rc, out = playbook("playbooks/evict.yml", EVICT_VARS, "--check")
    assert rc == 0 and re.search(r"changed=[1-9]", out), out[-3000:]
    assert re.search(r"held by [^;]*\(%s\)" % re.escape(GATEWAY), out), out[-3000:]
    assert digests <= set(cached_files().values()), "check mode evicted something"

    rc, out = playbook("playbooks/evict.yml", EVICT_VARS)
    assert rc == 0, out[-4000:]
    assert not digests & set(cached_files().values()), "evict.yml left content of the image or file behind"
    # The image's config (4 MiB or less) went through dfctl: the scheduler never knew the seed peer held it.
    assert re.search(r"\d+ file\(s\) on disk before, [1-9]\d* removed with dfctl, 0 left", out), out[-3000:]
    rc, out = playbook("playbooks/evict.yml", EVICT_VARS)
    assert rc == 0 and "changed=0" in out, out[-3000:]

    rc, out = playbook("playbooks/verify.yml", EVICT_PREHEAT_VARS)
    assert rc != 0 and "MISS localhost-seed-peer" in out
    rc, out = playbook("playbooks/preheat.yml", EVICT_PREHEAT_VARS)
    assert rc == 0, out[-3000:]
    assert digests <= set(cached_files().values()), "a preheat after the eviction did not download the content again"


PARALLEL_IMAGES = ["%s/p2p-test/parallel:1.0" % REGISTRY, "%s/p2p-test/parallel:2.0" % REGISTRY]
MISSING_IMAGE = "%s/p2p-test/not-in-the-registry:1.0" % REGISTRY


def test_preheat_runs_every_entry_at_once_shows_jobs_and_progress_and_names_the_failed_one(stack):
    """Three images in one run, one of them not in the registry: the two jobs exist at about the same time and are
    printed before the wait, the wait prints each one's progress, both land byte-exact, and the run fails naming the
    missing image only. The contrast is that missing image: its failure stops neither of the others."""
    digests = {blob["digest"].split(":", 1)[1] for image in ("p2p-test/parallel:1.0", "p2p-test/parallel:2.0")
               for blob in stack["images"][image]["platforms"]["linux/amd64"]["blobs"]}
    rc, out = playbook("playbooks/preheat.yml", {"dragonfly_preheat_images": " ".join(PARALLEL_IMAGES + [MISSING_IMAGE]),
                                                 "dragonfly_preheat_insecure_registry": "true"})
    assert rc != 0, out[-3000:]
    jobs = dict(re.findall(r"(p2p-test/parallel:\d\.0): job (\d+), \d+ tasks", out))
    assert sorted(jobs) == ["p2p-test/parallel:1.0", "p2p-test/parallel:2.0"], out[-4000:]
    assert "not-in-the-registry:1.0: failed" in out, out[-4000:]
    for name, job_id in jobs.items():
        assert re.search(r"preheat [^ ]*%s \(job %s\): finished, (\d+)/\1 tasks" % (re.escape(name), job_id), out), out[-4000:]
    # Every job exists before the wait for the first begins (the job list is printed before the first progress
    # line), so the jobs run at the same time in Dragonfly, and they were created within seconds of each other.
    assert out.index("p2p-test/parallel:2.0: job") < out.index("(job %s): " % jobs["p2p-test/parallel:1.0"])
    assert digests <= set(cached_files().values()), "a preheat next to a failing one did not land"
    created = [MANAGER.call("GET", "/oapi/v1/jobs/%s" % job_id, bearer=token())["created_at"] for job_id in jobs.values()]
    moments = sorted(datetime.datetime.fromisoformat(re.sub(r"\.\d+", "", value).replace("Z", "+00:00"))
                     for value in created)
    assert (moments[1] - moments[0]).total_seconds() < 15, created
    # The failure names the missing image, and only it.
    failure = out[out.index("Fail naming each entry that did not preheat"):out.index("PLAY RECAP")]
    assert "not-in-the-registry:1.0" in failure and "parallel:" not in failure, failure


def test_bad_survey_input_is_refused_before_anything_runs(stack):
    bad = {"dragonfly_preheat_images": "", "dragonfly_preheat_files": "", "dragonfly_preheat_force": "maybe"}
    rc, out = playbook("playbooks/preheat.yml", bad)
    assert rc != 0
    assert "give at least one image in dragonfly_preheat_images" in out


def test_tags_run_the_usual_parts_alone(stack, lab):
    """site.yml's tags on the deployed stack (docs/getting-started.md, Tags): preflight runs the checks and deploys
    nothing, runtime runs the container runtime wiring alone, scheduler the scheduler's play alone (the manager's
    endpoint read on its host instead of its play). The contrast is the full run, which runs them all (the other
    tests' site.yml runs)."""
    rc, out = playbook("playbooks/site.yml", "--tags=preflight")
    assert rc == 0 and re.search(r"localhost\s*: ok=\d+\s+changed=0", out), out[-3000:]
    assert "Check that the docker compose v2 plugin is installed and recent enough" in out, out[-3000:]
    assert "Write the manager's files" not in out and "Bootstrap the manager" not in out, out[-3000:]
    assert "p2p.dragonfly.scheduler : Render the scheduler configuration" not in out

    # The runtime tag alone, from a known state (test_runtime_pull.py leaves the runtime unwired): it restores, wires,
    # then has nothing to do; nothing else runs.
    runtime, original = lab["runtime"], lab["original"]
    for state, changed in (("absent", None), ("present", "[1-9]"), ("present", "0")):
        rc, out = playbook("playbooks/site.yml", "--tags=runtime", {"dragonfly_peer_runtime_state": state})
        assert rc == 0, out[-3000:]
        assert changed is None or re.search(r"localhost\s*: ok=\d+\s+changed=%s\s" % changed, out), out[-3000:]
        assert "TASK [Wire the container runtime to the peer's proxy, or restore it]" in out, out[-3000:]
        assert "Check that the docker compose v2 plugin" not in out and "Write the" not in out, out[-3000:]
        wired = tree_digest(runtime.hosts_dir) != original["hosts"]
        assert wired == (state == "present"), (state, out[-3000:])

    rc, out = playbook("playbooks/site.yml", "--tags=scheduler")
    assert rc == 0 and re.search(r"localhost\s*: ok=\d+\s+changed=0", out), out[-3000:]
    assert "p2p.dragonfly.scheduler : Render the scheduler configuration" in out, out[-3000:]
    assert "Read the deployed manager's endpoint on its host" in out
    # Only the scheduler's project is applied (the other roles' argument checks are tagged always by Ansible).
    assert "Bootstrap the manager" not in out, out[-3000:]
    assert re.findall(r"Apply the compose project in (\S+)\]", out) == [BASE + "/scheduler"], out[-3000:]


REDIS_PORT = STACK.var("dragonfly_redis_port")
# The peer's and the seed peer's proxy: dragonfly_*_proxy_bind_address, loopback.
PROXY_PORTS = {STACK.var("dragonfly_peer_proxy_port"), STACK.var("dragonfly_seed_peer_proxy_port")}


def published_addresses():
    """{(project, container port): {host address}} of every container of the shared stack."""
    names = docker_containers("com.docker.compose.project")
    inspected = json.loads(subprocess.run(["docker", "inspect"] + names, capture_output=True, text=True,
                                          check=True).stdout)
    found = {}
    for container in inspected:
        project = container["Config"]["Labels"]["com.docker.compose.project"]
        if not project.startswith(PREFIX + "-"):
            continue
        for port, bindings in (container["NetworkSettings"]["Ports"] or {}).items():
            for binding in bindings or []:
                found.setdefault((project, port), set()).add((binding["HostIp"], int(binding["HostPort"])))
    return found


def connects(address, port):
    try:
        socket.create_connection((address, port), timeout=5).close()
        return True
    except OSError:
        return False


def test_published_ports_bind_to_the_advertise_address_only(stack):
    found = published_addresses()
    assert found, "no published port in the shared stack"
    for (project, port), bindings in sorted(found.items()):
        addresses = {binding[0] for binding in bindings}
        published = {binding[1] for binding in bindings}
        if published & PROXY_PORTS:
            assert addresses == {"127.0.0.1"}, (project, port, bindings)
        elif (project, port) == (PREFIX + "-manager", "8443/tcp"):  # the TLS proxy
            assert addresses == {GATEWAY, "127.0.0.1"}, (project, port, bindings)
        else:
            assert addresses == {GATEWAY}, (project, port, bindings)
    # Redis is not published (the scheduler is on the manager's host and reaches it on the manager's network), but
    # answers there; the manager's TLS port answers on both addresses.
    assert not connects(GATEWAY, REDIS_PORT) and not connects("127.0.0.1", REDIS_PORT)
    assert connects(redis_address(), 6379)
    for address in (GATEWAY, "127.0.0.1"):
        assert STACK.manager(address).status("/healthy") == 200


METRICS_PORTS = {component: int(STACK.var("dragonfly_%s_metrics_port" % component))
                 for component in ("manager", "scheduler", "seed_peer", "peer")}
METRIC_OF = {"manager": "dragonfly_manager_version", "scheduler": "dragonfly_scheduler_version",
             "seed_peer": "dragonfly_client_version", "peer": "dragonfly_client_version"}


def test_prometheus_targets_list_every_component_and_each_answers_with_its_metrics(stack, tmp_path):
    sd_dir = tmp_path / "file_sd"
    rc, out = playbook("playbooks/prometheus_targets.yml", {"dragonfly_prometheus_sd_dir": str(sd_dir)})
    assert rc == 0, out[-3000:]
    found = {}
    for component in METRICS_PORTS:
        [group] = json.loads((sd_dir / ("dragonfly-%s.json" % component.replace("_", "-"))).read_text())
        assert group["labels"]["component"] == component and group["labels"]["scheduler_cluster_id"] == "1", group
        found[component] = group["targets"]
    assert found == {component: ["%s:%d" % (GATEWAY, port)] for component, port in METRICS_PORTS.items()}, found
    for component, [target] in found.items():
        with urllib.request.urlopen("http://%s/metrics" % target, timeout=30) as response:
            text = response.read().decode()
        # Each port is the component the file says: its own version gauge, not another component's.
        assert METRIC_OF[component] in text, (component, text[:500])
        others = {name for other, name in METRIC_OF.items() if name != METRIC_OF[component]}
        assert not any(name in text for name in others), component
    # Written again, nothing changes.
    rc, out = playbook("playbooks/prometheus_targets.yml", {"dragonfly_prometheus_sd_dir": str(sd_dir)})
    assert rc == 0 and "changed=0" in out, out[-3000:]


def secret_values():
    """The deployment's secrets as the manager host keeps them: <manager dir>/secrets, one 0600 file each."""
    values = {}
    for path in glob.glob(BASE + "/manager/secrets/*"):
        with open(path) as handle:
            values[os.path.basename(path)] = handle.read().strip()
    return {name: value for name, value in values.items() if value}


def redis_address():
    """The bundled Redis container's address on the manager's compose network (this host reaches every bridge)."""
    out = subprocess.run(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                          PREFIX + "-manager-redis-1"], capture_output=True, text=True, check=True).stdout
    return out.split()[0]


def redis_answers(*commands):
    """What the bundled Redis answers to inline commands sent in one go."""
    with socket.create_connection((redis_address(), 6379), timeout=10) as connection:
        connection.sendall("".join(command + "\r\n" for command in commands).encode())
        connection.shutdown(socket.SHUT_WR)
        chunks = []
        chunk = connection.recv(4096)
        while chunk:
            chunks.append(chunk)
            chunk = connection.recv(4096)
    return b"".join(chunks).decode()


def test_no_secret_in_any_containers_configuration(stack):
    secrets = secret_values()
    assert {"admin-password", "database-password", "redis-password", "jwt-key", "token"} <= set(secrets), sorted(secrets)
    names = [name for name in docker_containers("com.docker.compose.project")
             if name.startswith(PREFIX + "-")]
    inspected = subprocess.run(["docker", "inspect"] + names, capture_output=True, text=True, check=True).stdout
    assert PREFIX + "-manager-mariadb-1" in inspected and PREFIX + "-manager-redis-1" in inspected
    assert [name for name, value in sorted(secrets.items()) if value in inspected] == []
    assert not os.path.exists(BASE + "/manager/.env") and not os.path.exists(BASE + "/manager/.mariadb.env")
    # The contrast: these are the live values. Redis refuses a client without the password and takes this one; the
    # manager's own configuration (0600) holds them, where the same scan finds them.
    assert redis_answers("PING").startswith("-NOAUTH")
    assert redis_answers("AUTH " + secrets["redis-password"], "PING") == "+OK\r\n+PONG\r\n"
    with open(BASE + "/manager/config/manager.yaml") as handle:
        config = handle.read()
    assert secrets["database-password"] in config and secrets["redis-password"] in config


def preheated(stack):
    """The test content is in the seed peer's cache, byte-exact: preheated now unless an earlier test left it there.
    Set-up, not a proof (test_preheat_and_verify_the_awx_way proves the preheat): a preheat that finds everything
    cached still waits about 30 s for its get_task jobs (plugins/modules/preheat.py, notes)."""
    cached = cached_files()
    if small_image_digests(stack) | {stack["files"]["hello.txt"]["sha256"]} <= set(cached.values()):
        return cached
    rc, out = playbook("playbooks/preheat.yml", CONTENT_VARS)
    assert rc == 0, out[-3000:]
    return cached_files()


def test_remove_keeps_data_and_site_brings_the_same_deployment_back(stack, tmp_path):
    before = preheated(stack)
    secret = token()
    assert before and token_accepted(secret)

    rc, out = playbook("playbooks/remove.yml")
    assert rc == 0, out[-3000:]
    assert running_images() == []
    assert cached_files() == before, "remove must keep the cache"
    assert os.listdir(BASE + "/manager/mariadb"), "remove must keep the database"

    # Deployed again the AWX way (the deploy survey's answers for this inventory): no secret in any job event.
    answers = survey_answers("deploy.yml", {"dragonfly_base_dir": BASE, "dragonfly_release_set": default_release_set()})
    result, events, out, _data = run_like_awx(tmp_path, "deploy", answers, secret)
    assert result.status == "successful", out[-3000:]
    assert leaked(secret_values(), out, *events) == []
    # The token kept on the host is a row of the kept database: it still works, and was not replaced.
    assert token() == secret and token_accepted(secret)
    rc, out = playbook("playbooks/verify.yml", CONTENT_VARS)
    assert rc == 0, out[-3000:]
    assert kept(before), "the redeploy must keep the cache"


BACKUPS = STACK.var("dragonfly_manager_backup_dir")


def manager_api(method, path, jwt, body=None):
    return MANAGER.call(method, path, body, bearer=jwt)


def admin_session():
    """A session (JWT) of the manager's root user, with the admin password the deployment keeps."""
    with open(BASE + "/manager/secrets/admin-password") as handle:
        jwt = MANAGER.signin(handle.read().strip())
    assert jwt, "the manager refuses the admin password in %s/manager/secrets/admin-password" % BASE
    return jwt


def manager_rows(jwt):
    """What a restore must bring back: the ids of every job, user and access token in the manager's database."""
    return {path: sorted(row["id"] for row in manager_api("GET", "/api/v1/%s?page=1&per_page=100000" % path, jwt))
            for path in ("jobs", "users", "personal-access-tokens")}


def container_not_stopped(name):
    """Running, or restarting by its restart policy (a manager that lost its database may): not stopped by a play."""
    result = subprocess.run(["docker", "inspect", "--format", "{{.State.Status}}", name], capture_output=True,
                            text=True, check=False)
    return result.stdout.strip() in ("running", "restarting")


def test_backup_then_restore_brings_back_a_destroyed_database(stack, tmp_path):
    preheated(stack)
    secret = token()
    before = manager_rows(admin_session())
    assert before["jobs"] and before["users"] and before["personal-access-tokens"], before
    existing = set(glob.glob(BACKUPS + "/*"))
    result, events, out, _data = run_like_awx(tmp_path, "backup", {}, secret)
    assert result.status == "successful", out[-3000:]
    assert leaked(secret_values(), out, *events) == []
    made = sorted(set(glob.glob(BACKUPS + "/*")) - existing)
    assert len(made) == 1, made
    backup = made[0]
    files = {os.path.relpath(os.path.join(root, name), backup): os.stat(os.path.join(root, name))
             for root, _dirs, names in os.walk(backup) for name in names}
    assert {"manifest.json", "database.sql", "secrets/admin-password", "secrets/token", "secrets/jwt-key",
            "secrets/database-password", "secrets/redis-password"} <= set(files), sorted(files)
    assert {name: oct(stat.S_IMODE(info.st_mode)) for name, info in files.items()
            if stat.S_IMODE(info.st_mode) != 0o600 or info.st_uid != 0} == {}
    assert [oct(stat.S_IMODE(os.stat(path).st_mode)) for path in (backup, backup + "/secrets")] == ["0o700"] * 2
    with open(backup + "/manifest.json") as handle:
        manifest = json.load(handle)
    assert manifest["manager_version"] == release_set(default_release_set())["manager"].lstrip("v"), manifest
    with open(backup + "/database.sql") as handle:
        assert secret in handle.read(), "the dump must hold the manager's tables (the access token is a row)"

    # After the backup: an access token that the restore must take away again.
    later = manager_api("POST", "/api/v1/personal-access-tokens", admin_session(),
                        {"name": "after-backup", "expired_at": "2035-01-01T00:00:00Z", "user_id": 1,
                         "scopes": ["job"]})["token"]
    assert token_accepted(later)

    # The database is destroyed: MariaDB's container and everything in its data directory but the marker.
    subprocess.run(["docker", "rm", "--force", PREFIX + "-manager-mariadb-1"], check=True, capture_output=True)
    data = BASE + "/manager/mariadb"
    for name in os.listdir(data):
        if name != MARKER:
            path = os.path.join(data, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
    assert os.listdir(data) == [MARKER]

    # Refused before anything changes (the manager keeps running): no backup named, one of another manager version.
    manager = PREFIX + "-manager-manager-1"
    other = tmp_path / "other-version"
    shutil.copytree(backup, other)
    (other / "manifest.json").write_text(json.dumps(dict(manifest, manager_version="2.4.0")))
    for extra, message in (({}, "Set dragonfly_manager_restore_from"),
                           ({"dragonfly_manager_restore_from": str(other)}, "the database schema must match")):
        rc, out = playbook("playbooks/restore.yml", extra)
        assert rc != 0, out[-3000:]
        assert message in " ".join(out.split()) and "Nothing was changed" in out, out[-3000:]
        assert container_not_stopped(manager)

    rc, out = playbook("playbooks/restore.yml", {"dragonfly_manager_restore_from": backup})
    assert rc == 0, out[-3000:]
    assert [name for name, value in sorted(secret_values().items()) if value in out] == []
    assert token() == secret and token_accepted(secret)
    assert not token_accepted(later), "a token made after the backup must be gone"
    assert manager_rows(admin_session()) == before
    rc, out = playbook("playbooks/verify.yml", CONTENT_VARS)
    assert rc == 0, out[-3000:]


def signin_accepted(password):
    """Whether root signs in with this password (MANAGER.signin: retried on 401, see there)."""
    return MANAGER.signin(password) is not None


def session_accepted(jwt):
    """True when the manager answers a session's request, False when it answers 401; anything else fails."""
    status = MANAGER.status("/api/v1/users?page=1&per_page=1", bearer=jwt)
    if status not in (200, 401):
        raise ManagerError("GET /api/v1/users with a session -> %s" % status)
    return status == 200


def backing_service_accepts(service, password):
    """Whether the bundled MariaDB or Redis accepts this password (given on standard input, as the role does)."""
    check = {"mariadb": 'read -r p; MYSQL_PWD="$p" exec mariadb -u "$MARIADB_USER" -e "SELECT 1"',
             "redis": 'read -r p; REDISCLI_AUTH="$p" exec redis-cli ping'}[service]
    result = subprocess.run(["docker", "exec", "-i", "%s-manager-%s-1" % (PREFIX, service), "sh", "-c", check],
                            input=password + "\n", capture_output=True, text=True, check=False)
    return result.returncode == 0 and (service != "redis" or "PONG" in result.stdout)


ROTATED = ["admin-password", "database-password", "jwt-key", "redis-password", "token"]


def test_rotate_applies_every_new_secret_before_the_old_is_refused(stack, tmp_path):
    old = secret_values()
    old_session = admin_session()
    assert session_accepted(old_session) and token_accepted(old["token"])
    assert backing_service_accepts("mariadb", old["database-password"])
    assert backing_service_accepts("redis", old["redis-password"])

    # Contrast: a changed password in the inventory is refused by site.yml before anything is written.
    rc, out = playbook("playbooks/site.yml", {"dragonfly_manager_admin_password": "Changed-by-hand-1"})
    assert rc != 0 and "playbooks/rotate.yml" in out and "Nothing was changed" in out, out[-3000:]
    assert secret_values() == old and signin_accepted(old["admin-password"])

    # A rotation that stops after its first step (the schedulers not moved yet): Redis takes both passwords.
    first_step = tmp_path / "rotate-first-step.yml"
    first_step.write_text(yaml.safe_dump([{
        "name": "Only the first step of playbooks/rotate.yml", "hosts": "dragonfly_manager", "become": True,
        "gather_facts": True, "gather_subset": ["!all", "!min", "network"],
        "tasks": [{"name": "Rotate", "ansible.builtin.include_role": {"name": "p2p.dragonfly.manager",
                                                                      "tasks_from": "rotate"}}]}]))
    rc, out = playbook(str(first_step))
    assert rc == 0, out[-3000:]
    values = secret_values()
    staged = {name[:-len(".next")]: value for name, value in values.items() if name.endswith(".next")}
    assert sorted(staged) == sorted(set(ROTATED) - {"token"}), sorted(staged)
    assert {name: values[name + ".previous"] for name in staged} == {name: old[name] for name in staged}
    assert all(staged[name] != old[name] for name in staged)
    assert backing_service_accepts("redis", old["redis-password"]) and backing_service_accepts("redis", staged["redis-password"])
    assert not backing_service_accepts("mariadb", old["database-password"])

    # Run again as a whole, the way AWX runs it: it goes on with the same new values and drops the old ones.
    result, events, out, _data = run_like_awx(tmp_path, "rotate", {}, old["token"])
    assert result.status == "successful", out[-3000:]
    new = secret_values()
    assert sorted(new) == sorted(old), sorted(new)  # the .next files are gone
    assert {name: new[name] for name in staged} == staged
    assert new["token"] != old["token"]
    assert leaked(old, out, *events) == [] and leaked(new, out, *events) == []
    for name in ROTATED:
        assert stat.S_IMODE(os.stat(BASE + "/manager/secrets/" + name).st_mode) == 0o600, name

    assert not signin_accepted(old["admin-password"]) and admin_session()
    assert not session_accepted(old_session), "a session signed with the old JWT key must be refused"
    assert not token_accepted(old["token"]) and token_accepted(new["token"])
    assert not backing_service_accepts("mariadb", old["database-password"])
    assert backing_service_accepts("mariadb", new["database-password"])
    assert not backing_service_accepts("redis", old["redis-password"])
    assert backing_service_accepts("redis", new["redis-password"])

    # A new preheat goes through the new token, the manager's Redis job queue and the scheduler on the new
    # password, right after the rotation (which proved the seed peer ready again).
    rc, out = playbook("playbooks/preheat.yml", {"dragonfly_preheat_images": "", "dragonfly_preheat_timeout": "300",
                                                 "dragonfly_preheat_files": FILES + "/hello.txt?after=rotation"})
    assert rc == 0 and re.search(r"changed=[1-9]", out), out[-3000:]


MARKER = ".p2p-dragonfly-created"  # roles/_common/vars/main.yml
# Every directory the inventory's purge deletes (the roles' _dragonfly_purge_paths and project directories).
PURGED = ["manager", "manager/log", "manager/mariadb", "manager/redis", "scheduler", "scheduler/log",
          "seed-peer", "seed-peer/cache", "seed-peer/log", "peer", "peer/cache", "peer/log"]
# remove.yml's plays for the peers and seed peers find no hosts; the manager's play comes after the schedulers'.
ONLY_THE_SCHEDULERS = {"dragonfly_peer_group": "no_such_group", "dragonfly_seed_peer_group": "no_such_group",
                       "dragonfly_purge": True}
PURGE_SCHEDULER_PLAY = """
- hosts: localhost
  gather_facts: false
  roles:
    - role: p2p.dragonfly.scheduler
      vars:
        dragonfly_state: absent
        dragonfly_purge: true
"""


def test_purge_deletes_only_directories_the_collection_created(stack, tmp_path, playbook_runner):
    # The deployment (redeployed by the test before) marked every directory it created, the data directories whose
    # images chown them at start included.
    unmarked = [path for path in PURGED if not os.path.isfile(os.path.join(BASE, path, MARKER))]
    assert unmarked == []
    scheduler = docker_containers("com.docker.compose.project=%s-scheduler" % PREFIX)
    assert scheduler

    # A log directory the user made (and filled) is refused before anything is removed.
    user_logs = tmp_path / "user-logs"
    user_logs.mkdir()
    (user_logs / "keep.txt").write_text("the user's\n")
    rc, out = playbook("playbooks/remove.yml", dict(ONLY_THE_SCHEDULERS, dragonfly_scheduler_log_dir=str(user_logs)))
    assert rc != 0, out[-3000:]
    assert "Not purged, nothing was removed: %s exist without the file %s" % (user_logs, MARKER) in " ".join(out.split())
    assert (user_logs / "keep.txt").read_text() == "the user's\n"
    assert docker_containers("com.docker.compose.project=%s-scheduler" % PREFIX) == scheduler
    assert os.path.isfile(BASE + "/scheduler/compose.yaml")

    # The contrast: directories the collection created (here by the module the roles write them with) are deleted,
    # contents and all.
    made = tmp_path / "made"
    rc, tasks, out = run_tasks(tmp_path, """
    - name: Create the directories the way the roles do
      p2p.dragonfly.project_files:
        dirs:
          - {path: %(made)s, mode: "0755", marker: "%(marker)s"}
          - {path: %(made)s/log, mode: "0755", marker: "%(marker)s"}
""" % {"made": made, "marker": MARKER})
    assert rc == 0, out[-3000:]
    (made / "log" / "scheduler.log").write_text("log\n")
    rc, out = playbook_runner(PURGE_SCHEDULER_PLAY, extra_vars={
        "dragonfly_compose_project_prefix": PREFIX + "-purge", "dragonfly_scheduler_dir": str(made),
        "dragonfly_scheduler_log_dir": str(made / "log")}, groups=["dragonfly_manager"])
    assert rc == 0, out[-3000:]
    assert not made.exists()


def seed_peer_log(since):
    """What the shared stack's seed peer wrote to its console (dragonfly_log_output console) since ``since``."""
    names = docker_containers("com.docker.compose.project=%s-seed-peer" % PREFIX)
    assert len(names) == 1, names
    result = subprocess.run(["docker", "logs", "--since", since, names[0]], capture_output=True, text=True, check=True)
    return result.stdout + result.stderr


def content_bytes():
    """What dfdaemon counts against gc.policy.diskThreshold: the length of every file below <storage.dir>/content."""
    return sum(os.path.getsize(os.path.join(root, name))
               for root, _dirs, names in os.walk(CACHE_DIR + "/content") for name in names)


def test_disk_gc_threshold_is_the_capacity_dfdaemon_collects_against(stack):
    before = preheated(stack)
    # A capacity the cache already fills to 90%: the collection at start must evict the oldest tasks until it is
    # down to 60%, i.e. about a third of what the cache holds, and leave room for the readiness probe.
    capacity = content_bytes() * 10 // 9
    since = docker_now()
    rc, out = playbook("playbooks/site.yml", "dragonfly_seed_peer_gc_disk_threshold=%d" % capacity)
    assert rc == 0, out[-3000:]
    with open(BASE + "/seed-peer/config/dfdaemon.yaml") as handle:
        assert str(yaml.safe_load(handle)["gc"]["policy"]["diskThreshold"]) == str(capacity)
    log = seed_peer_log(since)
    assert re.search(r"start to evict task by disk usage, disk usage 9\d% is higher than high threshold 80%", log), log[-3000:]
    evicted = sorted(set(before) - set(cached_files()))
    assert evicted, "a capacity below what the cache holds must evict content"
    for path in evicted:
        assert "evict task %s size" % os.path.basename(path) in log, path

    # The contrast: back to the lab's capacity, the restart collects nothing and keeps what is left.
    left = cached_files()
    since = docker_now()
    rc, out = playbook("playbooks/site.yml")
    assert rc == 0, out[-3000:]
    assert "evict task by disk usage" not in seed_peer_log(since)
    assert kept(left)


def release_set_images(name):
    """The dragonflyoss/* images a release set deploys (roles/_common/vars/main.yml), sorted."""
    versions = release_set(name)
    return sorted("dragonflyoss/%s:%s" % (component, versions[component]) for component in ("manager", "scheduler", "client"))


def running_image_set():
    """The distinct Dragonfly images running in the stack (the seed peer and the peer share the client's)."""
    return sorted(set(running_images()))


def images_present(tags):
    return all(subprocess.run(["docker", "image", "inspect", tag], capture_output=True, check=False).returncode == 0
               for tag in tags)


# The set a site upgrades from: the previous default (client 1.4). CI builds the default set only.
UPGRADE_FROM = "2.5.0"


def test_upgrade_keeps_cache_and_database_and_refuses_a_downgrade(stack):
    if not images_present(release_set_images(UPGRADE_FROM)):
        pytest.skip("release set %s is not built here: tests/images/build.sh %s (about 35 min cold)"
                    % (UPGRADE_FROM, UPGRADE_FROM))
    target = default_release_set()
    older = "dragonfly_release_set=" + UPGRADE_FROM
    # A deployment made with the older set from scratch: the shared stack (this module runs last) is purged first.
    rc, out = playbook("playbooks/remove.yml", "dragonfly_purge=true")
    assert rc == 0, out[-3000:]
    assert [path for path in PURGED if os.path.exists(os.path.join(BASE, path))] == []
    rc, out = playbook("playbooks/site.yml", older)
    assert rc == 0, out[-3000:]
    assert running_image_set() == release_set_images(UPGRADE_FROM)
    rc, out = playbook("playbooks/preheat.yml", CONTENT_VARS, older)
    assert rc == 0, out[-3000:]
    before = cached_files()
    assert small_image_digests(stack) <= set(before.values())
    secret = token()

    rc, out = playbook("playbooks/upgrade.yml", "dragonfly_release_set=" + target)
    assert rc == 0, out[-3000:]
    # Made before the manager changed: a complete backup of the older manager.
    assert glob.glob("%s/*-manager-%s/manifest.json" % (BACKUPS, release_set(UPGRADE_FROM)["manager"].lstrip("v")))
    assert running_image_set() == release_set_images(target)
    assert token() == secret and token_accepted(secret)
    # What the older client cached, the newer one serves: verify (task IDs and cache of the new client) passes.
    rc, out = playbook("playbooks/verify.yml", CONTENT_VARS)
    assert rc == 0, out[-3000:]
    assert kept(before), "the upgrade must keep the cache"

    # Back to the older set (manager and client older) and to 2.5.1 (same manager, older client): both refused.
    for downgrade, message in ((UPGRADE_FROM, "The manager runs"), ("2.5.1", "Dragonfly clients on localhost run")):
        rc, out = playbook("playbooks/upgrade.yml", "dragonfly_release_set=" + downgrade)
        assert rc != 0, out[-3000:]
        assert message in out and "that is a downgrade" in out and "Nothing was changed" in out, out[-3000:]
        assert running_image_set() == release_set_images(target)
