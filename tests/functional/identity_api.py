"""Small helpers to speak the Keystone v3 token API directly, as a client library would."""

from __future__ import annotations

from typing import Any

import httpx

from tests.functional.cloud import CloudProcess


def password_auth(
    cloud: CloudProcess, user: str, scope: dict[str, Any] | None = None, password: str | None = None
) -> dict[str, Any]:
    identity = {
        "methods": ["password"],
        "password": {
            "user": {
                "name": user,
                "domain": {"name": "Default"},
                "password": password if password is not None else cloud.password(user),
            }
        },
    }
    auth: dict[str, Any] = {"identity": identity}
    if scope is not None:
        auth["scope"] = scope
    return {"auth": auth}


def project_scope(name: str) -> dict[str, Any]:
    return {"project": {"name": name, "domain": {"id": "default"}}}


def post_token(cloud: CloudProcess, body: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{cloud.identity_url}/v3/auth/tokens", json=body, timeout=30, **kwargs)


def issue(cloud: CloudProcess, user: str, scope: dict[str, Any] | None = None) -> str:
    response = post_token(cloud, password_auth(cloud, user, scope))
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def admin_token(cloud: CloudProcess) -> str:
    return issue(cloud, "admin", project_scope("admin"))


def validate(cloud: CloudProcess, subject: str, caller: str | None = None) -> httpx.Response:
    headers = {"X-Auth-Token": caller or admin_token(cloud), "X-Subject-Token": subject}
    return httpx.get(f"{cloud.identity_url}/v3/auth/tokens", headers=headers, timeout=30)


def assert_identity_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is `status` with Keystone's error body; returns the error object."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == status
    assert error["title"] and error["message"]
    return error


class IdentityClient:
    """Plain HTTP to /identity/v3 with one token, for what the CLI cannot express."""

    def __init__(self, cloud: CloudProcess, token: str) -> None:
        self.base = f"{cloud.identity_url}/v3"
        self.token = token

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-Auth-Token": self.token, **kwargs.pop("headers", {})}
        url = f"{self.base}/{path.lstrip('/')}"
        return httpx.request(method, url, headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("HEAD", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)


def admin_client(cloud: CloudProcess) -> IdentityClient:
    return IdentityClient(cloud, admin_token(cloud))


def assert_create_refused(api: IdentityClient, collection: str, body: bytes, fragment: str) -> None:
    """POSTing raw `body` to `collection` is a 400 naming `fragment`, and nothing changes."""
    before = api.get(collection).json()[collection]
    response = api.post(collection, content=body, headers={"Content-Type": "application/json"})
    assert fragment in assert_identity_error(response, 400)["message"]
    assert api.get(collection).json()[collection] == before


def project_admin(cloud: CloudProcess, name: str, domain_id: str = "default") -> tuple[str, str]:
    """A new user holding admin on a new project of their own (as Tempest's dynamic admin and
    many automation accounts do), and their project-scoped token: (token, project_id)."""
    api = admin_client(cloud)
    project = api.post("projects", json={"project": {"name": name, "domain_id": domain_id}})
    assert project.status_code == 201, project.text
    project_id = project.json()["project"]["id"]
    password = f"{name}-pass-1"
    user = {"name": name, "domain_id": domain_id, "password": password}
    made = api.post("users", json={"user": user})
    assert made.status_code == 201, made.text
    admin_role = api.get("roles", params={"name": "admin"}).json()["roles"][0]["id"]
    grant = f"projects/{project_id}/users/{made.json()['user']['id']}/roles/{admin_role}"
    assert api.put(grant).status_code == 204
    login = {"name": name, "domain": {"id": domain_id}, "password": password}
    body = {
        "auth": {
            "identity": {"methods": ["password"], "password": {"user": login}},
            "scope": {"project": {"id": project_id}},
        }
    }
    response = post_token(cloud, body)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"], project_id
