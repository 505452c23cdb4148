"""The QMP client against a fake QMP server on a real unix socket: handshake, commands, events,
QEMU's errors and a silent peer, each turned into what the driver expects."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from onestack.oslib.qmp import QMPClient, QMPError

Handler = Callable[[dict[str, object], socket.socket], list[dict[str, object]]]


@pytest.fixture
def qmp_path(tmp_path: Path) -> Path:
    return tmp_path / "qmp.sock"


def serve(path: Path, handler: Handler, greeting: bool = True) -> Iterator[list[str]]:
    """A one-connection QMP server; yields the commands it received."""
    seen: list[str] = []
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(1)

    def loop() -> None:
        conn, _ = listener.accept()
        with conn, conn.makefile("rb") as lines:
            if greeting:
                conn.sendall(b'{"QMP": {"version": {}, "capabilities": []}}\n')
            for line in lines:
                message = json.loads(line)
                seen.append(str(message["execute"]))
                for reply in handler(message, conn):
                    conn.sendall(json.dumps(reply).encode() + b"\n")

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield seen
    listener.close()


def answers(message: dict[str, object], conn: socket.socket) -> list[dict[str, object]]:
    if message["execute"] == "query-status":
        return [
            {"event": "RESUME", "timestamp": {}},
            {"return": {"status": "running", "running": True}},
        ]
    if message["execute"] == "nope":
        return [
            {"error": {"class": "CommandNotFound", "desc": "The command nope has not been found"}}
        ]
    if message["execute"] == "system_powerdown":
        return [{"return": {}}, {"event": "POWERDOWN", "timestamp": {}}]
    return [{"return": {}}]


def test_handshake_then_a_command_returns_its_value_and_keeps_events(qmp_path: Path) -> None:
    for seen in serve(qmp_path, answers):
        with QMPClient(qmp_path, timeout_s=5) as qmp:
            status = qmp.execute("query-status")

        assert status == {"status": "running", "running": True}
        assert [event["event"] for event in qmp.events] == ["RESUME"]
        assert seen == ["qmp_capabilities", "query-status"]


def test_an_event_after_the_reply_is_waited_for(qmp_path: Path) -> None:
    for _ in serve(qmp_path, answers):
        with QMPClient(qmp_path, timeout_s=5) as qmp:
            qmp.execute("system_powerdown")
            event = qmp.wait_event("POWERDOWN", timeout_s=5)

        assert event["event"] == "POWERDOWN"


def test_qemus_error_becomes_a_qmp_error_with_its_class_and_description(qmp_path: Path) -> None:
    for _ in serve(qmp_path, answers):
        with QMPClient(qmp_path, timeout_s=5) as qmp, pytest.raises(QMPError) as caught:
            qmp.execute("nope")

        assert str(caught.value) == "nope: CommandNotFound: The command nope has not been found"


def test_a_peer_that_never_answers_times_out(qmp_path: Path) -> None:
    for _ in serve(qmp_path, answers, greeting=False):
        with pytest.raises(QMPError, match="QMP read failed"):
            QMPClient(qmp_path, timeout_s=0.3).connect()


def test_no_socket_is_a_qmp_error(qmp_path: Path) -> None:
    with pytest.raises(QMPError, match="cannot reach QMP"):
        QMPClient(qmp_path).connect()


def test_file_descriptors_travel_with_a_command(qmp_path: Path) -> None:
    received: list[int] = []

    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(qmp_path))
    listener.listen(1)

    def loop() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b'{"QMP": {}}\n')
            conn.recv(4096)
            conn.sendall(b'{"return": {}}\n')
            _, fds, _, _ = socket.recv_fds(conn, 4096, 1)
            received.extend(fds)
            conn.sendall(b'{"return": {}}\n')

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    read_end, write_end = os.pipe()
    try:
        with QMPClient(qmp_path, timeout_s=5) as qmp:
            qmp.execute("getfd", {"fdname": "x"}, fds=(write_end,))
        thread.join(5)
        assert len(received) == 1
        os.write(received[0], b"through")
        assert os.read(read_end, 7) == b"through"
    finally:
        for fd in (read_end, write_end, *received):
            os.close(fd)
        listener.close()
