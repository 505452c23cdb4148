"""In-flight work has an owner: processes that die or multiply lose nothing.

Real processes and real signals: a second `onestack serve api` starting during an upload leaves
it alone; `kill -9` of the worker streaming an upload puts the image back to queued (no partial
data) without a restart; `kill -9` of the worker that accepted an import, or of the image agent
while it runs it, and the import still finishes. Over AMQP the API wakes the agent process with
a cast. Every wait polls observable state.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import kombu
import pytest

from onestack.workers import MIN_WORKER_LIFE_S
from tests.functional.cloud import CloudFactory, CloudProcess, children_of, helpers_of
from tests.functional.image_api import ImageClient, wait_for
from tests.functional.test_amqp_bus import AMQP_URL

HELD_BYTES = 1 << 20
IMPORT_BYTES = 96 << 20


@pytest.fixture
def cloud(make_cloud: CloudFactory) -> CloudProcess:
    return make_cloud(workers=2)


def agents(cloud: CloudProcess) -> dict[int, str]:
    """The agents `onestack status` lists: pid -> host."""
    listed = subprocess.run(cloud.args("status"), capture_output=True, text=True, check=False)
    pattern = re.compile(r"^\s+agent image\s+pid (\d+)\s+host (\S+)$", re.M)
    return {int(pid): host for pid, host in pattern.findall(listed.stdout)}


def age_s(pid: int) -> float:
    """How long process `pid` has run, from /proc."""
    started = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - started / os.sysconf("SC_CLK_TCK")


def settled(pids: set[int]) -> set[int]:
    """`pids`, once each has lived long enough that the supervisor replaces it when killed
    (one that dies sooner counts as failing to start, and stops the cloud)."""
    for pid in pids:
        wait_for(lambda: age_s(pid) > MIN_WORKER_LIFE_S + 0.5, f"process {pid} settled")  # noqa: B023
    return pids


def kill(pids: set[int]) -> None:
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


def holding_open(pids: set[int], fragment: str) -> set[int]:
    """Which of `pids` have a file whose path contains `fragment` open."""
    found = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                if fragment in os.readlink(fd):
                    found.add(pid)
            except OSError:
                continue
    return found


def status_of(client: ImageClient, image_id: str) -> str | None:
    """The image's status; None while a connection meets a worker that was just killed."""
    try:
        return str(client.show(image_id)["status"])
    except httpx.TransportError:
        return None


def partial_files(state_dir: Path) -> list[Path]:
    return [p for p in (state_dir / "images" / ".partial").rglob("*") if p.is_file()]


class HeldUpload:
    """A PUT of image data that sends its first MiB, then waits until `release()`."""

    def __init__(self, client: ImageClient, image_id: str, rest: bytes = b"r" * HELD_BYTES):
        self.data = b"h" * HELD_BYTES + rest
        self.gate = threading.Event()
        self.response: httpx.Response | Exception | None = None
        self.thread = threading.Thread(target=self._send, args=(client, image_id), daemon=True)
        self.thread.start()

    def _body(self) -> Iterator[bytes]:
        yield self.data[:HELD_BYTES]
        self.gate.wait(60)
        yield self.data[HELD_BYTES:]

    def _send(self, client: ImageClient, image_id: str) -> None:
        headers = {"Content-Type": "application/octet-stream"}
        try:
            self.response = client.request(
                "PUT", f"images/{image_id}/file", content=self._body(), headers=headers
            )
        except httpx.HTTPError as exc:
            self.response = exc

    def release(self) -> httpx.Response | Exception | None:
        self.gate.set()
        self.thread.join(60)
        return self.response


def raw_image(client: ImageClient) -> str:
    return client.create(disk_format="raw", container_format="bare")["id"]


def staged_for_import(client: ImageClient, data: bytes) -> str:
    image_id = raw_image(client)
    headers = {"Content-Type": "application/octet-stream"}
    staged = client.request("PUT", f"images/{image_id}/stage", content=data, headers=headers)
    assert staged.status_code == 204, staged.text
    return image_id


def import_task(client: ImageClient, image_id: str) -> dict[str, object]:
    """The image's newest import task (empty while a killed worker drops the connection)."""
    try:
        tasks = client.request("GET", f"images/{image_id}/tasks").json()["tasks"]
    except httpx.TransportError:
        return {}
    return tasks[-1] if tasks else {}


