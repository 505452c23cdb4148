"""Two `onestack up` processes on one database: what one changes, the other sees at once.

Each process caches token validations; these tests prove the cache never outlives a write
made through the other process (revocation, a disabled user, a removed grant).
"""

from __future__ import annotations

import pytest

from tests.functional.cloud import CloudFactory, CloudProcess
from tests.functional.identity_api import (
    IdentityClient,
    admin_token,
    issue,
    password_auth,
    post_token,
    project_scope,
)


@pytest.fixture(scope="module")
def twin(cloud: CloudProcess, make_cloud: CloudFactory) -> CloudProcess:
    """A second process on the first one's state dir and database."""
    return make_cloud(state_dir=cloud.state_dir, database_url=cloud.database_url)


def validates(cloud: CloudProcess, subject: str) -> int:
    admin = IdentityClient(cloud, admin_token(cloud))
    return admin.get("auth/tokens", headers={"X-Subject-Token": subject}).status_code


def test_revocation_through_one_process_holds_on_the_other(
    cloud: CloudProcess, twin: CloudProcess
) -> None:
    token = issue(cloud, "demo", project_scope("demo"))
    assert validates(twin, token) == 200  # now cached by the twin
    demo = IdentityClient(cloud, token)
    assert demo.delete("auth/tokens", headers={"X-Subject-Token": token}).status_code == 204
    assert validates(twin, token) == 404


def test_disabled_user_fails_at_once_on_the_other_process(
    cloud: CloudProcess, twin: CloudProcess
) -> None:
    admin = IdentityClient(cloud, admin_token(cloud))
    user = {"name": "twin-user", "password": "twin-pass-1"}
    user_id = admin.post("users", json={"user": user}).json()["user"]["id"]
    member_id = admin.get("roles", params={"name": "member"}).json()["roles"][0]["id"]
    demo_id = admin.get("projects", params={"name": "demo"}).json()["projects"][0]["id"]
    assert admin.put(f"projects/{demo_id}/users/{user_id}/roles/{member_id}").status_code == 204
    response = post_token(cloud, password_auth(cloud, "twin-user", project_scope("demo"),
                                               password="twin-pass-1"))  # fmt: skip
    token = response.headers["X-Subject-Token"]
    assert validates(twin, token) == 200

    admin.patch(f"users/{user_id}", json={"user": {"enabled": False}})
    assert validates(twin, token) == 404


def test_removed_grant_fails_at_once_on_the_other_process(
    cloud: CloudProcess, twin: CloudProcess
) -> None:
    admin = IdentityClient(cloud, admin_token(cloud))
    user = {"name": "twin-user-2", "password": "twin-pass-2"}
    user_id = admin.post("users", json={"user": user}).json()["user"]["id"]
    member_id = admin.get("roles", params={"name": "member"}).json()["roles"][0]["id"]
    demo_id = admin.get("projects", params={"name": "demo"}).json()["projects"][0]["id"]
    grant = f"projects/{demo_id}/users/{user_id}/roles/{member_id}"
    assert admin.put(grant).status_code == 204
    response = post_token(cloud, password_auth(cloud, "twin-user-2", project_scope("demo"),
                                               password="twin-pass-2"))  # fmt: skip
    token = response.headers["X-Subject-Token"]
    assert validates(twin, token) == 200

    admin.delete(grant)
    assert validates(twin, token) == 404
