"""Preheat and cache assertion end to end, against the real stack the roles deploy.

The shared stack of tests/e2e (conftest.py `lab`: playbooks/site.yml on tests/e2e/inventory.yml); a
registry and a file server (test fixtures) publish the test content on the lab network's gateway.
Every claim of the modules is checked against the seed peer's cache directory on the host.
"""
import json
import os
import shutil
import time

import pytest

from conftest import FILES_URL as FILES, REGISTRY, STACK, run_tasks
from p2p_lab.files import sha256_of
from p2p_lab.roles import default_release_set, release_set

CACHE_DIR = STACK.seed_peer_cache
IMAGE = "p2p-test/multilayer:1.0"
PLATFORM = "linux/arm64/v8"  # not the manager's own platform: the module must ask for it
# dragonfly-client MIN_PIECE_LENGTH: tasks up to this size skip the scheduler (resource/task.rs should_bypass_scheduler).
SCHEDULER_BYPASS_MAX_SIZE = 4 * 1024 * 1024


def client_bypasses_scheduler():
    """Whether the default release set's client fetches small tasks without the scheduler (v1.4.2 and later)."""
    client = release_set(default_release_set())["client"]
    return tuple(int(part) for part in client.lstrip("v").split(".")) >= (1, 4, 2)


def api(method, path, body=None):
    return STACK.manager("127.0.0.1").call(method, path, body, bearer=STACK.token())


def _jobs():
    return api("GET", "/oapi/v1/jobs?per_page=10000")


def job_count():
    return len(_jobs())


def preheat_job_count():
    return len([job for job in _jobs() if job["type"] == "preheat"])


@pytest.fixture(scope="module")
def stack(lab):
    """The shared stack's test content (this module preheats multilayer:1.0 for arm64, medium.bin, large.bin)."""
    return lab["content"]


IMAGE_TASK = """
    - name: preheat
      p2p.dragonfly.preheat:
        image: %s/%s
        insecure_registry: true
        platform: %s
        wait_timeout: 600
      register: preheat
""" % (REGISTRY, IMAGE, PLATFORM)
ASSERT_TASK = """
    - name: assert
      p2p.dragonfly.cache_assert:
        cache_dir: %s
        preheat_result: "{{ preheat }}"
""" % CACHE_DIR


def expected_blobs(content):
    repo = IMAGE.rsplit(":", 1)[0]
    return {"http://%s/v2/%s/blobs/%s" % (REGISTRY, repo, b["digest"]): b
            for b in content["images"][IMAGE]["platforms"][PLATFORM]["blobs"]}


