"""A small client for QEMU's machine protocol (QMP) over a unix socket: the greeting and
capabilities handshake, commands and the events that arrive between replies. Socket and protocol
failures become `QMPError` here, once; nothing else in onestack speaks QMP."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Any


class QMPError(Exception):
    """The QMP socket could not be reached or read, or QEMU answered a command with an error."""


class QMPClient:
    """One QMP session; use as a context manager. Not thread-safe: one caller at a time."""

    def __init__(self, path: Path, timeout_s: float = 10.0) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self.events: list[dict[str, Any]] = []
        self._sock: socket.socket | None = None
        self._buffer = b""

    def __enter__(self) -> QMPClient:
        self.connect()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def connect(self) -> None:
        """Open the socket, read the greeting and leave capabilities negotiation mode."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout_s)
        try:
            sock.connect(str(self.path))
        except OSError as exc:
            sock.close()
            raise QMPError(f"cannot reach QMP at {self.path}: {exc}") from exc
        self._sock = sock
        try:
            greeting = self._read()
            if "QMP" not in greeting:
                raise QMPError(f"not a QMP greeting: {greeting}")
            self.execute("qmp_capabilities")
        except QMPError:
            self.close()
            raise

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def execute(
        self, command: str, arguments: dict[str, Any] | None = None, fds: tuple[int, ...] = ()
    ) -> Any:
        """Run `command` and return its `return` value; events seen meanwhile are kept. `fds`
        travel with the command as SCM_RIGHTS (for `getfd`)."""
        message: dict[str, Any] = {"execute": command}
        if arguments:
            message["arguments"] = arguments
        self._send(message, fds)
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
            elif "error" in reply:
                error = reply["error"]
                raise QMPError(f"{command}: {error.get('class')}: {error.get('desc')}")
            elif "return" in reply:
                return reply["return"]

    def wait_event(self, name: str, timeout_s: float) -> dict[str, Any]:
        """The first event called `name` (already seen or arriving within timeout_s)."""
        deadline = time.monotonic() + timeout_s
        while True:
            for event in self.events:
                if event.get("event") == name:
                    self.events.remove(event)
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise QMPError(f"no {name} event within {timeout_s} s")
            self.events.append(self._read(remaining))

    def _send(self, message: dict[str, Any], fds: tuple[int, ...] = ()) -> None:
        if self._sock is None:
            raise QMPError("QMP session is closed")
        data = json.dumps(message).encode() + b"\n"
        try:
            if fds:
                socket.send_fds(self._sock, [data], list(fds))
            else:
                self._sock.sendall(data)
        except OSError as exc:
            raise QMPError(f"QMP write failed: {exc}") from exc

    def _read(self, timeout_s: float | None = None) -> dict[str, Any]:
        if self._sock is None:
            raise QMPError("QMP session is closed")
        self._sock.settimeout(timeout_s if timeout_s is not None else self.timeout_s)
        while b"\n" not in self._buffer:
            try:
                chunk = self._sock.recv(65536)
            except OSError as exc:  # socket.timeout included
                raise QMPError(f"QMP read failed: {exc or 'timed out'}") from exc
            if not chunk:
                raise QMPError("QEMU closed the QMP socket")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError as exc:
            raise QMPError(f"QMP sent something that is not JSON: {line[:200]!r}") from exc
        if not isinstance(message, dict):
            raise QMPError(f"QMP sent a non-object: {line[:200]!r}")
        return message
