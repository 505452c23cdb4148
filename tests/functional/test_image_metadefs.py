"""The metadata definitions catalog (/v2/metadefs) through the real CLI and raw HTTP: the
shipped namespaces, namespace CRUD with visibility and protection, objects, properties, tags
(one by one and in bulk), resource types and their associations, the schemas, policy and
notifications, and the `onestack image metadefs load` command."""

from __future__ import annotations

import subprocess
import uuid
from typing import Any

import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.image_api import ImageClient, assert_image_error, wait_for
from tests.functional.personas import ADMIN, DEMO, image_client

NS = "metadefs/namespaces"
STRING_PROP = {"title": "Colour", "type": "string", "enum": ["red", "blue"]}


@pytest.fixture(scope="module")
def admin(cloud: CloudProcess) -> ImageClient:
    return image_client(cloud, ADMIN)


@pytest.fixture(scope="module")
def demo(cloud: CloudProcess) -> ImageClient:
    return image_client(cloud, DEMO)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if status != 204 else None


def _namespace(admin: ImageClient, **fields: Any) -> dict[str, Any]:
    body = {"namespace": f"Test::{uuid.uuid4().hex[:8]}", **fields}
    return _ok(admin.request("POST", NS, json=body), 201)


def test_shipped_namespaces_describe_compute_properties(demo: ImageClient) -> None:
    listed = _ok(demo.request("GET", NS, params={"resource_types": "OS::Nova::Flavor"}))
    names = {ns["namespace"] for ns in listed["namespaces"]}
    assert {"OS::Compute::Watchdog", "OS::Compute::CPUTopology"} <= names
    assert "OS::Compute::Hypervisor" not in names  # images only
    shown = _ok(demo.request("GET", f"{NS}/OS::Compute::Watchdog"))
    assert shown["protected"] is True and shown["visibility"] == "public"
    assert "watchdog_action" in shown["properties"]
    for_flavors = demo.request(
        "GET", f"{NS}/OS::Compute::Watchdog", params={"resource_type": "OS::Nova::Flavor"}
    )
    assert "hw:watchdog_action" in _ok(for_flavors)["properties"]
    types = {
        t["name"] for t in _ok(demo.request("GET", "metadefs/resource_types"))["resource_types"]
    }
    assert {"OS::Glance::Image", "OS::Nova::Flavor", "OS::Cinder::Volume"} <= types


def test_namespace_lifecycle_through_the_cli(cloud: CloudProcess) -> None:
    name = f"Cli::{uuid.uuid4().hex[:8]}"
    created = cloud.openstack(
        "image", "metadef", "namespace", "create", name,
        "--display-name", "From the CLI", "--public", "-f", "json",
    )  # fmt: skip
    assert created["namespace"] == name and created["visibility"] == "public"
    listed = cloud.openstack("image", "metadef", "namespace", "list", "-f", "json")
    assert name in {row["namespace"] for row in listed}
    cloud.openstack("image", "metadef", "namespace", "set", name, "--description", "changed")
    shown = cloud.openstack("image", "metadef", "namespace", "show", name, "-f", "json")
    assert shown["description"] == "changed"
    cloud.openstack("image", "metadef", "namespace", "delete", name)
    result = cloud.openstack("image", "metadef", "namespace", "show", name, check=False)
    assert result.returncode != 0


def test_namespace_crud_conflicts_and_protection(admin: ImageClient) -> None:
    ns = _namespace(admin, display_name="One", protected=True)
    name = ns["namespace"]
    assert ns["visibility"] == "private" and ns["self"] == f"/v2/{NS}/{name}"
    assert ns["schema"] == "/v2/schemas/metadefs/namespace"
    assert_image_error(admin.request("POST", NS, json={"namespace": name}), 409)
    assert_image_error(admin.request("DELETE", f"{NS}/{name}"), 403)
    updated = _ok(
        admin.request("PUT", f"{NS}/{name}", json={"namespace": name, "protected": False})
    )
    assert updated["protected"] is False and "display_name" in updated
    _ok(admin.request("DELETE", f"{NS}/{name}"), 204)
    assert_image_error(admin.request("GET", f"{NS}/{name}"), 404)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"namespace": ""},
        {"namespace": "x" * 81},
        {"namespace": "Bad::Vis", "visibility": "shared"},
        {"namespace": "Bad::Prot", "protected": "yes"},
        {"namespace": "Bad::Prop", "properties": {"p": {"type": "string"}}},  # no title
        {"namespace": "Bad::Prop2", "properties": {"p": {**STRING_PROP, "bogus": 1}}},
        {"namespace": "Bad::Objects", "objects": {"not": "a list"}},
        {"namespace": "Bad::Tags", "tags": [{"name": "a"}, {"name": "a"}]},
    ],
)
def test_bad_namespaces_are_refused_and_create_nothing(
    admin: ImageClient, body: dict[str, Any]
) -> None:
    response = admin.request("POST", NS, json=body)
    assert response.status_code in (400, 409), response.text
    assert_image_error(response, response.status_code)
    if body.get("namespace"):
        assert_image_error(admin.request("GET", f"{NS}/{body['namespace']}"), 404)


