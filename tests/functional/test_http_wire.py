"""HTTP/1.1 on the wire, read byte by byte off a raw socket: keep-alive, Connection: close,
HEAD, 204, pipelining, Expect: 100-continue, chunked uploads and large streamed downloads.

The server sends a response's header block and body in one write (onestack.common.server);
any header block held back, reordered or lost shows here as a wrong or missing response, and a
held one as a read that times out. One worker serves through uvicorn's own listening socket,
two through the pre-fork supervisor's.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import pytest

from tests.functional.cloud import CloudFactory, CloudProcess
from tests.functional.identity_api import admin_token, issue, project_scope
from tests.functional.image_api import ImageClient

# A response that does not come within this is held back: fail rather than hang.
READ_TIMEOUT_S = 30
BIG = os.urandom(1 << 20) * 12  # more than the socket buffers hold, so it streams


@pytest.fixture(scope="module", params=[1, 2], ids=["one-worker", "pre-fork"])
def cloud(request: pytest.FixtureRequest, make_cloud: CloudFactory) -> CloudProcess:
    return make_cloud(workers=request.param, name="wire")


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class Connection:
    """One TCP connection; requests are written as given and responses parsed as they come."""

    def __init__(self, cloud: CloudProcess) -> None:
        self.cloud = cloud
        self.sock = socket.create_connection(("127.0.0.1", cloud.port), timeout=READ_TIMEOUT_S)
        self.reader: BinaryIO = self.sock.makefile("rb")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    def request_bytes(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.cloud.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> None:
        self.sock.sendall(self.request_bytes(method, path, headers, body))

    def receive(self, method: str = "GET") -> Response:
        status_line = self.reader.readline()
        assert status_line.startswith(b"HTTP/1.1 "), status_line
        status = int(status_line.split()[1])
        headers = {}
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        return Response(status, headers, self._body(method, status, headers))

    def _body(self, method: str, status: int, headers: dict[str, str]) -> bytes:
        if method == "HEAD" or status < 200 or status in (204, 304):
            return b""
        if headers.get("transfer-encoding") == "chunked":
            parts = []
            while size := int(self.reader.readline().split(b";")[0], 16):
                parts.append(self.reader.read(size))
                assert self.reader.read(2) == b"\r\n"
            assert self.reader.readline() == b"\r\n"
            return b"".join(parts)
        body = self.reader.read(int(headers["content-length"]))
        assert len(body) == int(headers["content-length"])
        return body

    def at_eof(self) -> bool:
        return self.reader.read(1) == b""

    def exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> Response:
        self.send(method, path, headers, body)
        return self.receive(method)


@pytest.fixture
def connection(cloud: CloudProcess) -> Iterator[Connection]:
    opened = Connection(cloud)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def admin(cloud: CloudProcess) -> str:
    return admin_token(cloud)


@pytest.fixture(scope="module")
def images(cloud: CloudProcess) -> ImageClient:
    return ImageClient(cloud)


TOKENS = "/identity/v3/auth/tokens"


def check(admin: str, subject: str) -> dict[str, str]:
    return {"X-Auth-Token": admin, "X-Subject-Token": subject}


def test_keep_alive_requests_in_sequence_on_one_connection(
    connection: Connection, admin: str
) -> None:
    for _ in range(5):
        response = connection.exchange("GET", TOKENS, check(admin, admin))
        assert response.status == 200
        assert response.json()["token"]["user"]["name"] == "admin"
        assert "close" not in response.headers.get("connection", "")


def test_connection_close_answers_whole_then_closes(connection: Connection, admin: str) -> None:
    response = connection.exchange("GET", TOKENS, {**check(admin, admin), "Connection": "close"})

    assert response.status == 200
    assert response.headers["connection"] == "close"
    assert response.json()["token"]["user"]["name"] == "admin"
    assert connection.at_eof()


def test_head_check_token_then_more_requests_on_the_connection(
    connection: Connection, admin: str
) -> None:
    head = connection.exchange("HEAD", TOKENS, check(admin, admin))
    after = connection.exchange("GET", TOKENS, check(admin, admin))
    last = connection.exchange("HEAD", TOKENS, {**check(admin, admin), "Connection": "close"})

    assert head.status == 200 and head.body == b""
    assert after.status == 200 and after.json()["token"]["user"]["name"] == "admin"
    assert last.status == 200 and last.body == b""
    assert connection.at_eof()


def test_a_204_revocation_then_more_requests_on_the_connection(
    cloud: CloudProcess, connection: Connection, admin: str
) -> None:
    token = issue(cloud, "demo", project_scope("demo"))

    revoked = connection.exchange("DELETE", TOKENS, check(admin, token))
    validated = connection.exchange("GET", TOKENS, check(admin, token))

    assert revoked.status == 204 and revoked.body == b""
    assert validated.status == 404


def test_pipelined_requests_are_answered_in_order(connection: Connection, admin: str) -> None:
    requests = [
        ("GET", TOKENS, check(admin, admin)),
        ("HEAD", TOKENS, check(admin, admin)),
        ("GET", "/identity/v3", {}),
        ("GET", TOKENS, {**check(admin, "no-such-token"), "Connection": "close"}),
    ]
    connection.sock.sendall(b"".join(connection.request_bytes(*request) for request in requests))

    answers = [connection.receive(method) for method, _, _ in requests]

    assert [answer.status for answer in answers] == [200, 200, 200, 404]
    assert answers[0].json()["token"]["user"]["name"] == "admin"
    assert answers[1].body == b""
    assert answers[2].json()["version"]["id"] == "v3.14"
    assert connection.at_eof()


def test_expect_100_continue_gets_the_interim_answer_before_the_body(
    cloud: CloudProcess, connection: Connection
) -> None:
    body = json.dumps(
        {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": "admin",
                            "domain": {"id": "default"},
                            "password": cloud.password("admin"),
                        }
                    },
                }
            }
        }
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Expect": "100-continue",
    }
    connection.send("POST", TOKENS, headers)

    interim = connection.receive()
    connection.sock.sendall(body)
    final = connection.receive()

    assert interim.status == 100
    assert final.status == 201
    assert final.headers["x-subject-token"]


def _image(images: ImageClient, name: str) -> str:
    return images.create(name=name, disk_format="raw", container_format="bare")["id"]


def test_a_chunked_upload_then_a_streamed_download_round_trip(
    connection: Connection, images: ImageClient
) -> None:
    image_id = _image(images, "chunked")
    parts = [BIG[start : start + 700_001] for start in range(0, len(BIG), 700_001)]
    head = connection.request_bytes(
        "PUT",
        f"/image/v2/images/{image_id}/file",
        {
            "X-Auth-Token": images.token,
            "Content-Type": "application/octet-stream",
            "Transfer-Encoding": "chunked",
        },
    )
    connection.sock.sendall(head)
    for part in parts:
        connection.sock.sendall(b"%x\r\n" % len(part) + part + b"\r\n")
    connection.sock.sendall(b"0\r\n\r\n")

    uploaded = connection.receive("PUT")
    downloaded = connection.exchange(
        "GET", f"/image/v2/images/{image_id}/file", {"X-Auth-Token": images.token}
    )
    shown = connection.exchange(
        "GET", f"/image/v2/images/{image_id}", {"X-Auth-Token": images.token}
    )

    assert uploaded.status == 204
    assert downloaded.status == 200
    assert downloaded.body == BIG
    assert shown.json()["size"] == len(BIG)


def test_a_streamed_download_with_connection_close_is_whole(
    connection: Connection, images: ImageClient
) -> None:
    image_id = _image(images, "closing")
    assert images.upload(image_id, BIG).status_code == 204

    downloaded = connection.exchange(
        "GET",
        f"/image/v2/images/{image_id}/file",
        {"X-Auth-Token": images.token, "Connection": "close"},
    )

    assert downloaded.status == 200
    assert downloaded.body == BIG
    assert connection.at_eof()
