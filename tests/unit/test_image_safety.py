"""Only safe images boot (issue 22, section 8): real files made by qemu-img, judged by
`compute/drivers/images.py` before the QEMU driver uses them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from onestack.compute.drivers import GuestError
from onestack.compute.drivers.images import inspect, judge

pytestmark = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="needs qemu-img")


def qemu_img(*args: str) -> None:
    subprocess.run(["qemu-img", *args], check=True, capture_output=True)


@pytest.fixture
def qcow2(tmp_path: Path) -> Path:
    path = tmp_path / "plain.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", str(path), "1M")
    return path


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    path = tmp_path / "plain.raw"
    path.write_bytes(b"\0" * 65536)
    return path


def test_a_plain_qcow2_and_a_raw_file_pass_as_what_they_are(qcow2: Path, raw: Path) -> None:
    assert inspect(qcow2, "qcow2")["virtual-size"] == 1 << 20
    assert inspect(raw, "raw")["format"] == "raw"
    assert inspect(raw, "ami")["format"] == "raw"


def test_a_qcow2_registered_as_raw_is_refused(qcow2: Path) -> None:
    with pytest.raises(GuestError, match="content is 'qcow2' but its disk_format is 'raw'"):
        inspect(qcow2, "raw")


def test_a_raw_file_registered_as_qcow2_is_refused(raw: Path) -> None:
    with pytest.raises(GuestError, match="content is 'raw' but its disk_format is 'qcow2'"):
        inspect(raw, "qcow2")


def test_a_qcow2_with_a_backing_file_elsewhere_is_refused(tmp_path: Path) -> None:
    image = tmp_path / "evil.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", "/etc/shadow", "-F", "raw", str(image))

    with pytest.raises(GuestError, match=r"backing file \(/etc/shadow\)"):
        inspect(image, "qcow2", trusted_dir=tmp_path / "cache")


def test_a_backing_file_in_the_agents_own_cache_is_allowed(tmp_path: Path, qcow2: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    base = cache / "base.qcow2"
    shutil.copy(qcow2, base)
    overlay = cache / "overlay.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", "-b", str(base), "-F", "qcow2", str(overlay))

    assert inspect(overlay, "qcow2", trusted_dir=cache)["format"] == "qcow2"
    with pytest.raises(GuestError, match="backing file"):
        inspect(overlay, "qcow2")


def test_a_qcow2_with_an_external_data_file_is_refused(tmp_path: Path) -> None:
    image = tmp_path / "data.qcow2"
    data = tmp_path / "elsewhere.raw"
    qemu_img("create", "-q", "-f", "qcow2", "-o", f"data_file={data}", str(image), "1M")

    with pytest.raises(GuestError, match="external data file"):
        inspect(image, "qcow2", trusted_dir=tmp_path / "cache")


def test_a_backing_file_given_as_a_protocol_is_never_trusted(tmp_path: Path) -> None:
    facts = {"format": "qcow2", "backing-filename": "nbd://attacker:10809/x"}

    with pytest.raises(GuestError, match="backing file"):
        judge(facts, "qcow2", trusted_dir=tmp_path)


def test_a_format_this_host_cannot_boot_is_refused() -> None:
    with pytest.raises(GuestError, match="disk_format 'aki' cannot boot"):
        judge({"format": "raw"}, "aki")


def test_a_file_qemu_img_cannot_read_is_a_guest_error(tmp_path: Path) -> None:
    with pytest.raises(GuestError, match="could not be inspected"):
        inspect(tmp_path / "missing.qcow2", "qcow2")
