"""Image format inspection on upload and import, with images qemu-img crafts: data must match
its disk_format, and a qcow2 with a backing file or an external data file is refused with 400
(the image back to queued, nothing kept), through the real CLI and raw HTTP."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.functional.cloud import CloudProcess
from tests.functional.image_api import ImageClient, assert_image_error, wait_for
from tests.functional.personas import ADMIN, image_client

pytestmark = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="needs qemu-img")


def _qemu_img(*args: str) -> None:
    subprocess.run(["qemu-img", "create", "-q", *args], check=True, timeout=30)


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    where = tmp_path_factory.mktemp("crafted")
    _qemu_img("-f", "qcow2", str(where / "plain.qcow2"), "1M")
    _qemu_img(
        "-f", "qcow2", "-b", str(where / "plain.qcow2"), "-F", "qcow2", str(where / "child.qcow2")
    )
    _qemu_img("-f", "qcow2", "-o", f"data_file={where / 'ext.raw'}", str(where / "ext.qcow2"), "1M")
    _qemu_img("-f", "vmdk", str(where / "sparse.vmdk"), "1M")
    _qemu_img("-f", "vmdk", "-o", "subformat=monolithicFlat", str(where / "flat.vmdk"), "1M")
    names = ("plain.qcow2", "child.qcow2", "ext.qcow2", "sparse.vmdk", "flat.vmdk")
    return {name: (where / name).read_bytes() for name in names}


@pytest.fixture(scope="module")
def admin(cloud: CloudProcess) -> ImageClient:
    return image_client(cloud, ADMIN)


def _stored(cloud: CloudProcess) -> list[Path]:
    return sorted((cloud.state_dir / "images").iterdir())


@pytest.mark.parametrize(
    ("name", "disk_format"),
    [("plain.qcow2", "qcow2"), ("sparse.vmdk", "vmdk")],
)
def test_matching_images_are_accepted(
    admin: ImageClient, crafted: dict[str, bytes], name: str, disk_format: str
) -> None:
    image = admin.create(name=name, disk_format=disk_format, container_format="bare")
    assert admin.upload(image["id"], crafted[name]).status_code == 204
    assert admin.show(image["id"])["status"] == "active"


@pytest.mark.parametrize(
    ("name", "disk_format", "reason"),
    [
        ("child.qcow2", "qcow2", "backing file"),
        ("ext.qcow2", "qcow2", "external data file"),
        ("plain.qcow2", "raw", "qcow2 image, not raw"),
        ("plain.qcow2", "vmdk", "not a vmdk"),
        ("flat.vmdk", "vmdk", "not a vmdk"),  # a bare descriptor naming another file
        ("sparse.vmdk", "qcow2", "not a qcow2"),
    ],
)
def test_mismatched_or_unsafe_images_are_refused_and_kept_nowhere(
    cloud: CloudProcess,
    admin: ImageClient,
    crafted: dict[str, bytes],
    name: str,
    disk_format: str,
    reason: str,
) -> None:
    image = admin.create(name=f"bad-{name}", disk_format=disk_format, container_format="bare")
    before = _stored(cloud)
    body = assert_image_error(admin.upload(image["id"], crafted[name]), 400)
    assert reason in body["message"]
    shown = admin.show(image["id"])
    assert (shown["status"], shown["size"], shown["checksum"]) == ("queued", None, None)
    assert _stored(cloud) == before


def test_cli_upload_of_a_backed_qcow2_fails(
    cloud: CloudProcess, crafted: dict[str, bytes], tmp_path: Path
) -> None:
    source = tmp_path / "child.qcow2"
    source.write_bytes(crafted["child.qcow2"])
    result = cloud.openstack(
        "image", "create", "--file", str(source), "--disk-format", "qcow2", "cli-backed",
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "backing file" in result.stderr + result.stdout


def test_glance_direct_import_of_an_unsafe_image_fails_its_task(
    admin: ImageClient, crafted: dict[str, bytes]
) -> None:
    image = admin.create(name="import-ext", disk_format="qcow2", container_format="bare")
    headers = {"Content-Type": "application/octet-stream"}
    staged = admin.request(
        "PUT", f"images/{image['id']}/stage", content=crafted["ext.qcow2"], headers=headers
    )
    assert staged.status_code == 204, staged.text
    body = {"method": {"name": "glance-direct"}}
    assert admin.request("POST", f"images/{image['id']}/import", json=body).status_code == 202

    def failed() -> bool:
        tasks = admin.request("GET", f"images/{image['id']}/tasks").json()["tasks"]
        return bool(tasks) and tasks[-1]["status"] == "failure"

    wait_for(failed, "the import task to fail")
    task = admin.request("GET", f"images/{image['id']}/tasks").json()["tasks"][-1]
    assert "external data file" in task["message"]
    assert admin.show(image["id"])["status"] == "queued"
