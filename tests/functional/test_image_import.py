"""Several image stores and interoperable import through the real CLI, openstacksdk and raw
HTTP: uploads to a named store, glance-direct and copy-image imports with their tasks, data
removed from one store, web-download refused, staging and import quotas, and the data files
where they belong on disk."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.functional.cloud import CloudFactory, CloudProcess
from tests.functional.image_api import ImageClient, assert_image_error, limit_project, wait_for

DATA = os.urandom(300_000)
MIB = 1 << 20


@pytest.fixture(scope="module")
def dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("stores")
    return {name: root / name for name in ("fast", "cheap", "staging")}


@pytest.fixture(scope="module")
def cloud(backend: str | None, dirs: dict[str, Path], make_cloud: CloudFactory) -> CloudProcess:
    """A cloud with two stores, "fast" (the default) and "cheap"."""
    stores = {"fast": str(dirs["fast"]), "cheap": {"dir": str(dirs["cheap"]), "description": "HDD"}}
    settings = {
        "image.stores": stores,
        "image.default_store": "fast",
        "image.staging_dir": str(dirs["staging"]),
    }
    return make_cloud(database_url=backend, settings=settings)


@pytest.fixture(scope="module")
def admin(cloud: CloudProcess) -> ImageClient:
    return ImageClient(cloud)


@pytest.fixture(scope="module")
def demo(cloud: CloudProcess) -> ImageClient:
    """The demo project may stage 1 MiB and store 1 MiB."""
    limit_project(cloud, "demo", {"image_stage_total": 1, "image_size_total": 1})
    return ImageClient(cloud, "demo")


def _files(directory: Path) -> list[str]:
    """The committed data files in a store directory (partial writes live in .partial/)."""
    if not directory.exists():
        return []
    return sorted(p.name for p in directory.iterdir() if p.is_file())


def _raw(client: ImageClient, **fields: Any) -> dict[str, Any]:
    return client.create(disk_format="raw", container_format="bare", **fields)


def _stage(client: ImageClient, image_id: str, data: bytes, **headers: str) -> httpx.Response:
    headers = {"Content-Type": "application/octet-stream", **headers}
    return client.request("PUT", f"images/{image_id}/stage", content=data, headers=headers)


def _import(client: ImageClient, image_id: str, **body: Any) -> httpx.Response:
    return client.request("POST", f"images/{image_id}/import", json=body)


def _wait_status(client: ImageClient, image_id: str, status: str) -> dict[str, Any]:
    wait_for(lambda: client.show(image_id)["status"] == status, f"{image_id} {status}")
    return client.show(image_id)


def _wait_task(client: ImageClient, image_id: str) -> dict[str, Any]:
    """The image's newest import task once it has finished."""

    def newest() -> dict[str, Any]:
        tasks = client.request("GET", f"images/{image_id}/tasks").json()["tasks"]
        return tasks[-1]

    wait_for(lambda: newest()["status"] in ("success", "failure"), f"task of {image_id}")
    return newest()


def test_stores_are_listed_with_the_default(cloud: CloudProcess, admin: ImageClient) -> None:
    stores = admin.request("GET", "info/stores").json()["stores"]
    assert [s["id"] for s in stores] == ["fast", "cheap"]
    assert stores[0]["default"] is True
    assert "default" not in stores[1]
    assert stores[1]["description"] == "HDD"
    listed = {s.id: bool(s.is_default) for s in cloud.sdk().image.stores()}
    assert listed == {"fast": True, "cheap": False}
    methods = admin.request("GET", "info/import").json()["import-methods"]["value"]
    assert methods == ["glance-direct", "copy-image"]


def test_upload_goes_to_the_store_the_header_names(
    admin: ImageClient, dirs: dict[str, Path]
) -> None:
    image = _raw(admin, name="to-cheap")
    headers = {"Content-Type": "application/octet-stream", "X-Image-Meta-Store": "cheap"}
    response = admin.request("PUT", f"images/{image['id']}/file", content=DATA, headers=headers)
    assert response.status_code == 204, response.text
    assert admin.show(image["id"])["stores"] == "cheap"
    assert image["id"] in _files(dirs["cheap"])
    assert image["id"] not in _files(dirs["fast"])
    assert admin.request("GET", f"images/{image['id']}/file").content == DATA


def test_upload_to_an_unknown_store_is_refused(admin: ImageClient, dirs: dict[str, Path]) -> None:
    image = _raw(admin, name="to-nowhere")
    headers = {"Content-Type": "application/octet-stream", "X-Image-Meta-Store": "nowhere"}
    response = admin.request("PUT", f"images/{image['id']}/file", content=DATA, headers=headers)
    assert "nowhere" in assert_image_error(response, 400)["message"]
    assert admin.show(image["id"])["status"] == "queued"
    assert image["id"] not in _files(dirs["fast"]) + _files(dirs["cheap"])


