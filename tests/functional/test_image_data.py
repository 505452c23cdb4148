"""Image data through the real CLI, openstacksdk, glanceclient and raw HTTP: streamed uploads
with checksums, downloads with Range, the status machine, interrupted uploads, deactivation."""

from __future__ import annotations

import hashlib
import io
import os
import socket
from pathlib import Path

import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.image_api import ImageClient, assert_image_error, wait_for
from tests.functional.personas import ADMIN, DEMO, image_client

DATA = os.urandom(300_000)


@pytest.fixture(scope="module")
def admin(cloud: CloudProcess) -> ImageClient:
    return image_client(cloud, ADMIN)


@pytest.fixture(scope="module")
def demo(cloud: CloudProcess) -> ImageClient:
    return image_client(cloud, DEMO)


def _stored_files(cloud: CloudProcess) -> list[Path]:
    return [path for path in (cloud.state_dir / "images").rglob("*") if path.is_file()]


def _raw(admin: ImageClient, **fields: object) -> dict:
    return admin.create(disk_format="raw", container_format="bare", **fields)


def test_cli_upload_and_save_round_trip(cloud: CloudProcess, tmp_path: Path) -> None:
    source, target = tmp_path / "in.raw", tmp_path / "out.raw"
    source.write_bytes(DATA)
    image = cloud.openstack(
        "image", "create", "--file", str(source), "--disk-format", "raw", "cli-data", "-f", "json"
    )
    assert image["status"] == "active"
    assert image["size"] == len(DATA)
    assert image["checksum"] == hashlib.md5(DATA).hexdigest()
    cloud.openstack("image", "save", "--file", str(target), image["id"])
    assert target.read_bytes() == DATA


def test_sdk_upload_and_download_round_trip(cloud: CloudProcess) -> None:
    conn = cloud.sdk()
    image = conn.image.create_image(
        name="sdk-data",
        data=io.BytesIO(DATA),
        disk_format="raw",
        container_format="bare",
        allow_duplicates=True,
    )
    shown = conn.image.get_image(image.id)
    assert shown.status == "active"
    assert shown.hash_algo == "sha512"
    assert shown.hash_value == hashlib.sha512(DATA).hexdigest()
    assert conn.image.download_image(shown).content == DATA


def test_glanceclient_upload_and_download_round_trip(cloud: CloudProcess) -> None:
    glanceclient = pytest.importorskip("glanceclient")
    glance = glanceclient.Client("2", session=cloud.sdk().session)
    image = glance.images.create(name="gc-data", disk_format="raw", container_format="bare")
    glance.images.upload(image["id"], io.BytesIO(DATA))
    shown = glance.images.get(image["id"])
    assert (shown["status"], shown["checksum"]) == ("active", hashlib.md5(DATA).hexdigest())
    assert b"".join(glance.images.data(image["id"])) == DATA


