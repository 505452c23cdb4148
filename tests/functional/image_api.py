"""Small helpers to speak the Glance v2 API directly, as a client library would."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import issue, project_scope

PATCH_TYPE = "application/openstack-images-v2.1-json-patch"
WAIT_S = 30


class ImageClient:
    """Plain HTTP to /image/v2 with one project-scoped token."""

    def __init__(
        self,
        cloud: CloudProcess,
        user: str = "admin",
        project: str | None = None,
        token: str | None = None,
    ):
        self.cloud = cloud
        self.base = f"{cloud.url}/image/v2"
        self.token = token or issue(cloud, user, project_scope(project or user))

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-Auth-Token": self.token, **kwargs.pop("headers", {})}
        url = f"{self.base}/{path.lstrip('/')}"
        return httpx.request(method, url, headers=headers, timeout=30, **kwargs)

    def create_response(self, **fields: Any) -> httpx.Response:
        return self.request("POST", "images", json=fields)

    def create(self, **fields: Any) -> dict[str, Any]:
        response = self.create_response(**fields)
        assert response.status_code == 201, response.text
        return response.json()

    def show(self, image_id: str) -> dict[str, Any]:
        response = self.request("GET", f"images/{image_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def patch(self, image_id: str, ops: Any, content_type: str = PATCH_TYPE) -> httpx.Response:
        return self.request(
            "PATCH", f"images/{image_id}", json=ops, headers={"Content-Type": content_type}
        )

    def upload(self, image_id: str, data: bytes) -> httpx.Response:
        headers = {"Content-Type": "application/octet-stream"}
        return self.request("PUT", f"images/{image_id}/file", content=data, headers=headers)

    def list(self, **params: Any) -> httpx.Response:
        return self.request("GET", "images", params=params)


def assert_image_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is `status` with Glance's error body; returns the body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"].startswith(f"{status} ")
    assert body["title"] and body["message"]
    return body


def wait_for(check: Callable[[], bool], what: str) -> None:
    """Wait until `check()` holds (a state change in the cloud), failing after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def limit_project(cloud: CloudProcess, project: str, limits: dict[str, int]) -> None:
    """Set image limits on one project with the CLI, every other project unlimited."""
    for resource, limit in limits.items():
        cloud.openstack(
            "registered", "limit", "create", "--service", "image", "--region", "RegionOne",
            "--default-limit", "-1", resource,
        )  # fmt: skip
        cloud.openstack(
            "limit", "create", "--service", "image", "--region", "RegionOne", "--project", project,
            "--resource-limit", str(limit), resource,
        )  # fmt: skip