def test_cli_stage_and_glance_direct_import(
    cloud: CloudProcess, admin: ImageClient, dirs: dict[str, Path], tmp_path: Path
) -> None:
    source = tmp_path / "direct.raw"
    source.write_bytes(DATA)
    image = _raw(admin, name="direct")  # the CLI would upload its stdin
    cloud.openstack("image", "stage", "--file", str(source), image["id"])
    staged = admin.show(image["id"])
    assert (staged["status"], staged["size"]) == ("uploading", len(DATA))
    assert image["id"] in _files(dirs["staging"])
    assert image["id"] not in _files(dirs["fast"])

    cloud.openstack("image", "import", image["id"], "--method", "glance-direct")
    active = _wait_status(admin, image["id"], "active")
    assert active["checksum"] == hashlib.md5(DATA).hexdigest()
    assert active["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    assert (active["size"], active["stores"]) == (len(DATA), "fast")
    assert "os_glance_import_task" not in active
    assert active["os_glance_importing_to_stores"] == ""
    assert image["id"] in _files(dirs["fast"])
    assert image["id"] not in _files(dirs["staging"])
    target = tmp_path / "out.raw"
    cloud.openstack("image", "save", "--file", str(target), image["id"])
    assert target.read_bytes() == DATA


def test_import_tasks_are_listed(admin: ImageClient) -> None:
    image = _raw(admin, name="tasked")
    assert _stage(admin, image["id"], DATA).status_code == 204
    assert _import(admin, image["id"], method={"name": "glance-direct"}).status_code == 202
    task = _wait_task(admin, image["id"])
    assert task["status"] == "success", task
    assert task["type"] == "api_image_import"
    assert task["image_id"] == image["id"]
    assert task["input"]["import_req"]["method"]["name"] == "glance-direct"
    assert task["input"]["backend"] == ["fast"]
    assert task["result"] == {"image_id": image["id"]}
    assert task["owner"] and task["user_id"] and task["request_id"].startswith("req-")
    assert task["expires_at"] is not None
    assert set(task) >= {"id", "message", "created_at", "updated_at"}


def test_import_notifications(cloud: CloudProcess, admin: ImageClient) -> None:
    image = _raw(admin, name="notified-import")
    _stage(admin, image["id"], b"abc")
    _import(admin, image["id"], method={"name": "glance-direct"})
    _wait_status(admin, image["id"], "active")

    def events(kind: str) -> list[dict[str, Any]]:
        found = cloud.notifications(f"image.{kind}")
        return [n["payload"] for n in found if n["payload"]["id"] == image["id"]]

    assert [p["backend"] for p in events("prepare")] == ["fast"]
    assert events("prepare")[0]["os_glance_importing_to_stores"] == ["fast"]
    assert [p["checksum"] for p in events("upload")] == [hashlib.md5(b"abc").hexdigest()]
    assert [p["status"] for p in events("activate")] == ["active"]


def test_sdk_imports_into_several_stores(cloud: CloudProcess, dirs: dict[str, Path]) -> None:
    conn = cloud.sdk()
    image = conn.image.create_image(
        name="sdk-both", disk_format="raw", container_format="bare", allow_duplicates=True
    )
    conn.image.stage_image(image, data=io.BytesIO(DATA))
    conn.image.import_image(image, method="glance-direct", stores=["fast", "cheap"])
    admin = ImageClient(cloud)
    active = _wait_status(admin, image.id, "active")
    assert sorted(active["stores"].split(",")) == ["cheap", "fast"]
    assert image.id in _files(dirs["fast"]) and image.id in _files(dirs["cheap"])
    assert conn.image.download_image(image.id).content == DATA


def test_copy_image_then_delete_from_the_first_store(
    cloud: CloudProcess, admin: ImageClient, dirs: dict[str, Path]
) -> None:
    image = _raw(admin, name="copied")
    assert admin.upload(image["id"], DATA).status_code == 204
    assert admin.show(image["id"])["stores"] == "fast"

    cloud.openstack("image", "import", image["id"], "--method", "copy-image", "--store", "cheap")
    task = _wait_task(admin, image["id"])
    assert task["status"] == "success", task
    copied = admin.show(image["id"])
    assert (copied["status"], copied["stores"]) == ("active", "fast,cheap")
    assert copied["os_glance_importing_to_stores"] == ""
    assert (dirs["cheap"] / image["id"]).read_bytes() == DATA

    cloud.sdk().image.delete_image(image["id"], store="fast")
    assert admin.show(image["id"])["stores"] == "cheap"
    assert image["id"] not in _files(dirs["fast"])
    assert admin.request("GET", f"images/{image['id']}/file").content == DATA
    last = admin.request("DELETE", f"stores/cheap/{image['id']}")
    assert_image_error(last, 403)
    assert admin.show(image["id"])["stores"] == "cheap"


def test_copy_image_to_all_stores_copies_only_what_is_missing(admin: ImageClient) -> None:
    image = _raw(admin, name="everywhere")
    admin.upload(image["id"], DATA)
    response = _import(admin, image["id"], method={"name": "copy-image"}, all_stores=True)
    assert response.status_code == 202, response.text
    assert _wait_task(admin, image["id"])["input"]["backend"] == ["cheap"]
    assert admin.show(image["id"])["stores"] == "fast,cheap"
    # Nothing left to copy: accepted, and no new task.
    again = _import(admin, image["id"], method={"name": "copy-image"}, all_stores=True)
    assert again.status_code == 202
    tasks = admin.request("GET", f"images/{image['id']}/tasks").json()["tasks"]
    assert len(tasks) == 1


def test_delete_from_store_refusals(admin: ImageClient, demo: ImageClient) -> None:
    image = _raw(admin, name="refusals", visibility="public")
    admin.upload(image["id"], DATA)
    assert_image_error(admin.request("DELETE", f"stores/nowhere/{image['id']}"), 409)
    assert_image_error(admin.request("DELETE", f"stores/cheap/{image['id']}"), 404)
    missing = "00000000-0000-0000-0000-000000000000"
    assert_image_error(admin.request("DELETE", f"stores/fast/{missing}"), 404)
    assert_image_error(demo.request("DELETE", f"stores/fast/{image['id']}"), 403)
    assert admin.show(image["id"])["stores"] == "fast"


def test_deleting_the_image_removes_its_data_from_every_store(
    admin: ImageClient, dirs: dict[str, Path]
) -> None:
    image = _raw(admin, name="doomed")
    admin.upload(image["id"], DATA)
    _import(admin, image["id"], method={"name": "copy-image"}, stores=["cheap"])
    _wait_task(admin, image["id"])
    assert admin.request("DELETE", f"images/{image['id']}").status_code == 204
    assert image["id"] not in _files(dirs["fast"]) + _files(dirs["cheap"])


def test_deleting_a_staged_image_removes_the_staged_data(
    admin: ImageClient, dirs: dict[str, Path]
) -> None:
    image = _raw(admin, name="staged-doomed")
    _stage(admin, image["id"], DATA)
    assert image["id"] in _files(dirs["staging"])
    admin.request("DELETE", f"images/{image['id']}")
    assert image["id"] not in _files(dirs["staging"])


def test_web_download_is_refused(cloud: CloudProcess, admin: ImageClient) -> None:
    image = _raw(admin, name="from-the-web")
    method = {"name": "web-download", "uri": "http://example.com/x.img"}
    body = assert_image_error(_import(admin, image["id"], method=method), 400)
    assert "web-download" in body["message"] and "not enabled" in body["message"]
    assert admin.show(image["id"])["status"] == "queued"
    result = cloud.openstack(
        "image", "import", image["id"], "--method", "web-download", "--uri",
        "http://example.com/x.img", check=False,
    )  # fmt: skip
    assert result.returncode != 0 and "web-download" in result.stderr


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"method": {}}, 400),
        ({"method": {"name": "glance-direct"}, "all_stores": "yes"}, 400),
        ({"method": {"name": "glance-direct"}, "stores": "fast"}, 400),
        ({"method": {"name": "glance-direct"}}, 409),  # nothing staged
        ({"method": {"name": "copy-image"}, "stores": ["cheap"]}, 409),  # not active
    ],
)
def test_bad_imports_change_nothing(admin: ImageClient, body: dict[str, Any], status: int) -> None:
    image = _raw(admin, name="bad-import")
    assert_image_error(_import(admin, image["id"], **body), status)
    shown = admin.show(image["id"])
    assert shown["status"] == "queued" and "os_glance_import_task" not in shown


