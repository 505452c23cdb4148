"""What an operator uses: key rotation, /healthcheck, /metrics, CORS and policy overrides on a
running cloud."""

from __future__ import annotations

import re
import subprocess
import time

import httpx
import pytest
from cryptography.fernet import Fernet, InvalidToken

from tests.functional.cloud import CloudFactory, CloudProcess
from tests.functional.identity_api import (
    admin_client,
    admin_token,
    issue,
    project_scope,
    validate,
)
from tests.functional.image_api import ImageClient, assert_image_error

ORIGIN = "https://dashboard.example"


@pytest.fixture(scope="module")
def cloud(backend: str | None, make_cloud: CloudFactory) -> CloudProcess:
    settings = {"cors.allowed_origins": [ORIGIN]}
    return make_cloud(workers=2, database_url=backend, settings=settings, name="ops")


def rotate(cloud: CloudProcess) -> str:
    result = subprocess.run(
        cloud.args("token", "rotate-keys"), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def signed_by_primary(cloud: CloudProcess, token: str) -> bool:
    key_dir = cloud.state_dir / "fernet-keys"
    primary = max(int(p.name) for p in key_dir.iterdir() if p.name.isdigit())
    fernet = Fernet((key_dir / str(primary)).read_bytes().strip())
    try:
        fernet.decrypt(token + "=" * (-len(token) % 4))
    except InvalidToken:
        return False
    return True


def test_rotating_keys_keeps_tokens_and_credentials_valid(cloud: CloudProcess) -> None:
    before = issue(cloud, "demo", project_scope("demo"))
    api = admin_client(cloud)
    credential = api.post(
        "/credentials",
        json={"credential": {"type": "totp", "blob": "sekrit", "user_id": user_id(cloud)}},
    )
    assert credential.status_code == 201, credential.text

    output = rotate(cloud)
    rotate(cloud)

    assert "token keys: new primary key 2" in output
    assert "1 credentials re-encrypted with key 2" in output
    assert validate(cloud, before).status_code == 200
    shown = api.get(f"/credentials/{credential.json()['credential']['id']}")
    assert shown.status_code == 200 and shown.json()["credential"]["blob"] == "sekrit"
    # Running workers notice the new primary key within a second and sign with it.
    deadline = time.monotonic() + 10
    while not signed_by_primary(cloud, issue(cloud, "demo", project_scope("demo"))):
        assert time.monotonic() < deadline, "new tokens are not signed with the new key"
        time.sleep(0.2)
    assert validate(cloud, before).status_code == 200


def user_id(cloud: CloudProcess) -> str:
    return admin_client(cloud).get("/users", params={"name": "demo"}).json()["users"][0]["id"]


def test_healthcheck_answers_ok_without_a_token(cloud: CloudProcess) -> None:
    plain = httpx.get(f"{cloud.url}/healthcheck", timeout=30)
    detailed = httpx.get(
        f"{cloud.url}/healthcheck", headers={"Accept": "application/json"}, timeout=30
    )
    head = httpx.head(f"{cloud.url}/healthcheck", timeout=30)

    assert (plain.status_code, plain.text) == (200, "OK")
    assert detailed.json() == {"status": "OK", "checks": {"database": "OK"}}
    assert head.status_code == 200


def requests_counted(cloud: CloudProcess, route: str, status: int) -> int:
    text = httpx.get(f"{cloud.url}/metrics", timeout=30).text
    pattern = rf'onestack_http_requests_total\{{service="identity",route="{re.escape(route)}",'
    pattern += rf'method="GET",status="{status}"\}} (\d+)'
    return sum(int(count) for count in re.findall(pattern, text))


def test_metrics_count_every_request_of_every_worker(cloud: CloudProcess) -> None:
    token = admin_token(cloud)
    before = requests_counted(cloud, "/v3/projects/{project_id}", 404)
    for _ in range(30):
        with httpx.Client(timeout=30) as fresh:  # new connections reach both workers
            fresh.get(
                f"{cloud.identity_url}/v3/projects/nothing-here", headers={"X-Auth-Token": token}
            )

    deadline = time.monotonic() + 10
    while requests_counted(cloud, "/v3/projects/{project_id}", 404) < before + 30:
        assert time.monotonic() < deadline, "the scrape never counted every request"
        time.sleep(0.2)
    text = httpx.get(f"{cloud.url}/metrics", timeout=30).text
    assert "# TYPE onestack_http_request_duration_seconds histogram" in text
    assert 'route="/v3/projects/{project_id}",le="+Inf"}' in text


def test_cors_preflight_and_response_headers_for_an_allowed_origin(cloud: CloudProcess) -> None:
    preflight = httpx.options(
        f"{cloud.identity_url}/v3/auth/tokens",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-auth-token",
        },
        timeout=30,
    )
    answer = httpx.get(f"{cloud.identity_url}/v3", headers={"Origin": ORIGIN}, timeout=30)
    stranger = httpx.get(
        f"{cloud.identity_url}/v3", headers={"Origin": "https://evil.example"}, timeout=30
    )

    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    assert "x-auth-token" in preflight.headers["access-control-allow-headers"].lower()
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    assert "x-subject-token" in answer.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in stranger.headers


def test_policy_dump_and_an_image_override_take_effect_after_restart(
    cloud: CloudProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    output = tmp_path_factory.mktemp("policy") / "image-policy.yaml"
    dumped = subprocess.run(
        [*cloud.args("policy", "dump"), "--service", "image", "--output", str(output)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert dumped.returncode == 0, dumped.stderr
    assert str(cloud.state_dir / "image-policy.yaml") in dumped.stdout
    dumped_rules = output.read_text()
    assert 'image:get_images: "rule:context_is_admin or rule:project_reader"' in dumped_rules
    assert 'context_is_admin: "rule:cloud_admin"' in dumped_rules
    assert "cloud_admin: " in dumped_rules.split("context_is_admin")[0]  # the personas come first
    demo = ImageClient(cloud, "demo")
    assert demo.list().status_code == 200
    override = cloud.state_dir / "image-policy.yaml"
    override.write_text('image:get_images: "rule:context_is_admin"\n')
    try:
        cloud.restart()
        demo = ImageClient(cloud, "demo")
        assert_image_error(demo.list(), 403)
        assert ImageClient(cloud).list().status_code == 200
    finally:
        override.unlink()
        cloud.restart()