def test_download_sends_content_md5_and_honours_ranges(admin: ImageClient) -> None:
    image = _raw(admin, name="ranges")
    assert admin.upload(image["id"], DATA).status_code == 204
    whole = admin.request("GET", f"images/{image['id']}/file")
    assert whole.status_code == 200
    assert whole.headers["Content-MD5"] == hashlib.md5(DATA).hexdigest()
    part = admin.request("GET", f"images/{image['id']}/file", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == DATA[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(DATA)}"
    tail = admin.request("GET", f"images/{image['id']}/file", headers={"Range": "bytes=-7"})
    assert (tail.status_code, tail.content) == (206, DATA[-7:])
    beyond = admin.request(
        "GET", f"images/{image['id']}/file", headers={"Range": f"bytes={len(DATA)}-"}
    )
    assert_image_error(beyond, 416)
    assert beyond.headers["Content-Range"] == f"bytes */{len(DATA)}"


def test_status_moves_queued_to_active_and_a_second_upload_conflicts(admin: ImageClient) -> None:
    image = _raw(admin, name="states")
    assert image["status"] == "queued"
    assert admin.request("GET", f"images/{image['id']}/file").status_code == 204
    assert admin.upload(image["id"], b"first").status_code == 204
    assert admin.show(image["id"])["status"] == "active"
    assert_image_error(admin.upload(image["id"], b"second"), 409)
    assert admin.request("GET", f"images/{image['id']}/file").content == b"first"


def test_malformed_uploads_change_nothing(admin: ImageClient) -> None:
    image = _raw(admin, name="bad-uploads")
    wrong_type = admin.request(
        "PUT", f"images/{image['id']}/file", content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert_image_error(wrong_type, 415)
    no_formats = admin.create(name="no-formats")
    assert_image_error(admin.upload(no_formats["id"], b"x"), 400)
    assert_image_error(admin.upload("00000000-0000-0000-0000-000000000000", b"x"), 404)
    assert admin.show(image["id"])["status"] == "queued"
    assert admin.show(no_formats["id"])["status"] == "queued"


def test_interrupted_upload_leaves_the_image_queued_and_no_data(
    cloud: CloudProcess, admin: ImageClient
) -> None:
    image = _raw(admin, name="interrupted")
    before = set(_stored_files(cloud))
    head = (
        f"PUT /image/v2/images/{image['id']}/file HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{cloud.port}\r\nX-Auth-Token: {admin.token}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {len(DATA)}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", cloud.port)) as sock:
        sock.sendall(head.encode() + DATA[: len(DATA) // 2])
        wait_for(lambda: admin.show(image["id"])["status"] == "saving", "the upload to start")
    wait_for(lambda: admin.show(image["id"])["status"] == "queued", "the image to be queued")
    assert set(_stored_files(cloud)) == before
    assert admin.upload(image["id"], DATA).status_code == 204  # a retry then works
    assert admin.show(image["id"])["checksum"] == hashlib.md5(DATA).hexdigest()


def test_delete_removes_the_data(cloud: CloudProcess, admin: ImageClient) -> None:
    image = _raw(admin, name="to-delete")
    admin.upload(image["id"], DATA)
    assert (cloud.state_dir / "images" / image["id"]).is_file()
    assert admin.request("DELETE", f"images/{image['id']}").status_code == 204
    assert not (cloud.state_dir / "images" / image["id"]).exists()
    assert_image_error(admin.request("GET", f"images/{image['id']}"), 404)


def test_deactivated_image_is_downloadable_by_admins_only(
    admin: ImageClient, demo: ImageClient
) -> None:
    image = _raw(admin, name="deactivated", visibility="public")
    admin.upload(image["id"], b"payload")
    assert admin.request("POST", f"images/{image['id']}/actions/deactivate").status_code == 204
    assert admin.show(image["id"])["status"] == "deactivated"
    assert_image_error(demo.request("GET", f"images/{image['id']}/file"), 403)
    assert_image_error(demo.request("POST", f"images/{image['id']}/actions/reactivate"), 403)
    assert admin.request("GET", f"images/{image['id']}/file").content == b"payload"
    assert admin.request("POST", f"images/{image['id']}/actions/reactivate").status_code == 204
    assert demo.request("GET", f"images/{image['id']}/file").content == b"payload"


def test_the_owners_member_deactivates_and_reactivates_its_image(demo: ImageClient) -> None:
    image = _raw(demo, name="own-deactivated")
    demo.upload(image["id"], b"mine")
    assert demo.request("POST", f"images/{image['id']}/actions/deactivate").status_code == 204
    assert demo.show(image["id"])["status"] == "deactivated"
    assert demo.request("POST", f"images/{image['id']}/actions/reactivate").status_code == 204
    assert demo.show(image["id"])["status"] == "active"


def test_only_active_images_deactivate(admin: ImageClient) -> None:
    image = _raw(admin, name="queued-deactivate")
    assert_image_error(admin.request("POST", f"images/{image['id']}/actions/deactivate"), 400)
    assert admin.show(image["id"])["status"] == "queued"


def test_data_changes_are_notified(cloud: CloudProcess, admin: ImageClient) -> None:
    image = _raw(admin, name="notified")
    admin.upload(image["id"], b"abc")
    uploads = [n for n in cloud.notifications("image.upload") if n["payload"]["id"] == image["id"]]
    assert len(uploads) == 1
    assert uploads[0]["payload"]["checksum"] == hashlib.md5(b"abc").hexdigest()
    assert uploads[0]["publisher_id"].startswith("image.")
    mine = [n for n in cloud.notifications() if n["payload"].get("id") == image["id"]]
    assert [n["event_type"] for n in mine] == [
        "image.create", "image.prepare", "image.upload", "image.activate"
    ]  # fmt: skip
    assert mine[1]["payload"]["status"] == "saving"


def test_downloads_are_notified_with_the_bytes_sent(
    cloud: CloudProcess, admin: ImageClient, demo: ImageClient
) -> None:
    image = _raw(admin, name="sent", visibility="public")
    admin.upload(image["id"], DATA)
    assert demo.request("GET", f"images/{image['id']}/file").content == DATA
    ranged = demo.request("GET", f"images/{image['id']}/file", headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206

    def sends() -> list[dict]:
        found = cloud.notifications("image.send")
        return [n for n in found if n["payload"]["image_id"] == image["id"]]

    wait_for(lambda: len(sends()) == 2, "two image.send notifications")
    whole, part = (n["payload"] for n in sends())
    assert whole["bytes_sent"] == len(DATA) and part["bytes_sent"] == 10
    demo_project = cloud.openstack("project", "show", "demo", "-f", "json")["id"]
    assert whole["receiver_tenant_id"] == demo_project
    assert whole["owner_id"] == admin.show(image["id"])["owner"]
    assert whole["destination_ip"] == "127.0.0.1"


def test_a_download_cut_short_is_notified_as_an_error(
    cloud: CloudProcess, admin: ImageClient
) -> None:
    big = os.urandom(1 << 20) * 64  # more than the socket buffers hold
    image = _raw(admin, name="cut-short")
    admin.upload(image["id"], big)
    head = (
        f"GET /image/v2/images/{image['id']}/file HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{cloud.port}\r\nX-Auth-Token: {admin.token}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", cloud.port)) as sock:
        sock.sendall(head.encode())
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")

    def sends() -> list[dict]:
        found = cloud.notifications("image.send")
        return [n for n in found if n["payload"]["image_id"] == image["id"]]

    wait_for(lambda: len(sends()) == 1, "the image.send notification")
    assert sends()[0]["priority"] == "ERROR"
    assert 0 < sends()[0]["payload"]["bytes_sent"] < len(big)
