"""Repeated token validations (answered from memory) still see every change at once.

Each test validates the same pair of tokens several times, so that later validations are
answered by `identity.api.repeat_validations`, then changes something through the CLI and
checks that the very next validation shows it.
"""

from __future__ import annotations

import re
import uuid

import httpx

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import (
    admin_token,
    assert_identity_error,
    issue,
    password_auth,
    post_token,
    project_scope,
)


def validate(
    cloud: CloudProcess, caller: str, subject: str, query: str = "", times: int = 3
) -> httpx.Response:
    """The last of `times` identical validations, all 200 with the same body but this one."""
    headers = {"X-Auth-Token": caller, "X-Subject-Token": subject}
    url = f"{cloud.identity_url}/v3/auth/tokens{query}"
    with httpx.Client(timeout=30) as client:
        answers = [client.get(url, headers=headers) for _ in range(times)]
    if answers[0].status_code == 200:
        assert {a.status_code for a in answers} == {200}
        assert {a.content for a in answers} == {answers[0].content}
    return answers[-1]


def new_member(cloud: CloudProcess) -> tuple[str, str]:
    """A new user with the member role on the demo project: (name, token)."""
    name = f"repeat-{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    cloud.openstack("user", "create", "--password", password, name)
    cloud.openstack("role", "add", "--user", name, "--project", "demo", "member")
    cloud.openstack("role", "add", "--user", name, "--project", "demo", "reader")
    auth = password_auth(cloud, name, project_scope("demo"), password=password)
    response = post_token(cloud, auth)
    assert response.status_code == 201, response.text
    return name, response.headers["X-Subject-Token"]


def test_revocation_fails_the_next_repeat(cloud: CloudProcess) -> None:
    admin = admin_token(cloud)
    demo = issue(cloud, "demo", project_scope("demo"))
    assert validate(cloud, admin, demo).status_code == 200

    cloud.openstack("token", "revoke", demo)

    assert_identity_error(validate(cloud, admin, demo, times=1), 404)


def test_revoking_the_caller_fails_the_next_repeat(cloud: CloudProcess) -> None:
    caller = admin_token(cloud)
    demo = issue(cloud, "demo", project_scope("demo"))
    assert validate(cloud, caller, demo).status_code == 200

    cloud.openstack("token", "revoke", caller)

    assert_identity_error(validate(cloud, caller, demo, times=1), 401)


def test_disabled_user_fails_the_next_repeat(cloud: CloudProcess) -> None:
    admin = admin_token(cloud)
    name, token = new_member(cloud)
    assert validate(cloud, admin, token).status_code == 200

    cloud.openstack("user", "set", "--disable", name)

    assert_identity_error(validate(cloud, admin, token, times=1), 404)


def test_removed_role_leaves_the_next_repeat(cloud: CloudProcess) -> None:
    admin = admin_token(cloud)
    name, token = new_member(cloud)
    before = validate(cloud, admin, token).json()["token"]
    assert {r["name"] for r in before["roles"]} == {"member", "reader"}

    # member implies reader (Keystone's bootstrap): reader alone is left.
    cloud.openstack("role", "remove", "--user", name, "--project", "demo", "member")

    after = validate(cloud, admin, token, times=1).json()["token"]
    assert {r["name"] for r in after["roles"]} == {"reader"}


def test_another_caller_is_checked_again(cloud: CloudProcess) -> None:
    admin = admin_token(cloud)
    demo = issue(cloud, "demo", project_scope("demo"))
    assert validate(cloud, admin, admin).status_code == 200

    assert_identity_error(validate(cloud, demo, admin), 403)
    assert validate(cloud, demo, demo).status_code == 200


def test_catalog_choice_is_remembered_apart(cloud: CloudProcess) -> None:
    admin = admin_token(cloud)

    full = validate(cloud, admin, admin).json()["token"]
    bare = validate(cloud, admin, admin, query="?nocatalog").json()["token"]
    bare_with_value = validate(cloud, admin, admin, query="?nocatalog=1").json()["token"]
    full_again = validate(cloud, admin, admin).json()["token"]

    assert full["catalog"] and full_again["catalog"] == full["catalog"]
    assert "catalog" not in bare and "catalog" not in bare_with_value


def test_repeats_carry_every_header_and_are_counted(cloud: CloudProcess) -> None:
    admin = admin_token(cloud)
    demo = issue(cloud, "demo", project_scope("demo"))
    before = validations_counted(cloud)
    headers = {"X-Auth-Token": admin, "X-Subject-Token": demo}

    with httpx.Client(timeout=30) as client:
        answers = [client.get(f"{cloud.identity_url}/v3/auth/tokens", headers=headers)]
        answers += [client.get(f"{cloud.identity_url}/v3/auth/tokens", headers=headers)]

    request_ids = {a.headers["x-openstack-request-id"] for a in answers}
    assert len(request_ids) == 2 and all(i.startswith("req-") for i in request_ids)
    for answer in answers:
        assert answer.headers["x-subject-token"] == demo
        assert answer.headers["content-type"] == "application/json"
        assert int(answer.headers["content-length"]) == len(answer.content)
        assert answer.json()["token"]["user"]["name"] == "demo"
    assert validations_counted(cloud) == before + 2


def validations_counted(cloud: CloudProcess) -> int:
    text = httpx.get(f"{cloud.url}/metrics", timeout=30).text
    pattern = r'onestack_http_requests_total\{service="identity",route="/v3/auth/tokens",'
    pattern += r'method="GET",status="200"\} (\d+)'
    return sum(int(count) for count in re.findall(pattern, text))
