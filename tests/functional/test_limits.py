"""Unified limits through the real CLI, openstacksdk and plain HTTP: registered limits and
limits CRUD, Keystone's rules and errors, who sees which limits, cascades, notifications, and
a quota claim refused through the common quota interface over the real identity manager."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from onestack.common.bus import LocalBus, Notifier
from onestack.common.db import Database
from onestack.common.quota import OverQuota, Quotas
from onestack.identity.keys import KeyRing
from onestack.identity.manager import IdentityManager
from onestack.identity.tokens import TokenFormat
from onestack.settings import IdentitySettings
from tests.functional.cloud import CloudProcess
from tests.functional.identity_api import (
    IdentityClient,
    admin_client,
    assert_create_refused,
    assert_identity_error,
)
from tests.functional.personas import DEMO, identity_client

REGION = "RegionOne"


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _service(api: IdentityClient) -> dict[str, Any]:
    """A fresh service, so every test registers its own resources."""
    name = _unique("svc")
    response = api.post("services", json={"service": {"type": name, "name": name}})
    assert response.status_code == 201, response.text
    return response.json()["service"]


def _project_id(api: IdentityClient, name: str) -> str:
    response = api.get("projects", params={"name": name})
    assert response.status_code == 200, response.text
    return response.json()["projects"][0]["id"]


def _register(api: IdentityClient, service_id: str, name: str, default: int, **more: Any) -> str:
    item = {"service_id": service_id, "resource_name": name, "default_limit": default, **more}
    response = api.post("registered_limits", json={"registered_limits": [item]})
    assert response.status_code == 201, response.text
    return response.json()["registered_limits"][0]["id"]


def _limit(api: IdentityClient, service_id: str, name: str, value: int, **owner: Any) -> str:
    item = {"service_id": service_id, "resource_name": name, "resource_limit": value, **owner}
    response = api.post("limits", json={"limits": [item]})
    assert response.status_code == 201, response.text
    return response.json()["limits"][0]["id"]


# -- the CLI -------------------------------------------------------------------------------


def test_registered_limit_journey_with_the_cli(cloud: CloudProcess) -> None:
    service = _service(admin_client(cloud))
    created = cloud.openstack(
        "registered", "limit", "create",
        "--service", service["name"], "--region", REGION,
        "--default-limit", "10", "--description", "images per project",
        "images", "-f", "json",
    )  # fmt: skip
    assert created["service_id"] == service["id"] and created["region_id"] == REGION
    assert (created["resource_name"], created["default_limit"]) == ("images", 10)
    assert created["description"] == "images per project"
    listed = cloud.openstack(
        "registered", "limit", "list", "--service", service["name"],
        "--resource-name", "images", "--region", REGION, "-f", "json",
    )  # fmt: skip
    assert [(r["ID"], r["Default Limit"]) for r in listed] == [(created["id"], 10)]
    shown = cloud.openstack("registered", "limit", "show", created["id"], "-f", "json")
    assert shown == created
    changed = cloud.openstack(
        "registered", "limit", "set", created["id"],
        "--default-limit", "20", "--description", "more", "-f", "json",
    )  # fmt: skip
    assert (changed["default_limit"], changed["description"]) == (20, "more")
    cloud.openstack("registered", "limit", "delete", created["id"])
    gone = cloud.openstack("registered", "limit", "show", created["id"], check=False)
    assert gone.returncode != 0


def test_limit_journey_with_the_cli(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _service(api)
    _register(api, service["id"], "snapshots", 10)
    created = cloud.openstack(
        "limit", "create", "--project", "demo", "--service", service["name"],
        "--resource-limit", "5", "--description", "demo snapshots", "snapshots", "-f", "json",
    )  # fmt: skip
    demo_id = _project_id(api, "demo")
    assert (created["project_id"], created["service_id"]) == (demo_id, service["id"])
    assert (created["resource_name"], created["resource_limit"]) == ("snapshots", 5)
    assert created["region_id"] is None and created["description"] == "demo snapshots"
    listed = cloud.openstack(
        "limit", "list", "--project", "demo", "--service", service["name"], "-f", "json"
    )
    assert [(r["ID"], r["Resource Limit"]) for r in listed] == [(created["id"], 5)]
    shown = cloud.openstack("limit", "show", created["id"], "-f", "json")
    assert shown["resource_limit"] == 5
    changed = cloud.openstack(
        "limit", "set", created["id"], "--resource-limit", "7", "--description", "x", "-f", "json"
    )
    assert (changed["resource_limit"], changed["description"]) == (7, "x")
    cloud.openstack("limit", "delete", created["id"])
    assert cloud.openstack("limit", "show", created["id"], check=False).returncode != 0


def test_limits_with_openstacksdk(cloud: CloudProcess) -> None:
    service = _service(admin_client(cloud))
    conn = cloud.sdk()
    try:
        registered = conn.identity.create_registered_limit(
            service_id=service["id"], resource_name="volumes", default_limit=3
        )
        assert conn.identity.get_registered_limit(registered.id).default_limit == 3
        conn.identity.update_registered_limit(registered, default_limit=4)
        assert conn.identity.get_registered_limit(registered.id).default_limit == 4
        limit = conn.identity.create_limit(
            service_id=service["id"],
            resource_name="volumes",
            resource_limit=9,
            project_id=conn.current_project_id,
        )
        found = list(conn.identity.limits(service_id=service["id"]))
        assert [(x.id, x.resource_limit) for x in found] == [(limit.id, 9)]
        conn.identity.update_limit(limit, resource_limit=8)
        assert conn.identity.get_limit(limit.id).resource_limit == 8
        conn.identity.delete_limit(limit)
        conn.identity.delete_registered_limit(registered)
        assert list(conn.identity.registered_limits(service_id=service["id"])) == []
    finally:
        conn.close()


def test_the_enforcement_model_is_flat(cloud: CloudProcess) -> None:
    response = identity_client(cloud, DEMO).get("limits/model")
    assert response.status_code == 200, response.text
    model = response.json()["model"]
    assert model["name"] == "flat" and model["description"]


# -- Keystone's rules ----------------------------------------------------------------------


def test_a_duplicate_registered_limit_is_a_conflict(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _service(api)
    _register(api, service["id"], "cores", 10)
    _register(api, service["id"], "cores", 10, region_id=REGION)  # another region: fine
    again = {"service_id": service["id"], "resource_name": "cores", "default_limit": 1}
    assert_identity_error(api.post("registered_limits", json={"registered_limits": [again]}), 409)
    listed = api.get("registered_limits", params={"service_id": service["id"]})
    assert len(listed.json()["registered_limits"]) == 2


def test_a_batch_is_all_or_nothing(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _service(api)
    item = {"service_id": service["id"], "resource_name": "ram", "default_limit": 1}
    duplicated = api.post("registered_limits", json={"registered_limits": [item, item]})
    assert_identity_error(duplicated, 409)
    missing = {**item, "resource_name": "disk", "region_id": "no-such-region"}
    half_bad = api.post("registered_limits", json={"registered_limits": [item, missing]})
    assert "region_id" in assert_identity_error(half_bad, 400)["message"]
    listed = api.get("registered_limits", params={"service_id": service["id"]})
    assert listed.json()["registered_limits"] == []


def test_a_registered_limit_needs_an_existing_service_and_region(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _service(api)
    for item, field in (
        ({"service_id": uuid.uuid4().hex}, "service_id"),
        ({"service_id": service["id"], "region_id": "nowhere"}, "region_id"),
    ):
        body = {"registered_limits": [{**item, "resource_name": "x", "default_limit": 1}]}
        error = assert_identity_error(api.post("registered_limits", json=body), 400)
        assert field in error["message"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"not json", "JSON"),
        (b"{}", "registered_limits"),
        (b'{"registered_limits": []}', "registered_limits"),
        (b'{"registered_limits": {}}', "registered_limits"),
        (b'{"registered_limits": [{"resource_name": "a", "default_limit": 1}]}', "service_id"),
        (b'{"registered_limits": [{"service_id": "s", "default_limit": 1}]}', "resource_name"),
        (b'{"registered_limits": [{"service_id": "s", "resource_name": "a"}]}', "default_limit"),
        (
            b'{"registered_limits": [{"service_id": "s", "resource_name": "", '
            b'"default_limit": 1}]}',
            "resource_name",
        ),
        (
            b'{"registered_limits": [{"service_id": "s", "resource_name": "a", '
            b'"default_limit": -2}]}',
            "default_limit",
        ),
        (
            b'{"registered_limits": [{"service_id": "s", "resource_name": "a", '
            b'"default_limit": "5"}]}',
            "default_limit",
        ),
        (
            b'{"registered_limits": [{"service_id": "s", "resource_name": "a", '
            b'"default_limit": true}]}',
            "default_limit",
        ),
        (
            b'{"registered_limits": [{"service_id": "s", "resource_name": "a", '
            b'"default_limit": 2147483648}]}',
            "default_limit",
        ),
        (
            b'{"registered_limits": [{"service_id": "s", "resource_name": "a", '
            b'"default_limit": 1, "colour": "red"}]}',
            "colour",
        ),
    ],
)
def test_malformed_registered_limit_creates_are_refused(
    cloud: CloudProcess, body: bytes, fragment: str
) -> None:
    assert_create_refused(admin_client(cloud), "registered_limits", body, fragment)


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ({}, "exactly one of project_id and domain_id"),
        ({"project_id": "p", "domain_id": "default"}, "exactly one of project_id and domain_id"),
        ({"project_id": "p", "resource_limit": -2}, "resource_limit"),
        ({"project_id": "p", "resource_limit": 1.5}, "resource_limit"),
        ({"project_id": "p", "flavour": "x"}, "flavour"),
    ],
)
def test_malformed_limit_creates_are_refused(
    cloud: CloudProcess, item: dict[str, Any], fragment: str
) -> None:
    body = {"service_id": "s", "resource_name": "a", "resource_limit": 1, **item}
    encoded = json.dumps({"limits": [body]}).encode()
    assert_create_refused(admin_client(cloud), "limits", encoded, fragment)


def test_a_limit_needs_a_registered_limit(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _service(api)
    _register(api, service["id"], "gpus", 1, region_id=REGION)
    demo_id = _project_id(api, "demo")
    item = {"service_id": service["id"], "resource_name": "gpus", "resource_limit": 2}
    # Registered for RegionOne only: a region-less limit has nothing to override.
    refused = api.post("limits", json={"limits": [{**item, "project_id": demo_id}]})
    assert "registered limit" in assert_identity_error(refused, 403)["message"]
    ok = api.post("limits", json={"limits": [{**item, "project_id": demo_id, "region_id": REGION}]})
    assert ok.status_code == 201, ok.text
    assert ok.json()["limits"][0]["region_id"] == REGION


def test_a_limit_needs_an_existing_project_or_domain(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _service(api)
    _register(api, service["id"], "keys", 1)
    item = {"service_id": service["id"], "resource_name": "keys", "resource_limit": 2}
    for owner in ({"project_id": uuid.uuid4().hex}, {"domain_id": uuid.uuid4().hex}):
        response = api.post("limits", json={"limits": [{**item, **owner}]})
        assert next(iter(owner)) in assert_identity_error(response, 400)["message"]
    assert api.get("limits", params={"service_id": service["id"]}).json()["limits"] == []


def test_a_duplicate_limit_is_a_conflict(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _service(api)
    _register(api, service["id"], "ports", 10)
    demo_id = _project_id(api, "demo")
    _limit(api, service["id"], "ports", 5, project_id=demo_id)
    _limit(api, service["id"], "ports", 50, domain_id="default")  # the domain's own: fine
    item = {"service_id": service["id"], "resource_name": "ports", "resource_limit": 6}
    again = api.post("limits", json={"limits": [{**item, "project_id": demo_id}]})
    assert_identity_error(again, 409)
    listed = api.get("limits", params={"service_id": service["id"]}).json()["limits"]
    assert sorted(x["resource_limit"] for x in listed) == [5, 50]


def test_a_limit_update_changes_only_the_limit_and_description(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _service(api)
    _register(api, service["id"], "nets", 10)
    limit_id = _limit(api, service["id"], "nets", 5, project_id=_project_id(api, "demo"))
    for change in (
        {"resource_name": "other"},
        {"project_id": "x"},
        {"resource_limit": None},
        {"resource_limit": "6"},
        {"id": uuid.uuid4().hex, "resource_limit": 6},
    ):
        refused = api.patch(f"limits/{limit_id}", json={"limit": change})
        assert_identity_error(refused, 400)
    assert_identity_error(api.patch(f"limits/{limit_id}", json={"resource_limit": 6}), 400)
    assert_identity_error(api.patch(f"limits/{uuid.uuid4().hex}", json={"limit": {}}), 404)
    shown = api.get(f"limits/{limit_id}").json()["limit"]
    assert (shown["resource_name"], shown["resource_limit"]) == ("nets", 5)


def test_a_referenced_registered_limit_keeps_what_it_limits(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _service(api)
    registered_id = _register(api, service["id"], "fips", 10)
    limit_id = _limit(api, service["id"], "fips", 5, project_id=_project_id(api, "demo"))
    assert_identity_error(api.delete(f"registered_limits/{registered_id}"), 403)
    moved = api.patch(
        f"registered_limits/{registered_id}", json={"registered_limit": {"resource_name": "x"}}
    )
    assert_identity_error(moved, 403)
    default = api.patch(
        f"registered_limits/{registered_id}", json={"registered_limit": {"default_limit": 3}}
    )
    assert default.status_code == 200, default.text
    assert default.json()["registered_limit"]["resource_name"] == "fips"
    assert api.delete(f"limits/{limit_id}").status_code == 204
    renamed = api.patch(
        f"registered_limits/{registered_id}", json={"registered_limit": {"resource_name": "x"}}
    )
    assert renamed.status_code == 200, renamed.text
    assert api.delete(f"registered_limits/{registered_id}").status_code == 204


def test_moving_a_registered_limit_onto_another_is_a_conflict(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _service(api)
    _register(api, service["id"], "a", 1)
    second = _register(api, service["id"], "b", 1)
    moved = api.patch(
        f"registered_limits/{second}", json={"registered_limit": {"resource_name": "a"}}
    )
    assert_identity_error(moved, 409)
    assert api.get(f"registered_limits/{second}").json()["registered_limit"]["resource_name"] == "b"


# -- who may do what ---------------------------------------------------------------------


def test_non_admins_cannot_write_limits(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _service(api)
    registered_id = _register(api, service["id"], "servers", 10)
    demo_id = _project_id(api, "demo")
    limit_id = _limit(api, service["id"], "servers", 5, project_id=demo_id)
    demo = identity_client(cloud, DEMO)
    item = {"service_id": service["id"], "resource_name": "other", "default_limit": 1}
    for response in (
        demo.post("registered_limits", json={"registered_limits": [item]}),
        demo.patch(f"registered_limits/{registered_id}", json={"registered_limit": {}}),
        demo.delete(f"registered_limits/{registered_id}"),
        demo.post("limits", json={"limits": []}),
        demo.patch(f"limits/{limit_id}", json={"limit": {"resource_limit": 1000}}),
        demo.delete(f"limits/{limit_id}"),
    ):
        assert_identity_error(response, 403)
    assert api.get(f"limits/{limit_id}").json()["limit"]["resource_limit"] == 5
    listed = api.get("registered_limits", params={"service_id": service["id"]})
    assert [r["id"] for r in listed.json()["registered_limits"]] == [registered_id]
    assert_identity_error(IdentityClient(cloud, "not-a-token").get("limits"), 401)


def test_a_project_member_sees_only_their_projects_limits(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _service(api)
    registered_id = _register(api, service["id"], "routers", 10)
    own = _limit(api, service["id"], "routers", 5, project_id=_project_id(api, "demo"))
    other = _limit(api, service["id"], "routers", 50, project_id=_project_id(api, "admin"))
    domain = _limit(api, service["id"], "routers", 500, domain_id="default")
    demo = identity_client(cloud, DEMO)
    listed = demo.get("limits", params={"service_id": service["id"]}).json()["limits"]
    assert [x["id"] for x in listed] == [own]
    assert demo.get(f"limits/{own}").status_code == 200
    assert_identity_error(demo.get(f"limits/{other}"), 403)
    assert_identity_error(demo.get(f"limits/{domain}"), 403)
    everything = api.get("limits", params={"service_id": service["id"]}).json()["limits"]
    assert {x["id"] for x in everything} == {own, other, domain}
    # Registered limits are every service's business to read.
    assert demo.get(f"registered_limits/{registered_id}").status_code == 200
    # The CLI as demo (looking services up is a reader's business, so no --service).
    cli = {x["ID"] for x in cloud.openstack("limit", "list", "-f", "json", cloud="onestack-demo")}
    assert own in cli and not cli & {other, domain}


def test_list_filters(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _service(api)
    _register(api, service["id"], "r1", 1)
    _register(api, service["id"], "r1", 1, region_id=REGION)
    _register(api, service["id"], "r2", 1)
    demo_id = _project_id(api, "demo")
    _limit(api, service["id"], "r1", 2, project_id=demo_id, region_id=REGION)
    _limit(api, service["id"], "r2", 2, domain_id="default")

    def registered(**params: str) -> list[tuple[str, str]]:
        found = api.get("registered_limits", params={"service_id": service["id"], **params})
        rows = found.json()["registered_limits"]
        return sorted((r["resource_name"], r["region_id"] or "") for r in rows)

    assert registered(resource_name="r1") == [("r1", ""), ("r1", REGION)]
    assert registered(region_id=REGION) == [("r1", REGION)]

    def limits(**params: str) -> list[str]:
        found = api.get("limits", params={"service_id": service["id"], **params})
        return sorted(x["resource_name"] for x in found.json()["limits"])

    assert limits() == ["r1", "r2"]
    assert limits(project_id=demo_id) == ["r1"]
    assert limits(domain_id="default") == ["r2"]
    assert limits(region_id=REGION) == ["r1"]
    assert limits(resource_name="r2") == ["r2"]


# -- cascades and notifications -------------------------------------------------------------


def test_deleting_a_project_or_service_removes_its_limits(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _service(api)
    _register(api, service["id"], "things", 1)
    created = api.post("projects", json={"project": {"name": _unique("p"), "domain_id": "default"}})
    project_id = created.json()["project"]["id"]
    limit_id = _limit(api, service["id"], "things", 2, project_id=project_id)
    assert api.delete(f"projects/{project_id}").status_code == 204
    assert_identity_error(api.get(f"limits/{limit_id}"), 404)
    kept = _limit(api, service["id"], "things", 2, project_id=_project_id(api, "demo"))
    assert api.delete(f"services/{service['id']}").status_code == 204
    assert_identity_error(api.get(f"limits/{kept}"), 404)
    left = api.get("registered_limits", params={"service_id": service["id"]})
    assert left.json()["registered_limits"] == []


def test_a_region_named_by_registered_limits_cannot_be_deleted(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    region_id = _unique("region")
    assert api.post("regions", json={"region": {"id": region_id}}).status_code == 201
    registered_id = _register(api, _service(api)["id"], "x", 1, region_id=region_id)
    assert_identity_error(api.delete(f"regions/{region_id}"), 403)
    assert api.delete(f"registered_limits/{registered_id}").status_code == 204
    assert api.delete(f"regions/{region_id}").status_code == 204


def test_writes_are_announced(cloud: CloudProcess) -> None:
    api = admin_client(cloud)
    service = _service(api)
    registered_id = _register(api, service["id"], "heard", 1)
    limit_id = _limit(api, service["id"], "heard", 2, project_id=_project_id(api, "demo"))
    api.patch(f"limits/{limit_id}", json={"limit": {"resource_limit": 3}})
    api.delete(f"limits/{limit_id}")
    api.delete(f"registered_limits/{registered_id}")
    for event_type, resource_id in (
        ("identity.registered_limit.created", registered_id),
        ("identity.limit.created", limit_id),
        ("identity.limit.updated", limit_id),
        ("identity.limit.deleted", limit_id),
        ("identity.registered_limit.deleted", registered_id),
    ):
        sent = cloud.notifications(event_type)
        assert resource_id in [n["payload"]["resource_info"] for n in sent], event_type


# -- quotas through the common interface ------------------------------------------------------


@pytest.fixture(scope="module")
def identity(cloud: CloudProcess) -> Iterator[IdentityManager]:
    """The real identity manager, in this process, over the cloud's own database."""
    url = cloud.database_url or f"sqlite:///{cloud.state_dir}/onestack.db"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    db = Database(url)
    token_format = TokenFormat(KeyRing(cloud.state_dir / "fernet-keys"))
    notifier = Notifier(LocalBus(), "identity")
    yield IdentityManager(db, token_format, IdentitySettings(), notifier, cloud.state_dir)
    db.dispose()


