"""Object storage (Swift API at /object-store/v1/AUTH_<project>) on a real cloud with three
storage nodes and three replicas: the `openstack` container and object commands, the `swift`
CLI, and python-swiftclient for accounts, containers, objects, listings, ranges, conditions,
copies; tenant isolation; Swift's error statuses with nothing left behind; a node killed."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from swiftclient import client as swift
from swiftclient.exceptions import ClientException

from tests.functional.cloud import CloudFactory, CloudProcess
from tests.functional.personas import ADMIN, DEMO, token

SWIFT_CLI = str(Path(sys.executable).with_name("swift"))


@pytest.fixture(scope="module")
def cloud(backend: str | None, make_cloud: CloudFactory) -> CloudProcess:
    settings = {"object.nodes": 3, "object.replicas": 3, "image.guest_images": False}
    return make_cloud(database_url=backend, settings=settings)


class Account:
    """python-swiftclient's plain functions with one persona's token and storage URL."""

    def __init__(self, cloud: CloudProcess, persona: Any) -> None:
        self.token = token(cloud, persona)
        self.url = storage_url(cloud, self.token)

    def __getattr__(self, name: str) -> Any:
        fn = getattr(swift, name)
        return lambda *args, **kwargs: fn(self.url, self.token, *args, **kwargs)


def storage_url(cloud: CloudProcess, auth: str) -> str:
    """The object-store endpoint of the token's catalog (the account filled in)."""
    catalog = httpx.get(
        f"{cloud.identity_url}/v3/auth/catalog", headers={"X-Auth-Token": auth}, timeout=30
    ).json()["catalog"]
    entry = next(e for e in catalog if e["type"] == "object-store")
    return next(e["url"] for e in entry["endpoints"] if e["interface"] == "public")


@pytest.fixture(scope="module")
def admin(cloud: CloudProcess) -> Account:
    return Account(cloud, ADMIN)


@pytest.fixture(scope="module")
def demo(cloud: CloudProcess) -> Account:
    return Account(cloud, DEMO)


def status_of(call: Any) -> int:
    with pytest.raises(ClientException) as caught:
        call()
    return int(caught.value.http_status)


def test_info_and_healthcheck_need_no_token(cloud: CloudProcess) -> None:
    info = httpx.get(f"{cloud.url}/object-store/info", timeout=30)
    health = httpx.get(f"{cloud.url}/object-store/healthcheck", timeout=30)
    assert info.json()["swift"]["max_object_name_length"] == 1024
    assert (health.status_code, health.text) == (200, "OK")


def test_the_openstack_cli_creates_lists_saves_and_deletes(
    cloud: CloudProcess, tmp_path: Path
) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("hello object storage\n")
    cloud.openstack("container", "create", "cli-box")
    listed = cloud.openstack("container", "list", "-f", "json")
    made = cloud.openstack("object", "create", "cli-box", str(source), "-f", "json")
    objects = cloud.openstack("object", "list", "cli-box", "-f", "json")
    shown = cloud.openstack("object", "show", "cli-box", str(source), "-f", "json")
    saved = tmp_path / "saved.txt"
    cloud.openstack("object", "save", "--file", str(saved), "cli-box", str(source))
    box = cloud.openstack("container", "show", "cli-box", "-f", "json")
    cloud.openstack("object", "delete", "cli-box", str(source))
    cloud.openstack("container", "delete", "cli-box")
    after = cloud.openstack("container", "list", "-f", "json")
    assert "cli-box" in [c["Name"] for c in listed]
    assert made[0]["etag"] == hashlib.md5(source.read_bytes()).hexdigest()
    assert [o["Name"] for o in objects] == [str(source)]
    assert shown["content-type"] == "text/plain" and shown["content-length"] == "21"
    assert saved.read_text() == "hello object storage\n"
    assert box["object_count"] == "1" and box["bytes_used"] == "21"
    assert "cli-box" not in [c["Name"] for c in after]


