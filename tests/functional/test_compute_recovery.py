"""A compute agent killed mid-build: its successor (the supervisor replaces it) resumes the
build from the step it reached and the server ends ACTIVE, never BUILD forever; a guest the
driver lost (the fake driver forgets its guests with its process) is shown SHUTOFF by the
power-state sync, and `start` brings it back."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest

from onestack.workers import MIN_WORKER_LIFE_S
from tests.functional.cloud import CloudFactory, CloudProcess
from tests.functional.compute_api import ComputeClient, make_image
from tests.functional.image_api import wait_for
from tests.functional.personas import DEMO, image_client

SPAWN_DELAY_S = 3


@pytest.fixture(scope="module")
def cloud(make_cloud: CloudFactory) -> CloudProcess:
    settings = {"compute.fake_spawn_delay_s": SPAWN_DELAY_S, "compute.power_sync_s": 0.5}
    return make_cloud(workers=2, settings=settings)


def compute_agents(cloud: CloudProcess) -> set[int]:
    """The pids of the compute agents `onestack status` lists."""
    listed = subprocess.run(cloud.args("status"), capture_output=True, text=True, check=False)
    return {int(pid) for pid in re.findall(r"^\s+agent compute\s+pid (\d+)", listed.stdout, re.M)}


def settled_agent(cloud: CloudProcess) -> int:
    """The one compute agent, once it has lived long enough to be replaced when killed."""
    wait_for(lambda: len(compute_agents(cloud)) == 1, "one compute agent listed")
    (pid,) = compute_agents(cloud)
    born = time.monotonic()
    wait_for(lambda: time.monotonic() - born > MIN_WORKER_LIFE_S + 0.5, "the agent settled")
    return pid


def test_a_killed_agent_neither_loses_a_build_nor_hides_a_lost_guest(cloud: CloudProcess) -> None:
    demo = ComputeClient(cloud, DEMO.user, DEMO.project)
    image_id = make_image(image_client(cloud, DEMO))
    agent = settled_agent(cloud)
    made = demo.create_server(imageRef=image_id, name="survivor")
    assert made.status_code == 202, made.text
    server_id = made.json()["server"]["id"]
    wait_for(
        lambda: demo.server(server_id)["OS-EXT-STS:task_state"] == "spawning", "the spawn began"
    )
    os.kill(agent, signal.SIGKILL)
    server = demo.wait_status(server_id, "ACTIVE", "ERROR")
    assert server["status"] == "ACTIVE"
    wait_for(lambda: compute_agents(cloud) - {agent} != set(), "a new compute agent")

    # The guest lives in the agent's memory (fake driver): a new agent has lost it.
    os.kill(settled_agent(cloud), signal.SIGKILL)
    assert demo.wait_status(server_id, "SHUTOFF")["OS-EXT-STS:power_state"] in (0, 4)
    assert demo.action(server_id, {"os-start": None}).status_code == 202
    assert demo.wait_status(server_id, "ACTIVE")["OS-EXT-STS:power_state"] == 1
