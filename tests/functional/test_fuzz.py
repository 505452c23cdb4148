"""Generated requests at every route of every mounted API, on SQLite and PostgreSQL: no 5xx,
no hang.

Each route gets ONESTACK_FUZZ_EXAMPLES requests (default 10; set it higher for a long run,
and ONESTACK_FUZZ_SEED to explore beyond the fixed, reproducible examples CI runs). Requests
go with a cloud admin's token, a broken token or none. The admin is a user of its own, and
the ids the fuzzer aims at are resources made for it, so no generated request can take away
the fuzzer's own access; a token that it revoked is issued again.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.functional.cloud import CloudProcess
from tests.functional.fuzzing import RouteCase, bodies, headers, queries, route_cases, urls
from tests.functional.identity_api import IdentityClient, admin_token

EXAMPLES = int(os.environ.get("ONESTACK_FUZZ_EXAMPLES", "10"))
SEED = os.environ.get("ONESTACK_FUZZ_SEED")
REQUEST_TIMEOUT_S = 30  # a hang, on a slow shared machine: far beyond any honest answer
CASES = route_cases()
# Which part of a request is nasty; the others are plausible (see fuzzing.py).
PARTS = ("none", "body", "path", "query", "headers")


@dataclass
class Target:
    """The fuzzer's side of one cloud: its admin's token and the ids of its own resources."""

    cloud: CloudProcess
    user: str
    password: str
    token: str
    ids: dict[str, str]  # kind (as path parameters name it: project_id) -> a resource's id
    client: httpx.Client

    def renew_token(self) -> None:
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": self.user,
                            "domain": {"id": "default"},
                            "password": self.password,
                        }
                    },
                },
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
            }
        }
        url = f"{self.cloud.identity_url}/v3/auth/tokens"
        response = self.client.post(url, json=body)
        assert response.status_code == 201, response.text
        self.token = response.headers["X-Subject-Token"]


@pytest.fixture(scope="module")
def target(cloud: CloudProcess) -> Iterator[Target]:
    admin = IdentityClient(cloud, admin_token(cloud))
    user, password = "fuzz-admin", uuid.uuid4().hex
    user_id = _create(admin, "users", "user", {"name": user, "password": password})
    project_id = admin.get("projects", params={"name": "admin"}).json()["projects"][0]["id"]
    role_id = admin.get("roles", params={"name": "admin"}).json()["roles"][0]["id"]
    grant = admin.request("PUT", f"projects/{project_id}/users/{user_id}/roles/{role_id}")
    assert grant.status_code == 204, grant.text
    with httpx.Client(base_url=cloud.url, timeout=REQUEST_TIMEOUT_S) as client:
        fuzz = Target(cloud, user, password, "", _victims(admin, cloud), client)
        fuzz.renew_token()
        yield fuzz


def _create(admin: IdentityClient, collection: str, kind: str, fields: dict[str, object]) -> str:
    response = admin.post(collection, json={kind: fields})
    assert response.status_code == 201, response.text
    return response.json()[kind]["id"]


def _victims(admin: IdentityClient, cloud: CloudProcess) -> dict[str, str]:
    """Resources of each kind for generated requests to read, change and delete."""
    ids = {
        "domain": _create(admin, "domains", "domain", {"name": "fuzz-domain"}),
        "project": _create(admin, "projects", "project", {"name": "fuzz-project"}),
        "user": _create(admin, "users", "user", {"name": "fuzz-user", "password": "fuzz-pass"}),
        "group": _create(admin, "groups", "group", {"name": "fuzz-group"}),
        "role": _create(admin, "roles", "role", {"name": "fuzz-role"}),
        "region": _create(admin, "regions", "region", {"id": "fuzz-region"}),
        "service": _create(admin, "services", "service", {"type": "fuzz", "name": "fuzz"}),
    }
    image = httpx.post(
        f"{cloud.url}/image/v2/images",
        json={"name": "fuzz-image", "disk_format": "raw", "container_format": "bare"},
        headers={"X-Auth-Token": admin.token},
        timeout=30,
    )
    assert image.status_code == 201, image.text
    return {
        **ids,
        "image": image.json()["id"],
        **_placement_victims(cloud, admin.token),
        **_compute_victims(cloud, admin.token),
        **_network_victims(cloud, admin.token),
    }


def _placement_victims(cloud: CloudProcess, token: str) -> dict[str, str]:
    """A resource provider with inventory, a consumer holding some of it, a custom class."""
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": "placement latest"}
    with httpx.Client(base_url=f"{cloud.url}/placement", headers=headers, timeout=30) as api:
        rp = api.post("/resource_providers", json={"name": "fuzz-rp"}).json()["uuid"]
        inventory = {"resource_provider_generation": 0, "inventories": {"VCPU": {"total": 8}}}
        assert api.put(f"/resource_providers/{rp}/inventories", json=inventory).is_success
        assert api.put("/resource_classes/CUSTOM_FUZZ").is_success
        assert api.put("/traits/CUSTOM_FUZZ").is_success
        consumer = str(uuid.uuid4())
        claim = {
            "allocations": {rp: {"resources": {"VCPU": 1}}},
            "project_id": "fuzz",
            "user_id": "fuzz",
            "consumer_generation": None,
            "consumer_type": "INSTANCE",
        }
        assert api.put(f"/allocations/{consumer}", json=claim).is_success
    custom = "CUSTOM_FUZZ"
    return {
        "resource_provider": rp,
        "allocation": consumer,
        "resource_class": custom,
        "trait": custom,
    }


def _compute_victims(cloud: CloudProcess, token: str) -> dict[str, str]:
    """A flavor, a keypair, a server (on an image of its own) and the hypervisor."""
    headers = {"X-Auth-Token": token}
    image_api = f"{cloud.url}/image/v2/images"
    boot = {"name": "fuzz-boot", "disk_format": "raw", "container_format": "bare"}
    image_id = httpx.post(image_api, json=boot, headers=headers, timeout=30).json()["id"]
    upload = httpx.put(
        f"{image_api}/{image_id}/file",
        content=b"\0" * 512,
        headers={**headers, "Content-Type": "application/octet-stream"},
        timeout=30,
    )
    assert upload.status_code == 204, upload.text
    headers["OpenStack-API-Version"] = "compute latest"
    with httpx.Client(base_url=f"{cloud.url}/compute/v2.1", headers=headers, timeout=30) as api:
        flavor = {"name": "fuzz-flavor", "ram": 64, "vcpus": 1, "disk": 0, "id": "fuzz-flavor"}
        assert api.post("/flavors", json={"flavor": flavor}).is_success
        key = {"name": "fuzz-key", "public_key": FUZZ_KEY}
        assert api.post("/os-keypairs", json={"keypair": key}).is_success
        server = {
            "name": "fuzz-server",
            "imageRef": image_id,
            "flavorRef": "42",
            "networks": "none",
        }
        made = api.post("/servers", json={"server": server})
        assert made.status_code == 202, made.text
        hypervisor = api.get("/os-hypervisors").json()["hypervisors"][0]["id"]
    return {
        "server": made.json()["server"]["id"],
        "flavor": "fuzz-flavor",
        "os-keypair": "fuzz-key",
        "hypervisor": hypervisor,
    }


FUZZ_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBQ2DVCSlwIZ4YyV6Jw3cbUNHhGmm0V5mEQtfYtgQ9gD fuzz"


def _network_victims(cloud: CloudProcess, token: str) -> dict[str, str]:
    """One of each network resource, in the admin project (a network with a subnet and a
    port, a security group with a rule, a router, a floating IP on the start-up `public`)."""

    def post(collection: str, kind: str, fields: dict[str, object]) -> str:
        response = httpx.post(
            f"{cloud.url}/networking/v2.0/{collection}",
            json={kind: fields},
            headers={"X-Auth-Token": token},
            timeout=30,
        )
        assert response.status_code == 201, response.text
        return response.json()[kind]["id"]

    network = post("networks", "network", {"name": "fuzz-net"})
    subnet = {"network_id": network, "cidr": "10.123.0.0/24", "ip_version": 4}
    group = post("security-groups", "security_group", {"name": "fuzz-sg"})
    public = httpx.get(
        f"{cloud.url}/networking/v2.0/networks",
        params={"name": "public"},
        headers={"X-Auth-Token": token},
        timeout=30,
    ).json()["networks"][0]["id"]
    return {
        "network": network,
        "subnet": post("subnets", "subnet", subnet),
        "port": post("ports", "port", {"network_id": network}),
        "security_group": group,
        "security_group_rule": post(
            "security-group-rules",
            "security_group_rule",
            {"security_group_id": group, "direction": "ingress", "protocol": "tcp"},
        ),
        "router": post("routers", "router", {"name": "fuzz-router"}),
        "floatingip": post("floatingips", "floatingip", {"floating_network_id": public}),
    }


def _fuzz_settings(test: Callable[..., None]) -> Callable[..., None]:
    """The budget and the seed: derandomized (the same examples every run) unless a seed is
    given; no example database, since CI starts from a fresh clone anyway."""
    chosen = settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=SEED is None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )(test)
    return seed(int(SEED))(chosen) if SEED is not None else chosen


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_no_request_is_answered_with_a_server_error(target: Target, case: RouteCase) -> None:
    @_fuzz_settings
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        nasty = data.draw(st.sampled_from(PARTS), label="nasty part")
        url = data.draw(urls(case, target.ids, nasty == "path"), label="url")
        query = data.draw(queries(target.ids, nasty == "query"), label="query")
        sent = data.draw(headers(case, target.token, nasty == "headers"), label="headers")
        body = data.draw(bodies(case, target.ids, nasty == "body"), label="body")
        response = _send(target, case.method, f"{url}?{query}" if query else url, sent, body)
        assert response.status_code < 500, f"{case.name}: {response.status_code} {response.text}"

    fuzz()


def _send(
    target: Target,
    method: str,
    url: str,
    sent: dict[str, bytes],
    body: bytes | None,
) -> httpx.Response:
    """The request's answer (a timeout fails the test); when the request revoked the admin's
    token, a fresh one is issued for the requests that follow."""
    request = target.client.build_request(method, url, headers=sent, content=body)
    try:
        response = target.client.send(request)
    except httpx.TimeoutException as exc:
        pytest.fail(f"{method} {url} did not answer within {REQUEST_TIMEOUT_S} s: {exc}")
    ours = sent.get("x-auth-token") == target.token.encode()
    if response.status_code == 401 and ours and not _token_valid(target):
        target.renew_token()
    return response


def _token_valid(target: Target) -> bool:
    headers = {"X-Auth-Token": target.token, "X-Subject-Token": target.token}
    return target.client.get("/identity/v3/auth/tokens", headers=headers).status_code == 200
