"""Issue 20 §3: NUL and control characters are a 400 on every database, never a 500.

On PostgreSQL a NUL in a name, an id or a filter reached the database and failed there
(`psycopg.DataError`, a 500, even without a token); on SQLite it was stored and written raw
into the log. Now one rule, applied where bodies and URLs are parsed, answers 400 in each
API's own error body on both.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import IdentityClient, admin_token, assert_identity_error


@pytest.fixture(scope="module")
def admin(cloud: CloudProcess) -> IdentityClient:
    return IdentityClient(cloud, admin_token(cloud))


def _password_login(name: str) -> dict[str, Any]:
    user = {"name": name, "domain": {"id": "default"}, "password": "x"}
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": user}}}}


def test_nul_in_a_login_name_is_a_400_without_a_token(cloud: CloudProcess) -> None:
    response = httpx.post(
        f"{cloud.identity_url}/v3/auth/tokens", json=_password_login("ad\x00min"), timeout=30
    )

    error = assert_identity_error(response, 400)
    assert "NUL" in error["message"]


@pytest.mark.parametrize("name", ["a\x00b", "a\x01b", "a\nb", "a\x7fb"])
def test_nul_or_control_characters_in_a_project_name_are_a_400(
    admin: IdentityClient, name: str
) -> None:
    response = admin.post("projects", json={"project": {"name": name}})

    assert_identity_error(response, 400)
    names = [project["name"] for project in admin.get("projects").json()["projects"]]
    assert name not in names


def test_nul_in_a_user_name_or_password_is_a_400(admin: IdentityClient) -> None:
    for user in ({"name": "u\x00x"}, {"name": "ux", "password": "p\x00w"}):
        assert_identity_error(admin.post("users", json={"user": user}), 400)


def test_nul_in_a_description_is_a_400_but_a_newline_is_kept(admin: IdentityClient) -> None:
    refused = admin.post("projects", json={"project": {"name": "d1", "description": "a\x00"}})
    kept = admin.post("projects", json={"project": {"name": "d2", "description": "one\ntwo"}})

    assert_identity_error(refused, 400)
    assert kept.status_code == 201, kept.text
    assert kept.json()["project"]["description"] == "one\ntwo"


@pytest.mark.parametrize(
    "path", ["projects?name=a%00b", "users?name=a%00b", "projects/a%00b", "users/a%0Ab"]
)
def test_nul_in_a_filter_or_an_id_is_a_400(admin: IdentityClient, path: str) -> None:
    assert_identity_error(admin.get(path), 400)


def test_the_image_api_applies_the_same_rule_in_its_own_body(
    cloud: CloudProcess, admin: IdentityClient
) -> None:
    images = f"{cloud.url}/image/v2/images"
    headers = {"X-Auth-Token": admin.token}
    created = httpx.post(images, json={"name": "text-rule"}, headers=headers, timeout=30)
    patch = [{"op": "replace", "path": "/name", "value": "a\x01b"}]
    patch_headers = {**headers, "Content-Type": "application/openstack-images-v2.1-json-patch"}

    answers = [
        httpx.post(images, json={"name": "a\x01b"}, headers=headers, timeout=30),
        httpx.get(f"{images}?name=a%01b", headers=headers, timeout=30),
        httpx.patch(
            f"{images}/{created.json()['id']}", json=patch, headers=patch_headers, timeout=30
        ),
    ]

    assert [r.status_code for r in answers] == [400, 400, 400]
    assert all(r.json()["code"] == "400 Bad Request" for r in answers)
    shown = httpx.get(f"{images}/{created.json()['id']}", headers=headers, timeout=30)
    assert shown.json()["name"] == "text-rule"


def test_the_log_escapes_what_a_client_sent(cloud: CloudProcess, admin: IdentityClient) -> None:
    admin.get("projects/evil%00id%0Ats=forged")

    log = _log_once_it_has(cloud, "evil")
    assert "\x00" not in log
    assert not any(line.startswith("ts=forged") for line in log.splitlines())
    assert 'path="/identity/v3/projects/evil\\u0000id\\nts=forged"' in log


def _log_once_it_has(cloud: CloudProcess, text: str, timeout_s: float = 10) -> str:
    """The cloud's log once `text` is in it: the request line is written after the answer."""
    deadline = time.monotonic() + timeout_s
    while text not in (log := cloud.log_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return log
