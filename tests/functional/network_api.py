"""Small helpers to speak the Neutron v2.0 API directly, as a client library would, and a
second tenant (`alt`, a member of its own project) to check isolation against."""

from __future__ import annotations

from typing import Any

import httpx

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import admin_client, issue, post_token, project_scope


class NetworkClient:
    """Plain HTTP to /networking/v2.0 with one token."""

    def __init__(self, cloud: CloudProcess, token: str) -> None:
        self.cloud = cloud
        self.base = f"{cloud.url}/networking/v2.0"
        self.token = token

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-Auth-Token": self.token, **kwargs.pop("headers", {})}
        url = f"{self.base}/{path.lstrip('/')}"
        return httpx.request(method, url, headers=headers, timeout=30, **kwargs)

    def create(self, collection: str, kind: str, **fields: Any) -> dict[str, Any]:
        response = self.request("POST", collection, json={kind: fields})
        assert response.status_code == 201, response.text
        return response.json()[kind]

    def show(self, collection: str, kind: str, resource_id: str) -> dict[str, Any]:
        response = self.request("GET", f"{collection}/{resource_id}")
        assert response.status_code == 200, response.text
        return response.json()[kind]

    def list(self, collection: str, **params: Any) -> list[dict[str, Any]]:
        response = self.request("GET", collection, params=params)
        assert response.status_code == 200, response.text
        return response.json()[collection.replace("-", "_")]

    def delete(self, collection: str, resource_id: str) -> None:
        response = self.request("DELETE", f"{collection}/{resource_id}")
        assert response.status_code == 204, response.text


def as_user(cloud: CloudProcess, user: str) -> NetworkClient:
    """`user` (admin or demo) scoped to the project of the same name."""
    return NetworkClient(cloud, issue(cloud, user, project_scope(user)))


def member_of_new_project(cloud: CloudProcess, name: str) -> tuple[NetworkClient, str]:
    """A new user with the member role on a new project: their client and project id."""
    api = admin_client(cloud)
    project = api.post("projects", json={"project": {"name": name, "domain_id": "default"}})
    assert project.status_code == 201, project.text
    project_id = project.json()["project"]["id"]
    password = f"{name}-pass-1"
    made = api.post(
        "users", json={"user": {"name": name, "domain_id": "default", "password": password}}
    )
    assert made.status_code == 201, made.text
    member = api.get("roles", params={"name": "member"}).json()["roles"][0]["id"]
    grant = f"projects/{project_id}/users/{made.json()['user']['id']}/roles/{member}"
    assert api.put(grant).status_code == 204
    login = {"name": name, "domain": {"id": "default"}, "password": password}
    body = {
        "auth": {
            "identity": {"methods": ["password"], "password": {"user": login}},
            "scope": {"project": {"id": project_id}},
        }
    }
    response = post_token(cloud, body)
    assert response.status_code == 201, response.text
    return NetworkClient(cloud, response.headers["X-Subject-Token"]), project_id


def assert_neutron_error(response: httpx.Response, status: int, kind: str | None = None) -> str:
    """The response is Neutron's error body with this status (and type); its message."""
    assert response.status_code == status, response.text
    error = response.json()["NeutronError"]
    assert set(error) == {"type", "message", "detail"}
    if kind is not None:
        assert error["type"] == kind, error
    return error["message"]