def test_private_namespaces_are_invisible_and_only_admins_write(
    admin: ImageClient, demo: ImageClient
) -> None:
    private = _namespace(admin)["namespace"]
    public = _namespace(admin, visibility="public")["namespace"]
    assert_image_error(demo.request("GET", f"{NS}/{private}"), 404)
    assert_image_error(demo.request("GET", f"{NS}/{private}/objects"), 404)
    names = {
        n["namespace"] for n in _ok(demo.request("GET", NS, params={"limit": 1000}))["namespaces"]
    }
    assert public in names and private not in names
    assert_image_error(demo.request("POST", NS, json={"namespace": "Demo::Own"}), 403)
    assert_image_error(demo.request("DELETE", f"{NS}/{public}"), 403)
    tag = demo.request("POST", f"{NS}/{public}/tags/sneaky")
    assert_image_error(tag, 403)
    assert _ok(demo.request("GET", f"{NS}/{public}/tags"))["tags"] == []


def test_list_filters_sorts_and_pages(admin: ImageClient) -> None:
    made = sorted(_namespace(admin, visibility="public")["namespace"] for _ in range(3))
    params = {"sort_key": "namespace", "sort_dir": "asc", "limit": 1000, "visibility": "public"}
    everything = [
        n["namespace"] for n in _ok(admin.request("GET", NS, params=params))["namespaces"]
    ]
    assert everything == sorted(everything) and set(made) <= set(everything)
    pages, url = [], f"{NS}?sort_key=namespace&sort_dir=asc&limit=2&visibility=public"
    while url:
        page = _ok(admin.request("GET", url.removeprefix("/v2/")))
        pages += [n["namespace"] for n in page["namespaces"]]
        url = page.get("next")
    assert pages == everything
    private = {"visibility": "private", "limit": 1000}
    assert not set(made) & {
        n["namespace"] for n in _ok(admin.request("GET", NS, params=private))["namespaces"]
    }
    for bad in (
        {"sort_key": "bogus"},
        {"sort_dir": "up"},
        {"limit": "x"},
        {"marker": "Nope::X"},
        {"visibility": "all"},
    ):
        assert_image_error(admin.request("GET", NS, params=bad), 400)


def test_objects_and_properties(cloud: CloudProcess, admin: ImageClient) -> None:
    name = _namespace(admin)["namespace"]
    base = f"{NS}/{name}"
    obj = {"name": "Disk", "required": ["bus"], "properties": {"bus": STRING_PROP}}
    created = _ok(admin.request("POST", f"{base}/objects", json=obj), 201)
    assert created["self"] == f"/v2/{base}/objects/Disk" and created["required"] == ["bus"]
    assert_image_error(admin.request("POST", f"{base}/objects", json=obj), 409)
    renamed = _ok(admin.request("PUT", f"{base}/objects/Disk", json={**obj, "name": "Drive"}))
    assert renamed["name"] == "Drive"
    assert_image_error(admin.request("GET", f"{base}/objects/Disk"), 404)
    listed = _ok(admin.request("GET", f"{base}/objects"))
    assert [o["name"] for o in listed["objects"]] == ["Drive"]

    prop = {"name": "colour", **STRING_PROP}
    assert _ok(admin.request("POST", f"{base}/properties", json=prop), 201) == prop
    bad = {"name": "size", "title": "Size", "type": "decimal"}
    assert_image_error(admin.request("POST", f"{base}/properties", json=bad), 400)
    number = {"name": "size", "title": "Size", "type": "integer", "minimum": 1}
    _ok(admin.request("POST", f"{base}/properties", json=number), 201)
    props = _ok(admin.request("GET", f"{base}/properties"))["properties"]
    assert props == {
        "colour": STRING_PROP,
        "size": {k: v for k, v in number.items() if k != "name"},
    }
    _ok(admin.request("DELETE", f"{base}/properties/size"), 204)
    shown = _ok(admin.request("GET", base))
    assert list(shown["properties"]) == ["colour"] and shown["objects"][0]["name"] == "Drive"
    _ok(admin.request("DELETE", f"{base}/objects"), 204)
    assert _ok(admin.request("GET", f"{base}/objects"))["objects"] == []
    events = [n["payload"]["name"] for n in cloud.notifications("metadef_object.create")]
    assert "Disk" in events


