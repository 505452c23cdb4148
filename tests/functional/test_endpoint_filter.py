"""Endpoint filtering (OS-EP-FILTER) through the real CLI and plain HTTP: endpoint groups, the
project associations, and the catalog of a project-scoped token that they narrow."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import (
    IdentityClient,
    admin_client,
    assert_identity_error,
    post_token,
    project_admin,
)
from tests.functional.personas import DEMO, identity_client

EP = "OS-EP-FILTER"


def _catalog_types(cloud: CloudProcess, token: str) -> set[str]:
    body = IdentityClient(cloud, token).get("auth/catalog").json()
    return {entry["type"] for entry in body["catalog"]}


def _service_id(api: IdentityClient, service_type: str) -> str:
    return api.get("services", params={"type": service_type}).json()["services"][0]["id"]


def _endpoint_id(api: IdentityClient, service_type: str, interface: str = "public") -> str:
    params = {"service_id": _service_id(api, service_type), "interface": interface}
    return api.get("endpoints", params=params).json()["endpoints"][0]["id"]


def _group(api: IdentityClient, filters: dict[str, Any]) -> dict[str, Any]:
    body = {"endpoint_group": {"name": f"eg-{uuid.uuid4().hex[:6]}", "filters": filters}}
    response = api.post(f"{EP}/endpoint_groups", json=body)
    assert response.status_code == 201, response.text
    return response.json()["endpoint_group"]


def test_an_endpoint_group_narrows_a_projects_catalog(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    name = f"filtered-{uuid.uuid4().hex[:6]}"
    token, project_id = project_admin(cloud, name)
    assert {"identity", "image"} <= _catalog_types(cloud, token)
    group = _group(api, {"service_id": _service_id(api, "identity")})

    put = api.put(f"{EP}/endpoint_groups/{group['id']}/projects/{project_id}")

    assert put.status_code == 204, put.text
    assert _catalog_types(cloud, fresh_token(cloud, name, project_id)) == {"identity"}
    other, _ = project_admin(cloud, f"other-{uuid.uuid4().hex[:6]}")
    assert "image" in _catalog_types(cloud, other)  # other projects see everything
    narrowed = api.get(f"{EP}/projects/{project_id}/endpoints").json()["endpoints"]
    assert {e["service_id"] for e in narrowed} == {_service_id(api, "identity")}
    listed = api.get(f"{EP}/endpoint_groups/{group['id']}/projects").json()["projects"]
    assert [p["id"] for p in listed] == [project_id]
    assert api.head(f"{EP}/endpoint_groups/{group['id']}/projects/{project_id}").status_code == 200

    assert api.delete(f"{EP}/endpoint_groups/{group['id']}").status_code == 204
    assert api.get(f"{EP}/projects/{project_id}/endpoints").json()["endpoints"] == []


def test_a_scoped_token_sees_only_the_associated_endpoint(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    name = f"direct-{uuid.uuid4().hex[:6]}"
    _, project_id = project_admin(cloud, name)
    image_public = _endpoint_id(api, "image")
    assert api.put(f"{EP}/projects/{project_id}/endpoints/{image_public}").status_code == 204
    token = fresh_token(cloud, name, project_id)

    catalog = IdentityClient(cloud, token).get("auth/catalog").json()["catalog"]

    assert [(c["type"], [e["id"] for e in c["endpoints"]]) for c in catalog] == [
        ("image", [image_public])
    ]
    projects = api.get(f"{EP}/endpoints/{image_public}/projects").json()["projects"]
    assert project_id in {p["id"] for p in projects}
    check = api.get(f"{EP}/projects/{project_id}/endpoints/{image_public}")
    assert check.status_code == 204
    assert api.delete(f"{EP}/projects/{project_id}/endpoints/{image_public}").status_code == 204
    assert_identity_error(api.get(f"{EP}/projects/{project_id}/endpoints/{image_public}"), 404)


def fresh_token(cloud: CloudProcess, name: str, project_id: str) -> str:
    """A new token of the user `project_admin` made, scoped to its project."""
    login = {"name": name, "domain": {"id": "default"}, "password": f"{name}-pass-1"}
    body = {
        "auth": {
            "identity": {"methods": ["password"], "password": {"user": login}},
            "scope": {"project": {"id": project_id}},
        }
    }
    response = post_token(cloud, body)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def test_the_cli_manages_endpoint_groups(cloud: CloudProcess, tmp_path: Path) -> None:
    filters = tmp_path / "filters.json"
    filters.write_text(json.dumps({"interface": "admin"}))
    name = f"cli-eg-{uuid.uuid4().hex[:6]}"
    created = cloud.openstack("endpoint", "group", "create", name, str(filters), "-f", "json")
    assert created["filters"] in ({"interface": "admin"}, json.dumps({"interface": "admin"}))
    cloud.openstack("endpoint", "group", "add", "project", name, "demo")
    listed = cloud.openstack("endpoint", "group", "list", "--project", "demo", "-f", "json")
    assert name in {g["Name"] for g in listed}
    cloud.openstack("endpoint", "group", "remove", "project", name, "demo")
    cloud.openstack("endpoint", "group", "delete", name)
    assert_identity_error(admin_client(cloud).get(f"{EP}/endpoint_groups/{created['id']}"), 404)


def test_bad_groups_are_400_and_members_may_not_manage(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    for filters in ({}, {"colour": "red"}, {"interface": 5}):
        body = {"endpoint_group": {"name": "bad", "filters": filters}}
        assert_identity_error(api.post(f"{EP}/endpoint_groups", json=body), 400)
    assert api.get(f"{EP}/endpoint_groups", params={"name": "bad"}).json()["endpoint_groups"] == []
    demo = identity_client(cloud, DEMO)
    body = {"endpoint_group": {"name": "mine", "filters": {"interface": "public"}}}
    assert_identity_error(demo.post(f"{EP}/endpoint_groups", json=body), 403)
    assert_identity_error(api.put(f"{EP}/projects/nope/endpoints/nope"), 404)
    assert_identity_error(api.get(f"{EP}/endpoint_groups/nope"), 404)