def import_data() -> bytes:
    return bytes(range(256)) * (IMPORT_BYTES // 256)


def test_a_second_api_process_starting_leaves_an_upload_in_flight_alone(
    make_cloud: CloudFactory,
) -> None:
    first = make_cloud()
    client = ImageClient(first)
    image_id = raw_image(client)
    upload = HeldUpload(client, image_id)
    wait_for(lambda: bool(partial_files(first.state_dir)), "the upload's partial file")

    second = make_cloud(state_dir=first.state_dir, command=("serve", "api"))  # runs recovery
    try:
        assert partial_files(first.state_dir), "the second process removed a live upload"
        assert client.show(image_id)["status"] == "saving"
        response = upload.release()
    finally:
        second.stop()
        first.stop()

    assert isinstance(response, httpx.Response) and response.status_code == 204, response
    first.start()
    try:
        image = ImageClient(first).show(image_id)
        assert (image["status"], image["size"]) == ("active", len(upload.data))
        assert image["checksum"] == hashlib.md5(upload.data).hexdigest()
        assert first.server_errors() == []
    finally:
        first.stop()


def test_a_worker_killed_mid_upload_leaves_the_image_queued_without_partial_data(
    cloud: CloudProcess,
) -> None:
    client = ImageClient(cloud)
    image_id = raw_image(client)
    upload = HeldUpload(client, image_id)
    wait_for(lambda: bool(partial_files(cloud.state_dir)), "the upload's partial file")
    (streaming,) = holding_open(children_of(cloud.process.pid), "/.partial/")

    kill(settled({streaming}))

    wait_for(lambda: status_of(client, image_id) == "queued", "the image back to queued")
    wait_for(lambda: not partial_files(cloud.state_dir), "the partial data removed")
    upload.release()
    data = b"again" * 1000
    assert client.upload(image_id, data).status_code == 204
    assert client.show(image_id)["status"] == "active"


def test_an_import_finishes_after_kill_of_the_worker_that_accepted_it(
    cloud: CloudProcess,
) -> None:
    client = ImageClient(cloud)
    data = import_data()
    image_id = staged_for_import(client, data)
    api_workers = settled(children_of(cloud.process.pid) - helpers_of(cloud))
    assert len(api_workers) == 2

    accepted = client.request(
        "POST", f"images/{image_id}/import", json={"method": {"name": "glance-direct"}}
    )
    assert accepted.status_code == 202, accepted.text
    kill(api_workers)  # at once: the one that accepted the import is among them

    wait_for(lambda: import_task(client, image_id).get("status") == "success", "the import")
    image = client.show(image_id)
    assert (image["status"], image["size"]) == ("active", len(data))
    assert image["checksum"] == hashlib.md5(data).hexdigest()


def test_an_import_finishes_after_kill_of_the_agent_running_it(cloud: CloudProcess) -> None:
    client = ImageClient(cloud)
    listed = agents(cloud)
    assert len(listed) == 1 and set(listed.values()) == {os.uname().nodename}
    (agent,) = settled(set(listed))
    assert agent in children_of(cloud.process.pid)
    data = import_data()
    image_id = staged_for_import(client, data)

    body = {"method": {"name": "glance-direct"}}
    assert client.request("POST", f"images/{image_id}/import", json=body).status_code == 202
    wait_for(lambda: import_task(client, image_id).get("status") == "processing", "the agent")
    kill({agent})

    wait_for(lambda: import_task(client, image_id).get("status") == "success", "the import")
    image = client.show(image_id)
    assert (image["status"], image["size"]) == ("active", len(data))
    assert image["checksum"] == hashlib.md5(data).hexdigest()
    wait_for(lambda: bool(agents(cloud)) and agent not in agents(cloud), "a new agent listed")


def test_over_amqp_the_api_wakes_the_agent_process_with_a_cast(
    make_cloud: CloudFactory,
) -> None:
    try:
        with kombu.Connection(AMQP_URL, connect_timeout=3) as broker:
            broker.ensure_connection(max_retries=1)
    except Exception as exc:
        pytest.skip(f"no RabbitMQ answers at {AMQP_URL}: {exc}")
    settings = {
        "agent.poll_s": "600",  # only the cast can start the import in time
        "bus.rpc_exchange": f"onestack-test-{uuid.uuid4().hex[:8]}",
    }
    cloud = make_cloud(workers=2, settings=settings, bus_url=AMQP_URL)
    try:
        client = ImageClient(cloud)
        wait_for(lambda: bool(agents(cloud)), "the agent listed")
        image_id = staged_for_import(client, b"over the bus")
        body = {"method": {"name": "glance-direct"}}
        assert client.request("POST", f"images/{image_id}/import", json=body).status_code == 202

        wait_for(lambda: import_task(client, image_id).get("status") == "success", "the import")
        assert client.show(image_id)["size"] == len(b"over the bus")
    finally:
        cloud.stop()
    assert cloud.server_errors() == []
