"""Several API workers on one port and one database: revocation, concurrent writers, respawn."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.functional.cloud import CloudFactory, CloudProcess, children_of, helpers_of
from tests.functional.identity_api import admin_client, admin_token, issue, project_scope

WORKERS = 2
WRITERS = 8


@pytest.fixture(scope="module")
def cloud(backend: str | None, make_cloud: CloudFactory) -> CloudProcess:
    return make_cloud(workers=WORKERS, database_url=backend, name="workers")


def workers_of(cloud: CloudProcess) -> set[int]:
    """The supervisor's API workers (its other children are agents and storage nodes)."""
    return children_of(cloud.process.pid) - helpers_of(cloud)


def answering_pids(cloud: CloudProcess, path: str, status: int) -> Counter[int]:
    """How many requests each worker answered on `path` with `status`, from the request log."""
    log = (cloud.state_dir.parent / "onestack.log").read_text()
    pattern = re.compile(rf" path={re.escape(path)} status={status} .*pid=(\d+)")
    return Counter(int(m.group(1)) for m in pattern.finditer(log))


def validate_until_every_worker_answered(
    cloud: CloudProcess, caller: str, subject: str, status: int
) -> None:
    """New connections until each worker has answered `status`; any other answer fails."""
    path = "/identity/v3/auth/tokens"
    before = answering_pids(cloud, path, status)
    headers = {"X-Auth-Token": caller, "X-Subject-Token": subject}
    for _ in range(400):
        with httpx.Client(timeout=30) as fresh:
            response = fresh.get(f"{cloud.identity_url}/v3/auth/tokens", headers=headers)
        assert response.status_code == status, response.text
        answered = answering_pids(cloud, path, status) - before
        if len(answered) == WORKERS:
            return
    pytest.fail(f"only workers {sorted(answered)} answered in 400 new connections")


def test_the_cloud_runs_the_requested_number_of_workers(cloud: CloudProcess) -> None:
    assert len(workers_of(cloud)) == WORKERS


def test_the_cloud_runs_one_agent_of_each_kind_beside_the_workers(cloud: CloudProcess) -> None:
    listed = subprocess.run(cloud.args("status"), capture_output=True, text=True, check=False)
    kinds = re.findall(r"^\s+agent (\S+)\s+pid \d+", listed.stdout, re.M)
    assert sorted(kinds) == ["compute", "image", "network"]
    assert helpers_of(cloud) <= children_of(cloud.process.pid)


def test_a_revocation_through_one_worker_holds_on_every_worker(cloud: CloudProcess) -> None:
    caller = admin_token(cloud)
    subject = issue(cloud, "demo", project_scope("demo"))
    validate_until_every_worker_answered(cloud, caller, subject, 200)  # both caches warm

    revoked = httpx.delete(
        f"{cloud.identity_url}/v3/auth/tokens",
        headers={"X-Auth-Token": caller, "X-Subject-Token": subject},
    )
    assert revoked.status_code == 204

    validate_until_every_worker_answered(cloud, caller, subject, 404)


def test_concurrent_writers_all_succeed_or_get_a_clean_conflict(cloud: CloudProcess) -> None:
    token = admin_token(cloud)
    run = uuid.uuid4().hex[:6]
    shared = [f"shared-{run}-{i}" for i in range(3)]

    def writer(number: int) -> list[tuple[str, int]]:
        names = [f"w{number}-{run}-{i}" for i in range(5)] + shared
        with httpx.Client(headers={"X-Auth-Token": token}, timeout=60) as client:
            results = []
            for name in names:
                body = {"project": {"name": name, "domain_id": "default"}}
                response = client.post(f"{cloud.identity_url}/v3/projects", json=body)
                results.append((name, response.status_code))
            user = {"user": {"name": f"user-{run}", "password": "secret-password"}}
            response = client.post(f"{cloud.identity_url}/v3/users", json=user)
            results.append((f"user-{run}", response.status_code))
        return results

    with ThreadPoolExecutor(WRITERS) as pool:
        results = [r for batch in pool.map(writer, range(WRITERS)) for r in batch]

    assert {status for _, status in results} <= {201, 409}, results
    created = Counter(name for name, status in results if status == 201)
    for name in [*shared, f"user-{run}"]:
        assert created[name] == 1, f"{name} created {created[name]} times"
    api = admin_client(cloud)
    listed = {p["name"] for p in api.get("/projects").json()["projects"]}
    assert {name for name in created if name.startswith(("w", "shared"))} <= listed
    assert len([name for name in listed if run in name]) == WRITERS * 5 + len(shared)


def test_a_worker_that_dies_is_replaced(cloud: CloudProcess) -> None:
    before = workers_of(cloud)
    victim = min(before)
    # The supervisor gives up on a worker that dies within 2 s of its start (a crash loop).
    age = time.time() - Path(f"/proc/{victim}").stat().st_ctime
    time.sleep(max(0.0, 2.5 - age))
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = workers_of(cloud)
        if len(now) == WORKERS and victim not in now:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"workers now {workers_of(cloud)}, were {before}")
    assert httpx.get(f"{cloud.identity_url}/v3", timeout=30).status_code == 200


def test_sigterm_stops_every_worker(make_cloud: CloudFactory) -> None:
    process = make_cloud(workers=3, name="stop")
    state_dir = process.state_dir
    children = workers_of(process)
    assert len(children) == 3

    assert process.stop(signal.SIGTERM) == 0

    assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    assert not (state_dir / "run" / "onestack.json").exists()