def test_import_into_unknown_store_or_present_store(admin: ImageClient) -> None:
    staged = _raw(admin, name="unknown-store")
    _stage(admin, staged["id"], DATA)
    body = {"method": {"name": "glance-direct"}, "stores": ["fast", "nowhere"]}
    assert_image_error(_import(admin, staged["id"], **body), 409)
    assert admin.show(staged["id"])["status"] == "uploading"
    active = _raw(admin, name="present-store")
    admin.upload(active["id"], DATA)
    present = {"method": {"name": "copy-image"}, "stores": ["fast"]}
    assert_image_error(_import(admin, active["id"], **present), 400)


def test_copy_image_is_for_admins(admin: ImageClient, demo: ImageClient) -> None:
    image = _raw(demo, name="demo-copy")
    assert demo.upload(image["id"], b"").status_code == 204
    body = {"method": {"name": "copy-image"}, "stores": ["cheap"]}
    assert_image_error(_import(demo, image["id"], **body), 403)
    assert admin.show(image["id"])["stores"] == "fast"


def test_staging_over_the_stage_quota_stages_nothing(
    demo: ImageClient, dirs: dict[str, Path]
) -> None:
    image = _raw(demo, name="too-big-to-stage")
    body = assert_image_error(_stage(demo, image["id"], b"x" * (2 * MIB)), 413)
    assert "image_stage_total" in body["message"]
    assert demo.show(image["id"])["status"] == "queued"
    assert image["id"] not in _files(dirs["staging"])

    def chunked() -> Iterator[bytes]:  # no Content-Length: refused once the size is known
        yield b"x" * (2 * MIB)

    headers = {"Content-Type": "application/octet-stream"}
    late = demo.request("PUT", f"images/{image['id']}/stage", content=chunked(), headers=headers)
    assert_image_error(late, 413)
    assert demo.show(image["id"])["status"] == "queued"
    assert image["id"] not in _files(dirs["staging"])


