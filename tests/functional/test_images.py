"""Image records through the real CLI, openstacksdk and raw HTTP: create with extra properties,
JSON patch, read-only and reserved attributes, visibility across projects, protection, tags,
listing filters, sorting and pagination, schemas, discovery and Glance's error body."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.image_api import PATCH_TYPE, ImageClient, assert_image_error
from tests.functional.personas import ADMIN, DEMO, image_client


@pytest.fixture(scope="module")
def admin(cloud: CloudProcess) -> ImageClient:
    return image_client(cloud, ADMIN)


@pytest.fixture(scope="module")
def demo(cloud: CloudProcess) -> ImageClient:
    return image_client(cloud, DEMO)


def _names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [image["name"] for image in response.json()["images"]]


# -- discovery, catalog, schemas -----------------------------------------------------------


def test_catalog_lists_the_image_endpoints(cloud: CloudProcess) -> None:
    endpoints = cloud.openstack("endpoint", "list", "--service", "image", "-f", "json")
    assert sorted(e["Interface"] for e in endpoints) == ["admin", "internal", "public"]
    assert {e["URL"] for e in endpoints} == {f"{cloud.url}/image"}


def test_version_discovery(cloud: CloudProcess) -> None:
    response = httpx.get(f"{cloud.url}/image", timeout=30)
    assert response.status_code == 300
    current = [v for v in response.json()["versions"] if v["status"] == "CURRENT"]
    assert current[0]["links"][0]["href"] == f"{cloud.url}/image/v2/"


@pytest.mark.parametrize("name", ["image", "images", "member", "members"])
def test_schemas_are_published(admin: ImageClient, name: str) -> None:
    response = admin.request("GET", f"schemas/{name}")
    assert response.status_code == 200
    assert response.json()["name"] == name


def test_image_schema_lists_the_configured_formats(admin: ImageClient) -> None:
    schema = admin.request("GET", "schemas/image").json()
    assert "qcow2" in schema["properties"]["disk_format"]["enum"]
    assert schema["properties"]["checksum"]["readOnly"] is True
    assert schema["additionalProperties"] == {"type": "string"}


def test_info_import_and_stores(admin: ImageClient) -> None:
    assert admin.request("GET", "info/import").json()["import-methods"]["type"] == "array"
    stores = admin.request("GET", "info/stores").json()["stores"]
    assert stores == [{"id": "file", "description": stores[0]["description"], "default": True}]


def test_requests_without_a_token_are_refused(cloud: CloudProcess) -> None:
    response = httpx.get(f"{cloud.url}/image/v2/images", timeout=30)
    assert_image_error(response, 401)


# -- create, show, patch -------------------------------------------------------------------


def test_cli_create_keeps_extra_properties_and_min_sizes(cloud: CloudProcess) -> None:
    image = cloud.openstack(
        "image", "create", "--property", "os_distro=cirros", "--min-disk", "2",
        "--min-ram", "64", "--container-format", "bare", "--disk-format", "qcow2",
        "cli-record", "-f", "json",
    )  # fmt: skip
    shown = cloud.openstack("image", "show", image["id"], "-f", "json")
    assert shown["properties"]["os_distro"] == "cirros"
    assert (shown["min_disk"], shown["min_ram"]) == (2, 64)
    assert shown["visibility"] == "shared"


def test_cli_set_and_unset_patch_the_image(cloud: CloudProcess) -> None:
    image = cloud.openstack("image", "create", "cli-patch", "-f", "json")
    cloud.openstack("image", "set", "--name", "cli-patched", "--property", "k=v", image["id"])
    cloud.openstack("image", "unset", "--property", "k", image["id"])
    shown = cloud.openstack("image", "show", image["id"], "-f", "json")
    assert shown["name"] == "cli-patched"
    assert "k" not in shown["properties"]


def test_sdk_update_and_tags(cloud: CloudProcess) -> None:
    conn = cloud.sdk()
    image = conn.image.create_image(name="sdk-record", allow_duplicates=True)
    conn.image.update_image(image, min_ram=128, owner_note="kept")
    conn.image.add_tag(image, "gold")
    shown = conn.image.get_image(image.id)
    assert shown.min_ram == 128
    assert shown.properties["owner_note"] == "kept"
    assert shown.tags == ["gold"]
    conn.image.remove_tag(shown, "gold")
    assert conn.image.get_image(image.id).tags == []


def test_patch_add_replace_remove(admin: ImageClient) -> None:
    image = admin.create(name="patch", extra="one")
    response = admin.patch(
        image["id"],
        [
            {"op": "replace", "path": "/name", "value": "patched"},
            {"op": "add", "path": "/extra", "value": "two"},  # add replaces, as in v2.1
            {"op": "add", "path": "/other", "value": "x"},
            {"op": "remove", "path": "/other"},
            {"op": "replace", "path": "/tags", "value": ["a", "b"]},
            {"op": "replace", "path": "/protected", "value": True},
        ],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["extra"], body["tags"], body["protected"]) == (
        "patched", "two", ["a", "b"], True,
    )  # fmt: skip
    assert "other" not in body


BAD_PATCHES: list[tuple[Any, int]] = [
    ({"op": "replace"}, 400),  # not a list
    ([{"op": "move", "path": "/name", "from": "/x"}], 400),
    ([{"op": "replace", "path": "name", "value": "x"}], 400),
    ([{"op": "replace", "path": "/name"}], 400),
    ([{"op": "replace", "path": "/a/b", "value": "x"}], 400),
    ([{"op": "replace", "path": "/min_ram", "value": "lots"}], 400),
    ([{"op": "replace", "path": "/disk_format", "value": "floppy"}], 400),
    ([{"op": "replace", "path": "/status", "value": "active"}], 403),
    ([{"op": "replace", "path": "/checksum", "value": "0" * 32}], 403),
    ([{"op": "add", "path": "/os_glance_thing", "value": "x"}], 403),
    ([{"op": "remove", "path": "/name"}], 403),
    ([{"op": "replace", "path": "/missing", "value": "x"}], 409),
    ([{"op": "remove", "path": "/missing"}], 409),
    ([{"op": "add", "path": "/number", "value": 5}], 400),
]


@pytest.mark.parametrize(("document", "status"), BAD_PATCHES)
def test_bad_patches_are_refused_and_change_nothing(
    admin: ImageClient, document: Any, status: int
) -> None:
    image = admin.create(name="unchanged", disk_format="raw")
    ops = [{"op": "replace", "path": "/name", "value": "changed"}]
    ops += document if isinstance(document, list) else []
    assert_image_error(admin.patch(image["id"], ops if isinstance(document, list) else document),
                       status)  # fmt: skip
    assert admin.show(image["id"]) == image


def test_patch_needs_the_json_patch_media_type(admin: ImageClient) -> None:
    image = admin.create(name="media-type")
    ops = [{"op": "replace", "path": "/name", "value": "x"}]
    assert_image_error(admin.patch(image["id"], ops, content_type="application/json"), 415)
    response = admin.request(
        "PATCH", f"images/{image['id']}", content=b"[{", headers={"Content-Type": PATCH_TYPE}
    )
    assert_image_error(response, 400)
    assert admin.show(image["id"])["name"] == "media-type"


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"status": "active"}, 403),
        ({"size": 5}, 403),
        ({"os_glance_import_task": "x"}, 403),
        ({"deleted": True}, 403),
        ({"disk_format": "floppy"}, 400),
        ({"container_format": "crate"}, 400),
        ({"visibility": "everyone"}, 400),
        ({"min_disk": -1}, 400),
        ({"protected": "yes"}, 400),
        ({"id": "not-a-uuid"}, 400),
        ({"extra": 3}, 400),
        ({"tags": "one"}, 400),
    ],
)
def test_bad_creates_are_refused_and_create_nothing(
    admin: ImageClient, fields: dict[str, Any], status: int
) -> None:
    name = f"refused-{uuid.uuid4().hex[:8]}"
    assert_image_error(admin.request("POST", "images", json={"name": name, **fields}), status)
    assert _names(admin.list(name=name)) == []


def test_malformed_create_bodies(admin: ImageClient) -> None:
    assert_image_error(admin.request("POST", "images", content=b"{nope"), 400)
    assert_image_error(admin.request("POST", "images", json=["a list"]), 400)
    wrong_type = admin.request(
        "POST", "images", content=b"{}", headers={"Content-Type": "text/plain"}
    )
    assert_image_error(wrong_type, 415)


def test_create_with_an_existing_id_conflicts(admin: ImageClient) -> None:
    image_id = str(uuid.uuid4())
    admin.create(id=image_id, name="first")
    assert_image_error(admin.request("POST", "images", json={"id": image_id}), 409)


def test_unknown_image_is_a_404_in_glances_body(admin: ImageClient) -> None:
    body = assert_image_error(admin.request("GET", "images/no-such-image"), 404)
    assert body["code"] == "404 Not Found"
    assert_image_error(admin.request("DELETE", "images/no-such-image"), 404)
    assert_image_error(admin.patch("no-such-image", []), 404)


# -- protection and tags -------------------------------------------------------------------


def test_protected_image_refuses_delete(cloud: CloudProcess, admin: ImageClient) -> None:
    image = admin.create(name="protected", protected=True)
    assert_image_error(admin.request("DELETE", f"images/{image['id']}"), 403)
    result = cloud.openstack("image", "delete", image["id"], check=False)
    assert result.returncode != 0
    admin.patch(image["id"], [{"op": "replace", "path": "/protected", "value": False}])
    assert admin.request("DELETE", f"images/{image['id']}").status_code == 204


def test_tags_put_and_delete(admin: ImageClient) -> None:
    image = admin.create(name="tagged")
    assert admin.request("PUT", f"images/{image['id']}/tags/blue").status_code == 204
    assert admin.request("PUT", f"images/{image['id']}/tags/blue").status_code == 204
    assert admin.show(image["id"])["tags"] == ["blue"]
    assert admin.request("DELETE", f"images/{image['id']}/tags/blue").status_code == 204
    assert_image_error(admin.request("DELETE", f"images/{image['id']}/tags/blue"), 404)


# -- visibility across projects ------------------------------------------------------------


def test_private_and_shared_images_are_invisible_to_other_projects(
    admin: ImageClient, demo: ImageClient
) -> None:
    private = admin.create(name="admin-private", visibility="private")
    shared = admin.create(name="admin-shared")
    for image in (private, shared):
        assert_image_error(demo.request("GET", f"images/{image['id']}"), 404)
        assert_image_error(demo.request("DELETE", f"images/{image['id']}"), 404)
    assert "admin-private" not in _names(demo.list())


def test_only_admins_publish_public_images(cloud: CloudProcess, demo: ImageClient) -> None:
    assert_image_error(demo.request("POST", "images", json={"visibility": "public"}), 403)
    mine = demo.create(name="demo-own")
    ops = [{"op": "replace", "path": "/visibility", "value": "public"}]
    assert_image_error(demo.patch(mine["id"], ops), 403)
    result = cloud.openstack("image", "create", "--public", "demo-public", cloud="onestack-demo",
                             check=False)  # fmt: skip
    assert result.returncode != 0


def test_public_images_are_visible_but_not_writable_by_others(
    cloud: CloudProcess, admin: ImageClient, demo: ImageClient
) -> None:
    public = admin.create(name="admin-public", visibility="public")
    assert demo.request("GET", f"images/{public['id']}").status_code == 200
    listed = cloud.openstack("image", "list", "-f", "json", cloud="onestack-demo")
    assert "admin-public" in {image["Name"] for image in listed}
    ops = [{"op": "replace", "path": "/name", "value": "stolen"}]
    assert_image_error(demo.patch(public["id"], ops), 403)
    assert_image_error(demo.request("DELETE", f"images/{public['id']}"), 403)
    assert admin.show(public["id"])["name"] == "admin-public"


def test_community_images_are_listed_only_on_request(admin: ImageClient, demo: ImageClient) -> None:
    demo.create(name="demo-community", visibility="community")
    assert "demo-community" in _names(admin.list(visibility="community"))
    assert "demo-community" not in _names(admin.list())
    assert "demo-community" in _names(demo.list())  # its owner sees it


def test_sdk_lists_per_project(cloud: CloudProcess, demo: ImageClient) -> None:
    demo.create(name="demo-sdk-own")
    names = {image.name for image in cloud.sdk("demo").image.images()}
    assert "demo-sdk-own" in names
    assert "admin-private" not in names


# -- listing: filters, sorting, pagination -------------------------------------------------


@pytest.fixture(scope="module")
def series(admin: ImageClient) -> list[dict[str, Any]]:
    """Five images tagged 'series' with distinct names, sizes and formats."""
    made = []
    for index, name in enumerate(["s-c", "s-a", "s-e", "s-b", "s-d"]):
        image = admin.create(
            name=name, tags=["series"], disk_format="vhdx" if index % 2 else "raw",
            container_format="bare", flavour=f"f{index % 2}",
        )  # fmt: skip
        # A VHDX is checked for its signature only (format enforcement): small ones do.
        signature = b"vhdxfile" if index % 2 else b""
        admin.upload(image["id"], signature.ljust((index + 1) * 10, b"x"))
        made.append(admin.show(image["id"]))
    return made


def test_pagination_follows_next_links(admin: ImageClient, series: list[dict]) -> None:
    seen: list[str] = []
    url = f"{admin.base}/images?tag=series&limit=2&sort=name:asc"
    while url:
        page = httpx.get(url, headers={"X-Auth-Token": admin.token}, timeout=30).json()
        assert len(page["images"]) <= 2
        seen += [image["name"] for image in page["images"]]
        url = f"{admin.cloud.url}/image{page['next']}" if "next" in page else ""
    assert seen == ["s-a", "s-b", "s-c", "s-d", "s-e"]


def test_sdk_pages_through_everything(cloud: CloudProcess, series: list[dict]) -> None:
    images = cloud.sdk().image.images(tag="series", limit=2, sort_key="name", sort_dir="desc")
    assert [image.name for image in images] == ["s-e", "s-d", "s-c", "s-b", "s-a"]


def test_cli_filters_and_sorts(cloud: CloudProcess, series: list[dict]) -> None:
    listed = cloud.openstack(
        "image", "list", "--tag", "series", "--property", "flavour=f1", "--sort", "name:desc",
        "-f", "json",
    )  # fmt: skip
    assert [image["Name"] for image in listed] == ["s-b", "s-a"]


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"name": "s-c"}, ["s-c"]),
        ({"name": "in:s-a,s-b"}, ["s-a", "s-b"]),
        ({"size_min": 30, "size_max": 40}, ["s-b", "s-e"]),
        ({"size": 30}, ["s-e"]),
        ({"size": 31}, []),
        ({"disk_format": "raw"}, ["s-c", "s-d", "s-e"]),
        ({"flavour": "f1"}, ["s-a", "s-b"]),
        ({"status": "active", "protected": "false"}, ["s-a", "s-b", "s-c", "s-d", "s-e"]),
        ({"sort_key": ["size", "name"], "sort_dir": "asc"}, ["s-c", "s-a", "s-e", "s-b", "s-d"]),
    ],
)
def test_list_filters(
    admin: ImageClient, series: list[dict], params: dict[str, Any], names: list[str]
) -> None:
    ordered = {"sort": "name:asc"} if "sort_key" not in params else {}
    assert _names(admin.list(tag="series", **ordered, **params)) == names


def test_time_filters(admin: ImageClient, series: list[dict]) -> None:
    third = series[2]["created_at"]
    newer = _names(admin.list(tag="series", created_at=f"gte:{third}", sort="name:asc"))
    assert set(newer) >= {"s-e", "s-b", "s-d"}
    assert _names(admin.list(tag="series", updated_at="lt:2000-01-01T00:00:00Z")) == []


def test_hidden_images_are_listed_only_on_request(admin: ImageClient) -> None:
    admin.create(name="hidden", os_hidden=True, tags=["hide"])
    assert _names(admin.list(tag="hide")) == []
    assert _names(admin.list(tag="hide", os_hidden="true")) == ["hidden"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "many"},
        {"limit": -1},
        {"sort_key": "colour"},
        {"sort_dir": "sideways"},
        {"sort": "name:up"},
        {"sort": "name", "sort_key": "name"},
        {"marker": "no-such-image"},
        {"size_min": "big"},
        {"size": "big"},
        {"protected": "maybe"},
        {"visibility": "everyone"},
        {"created_at": "gte:yesterday"},
    ],
)
def test_bad_list_queries_are_400s(admin: ImageClient, params: dict[str, Any]) -> None:
    assert_image_error(admin.list(**params), 400)


# -- members -------------------------------------------------------------------------------


def _project_id(cloud: CloudProcess, name: str) -> str:
    return cloud.openstack("project", "show", name, "-f", "json")["id"]


def test_shared_image_reaches_a_member_project_once_accepted(
    cloud: CloudProcess, admin: ImageClient, demo: ImageClient
) -> None:
    image = admin.create(name="shared-with-demo", disk_format="raw", container_format="bare")
    admin.upload(image["id"], b"shared bytes")
    demo_project = _project_id(cloud, "demo")
    cloud.openstack("image", "add", "project", image["id"], demo_project)
    assert demo.show(image["id"])["name"] == "shared-with-demo"  # pending members may look
    assert "shared-with-demo" not in _names(demo.list())
    assert "shared-with-demo" in _names(demo.list(member_status="pending"))
    cloud.openstack("image", "set", "--accept", image["id"], cloud="onestack-demo")
    assert "shared-with-demo" in _names(demo.list())
    assert demo.request("GET", f"images/{image['id']}/file").content == b"shared bytes"
    members = demo.request("GET", f"images/{image['id']}/members").json()["members"]
    assert [(m["member_id"], m["status"]) for m in members] == [(demo_project, "accepted")]
    cloud.openstack("image", "remove", "project", image["id"], demo_project)
    assert_image_error(demo.request("GET", f"images/{image['id']}"), 404)


def test_only_the_owner_manages_members_and_only_the_member_answers(
    cloud: CloudProcess, admin: ImageClient, demo: ImageClient
) -> None:
    image = admin.create(name="members-rules")
    path = f"images/{image['id']}/members"
    demo_project = _project_id(cloud, "demo")
    created = admin.request("POST", path, json={"member": demo_project})
    assert (created.status_code, created.json()["status"]) == (200, "pending")
    assert_image_error(admin.request("POST", path, json={"member": demo_project}), 409)
    assert_image_error(demo.request("POST", path, json={"member": "other"}), 403)
    assert_image_error(demo.request("DELETE", f"{path}/{demo_project}"), 403)
    assert_image_error(demo.request("PUT", f"{path}/{demo_project}", json={"status": "maybe"}), 400)
    answer = demo.request("PUT", f"{path}/{demo_project}", json={"status": "rejected"})
    assert answer.json()["status"] == "rejected"
    assert_image_error(admin.request("GET", f"{path}/someone-else"), 404)
    assert_image_error(admin.request("POST", path, json={}), 400)


def test_a_rejected_share_stays_out_of_the_list_and_every_step_is_notified(
    cloud: CloudProcess, admin: ImageClient, demo: ImageClient
) -> None:
    image = admin.create(name="rejected-by-demo", visibility="shared")
    demo_project = _project_id(cloud, "demo")
    cloud.openstack("image", "add", "project", image["id"], demo_project)
    cloud.openstack("image", "set", "--reject", image["id"], cloud="onestack-demo")
    assert "rejected-by-demo" not in _names(demo.list())
    assert "rejected-by-demo" in _names(demo.list(member_status="rejected"))
    cloud.openstack("image", "remove", "project", image["id"], demo_project)
    admin.patch(image["id"], [{"op": "replace", "path": "/name", "value": "renamed"}])
    admin.request("DELETE", f"images/{image['id']}")

    def events(prefix: str) -> list[tuple[str, str | None]]:
        mine = [n for n in cloud.notifications() if n["event_type"].startswith(prefix)]
        return [
            (n["event_type"], n["payload"].get("status"))
            for n in mine
            if image["id"] in (n["payload"].get("id"), n["payload"].get("image_id"))
        ]

    assert events("image.member.") == [
        ("image.member.create", "pending"),
        ("image.member.update", "rejected"),
        ("image.member.delete", "rejected"),
    ]
    assert [event for event, _ in events("image.") if "member" not in event] == [
        "image.create", "image.update", "image.delete"
    ]  # fmt: skip


def test_only_shared_images_have_members(admin: ImageClient) -> None:
    private = admin.create(name="private-no-members", visibility="private")
    response = admin.request("POST", f"images/{private['id']}/members", json={"member": "p"})
    assert_image_error(response, 403)


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "images", {"params": {"name": "a\x00b"}}),
        ("GET", "images", {"params": {"size_min": 10**30}}),
        ("GET", "images/a%00b", {}),
        ("POST", "images", {"json": {"name": "a\x00b"}}),
        ("POST", "images", {"json": {"x\x00": "y"}}),
        ("POST", "images", {"json": {"tags": ["a\x00"]}}),
        ("POST", "images", {"json": {"min_ram": 2**40}}),
    ],
)
def test_values_no_database_can_hold_are_400s(
    admin: ImageClient, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    """Regression: NUL characters and out-of-range integers used to reach the database."""
    before = len(admin.list(limit=1000).json()["images"])
    assert_image_error(admin.request(method, path, **kwargs), 400)
    assert len(admin.list(limit=1000).json()["images"]) == before


# -- Glance's older patch media type and exact routing ---------------------------------------

OLD_PATCH_TYPE = "application/openstack-images-v2.0-json-patch"


def test_the_v2_0_patch_media_type_names_the_operation_as_its_key(demo: ImageClient) -> None:
    image = demo.create(name="old-patch")
    ops = [
        {"replace": "/name", "value": "renamed"},
        {"add": "/color", "value": "blue"},
        {"add": "/shape", "value": "round"},
    ]
    response = demo.patch(image["id"], ops, content_type=OLD_PATCH_TYPE)
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["color"]) == ("renamed", "blue")
    response = demo.patch(image["id"], [{"remove": "/shape"}], content_type=OLD_PATCH_TYPE)
    assert "shape" not in response.json()


@pytest.mark.parametrize(
    "operation",
    [{"replace": "/name", "add": "/name", "value": "x"}, {"op": "replace", "path": "/name"}],
    ids=["two-operations", "the-v2.1-form"],
)
def test_a_v2_0_patch_naming_no_single_operation_is_a_400(
    demo: ImageClient, operation: dict[str, Any]
) -> None:
    image = demo.create(name="old-patch-bad")
    assert_image_error(demo.patch(image["id"], [operation], content_type=OLD_PATCH_TYPE), 400)
    assert demo.show(image["id"])["name"] == "old-patch-bad"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_an_empty_image_id_is_a_404(demo: ImageClient, method: str) -> None:
    assert_image_error(demo.request(method, "images/"), 404)