def test_a_claim_over_the_limit_is_refused(cloud: CloudProcess, identity: IdentityManager) -> None:
    api = admin_client(cloud)
    service = _service(api)
    _register(api, service["id"], "images", 2)
    _register(api, service["id"], "image_bytes", -1)
    demo_id = _project_id(api, "demo")
    in_use = {"images": 2, "image_bytes": 10**12}
    quotas = Quotas(identity.limits, region_id=REGION)

    def usage(project_id: str, names: list[str]) -> dict[str, int]:
        return {name: in_use[name] for name in names}

    quotas.enforce(demo_id, service["type"], {"image_bytes": 10**12}, usage)  # unlimited
    with pytest.raises(OverQuota) as caught:
        quotas.enforce(demo_id, service["type"], {"images": 1}, usage)
    assert (caught.value.resource, caught.value.limit) == ("images", 2)
    assert (caught.value.usage, caught.value.requested) == (2, 1)
    # The project's own limit overrides the default, at once (the cache follows writes).
    limit_id = _limit(api, service["id"], "images", 3, project_id=demo_id)
    quotas.enforce(demo_id, service["id"], {"images": 1}, usage)
    api.patch(f"limits/{limit_id}", json={"limit": {"resource_limit": 2}})
    with pytest.raises(OverQuota):
        quotas.enforce(demo_id, service["type"], {"images": 1}, usage)
    # Resources nobody registered are unlimited.
    quotas.enforce(demo_id, service["type"], {"unregistered": 10**6}, usage)


def test_a_regions_registered_limit_wins_over_the_region_less_one(
    cloud: CloudProcess, identity: IdentityManager
) -> None:
    api = admin_client(cloud)
    service = _service(api)
    _register(api, service["id"], "cores", 100)
    _register(api, service["id"], "cores", 4, region_id=REGION)
    demo_id = _project_id(api, "demo")
    here = identity.limits.effective_limits(demo_id, service["type"], REGION, ["cores", "ram"])
    assert here == {"cores": 4}
    elsewhere = identity.limits.effective_limits(demo_id, service["type"], None, ["cores"])
    assert elsewhere == {"cores": 100}
