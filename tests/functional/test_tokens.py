"""Tokens with the real clients: issue, scopes, catalog, validate and revoke, bad input."""

from __future__ import annotations

import httpx
import openstack
import pytest
from sqlalchemy import create_engine, inspect, text

from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import (
    admin_token,
    assert_identity_error,
    issue,
    password_auth,
    post_token,
    project_scope,
    validate,
)


def test_cli_token_issue_for_admin_and_demo(cloud: CloudProcess) -> None:
    admin = cloud.openstack("token", "issue", "-f", "json")
    demo = cloud.openstack("token", "issue", "-f", "json", cloud="onestack-demo")

    admin_body = validate(cloud, admin["id"]).json()["token"]
    demo_body = validate(cloud, demo["id"]).json()["token"]
    assert (
        admin_body["project"]["name"] == "admin"
        and admin["project_id"] == admin_body["project"]["id"]
    )
    assert demo_body["project"]["name"] == "demo" and demo["user_id"] == demo_body["user"]["id"]
    assert {r["name"] for r in admin_body["roles"]} == {"admin", "member", "reader"}
    assert {r["name"] for r in demo_body["roles"]} == {"member", "reader"}


def test_cli_catalog_list_shows_identity_on_every_interface(cloud: CloudProcess) -> None:
    catalog = cloud.openstack("catalog", "list", "-f", "json")

    (identity,) = [entry for entry in catalog if entry["Type"] == "identity"]
    interfaces = {e["interface"]: e["url"] for e in identity["Endpoints"]}
    assert interfaces == {i: cloud.identity_url for i in ("public", "internal", "admin")}
    assert {e["region"] for e in identity["Endpoints"]} == {"RegionOne"}


def test_cli_token_revoke_makes_the_token_invalid(cloud: CloudProcess) -> None:
    token = cloud.openstack("token", "issue", "-f", "json", cloud="onestack-demo")["id"]
    assert validate(cloud, token).status_code == 200

    cloud.openstack("token", "revoke", token)

    assert_identity_error(validate(cloud, token), 404)
    check = httpx.get(
        f"{cloud.identity_url}/v3/auth/catalog", headers={"X-Auth-Token": token}, timeout=30
    )
    assert_identity_error(check, 401)


def test_system_scope_via_cli(cloud: CloudProcess) -> None:
    token = cloud.openstack("token", "issue", "-f", "json", cloud="onestack-system-admin")

    assert token["system"] == "all"
    assert validate(cloud, token["id"]).json()["token"]["system"] == {"all": True}


def test_openstacksdk_authorizes_and_reads_the_catalog(cloud: CloudProcess) -> None:
    conn = openstack.connect(
        auth_url=cloud.identity_url,
        username="demo",
        password=cloud.password("demo"),
        project_name="demo",
        user_domain_name="Default",
        project_domain_name="Default",
    )

    token = conn.authorize()
    endpoint = conn.session.get_endpoint(service_type="identity", interface="public")

    assert validate(cloud, token).json()["token"]["user"]["name"] == "demo"
    assert endpoint.rstrip("/") in (cloud.identity_url, f"{cloud.identity_url}/v3")


def test_project_scope_by_id_has_project_roles_and_catalog(cloud: CloudProcess) -> None:
    project_id = validate(cloud, admin_token(cloud)).json()["token"]["project"]["id"]

    response = post_token(cloud, password_auth(cloud, "admin", {"project": {"id": project_id}}))

    body = response.json()["token"]
    assert response.status_code == 201
    assert body["project"] == {
        "id": project_id,
        "name": "admin",
        "domain": {"id": "default", "name": "Default"},
    }
    assert body["methods"] == ["password"] and len(body["audit_ids"]) == 1
    assert "identity" in {entry["type"] for entry in body["catalog"]}
    assert body["expires_at"].endswith("Z") and body["issued_at"] < body["expires_at"]
    assert response.headers["x-openstack-request-id"].startswith("req-")


