"""Small helpers to speak the Nova v2.1 API directly, as a client library would."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.functional.cloud import Cloud
from tests.functional.identity_api import issue, project_scope
from tests.functional.image_api import ImageClient

WAIT_S = 60


class ComputeClient:
    """Plain HTTP to /compute/v2.1 with one project-scoped token, at `version`."""

    def __init__(
        self,
        cloud: Cloud,
        user: str = "admin",
        project: str | None = None,
        version: str = "2.96",
        token: str | None = None,
    ) -> None:
        self.cloud = cloud
        self.base = f"{cloud.url}/compute/v2.1"
        self.token = token or issue(cloud, user, project_scope(project or user))
        self.version = version

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {
            "X-Auth-Token": self.token,
            "OpenStack-API-Version": f"compute {self.version}",
            **kwargs.pop("headers", {}),
        }
        url = f"{self.base}/{path.lstrip('/')}"
        return httpx.request(method, url, headers=headers, timeout=30, **kwargs)

    def create_server(self, **fields: Any) -> httpx.Response:
        body = {"name": "vm", "flavorRef": "42", "networks": "none", **fields}
        return self.request("POST", "servers", json={"server": body})

    def server(self, server_id: str) -> dict[str, Any]:
        response = self.request("GET", f"servers/{server_id}")
        assert response.status_code == 200, response.text
        return response.json()["server"]

    def action(self, server_id: str, body: dict[str, Any]) -> httpx.Response:
        return self.request("POST", f"servers/{server_id}/action", json=body)

    def wait_status(self, server_id: str, *statuses: str) -> dict[str, Any]:
        """Poll until the server shows one of `statuses` (and no task), failing after WAIT_S."""
        deadline = time.monotonic() + WAIT_S
        while True:
            found = self.server(server_id)
            if found["status"] in statuses and found["OS-EXT-STS:task_state"] is None:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{server_id} stayed {found['status']}, wanted {statuses}")
            time.sleep(0.05)

    def wait_gone(self, server_id: str) -> None:
        deadline = time.monotonic() + WAIT_S
        while self.request("GET", f"servers/{server_id}").status_code != 404:
            if time.monotonic() > deadline:
                raise AssertionError(f"{server_id} was not deleted")
            time.sleep(0.05)


def assert_compute_error(response: httpx.Response, status: int, key: str) -> str:
    """The response is `status` with Nova's body under `key`; returns the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == [key], body
    assert body[key]["code"] == status
    assert body[key]["message"]
    return body[key]["message"]


def make_image(images: ImageClient, **fields: Any) -> str:
    """An active image of a few bytes in the caller's project."""
    image = images.create(
        name=fields.pop("name", "boot"),
        disk_format=fields.pop("disk_format", "raw"),
        container_format=fields.pop("container_format", "bare"),
        **fields,
    )
    response = images.upload(image["id"], b"\0" * 512)
    assert response.status_code == 204, response.text
    return image["id"]