def test_import_over_the_size_quota_is_refused(demo: ImageClient, dirs: dict[str, Path]) -> None:
    image = _raw(demo, name="too-big-for-two")
    assert _stage(demo, image["id"], b"x" * (MIB - 1000)).status_code == 204
    body = {"method": {"name": "glance-direct"}, "stores": ["fast", "cheap"]}  # two copies
    error = assert_image_error(_import(demo, image["id"], **body), 413)
    assert "image_size_total" in error["message"]
    shown = demo.show(image["id"])
    assert shown["status"] == "uploading" and "os_glance_import_task" not in shown
    # One copy fits.
    assert _import(demo, image["id"], method={"name": "glance-direct"}).status_code == 202
    assert _wait_status(demo, image["id"], "active")["stores"] == "fast"
    assert image["id"] not in _files(dirs["staging"])


def test_staged_data_survives_a_restart(
    cloud: CloudProcess, admin: ImageClient, dirs: dict[str, Path]
) -> None:
    image = _raw(admin, name="restarted-stage")
    _stage(admin, image["id"], DATA)
    cloud.restart()
    admin = ImageClient(cloud)
    assert admin.show(image["id"])["status"] == "uploading"
    assert _import(admin, image["id"], method={"name": "glance-direct"}).status_code == 202
    assert _wait_status(admin, image["id"], "active")["checksum"] == hashlib.md5(DATA).hexdigest()


def test_glanceclient_stage_import_and_delete_from_store(
    cloud: CloudProcess, dirs: dict[str, Path]
) -> None:
    glanceclient = pytest.importorskip("glanceclient")
    glance = glanceclient.Client("2", session=cloud.sdk().session)
    assert [s["id"] for s in glance.images.get_stores_info()["stores"]] == ["fast", "cheap"]
    image = glance.images.create(name="gc-import", disk_format="raw", container_format="bare")
    glance.images.stage(image["id"], io.BytesIO(DATA))
    glance.images.image_import(image["id"], "glance-direct", stores=["fast", "cheap"])
    admin = ImageClient(cloud)
    assert sorted(_wait_status(admin, image["id"], "active")["stores"].split(",")) == [
        "cheap", "fast",
    ]  # fmt: skip
    glance.images.delete_from_store("cheap", image["id"])
    assert glance.images.get(image["id"])["stores"] == "fast"
    assert image["id"] not in _files(dirs["cheap"])
    assert b"".join(glance.images.data(image["id"])) == DATA


def test_store_details_are_for_admins(
    admin: ImageClient, demo: ImageClient, dirs: dict[str, Path]
) -> None:
    stores = admin.request("GET", "info/stores/detail").json()["stores"]
    assert [(s["id"], s["type"]) for s in stores] == [("fast", "file"), ("cheap", "file")]
    assert stores[1]["properties"]["data_dir"] == str(dirs["cheap"])
    assert_image_error(demo.request("GET", "info/stores/detail"), 403)


def test_cli_create_with_import(cloud: CloudProcess, admin: ImageClient, tmp_path: Path) -> None:
    source = tmp_path / "imported.raw"
    source.write_bytes(DATA)
    image = cloud.openstack(
        "image", "create", "--import", "--file", str(source), "--disk-format", "raw",
        "--container-format", "bare", "cli-imported", "-f", "json",
    )  # fmt: skip
    active = _wait_status(admin, image["id"], "active")
    assert (active["checksum"], active["stores"]) == (hashlib.md5(DATA).hexdigest(), "fast")
    assert _wait_task(admin, image["id"])["status"] == "success"