def test_domain_scope(cloud: CloudProcess) -> None:
    response = post_token(cloud, password_auth(cloud, "admin", {"domain": {"name": "Default"}}))

    body = response.json()["token"]
    assert body["domain"] == {"id": "default", "name": "Default"}
    assert "project" not in body and {r["name"] for r in body["roles"]} >= {"admin"}


def test_unscoped_token_has_no_roles_or_catalog(cloud: CloudProcess) -> None:
    response = post_token(cloud, password_auth(cloud, "demo"))

    body = response.json()["token"]
    assert response.status_code == 201
    assert "roles" not in body and "catalog" not in body and "project" not in body


def test_demo_cannot_scope_to_admin_project_or_system(cloud: CloudProcess) -> None:
    for scope in (project_scope("admin"), {"system": {"all": True}}, {"domain": {"id": "default"}}):
        assert_identity_error(post_token(cloud, password_auth(cloud, "demo", scope)), 401)


def test_token_method_rescopes_an_unscoped_token(cloud: CloudProcess) -> None:
    unscoped = issue(cloud, "demo")
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": unscoped}},
            "scope": project_scope("demo"),
        }
    }

    response = post_token(cloud, body)

    token = response.json()["token"]
    assert response.status_code == 201
    # Keystone keeps how the user first proved who they are.
    assert token["methods"] == ["password", "token"] and token["project"]["name"] == "demo"
    parent = validate(cloud, unscoped).json()["token"]
    assert token["audit_ids"][1] == parent["audit_ids"][0]
    assert token["expires_at"] == parent["expires_at"]


def test_nocatalog_leaves_the_catalog_out(cloud: CloudProcess) -> None:
    response = post_token(
        cloud, password_auth(cloud, "admin", project_scope("admin")), params={"nocatalog": "1"}
    )
    token = response.headers["X-Subject-Token"]

    assert "catalog" not in response.json()["token"]
    validated = httpx.get(
        f"{cloud.identity_url}/v3/auth/tokens?nocatalog",
        headers={"X-Auth-Token": token, "X-Subject-Token": token},
        timeout=30,
    )
    assert validated.status_code == 200 and "catalog" not in validated.json()["token"]


def test_check_token_with_head(cloud: CloudProcess) -> None:
    token = issue(cloud, "demo", project_scope("demo"))
    headers = {"X-Auth-Token": admin_token(cloud), "X-Subject-Token": token}

    response = httpx.head(f"{cloud.identity_url}/v3/auth/tokens", headers=headers, timeout=30)

    assert response.status_code == 200


def test_demo_cannot_validate_or_revoke_another_users_token(cloud: CloudProcess) -> None:
    admin = admin_token(cloud)
    demo = issue(cloud, "demo", project_scope("demo"))
    headers = {"X-Auth-Token": demo, "X-Subject-Token": admin}

    assert_identity_error(validate(cloud, admin, caller=demo), 403)
    deleted = httpx.delete(f"{cloud.identity_url}/v3/auth/tokens", headers=headers, timeout=30)
    assert_identity_error(deleted, 403)
    assert validate(cloud, admin).status_code == 200


def test_user_may_validate_its_own_token(cloud: CloudProcess) -> None:
    demo = issue(cloud, "demo", project_scope("demo"))

    assert validate(cloud, demo, caller=demo).status_code == 200


def test_auth_projects_domains_and_system(cloud: CloudProcess) -> None:
    demo = {"X-Auth-Token": issue(cloud, "demo", project_scope("demo"))}
    admin = {"X-Auth-Token": admin_token(cloud)}
    base = f"{cloud.identity_url}/v3/auth"

    projects = httpx.get(f"{base}/projects", headers=demo, timeout=30).json()["projects"]
    assert [p["name"] for p in projects] == ["demo"]
    assert httpx.get(f"{base}/domains", headers=demo, timeout=30).json()["domains"] == []
    assert httpx.get(f"{base}/system", headers=demo, timeout=30).json()["system"] == []
    assert httpx.get(f"{base}/system", headers=admin, timeout=30).json()["system"] == [
        {"all": True}
    ]
    catalog = httpx.get(f"{base}/catalog", headers=demo, timeout=30).json()["catalog"]
    assert {"identity", "image"} <= {entry["type"] for entry in catalog}


