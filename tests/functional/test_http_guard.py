"""The server protects itself, seen on the wire: a late request head or a stalled body is
answered 408 and the connection closed, a connection that sends nothing is closed, a slow but
live upload is not cut, and connections beyond `max_connections` are answered 503.

The cloud runs with timeouts of a few seconds (`[server]` settings); a deadline that is not
kept shows as a socket read that times out, a deadline kept too early as a short elapsed time.
"""

from __future__ import annotations

import select
import time
from collections.abc import Iterator

import pytest

from tests.functional.cloud import CloudFactory, CloudProcess
from tests.functional.image_api import ImageClient
from tests.functional.test_http_wire import Connection

HEADER_TIMEOUT_S = 2.0
BODY_IDLE_TIMEOUT_S = 2.0
MAX_CONNECTIONS = 4
# Well past every deadline (the sweep keeps them within a quarter of a timeout), so a slow
# machine does not fail the test, and short enough that a missing deadline fails it.
SOCKET_TIMEOUT_S = 15.0
TOKENS = "/identity/v3/auth/tokens"


GUARD_SETTINGS = {
    "server.header_timeout_s": str(HEADER_TIMEOUT_S),
    "server.body_idle_timeout_s": str(BODY_IDLE_TIMEOUT_S),
    "server.max_connections": str(MAX_CONNECTIONS),
}


@pytest.fixture(scope="module", params=[1, 2], ids=["one-worker", "pre-fork"])
def cloud(request: pytest.FixtureRequest, make_cloud: CloudFactory) -> CloudProcess:
    return make_cloud(workers=request.param, settings=GUARD_SETTINGS, name="guard")


@pytest.fixture
def connection(cloud: CloudProcess) -> Iterator[Connection]:
    opened = Connection(cloud)
    opened.sock.settimeout(SOCKET_TIMEOUT_S)
    yield opened
    opened.close()


def head(cloud: CloudProcess, method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{cloud.port}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_a_body_shorter_than_its_content_length_is_answered_408(
    cloud: CloudProcess, connection: Connection
) -> None:
    promise = head(cloud, "POST", TOKENS, "Content-Type: application/json", "Content-Length: 1000")
    connection.sock.sendall(promise + b'{"auth": ')
    sent = time.monotonic()

    answer = connection.receive("POST")

    assert answer.status == 408
    assert answer.headers["connection"] == "close"
    assert connection.at_eof()
    assert time.monotonic() - sent >= BODY_IDLE_TIMEOUT_S - 0.1


def test_a_head_that_never_ends_is_answered_408(
    cloud: CloudProcess, connection: Connection
) -> None:
    unfinished = head(cloud, "GET", "/identity/v3").removesuffix(b"\r\n")
    connection.sock.sendall(unfinished)
    sent = time.monotonic()

    answer = connection.receive()

    assert answer.status == 408
    assert connection.at_eof()
    assert time.monotonic() - sent >= HEADER_TIMEOUT_S - 0.1


def test_a_head_sent_byte_by_byte_is_cut_at_the_header_timeout(
    cloud: CloudProcess, connection: Connection
) -> None:
    # Each byte comes well within the timeout: the deadline is for the whole head.
    started = time.monotonic()
    for byte in head(cloud, "GET", "/identity/v3", *[f"X-Pad-{i}: {i}" for i in range(99)]):
        if select.select([connection.sock], [], [], 0)[0]:
            break  # the server answered (or closed): stop writing, read what it said
        connection.sock.sendall(bytes([byte]))
        time.sleep(0.05)
    else:
        pytest.fail("the whole head went through: nothing cut it")

    assert connection.receive().status == 408
    assert connection.at_eof()
    assert time.monotonic() - started >= HEADER_TIMEOUT_S - 0.1


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(
    connection: Connection,
) -> None:
    opened = time.monotonic()

    assert connection.at_eof()
    assert time.monotonic() - opened >= HEADER_TIMEOUT_S - 0.1


def test_a_slow_upload_that_keeps_moving_is_not_cut(
    cloud: CloudProcess, connection: Connection
) -> None:
    images = ImageClient(cloud)
    image_id = images.create(name="slow", disk_format="raw", container_format="bare")["id"]
    chunks = [bytes([n]) * 1000 for n in range(12)]
    connection.sock.sendall(
        head(
            cloud,
            "PUT",
            f"/image/v2/images/{image_id}/file",
            f"X-Auth-Token: {images.token}",
            "Content-Type: application/octet-stream",
            f"Content-Length: {sum(map(len, chunks))}",
        )
    )
    started = time.monotonic()
    for chunk in chunks:  # 12 chunks, 0.5 s apart: three times the idle timeout in all
        time.sleep(BODY_IDLE_TIMEOUT_S / 4)
        connection.sock.sendall(chunk)

    answer = connection.receive("PUT")

    assert time.monotonic() - started > 2 * BODY_IDLE_TIMEOUT_S
    assert answer.status == 204
    assert images.show(image_id)["size"] == 12_000


@pytest.fixture(scope="module")
def lone_cloud(make_cloud: CloudFactory) -> CloudProcess:
    """One worker: the connection limit is per process, and the kernel spreads connections
    over several workers as it likes."""
    return make_cloud(settings=GUARD_SETTINGS, name="guard")


def test_connections_beyond_the_limit_are_answered_503_until_one_closes(
    lone_cloud: CloudProcess,
) -> None:
    opened: list[Connection] = []
    answers = []
    try:
        for _ in range(MAX_CONNECTIONS + 1):  # each asks while the ones before stay open
            opened.append(Connection(lone_cloud))
            answers.append(opened[-1].exchange("GET", "/identity/v3", {}))
        opened.pop(0).close()
        # The server notices the close when it reads the EOF; ask until it has.
        deadline = time.monotonic() + SOCKET_TIMEOUT_S
        while (after := _one_request(lone_cloud)) == 503 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for c in opened:
            c.close()

    assert [a.status for a in answers] == [200] * MAX_CONNECTIONS + [503]
    assert answers[-1].headers["connection"] == "close"
    assert after == 200


def _one_request(cloud: CloudProcess) -> int:
    extra = Connection(cloud)
    try:
        return extra.exchange("GET", "/identity/v3", {"Connection": "close"}).status
    except (OSError, AssertionError):
        return 0
    finally:
        extra.close()
