"""The HTTP server protects itself: deadlines for request heads and idle bodies, swept once.

A connection must deliver a whole request head within `header_timeout_s` of its start (a
fresh connection, or the first byte of the next request on a kept-alive one), and a request
body may pause no longer than `body_idle_timeout_s` between chunks while the server is reading
it; a slow but live upload is never cut. A late head or a stalled body is answered 408 and the
connection closed; a connection that sent nothing at all is just closed. The requests hot path
pays only a few attribute stores: one periodic sweep per process checks every connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

from onestack.common.server import CoalescingHttpToolsProtocol

log = logging.getLogger("onestack.server")

REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 15\r\n"
    b"connection: close\r\n"
    b"\r\n"
    b"Request Timeout"
)
# The sweep runs a few times per shortest timeout, so a deadline is kept within that much.
SWEEPS_PER_TIMEOUT = 4
SWEEP_INTERVAL_MAX_S = 1.0
SWEEP_INTERVAL_MIN_S = 0.05


class GuardedHttpToolsProtocol(CoalescingHttpToolsProtocol):
    """The coalescing protocol, with the marks the sweep reads to find stalled clients."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # A fresh connection is waiting for its first head, and must send it in time.
        self.head_since: float | None = self.loop.time()
        self.head_begun = False
        self.body_moved = False
        self.body_quiet_since: float | None = None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.head_since is None:  # after a response; a fresh connection's clock runs on
            self.head_since = self.loop.time()
        self.head_begun = True

    def on_headers_complete(self) -> None:
        self.head_since = None
        self.body_quiet_since = None
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self.body_moved = True
        super().on_body(body)

    def check_deadlines(self, now: float, header_timeout_s: float, body_idle_s: float) -> None:
        """Answer 408 and close when the head is late or the body stalled; called by the sweep."""
        if self.transport is None or self.transport.is_closing():
            return
        if self.head_since is not None:
            if now - self.head_since > header_timeout_s:
                self._time_out("head", answer=self.head_begun)
            return
        if not self._reading_body():
            self.body_quiet_since = None
        elif self.body_moved or self.body_quiet_since is None:
            self.body_moved = False
            self.body_quiet_since = now
        elif now - self.body_quiet_since > body_idle_s:
            self._time_out("body", answer=not self.cycle.response_started)

    def _reading_body(self) -> bool:
        """Whether the server now waits for body bytes that only the client can send: not
        while the app has not asked for them (100-continue, paused reading, a queued request).
        After an early answer the rest of the body is still read (and dropped) until it ends."""
        cycle = self.cycle
        if cycle is None or not cycle.more_body:
            return False
        if cycle.response_complete:
            return True
        return not cycle.waiting_for_100_continue and not self.flow.read_paused

    def _time_out(self, phase: str, answer: bool) -> None:
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "-"
        log.warning("request %s timed out", phase, extra={"client": client})
        if self.cycle is not None and not self.cycle.response_complete:
            # The app's receive() sees a disconnect and nothing it sends is written any more.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        if answer:
            self.transport.write(REQUEST_TIMEOUT)
        self.transport.close()


def sweep_interval_s(header_timeout_s: float, body_idle_s: float) -> float:
    """How often the sweep runs for these timeouts."""
    interval = min(header_timeout_s, body_idle_s) / SWEEPS_PER_TIMEOUT
    return max(SWEEP_INTERVAL_MIN_S, min(SWEEP_INTERVAL_MAX_S, interval))


async def sweep_forever(
    connections: Collection[asyncio.Protocol], header_timeout_s: float, body_idle_s: float
) -> None:
    """Check every open connection's deadlines, a few times per timeout, until cancelled."""
    loop = asyncio.get_running_loop()
    interval = sweep_interval_s(header_timeout_s, body_idle_s)
    while True:
        await asyncio.sleep(interval)
        now = loop.time()
        for connection in list(connections):  # closing one changes the set
            if isinstance(connection, GuardedHttpToolsProtocol):
                try:
                    connection.check_deadlines(now, header_timeout_s, body_idle_s)
                except Exception:  # one broken connection must not stop the guard
                    log.exception("connection check failed")
