"""Keystone's security compliance settings on a real cloud: password history on a user's own
change, the minimum password age, and a password set by an administrator that must be changed
at first use; administrators' resets are not held to the history."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.functional.cloud import CloudFactory, CloudProcess
from tests.functional.identity_api import admin_client, assert_identity_error, post_token

COMPLIANT = {
    "identity.unique_last_password_count": "3",
    "identity.change_password_upon_first_use": "true",
}


@pytest.fixture(scope="module")
def compliant(make_cloud: CloudFactory) -> CloudProcess:
    return make_cloud(settings=COMPLIANT, name="compliant")


@pytest.fixture(scope="module")
def aged(make_cloud: CloudFactory) -> CloudProcess:
    return make_cloud(settings={"identity.minimum_password_age_days": "2"}, name="aged")


def _login(cloud: CloudProcess, name: str, password: str) -> httpx.Response:
    user = {"name": name, "domain": {"id": "default"}, "password": password}
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": user}}}}
    return post_token(cloud, body)


def _change(cloud: CloudProcess, user_id: str, original: str, new: str) -> httpx.Response:
    body = {"user": {"original_password": original, "password": new}}
    url = f"{cloud.identity_url}/v3/users/{user_id}/password"
    return httpx.post(url, json=body, timeout=60)


def _user(cloud: CloudProcess, password: str, **fields: object) -> tuple[str, str]:
    name = f"compliant-{uuid.uuid4().hex[:8]}"
    body = {"user": {"name": name, "password": password, **fields}}
    made = admin_client(cloud).post("users", json=body)
    assert made.status_code == 201, made.text
    return name, made.json()["user"]["id"]


def test_a_password_the_admin_set_must_be_changed_first(compliant: CloudProcess) -> None:
    name, user_id = _user(compliant, "Given-by-admin-1")
    assert_identity_error(_login(compliant, name, "Given-by-admin-1"), 401)
    assert _change(compliant, user_id, "Given-by-admin-1", "My-own-pass-1").status_code == 204
    assert _login(compliant, name, "My-own-pass-1").status_code == 201


def test_the_user_option_waives_the_first_use_change(compliant: CloudProcess) -> None:
    options = {"ignore_change_password_upon_first_use": True}
    name, _ = _user(compliant, "Waived-pass-1", options=options)
    assert _login(compliant, name, "Waived-pass-1").status_code == 201


def test_a_user_cannot_reuse_their_recent_passwords(compliant: CloudProcess) -> None:
    name, user_id = _user(compliant, "First-pass-1")
    assert _change(compliant, user_id, "First-pass-1", "Second-pass-2").status_code == 204
    assert _change(compliant, user_id, "Second-pass-2", "Third-pass-3").status_code == 204
    # As Keystone: the new password may be none of the last three, the current one included.
    for reused in ("First-pass-1", "Second-pass-2", "Third-pass-3"):
        refused = _change(compliant, user_id, "Third-pass-3", reused)
        assert "unique is 3" in assert_identity_error(refused, 400)["message"]
    assert _login(compliant, name, "Third-pass-3").status_code == 201
    assert _change(compliant, user_id, "Third-pass-3", "Fourth-pass-4").status_code == 204
    assert _change(compliant, user_id, "Fourth-pass-4", "First-pass-1").status_code == 204


def test_an_admin_reset_is_not_held_to_the_history(compliant: CloudProcess) -> None:
    _, user_id = _user(compliant, "Kept-pass-1")
    reset = admin_client(compliant).patch(
        f"users/{user_id}", json={"user": {"password": "Kept-pass-1"}}
    )
    assert reset.status_code == 200, reset.text


def test_a_new_password_must_age_before_its_user_changes_it(aged: CloudProcess) -> None:
    name, user_id = _user(aged, "Young-pass-1")
    refused = _change(aged, user_id, "Young-pass-1", "Newer-pass-2")
    assert "minimum password age" in assert_identity_error(refused, 400)["message"]
    assert _login(aged, name, "Young-pass-1").status_code == 201
    reset = admin_client(aged).patch(f"users/{user_id}", json={"user": {"password": "Reset-3"}})
    assert reset.status_code == 200, reset.text  # administrators are not held to the age