def test_image_preheat_check_mode_run_rerun_and_disk(stack, tmp_path):
    blobs = expected_blobs(stack)
    # Check mode before the first run predicts a change and creates no job.
    jobs_before = job_count()
    rc, tasks, out = run_tasks(tmp_path, IMAGE_TASK, check=True)
    assert rc == 0, out[-3000:]
    assert tasks["preheat"]["changed"] is True
    assert not tasks["preheat"].get("job"), tasks["preheat"]
    assert {t["url"] for t in tasks["preheat"]["expected_tasks"]} == set(blobs)
    assert job_count() == jobs_before, "check mode created a job"

    # The real run: every blob of the arm64 manifest lands on the seed, byte-exact.
    rc, tasks, out = run_tasks(tmp_path, IMAGE_TASK + ASSERT_TASK)
    assert rc == 0, out[-5000:]
    assert tasks["preheat"]["changed"] is True and tasks["preheat"]["job"]["id"]
    for task in tasks["preheat"]["expected_tasks"]:
        path = os.path.join(CACHE_DIR, "content/tasks", task["task_id"][:3], task["task_id"])
        assert "sha256:" + sha256_of(path) == blobs[task["url"]]["digest"], task
    assert tasks["assert"]["summary"]["failed"] == 0
    preheat_jobs_after_first_run = preheat_job_count()

    # Again: nothing to do, no new preheat job (the idempotence check itself runs get_task jobs).
    rc, tasks, out = run_tasks(tmp_path, IMAGE_TASK)
    assert rc == 0, out[-3000:]
    rerun = tasks["preheat"]
    assert rerun["changed"] is False, rerun
    assert preheat_job_count() == preheat_jobs_after_first_run
    # The check was one image round: the get_task jobs the manager created and answered within its
    # get_image_distribution request, one per blob, whose rows name the seed peer as holding each.
    assert rerun["image_rounds"] == 1, rerun
    rows = [api("GET", "/oapi/v1/jobs/%d" % job_id) for job_id in rerun["get_task_job_ids"]]
    assert sorted(row["args"]["url"] for row in rows) == sorted(blobs) and {row["type"] for row in rows} == {"get_task"}
    seeds = [host for host in rerun["hosts"] if host["host_type"] == "super"]
    assert len(seeds) == 1 and sorted(seeds[0]["urls"]) == sorted(blobs), rerun["hosts"]
    seed_ips = {seeds[0]["ip"]}
    # Contrast: the request's own answer leaves seed peers out; it could not have told the module.
    answer = api("POST", "/oapi/v1/jobs", {"type": "get_image_distribution", "scheduler_cluster_ids": [1],
                                           "args": {"url": rerun["manifest_url"], "platform": PLATFORM}})
    assert sorted(layer["url"] for layer in answer["image"]["layers"]) == sorted(blobs), answer
    assert not seed_ips & {peer["ip"] for peer in answer["peers"] or []}, answer

    # Delete the task through upstream's delete_task: the files go, the assertion fails and names
    # them, and a new preheat restores them. (Removing the files by hand is not enough: the seed's
    # metadata still says "finished", so a new preheat ends SUCCESS with nothing on disk.)
    # delete_task reaches only the peers the scheduler knows hold a task (scheduler/job/job.go deleteTask);
    # clients v1.4.2 and later fetch tasks of 4 MiB or less without the scheduler (the manager's preheat sets no
    # scheduling policy), so those blobs stay.
    removed, kept = [], []
    for task in tasks["preheat"]["expected_tasks"]:
        api("POST", "/oapi/v1/jobs", {"type": "delete_task", "scheduler_cluster_ids": [1],
                                      "args": {"task_id": task["task_id"]}})
        entry = (task["task_id"], os.path.join(CACHE_DIR, "content/tasks", task["task_id"][:3], task["task_id"]))
        small = blobs[task["url"]]["size"] <= SCHEDULER_BYPASS_MAX_SIZE and client_bypasses_scheduler()
        (kept if small else removed).append(entry)
    assert removed, "no blob of %s is larger than 4 MiB: the test proves nothing" % IMAGE
    deadline = time.time() + 180
    while time.time() < deadline and any(os.path.exists(path) for path in dict(removed).values()):
        time.sleep(3)
    assert not any(os.path.exists(path) for path in dict(removed).values()), "delete_task left files behind"
    assert all(os.path.exists(path) for path in dict(kept).values()), "delete_task removed a blob of 4 MiB or less"
    rc, tasks, out = run_tasks(tmp_path, """
    - name: assert
      p2p.dragonfly.cache_assert:
        cache_dir: %s
        blobs: %s
""" % (CACHE_DIR, json.dumps([{"url": u, "digest": b["digest"]} for u, b in blobs.items()])))
    assert rc != 0
    for task_id in dict(removed):
        assert task_id in out and "file absent" in out
    rc, tasks, out = run_tasks(tmp_path, IMAGE_TASK + ASSERT_TASK)
    assert rc == 0, out[-5000:]
    assert tasks["assert"]["summary"]["failed"] == 0


def test_large_file_preheat_lands_byte_exact(stack, tmp_path):
    large = stack["files"]["large.bin"]
    task = """
    - name: preheat
      p2p.dragonfly.preheat:
        type: file
        urls: ["%s/large.bin"]
        wait_timeout: 900
      register: preheat
    - name: assert
      p2p.dragonfly.cache_assert:
        cache_dir: %s
        files: [{url: "%s/large.bin", sha256: "%s", size: %d}]
""" % (FILES, CACHE_DIR, FILES, large["sha256"], large["size"])
    rc, tasks, out = run_tasks(tmp_path, task)
    assert rc == 0, out[-5000:]
    path = tasks["assert"]["items"][0]["path"]
    assert sha256_of(path) == large["sha256"]
    rc, tasks, out = run_tasks(tmp_path, task)
    assert rc == 0 and tasks["preheat"]["changed"] is False, out[-3000:]


def test_cache_assert_fails_on_an_incomplete_file(stack, tmp_path):
    medium = stack["files"]["medium.bin"]
    task = """
    - name: preheat
      p2p.dragonfly.preheat:
        type: file
        urls: ["%s/medium.bin"]
      register: preheat
""" % FILES
    rc, tasks, out = run_tasks(tmp_path, task)
    assert rc == 0, out[-3000:]
    task_id = tasks["preheat"]["expected_tasks"][0]["task_id"]
    path = os.path.join(CACHE_DIR, "content/tasks", task_id[:3], task_id)
    backup = str(tmp_path / "backup")
    shutil.copy(path, backup)
    try:
        # Same size, different bytes: what a pre-allocated, unfinished download looks like.
        with open(path, "r+b") as handle:
            handle.seek(medium["size"] // 2)
            handle.write(b"\0" * 4096)
        rc, tasks, out = run_tasks(tmp_path, """
    - name: assert
      p2p.dragonfly.cache_assert:
        cache_dir: %s
        files: [{url: "%s/medium.bin", sha256: "%s", size: %d}]
""" % (CACHE_DIR, FILES, medium["sha256"], medium["size"]))
        assert rc != 0
        assert task_id in out and "medium.bin" in out
    finally:
        shutil.copy(backup, path)
