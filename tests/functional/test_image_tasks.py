"""Glance's tasks API (/v2/tasks) through the real CLI and raw HTTP: an `import` task fetches
a URL into a new image through the image agent and ends in success or failure, the import
tasks of interoperable import are listed beside them, filters, sorting, paging and policy."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.image_api import ImageClient, assert_image_error, wait_for
from tests.functional.personas import ADMIN, DEMO, image_client

DATA = b"task-data-" * 1000


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/disk.raw":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(DATA)))
        self.end_headers()
        self.wfile.write(DATA)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def source() -> Iterator[str]:
    """A small HTTP server the cloud's agent fetches image data from."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def admin(cloud: CloudProcess) -> ImageClient:
    return image_client(cloud, ADMIN)


def _task(url: str, **props: Any) -> dict[str, Any]:
    properties = {"name": "from-task", "disk_format": "raw", "container_format": "bare", **props}
    return {
        "type": "import",
        "input": {"import_from": url, "import_from_format": "raw", "image_properties": properties},
    }


def _finished(admin: ImageClient, task_id: str) -> dict[str, Any]:
    def done() -> bool:
        return admin.request("GET", f"tasks/{task_id}").json()["status"] in ("success", "failure")

    wait_for(done, f"task {task_id} to finish")
    return admin.request("GET", f"tasks/{task_id}").json()


def test_import_task_creates_an_image_from_a_url(
    cloud: CloudProcess, admin: ImageClient, source: str
) -> None:
    response = admin.request("POST", "tasks", json=_task(f"{source}/disk.raw", name="fetched"))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "pending" and created["self"] == f"/v2/tasks/{created['id']}"
    task = _finished(admin, created["id"])
    assert task["status"] == "success", task
    image = admin.show(task["result"]["image_id"])
    assert image["name"] == "fetched" and image["status"] == "active"
    assert image["checksum"] == hashlib.md5(DATA).hexdigest()
    assert "expires_at" in task and task["message"] == ""
    shown = cloud.openstack("image", "task", "show", created["id"], "-f", "json")
    assert shown["status"] == "success"
    listed = cloud.openstack("image", "task", "list", "-f", "json")
    assert created["id"] in {row["ID"] for row in listed}


def test_failed_fetch_fails_the_task_and_keeps_no_image(admin: ImageClient, source: str) -> None:
    before = {i["id"] for i in admin.list(limit=1000).json()["images"]}
    created = admin.request("POST", "tasks", json=_task(f"{source}/missing", name="never")).json()
    task = _finished(admin, created["id"])
    assert task["status"] == "failure" and "404" in task["message"]
    assert task["result"] is None
    after = {i["id"] for i in admin.list(limit=1000).json()["images"]}
    assert after == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"type": "export", "input": {}},
        {"type": "import"},
        {"type": "import", "input": {"import_from": "http://x/y", "import_from_format": "raw"}},
        _task("file:///etc/passwd"),
        _task(123),  # type: ignore[arg-type]
    ],
)
def test_bad_tasks_are_refused_and_record_nothing(admin: ImageClient, body: dict) -> None:
    count = len(admin.request("GET", "tasks", params={"limit": 1000}).json()["tasks"])
    assert_image_error(admin.request("POST", "tasks", json=body), 400)
    assert len(admin.request("GET", "tasks", params={"limit": 1000}).json()["tasks"]) == count


def test_list_filters_sorts_and_pages(admin: ImageClient, source: str) -> None:
    for _ in range(3):
        admin.request("POST", "tasks", json=_task(f"{source}/disk.raw"))
    everything = admin.request("GET", "tasks", params={"limit": 1000, "sort_dir": "asc"}).json()
    ids = [t["id"] for t in everything["tasks"]]
    assert len(ids) >= 5 and "input" not in everything["tasks"][0]
    pages, url = [], "tasks?limit=2&sort_dir=asc"
    while url:
        page = admin.request("GET", url).json()
        pages += [t["id"] for t in page["tasks"]]
        url = page.get("next", "").removeprefix("/v2/")
    assert pages == ids
    failures = admin.request("GET", "tasks", params={"status": "failure"}).json()["tasks"]
    assert failures and all(t["status"] == "failure" for t in failures)
    for bad in ({"status": "done"}, {"type": "x"}, {"sort_key": "owner"}, {"marker": "nope"}):
        assert_image_error(admin.request("GET", "tasks", params=bad), 400)
    assert_image_error(admin.request("GET", "tasks/not-a-task"), 404)


def test_image_import_tasks_are_listed_too(admin: ImageClient) -> None:
    image = admin.create(name="staged", disk_format="raw", container_format="bare")
    headers = {"Content-Type": "application/octet-stream"}
    staged = admin.request("PUT", f"images/{image['id']}/stage", content=b"s" * 10, headers=headers)
    assert staged.status_code == 204, staged.text
    body = {"method": {"name": "glance-direct"}}
    assert admin.request("POST", f"images/{image['id']}/import", json=body).status_code == 202
    wait_for(lambda: admin.show(image["id"])["status"] == "active", "the import")
    listed = admin.request("GET", "tasks", params={"type": "api_image_import"}).json()["tasks"]
    mine = [
        t
        for t in listed
        if admin.request("GET", f"tasks/{t['id']}").json()["input"]["image_id"] == image["id"]
    ]
    assert [t["status"] for t in mine] == ["success"]


def test_tasks_are_for_admins(cloud: CloudProcess, source: str) -> None:
    demo = image_client(cloud, DEMO)
    assert_image_error(demo.request("GET", "tasks"), 403)
    assert_image_error(demo.request("POST", "tasks", json=_task(f"{source}/disk.raw")), 403)
    assert demo.request("GET", "schemas/tasks").status_code == 403
    assert image_client(cloud, ADMIN).request("GET", "schemas/task").json()["name"] == "task"


def test_copy_image_with_nothing_to_copy_records_no_task_and_shows_the_import_over(
    admin: ImageClient,
) -> None:
    """On a one-store cloud, copy-image to all stores finds the data everywhere already: 202,
    no task, and both store lists present and empty (clients such as Tempest wait on them)."""
    image = admin.create(name="one-store", disk_format="raw", container_format="bare")
    assert admin.upload(image["id"], b"r" * 100).status_code == 204
    body = {"method": {"name": "copy-image"}, "all_stores": True}
    assert admin.request("POST", f"images/{image['id']}/import", json=body).status_code == 202
    shown = admin.show(image["id"])
    assert (shown["os_glance_importing_to_stores"], shown["os_glance_failed_import"]) == ("", "")
    assert admin.request("GET", f"images/{image['id']}/tasks").json()["tasks"] == []
