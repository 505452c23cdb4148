"""The stricter mode: with `[identity] admin_project_name` set, only that project's admins are
cloud admins, as Keystone's admin_project_name (+ admin_project_domain_name) does.

A cloud started with ONESTACK_IDENTITY__ADMIN_PROJECT_NAME=admin: the bootstrap admin (admin on
project admin) is still the cloud admin and their token says `is_admin_project: true`; an admin
on any other project manages that project only, and their token says `is_admin_project: false`.
"""

from __future__ import annotations

import pytest

from tests.functional.cloud import CloudFactory, CloudProcess
from tests.functional.identity_api import (
    IdentityClient,
    admin_client,
    admin_token,
    assert_identity_error,
    issue,
    project_admin,
    validate,
)
from tests.functional.image_api import ImageClient, assert_image_error

CLOUD_ONLY = [
    ("domains", {"domain": {"name": "strict-dom"}}),
    ("roles", {"role": {"name": "strict-role"}}),
    ("services", {"service": {"type": "strict-svc"}}),
    ("regions", {"region": {"id": "strict-region"}}),
    ("projects", {"project": {"name": "strict-proj"}}),
]


@pytest.fixture(scope="module")
def cloud(backend: str | None, make_cloud: CloudFactory) -> CloudProcess:
    """A cloud whose only admin project is the bootstrap project `admin` of Default."""
    settings = {"identity.admin_project_name": "admin"}
    return make_cloud(database_url=backend, settings=settings, name="strict-cloud")


@pytest.fixture(scope="module")
def ops(cloud: CloudProcess) -> tuple[str, str]:
    """An admin on a project that is not the admin project: (token, project_id)."""
    return project_admin(cloud, "ops-strict")


def test_tokens_say_whether_their_project_is_the_admin_project(
    cloud: CloudProcess, ops: tuple[str, str]
) -> None:
    admin = validate(cloud, admin_token(cloud))
    assert admin.status_code == 200, admin.text
    assert admin.json()["token"]["is_admin_project"] is True
    other = validate(cloud, ops[0])
    assert other.status_code == 200, other.text
    assert other.json()["token"]["is_admin_project"] is False
    domain_scoped = validate(cloud, issue(cloud, "admin", {"domain": {"id": "default"}}))
    assert "is_admin_project" not in domain_scoped.json()["token"]


@pytest.mark.parametrize(("collection", "body"), CLOUD_ONLY, ids=[c for c, _ in CLOUD_ONLY])
def test_only_the_admin_projects_admins_manage_the_cloud(
    cloud: CloudProcess, ops: tuple[str, str], collection: str, body: dict
) -> None:
    refused = IdentityClient(cloud, ops[0]).post(collection, json=body)
    error = assert_identity_error(refused, 403)
    assert "You are not authorized to perform the requested action" in error["message"]
    made = admin_client(cloud).post(collection, json=body)
    assert made.status_code == 201, made.text


def test_another_projects_admin_still_manages_their_project(
    cloud: CloudProcess, ops: tuple[str, str]
) -> None:
    api = IdentityClient(cloud, ops[0])
    assert api.put(f"projects/{ops[1]}/tags/mine").status_code == 201
    assert api.get(f"projects/{ops[1]}").status_code == 200
    assert_identity_error(api.get("users"), 403)
    assert_identity_error(api.get("domains"), 403)


def test_only_the_admin_projects_admins_are_image_admins(
    cloud: CloudProcess, ops: tuple[str, str]
) -> None:
    images = ImageClient(cloud, token=ops[0])
    image = images.create(name="ops-image", disk_format="raw", container_format="bare")
    give = [{"op": "replace", "path": "/owner", "value": "elsewhere"}]
    error = assert_image_error(images.patch(image["id"], give), 403)
    assert "owner" in str(error)
    assert ImageClient(cloud).patch(image["id"], give).status_code == 200
    assert ImageClient(cloud).show(image["id"])["owner"] == "elsewhere"