def test_tags_one_by_one_and_in_bulk(admin: ImageClient) -> None:
    base = f"{NS}/{_namespace(admin)['namespace']}"
    assert _ok(admin.request("POST", f"{base}/tags/alpha"), 201)["name"] == "alpha"
    assert_image_error(admin.request("POST", f"{base}/tags/alpha"), 409)
    _ok(admin.request("PUT", f"{base}/tags/alpha", json={"name": "beta"}))
    bulk = {"tags": [{"name": "gamma"}, {"name": "delta"}]}
    appended = admin.request(
        "POST", f"{base}/tags", json=bulk, headers={"X-Openstack-Append": "true"}
    )
    assert _ok(appended, 201) == bulk

    def names() -> list[str]:
        return [t["name"] for t in _ok(admin.request("GET", f"{base}/tags"))["tags"]]

    assert names() == ["beta", "delta", "gamma"]
    duplicate = {"tags": [{"name": "x"}, {"name": "x"}]}
    assert_image_error(admin.request("POST", f"{base}/tags", json=duplicate), 409)
    assert names() == ["beta", "delta", "gamma"]  # a refused bulk create writes nothing
    _ok(admin.request("POST", f"{base}/tags", json={"tags": [{"name": "only"}]}), 201)
    assert names() == ["only"]
    _ok(admin.request("DELETE", f"{base}/tags/only"), 204)
    assert_image_error(admin.request("DELETE", f"{base}/tags/only"), 404)


def test_resource_type_associations(cloud: CloudProcess, admin: ImageClient) -> None:
    name = _namespace(admin)["namespace"]
    base = f"{NS}/{name}/resource_types"
    link = {"name": "OS::Nova::Server", "prefix": "srv_", "properties_target": "metadata"}
    created = _ok(admin.request("POST", base, json=link), 201)
    assert {k: created[k] for k in link} == link
    assert_image_error(admin.request("POST", base, json=link), 409)
    listed = _ok(admin.request("GET", base))["resource_type_associations"]
    assert [a["name"] for a in listed] == ["OS::Nova::Server"]
    found = _ok(admin.request("GET", NS, params={"resource_types": "OS::Nova::Server"}))
    assert name in {n["namespace"] for n in found["namespaces"]}
    _ok(admin.request("DELETE", f"{base}/OS::Nova::Server"), 204)
    assert_image_error(admin.request("DELETE", f"{base}/OS::Nova::Server"), 404)
    # The CLI lists the resource types too.
    types = cloud.openstack("image", "metadef", "resource", "type", "list", "-f", "json")
    assert "OS::Nova::Server" in {t["Name"] for t in types}


@pytest.mark.parametrize(
    "schema",
    ["namespace", "namespaces", "object", "objects", "property", "properties", "tag", "tags",
     "resource_type", "resource_types"],
)  # fmt: skip
def test_metadef_schemas_are_published(admin: ImageClient, schema: str) -> None:
    body = _ok(admin.request("GET", f"schemas/metadefs/{schema}"))
    # As in Glance, the resource type schemas describe associations.
    expected = {"resource_type": "resource_type_association"}.get(schema, schema)
    expected = {"resource_types": "resource_type_associations"}.get(expected, expected)
    assert body["name"] == expected


def test_metadefs_load_puts_the_shipped_namespaces_back(
    cloud: CloudProcess, admin: ImageClient
) -> None:
    watchdog = f"{NS}/OS::Compute::Watchdog"
    _ok(
        admin.request(
            "PUT", watchdog, json={"namespace": "OS::Compute::Watchdog", "protected": False}
        )
    )
    _ok(admin.request("DELETE", watchdog), 204)
    command = cloud.args("image", "metadefs", "load")
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "OS::Compute::Watchdog" in done.stdout
    wait_for(lambda: admin.request("GET", watchdog).status_code == 200, "the reloaded namespace")
    assert _ok(admin.request("GET", watchdog))["protected"] is True
