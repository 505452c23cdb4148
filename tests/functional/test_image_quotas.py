"""Per-project image quotas from unified limits set with the real CLI: image_count_total and
image_size_total refuse with 413 in Glance's body and change nothing."""

from __future__ import annotations

import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.image_api import ImageClient, assert_image_error, limit_project

MIB = 1 << 20


@pytest.fixture(scope="module")
def demo(cloud: CloudProcess) -> ImageClient:
    """The demo project may own two images and store one MiB."""
    limit_project(cloud, "demo", {"image_count_total": 2, "image_size_total": 1})
    return ImageClient(cloud, "demo")


def test_image_count_and_size_limits(demo: ImageClient) -> None:
    first = demo.create(name="q1", disk_format="raw", container_format="bare")
    assert demo.upload(first["id"], b"x" * (MIB // 2)).status_code == 204
    second = demo.create(name="q2", disk_format="raw", container_format="bare")
    assert_image_error(demo.create_response(name="q3"), 413)
    body = assert_image_error(demo.upload(second["id"], b"x" * MIB), 413)
    assert "image_size_total" in body["message"]
    assert demo.show(second["id"])["status"] == "queued"
    assert sorted(i["name"] for i in demo.list().json()["images"]) == ["q1", "q2"]


def test_other_projects_are_not_limited(cloud: CloudProcess, demo: ImageClient) -> None:
    admin = ImageClient(cloud)
    for index in range(3):
        admin.create(name=f"unlimited-{index}")


def test_upload_without_a_size_stops_at_the_quota_and_stores_nothing(
    cloud: CloudProcess, demo: ImageClient
) -> None:
    """A chunked upload (no Content-Length) is cut off once it passes image_size_total."""
    for old in demo.list(name="q2").json()["images"]:  # room under image_count_total
        demo.request("DELETE", f"images/{old['id']}")
    image = demo.create(name="q-chunked", disk_format="raw", container_format="bare")
    before = sorted((cloud.state_dir / "images").iterdir())

    def chunks():  # a generator body: httpx sends it chunked, with no Content-Length
        for _ in range(4):
            yield b"y" * (MIB // 2)

    headers = {"Content-Type": "application/octet-stream"}
    response = demo.request("PUT", f"images/{image['id']}/file", content=chunks(), headers=headers)
    assert "image_size_total" in assert_image_error(response, 413)["message"]
    assert demo.show(image["id"])["status"] == "queued"
    assert sorted((cloud.state_dir / "images").iterdir()) == before


def test_usage_reports_limits_and_use(cloud: CloudProcess, demo: ImageClient) -> None:
    usage = demo.request("GET", "info/usage").json()["usage"]
    assert usage["image_count_total"] == {"limit": 2, "usage": 2}
    assert usage["image_size_total"] == {"limit": 1, "usage": 1}  # half a MiB rounds up
    assert usage["image_count_uploading"] == {"limit": -1, "usage": 0}
    assert set(usage) == {
        "image_size_total", "image_count_total", "image_stage_total", "image_count_uploading"
    }  # fmt: skip
    admin_usage = ImageClient(cloud).request("GET", "info/usage").json()["usage"]
    assert admin_usage["image_count_total"]["limit"] == -1
