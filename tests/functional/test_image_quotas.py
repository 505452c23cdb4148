"""Per-project image quotas from unified limits set with the real CLI: image_count_total and
image_size_total refuse with 413 in Glance's body and change nothing."""

from __future__ import annotations

import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.image_api import ImageClient, assert_image_error

MIB = 1 << 20


@pytest.fixture(scope="module")
def demo(cloud: CloudProcess) -> ImageClient:
    """The demo project may own two images and store one MiB."""
    for resource, limit in (("image_count_total", "2"), ("image_size_total", "1")):
        cloud.openstack(
            "registered", "limit", "create", "--service", "image", "--region", "RegionOne",
            "--default-limit", "-1", resource,
        )  # fmt: skip
        cloud.openstack(
            "limit", "create", "--service", "image", "--region", "RegionOne", "--project", "demo",
            "--resource-limit", limit, resource,
        )  # fmt: skip
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