def test_the_swift_cli_uploads_posts_and_downloads(cloud: CloudProcess, tmp_path: Path) -> None:
    data = tmp_path / "blob.bin"
    data.write_bytes(os.urandom(200_000))
    env = {
        **os.environ,
        "OS_AUTH_URL": f"{cloud.identity_url}/v3",
        "OS_USERNAME": "admin",
        "OS_PASSWORD": cloud.password("admin"),
        "OS_PROJECT_NAME": "admin",
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_IDENTITY_API_VERSION": "3",
    }

    def run(*args: str) -> str:
        done = subprocess.run(
            [SWIFT_CLI, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("upload", "cli-swift", "blob.bin")
    run("post", "-m", "colour:blue", "cli-swift", "blob.bin")
    stat = run("stat", "cli-swift", "blob.bin")
    run("download", "cli-swift", "blob.bin", "-o", "back.bin")
    assert "Meta Colour: blue" in stat
    assert (tmp_path / "back.bin").read_bytes() == data.read_bytes()


def test_account_metadata_and_counts(admin: Account) -> None:
    admin.put_container("counted")
    admin.put_object("counted", "a", b"12345")
    admin.post_account({"X-Account-Meta-Owner": "ops"})
    headers = admin.head_account()
    assert headers["x-account-meta-owner"] == "ops"
    assert int(headers["x-account-object-count"]) >= 1
    assert int(headers["x-account-bytes-used"]) >= 5
    assert int(headers["x-account-container-count"]) >= 1


def test_container_put_is_201_then_202_and_keeps_metadata(admin: Account) -> None:
    first: dict[str, Any] = {}
    second: dict[str, Any] = {}
    admin.put_container("meta-box", headers={"X-Container-Meta-A": "1"}, response_dict=first)
    admin.put_container("meta-box", headers={"X-Container-Meta-B": "2"}, response_dict=second)
    admin.post_container("meta-box", {"X-Remove-Container-Meta-A": "x"})
    headers = admin.head_container("meta-box")
    assert (first["status"], second["status"]) == (201, 202)
    assert headers["x-container-meta-b"] == "2" and "x-container-meta-a" not in headers


def test_listing_options(admin: Account) -> None:
    admin.put_container("listing")
    for name in ("a/1", "a/2", "b", "c/x/1", "d"):
        admin.put_object("listing", name, b"x")

    def names(**kw: Any) -> list[str]:
        return [i.get("name", i.get("subdir")) for i in admin.get_container("listing", **kw)[1]]

    assert names() == ["a/1", "a/2", "b", "c/x/1", "d"]
    assert names(delimiter="/") == ["a/", "b", "c/", "d"]
    assert names(prefix="c/", delimiter="/") == ["c/x/"]
    assert names(marker="a/2", end_marker="d") == ["b", "c/x/1"]
    assert names(limit=2) == ["a/1", "a/2"]
    assert names(query_string="reverse=on&limit=2") == ["d", "c/x/1"]
    plain = httpx.get(
        f"{admin.url}/listing?prefix=a/", headers={"X-Auth-Token": admin.token}, timeout=30
    )
    xml = httpx.get(
        f"{admin.url}/listing?format=xml&limit=1", headers={"X-Auth-Token": admin.token}, timeout=30
    )
    accounts = [c["name"] for c in admin.get_account(prefix="list")[1]]
    assert plain.text == "a/1\na/2\n"
    assert "<name>a/1</name>" in xml.text and xml.text.startswith("<?xml")
    assert accounts == ["listing"]


def test_put_checks_the_etag_and_guesses_the_type(admin: Account) -> None:
    admin.put_container("typed")
    etag = admin.put_object(
        "typed", "page.html", b"<p>hi</p>", etag=hashlib.md5(b"<p>hi</p>").hexdigest()
    )
    wrong = status_of(lambda: admin.put_object("typed", "bad.txt", b"data", etag="0" * 32))
    chunked = admin.put_object("typed", "chunked", io.BytesIO(b"abcd"), chunk_size=2)
    headers = admin.head_object("typed", "page.html")
    assert etag == hashlib.md5(b"<p>hi</p>").hexdigest() and headers["content-type"] == "text/html"
    assert wrong == 422 and status_of(lambda: admin.head_object("typed", "bad.txt")) == 404
    assert chunked == hashlib.md5(b"abcd").hexdigest()
    assert admin.get_object("typed", "chunked")[1] == b"abcd"


def test_ranges(admin: Account) -> None:
    admin.put_container("ranged")
    admin.put_object("ranged", "digits", b"0123456789")
    single = admin.get_object("ranged", "digits", headers={"Range": "bytes=2-4"})
    suffix = admin.get_object("ranged", "digits", headers={"Range": "bytes=-3"})
    multi = admin.get_object("ranged", "digits", headers={"Range": "bytes=0-1,8-"})
    past = status_of(lambda: admin.get_object("ranged", "digits", headers={"Range": "bytes=20-"}))
    assert single[1] == b"234" and single[0]["content-range"] == "bytes 2-4/10"
    assert suffix[1] == b"789"
    assert multi[0]["content-type"].startswith("multipart/byteranges")
    assert b"Content-Range: bytes 0-1/10\r\n\r\n01\r\n" in multi[1]
    assert b"Content-Range: bytes 8-9/10\r\n\r\n89\r\n" in multi[1]
    assert past == 416


def test_conditional_requests(admin: Account) -> None:
    admin.put_container("cond")
    etag = admin.put_object("cond", "o", b"body")
    modified = admin.head_object("cond", "o")["last-modified"]
    url = f"{admin.url}/cond/o"

    def get(headers: dict[str, str]) -> int:
        return httpx.get(
            url, headers={"X-Auth-Token": admin.token, **headers}, timeout=30
        ).status_code

    assert get({"If-Match": etag}) == 200
    assert get({"If-Match": '"nope"'}) == 412
    assert get({"If-None-Match": etag}) == 304
    assert get({"If-Modified-Since": modified}) == 304
    assert get({"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}) == 412
    assert get({"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}) == 200


def test_post_copy_and_copy_from(admin: Account) -> None:
    admin.put_container("copies")
    admin.put_object("copies", "src", b"payload", headers={"X-Object-Meta-Kind": "orig"})
    admin.post_object("copies", "src", {"X-Object-Meta-Kind": "posted"})
    copied = httpx.request(
        "COPY",
        f"{admin.url}/copies/src",
        headers={"X-Auth-Token": admin.token, "Destination": "copies/dst"},
        timeout=30,
    )
    admin.put_object("copies", "dst2", b"", headers={"X-Copy-From": "/copies/src"})
    assert copied.status_code == 201 and copied.headers["x-copied-from"] == "copies/src"
    for name in ("dst", "dst2"):
        headers, body = admin.get_object("copies", name)
        assert body == b"payload" and headers["x-object-meta-kind"] == "posted"


def test_delete_container_with_objects_is_409(admin: Account) -> None:
    admin.put_container("full")
    admin.put_object("full", "o", b"1")
    busy = status_of(lambda: admin.delete_container("full"))
    admin.delete_object("full", "o")
    admin.delete_container("full")
    assert busy == 409
    assert status_of(lambda: admin.head_container("full")) == 404


def test_tenants_do_not_see_each_other(admin: Account, demo: Account) -> None:
    admin.put_container("private")
    admin.put_object("private", "secret", b"s")
    demo.put_container("demo-own")
    assert status_of(lambda: swift.get_object(admin.url, demo.token, "private", "secret")) == 403
    assert status_of(lambda: swift.get_account(admin.url, demo.token)) == 403
    assert status_of(lambda: swift.put_container(admin.url, demo.token, "planted")) == 403
    assert [c["name"] for c in demo.get_account()[1]] == ["demo-own"]
    assert "planted" not in [c["name"] for c in admin.get_account()[1]]


def test_container_acls_let_another_project_in(admin: Account, demo: Account) -> None:
    demo_project = demo.url.rsplit("AUTH_", 1)[1]
    admin.put_container("shared", headers={"X-Container-Read": ".r:*"})
    admin.put_object("shared", "doc", b"for everyone")
    read = swift.get_object(admin.url, demo.token, "shared", "doc")[1]
    unlisted = status_of(lambda: swift.get_container(admin.url, demo.token, "shared"))
    denied_write = status_of(lambda: swift.put_object(admin.url, demo.token, "shared", "x", b"1"))
    admin.post_container(
        "shared", {"X-Container-Read": ".r:*,.rlistings", "X-Container-Write": f"{demo_project}:*"}
    )
    swift.put_object(admin.url, demo.token, "shared", "from-demo", b"hi")
    listed = [o["name"] for o in swift.get_container(admin.url, demo.token, "shared")[1]]
    assert read == b"for everyone" and (unlisted, denied_write) == (403, 403)
    assert listed == ["doc", "from-demo"]
    assert status_of(lambda: swift.delete_container(admin.url, demo.token, "shared")) == 403


def test_bad_input_is_swifts_4xx_and_writes_nothing(cloud: CloudProcess, admin: Account) -> None:
    headers = {"X-Auth-Token": admin.token}
    no_token = httpx.get(f"{admin.url}", timeout=30)
    long_container = httpx.put(f"{admin.url}/{'c' * 257}", headers=headers, timeout=30)
    long_object = httpx.put(
        f"{admin.url}/listing/{'o' * 1025}", headers=headers, content=b"x", timeout=30
    )
    big_limit = httpx.get(f"{admin.url}?limit=10001", headers=headers, timeout=30)
    missing = httpx.get(f"{admin.url}/nowhere/o", headers=headers, timeout=30)
    meta = httpx.post(
        f"{admin.url}/listing",
        headers={**headers, "X-Container-Meta-" + "k" * 129: "v"},
        timeout=30,
    )
    assert no_token.status_code == 401 and no_token.text.startswith("<html><h1>Unauthorized</h1>")
    assert long_container.status_code == 400 and long_object.status_code == 400
    assert big_limit.status_code == 412
    assert missing.status_code == 404 and missing.text.startswith("<html><h1>Not Found</h1>")
    assert meta.status_code == 400
    assert httpx.put(f"{admin.url}/listing/%FF", headers=headers, content=b"x").status_code == 412
    assert put_without_length(f"{admin.url}/listing/nolength", admin.token) == 411
    names = [o["name"] for o in admin.get_container("listing")[1]]
    assert names == ["a/1", "a/2", "b", "c/x/1", "d"]


def put_without_length(url: str, auth: str) -> int:
    """A PUT with neither Content-Length nor chunked encoding (httpx always sends one)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.putrequest("PUT", parts.path)
        conn.putheader("X-Auth-Token", auth)
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


def test_writes_and_reads_survive_a_dead_node(cloud: CloudProcess, admin: Account) -> None:
    admin.put_container("durable")
    admin.put_object("durable", "before", b"written with three nodes")
    record = cloud.state_dir / "run" / "object-nodes" / "node2.json"
    os.kill(json.loads(record.read_text())["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and httpx_alive(json.loads(record.read_text())["url"]):
        time.sleep(0.05)
    admin.put_object("durable", "after", b"written with two")
    assert admin.get_object("durable", "before")[1] == b"written with three nodes"
    assert admin.get_object("durable", "after")[1] == b"written with two"
    assert [o["name"] for o in admin.get_container("durable")[1]] == ["after", "before"]


def httpx_alive(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
    except httpx.TransportError:
        return False
    return True