def test_wrong_password_is_401_with_identity_error(cloud: CloudProcess) -> None:
    response = post_token(cloud, password_auth(cloud, "admin", password="wrong"))

    assert_identity_error(response, 401)


def test_unknown_user_is_401_like_a_wrong_password(cloud: CloudProcess) -> None:
    assert_identity_error(post_token(cloud, password_auth(cloud, "nobody", password="x")), 401)


def test_cli_with_wrong_password_fails(cloud: CloudProcess, tmp_path) -> None:
    bad = tmp_path / "clouds.yaml"
    bad.write_text(cloud.clouds_file.read_text().replace(cloud.password("demo"), "wrong"))

    failed = cloud.openstack("token", "issue", cloud="onestack-demo", check=False, clouds_file=bad)

    assert failed.returncode != 0 and "401" in failed.stderr


def test_the_token_method_with_a_revoked_token_is_a_404(cloud: CloudProcess) -> None:
    revoked = issue(cloud, "demo")
    headers = {"X-Auth-Token": admin_token(cloud), "X-Subject-Token": revoked}
    assert httpx.delete(f"{cloud.identity_url}/v3/auth/tokens", headers=headers).status_code == 204
    body = {"auth": {"identity": {"methods": ["token"], "token": {"id": revoked}}}}
    # Keystone looks the presented token up: gone is "not found", as Tempest checks.
    assert_identity_error(post_token(cloud, body), 404)


def test_invalid_token_in_header_is_401(cloud: CloudProcess) -> None:
    response = httpx.get(
        f"{cloud.identity_url}/v3/auth/catalog", headers={"X-Auth-Token": "garbage"}, timeout=30
    )

    assert_identity_error(response, 401)


def _row_counts(cloud: CloudProcess) -> dict[str, int]:
    url = cloud.database_url or f"sqlite:///{cloud.state_dir / 'onestack.db'}"
    url = url.replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            return {
                t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one() for t in tables
            }
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "empty"),
        (b"[]", "JSON object"),
        (b'{"auth": {}}', "auth.identity"),
        (b'{"auth": {"identity": {"methods": "password"}}}', "auth.identity.methods"),
        (b'{"auth": {"identity": {"methods": ["password"]}}}', "password"),
        (
            b'{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": 5, '
            b'"password": "x"}}}}}',
            "name",
        ),
        (b'{"auth": {"identity": {"methods": ["token"], "token": {}}}}', "id"),
        (
            b'{"auth": {"identity": {"methods": ["password"], "password": {"user": '
            b'{"name": "admin", "password": "x"}}}}}',
            "domain",
        ),
    ],
)
def test_malformed_requests_are_400_and_write_nothing(
    cloud: CloudProcess, raw: bytes, needle: str
) -> None:
    before = _row_counts(cloud)

    response = httpx.post(
        f"{cloud.identity_url}/v3/auth/tokens",
        content=raw,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )

    error = assert_identity_error(response, 400)
    assert needle in error["message"]
    assert _row_counts(cloud) == before


def test_unknown_route_and_method_use_the_identity_error_body(cloud: CloudProcess) -> None:
    assert_identity_error(httpx.get(f"{cloud.identity_url}/v3/nothing", timeout=30), 404)
    assert_identity_error(httpx.put(f"{cloud.identity_url}/v3/auth/tokens", timeout=30), 405)


def test_version_discovery(cloud: CloudProcess) -> None:
    versions = httpx.get(cloud.identity_url, timeout=30)
    v3 = httpx.get(f"{cloud.identity_url}/v3", timeout=30)

    assert versions.status_code == 300
    (version,) = versions.json()["versions"]["values"]
    assert version["id"].startswith("v3.") and version["status"] == "stable"
    assert version["links"][0]["href"] == f"{cloud.identity_url}/v3/"
    assert v3.status_code == 200 and v3.json()["version"]["id"] == version["id"]
