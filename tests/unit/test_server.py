"""The coalescing transport: what reaches the real transport, in which order, and by when.

The real transport is a recorder (the OS boundary); each test runs on asyncio's loop and on
uvloop's, since the server runs on uvloop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import uvloop

from onestack.common.server import HOLD_MAX_BYTES, CoalescingTransport

HEADERS = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def write_eof(self) -> None:
        self.calls.append(("write_eof", None))

    def close(self) -> None:
        self.calls.append(("close", None))
        self.closing = True

    def abort(self) -> None:
        self.calls.append(("abort", None))
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None:
        self.calls.append(("pause_reading", None))

    def resume_reading(self) -> None:
        self.calls.append(("resume_reading", None))


Scenario = Callable[[CoalescingTransport, RecordingTransport], Awaitable[None]]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Callable[[Scenario], None]:
    factory = asyncio.new_event_loop if request.param == "asyncio" else uvloop.new_event_loop

    def run_scenario(scenario: Scenario) -> None:
        async def main() -> None:
            real = RecordingTransport()
            await scenario(CoalescingTransport(real, asyncio.get_running_loop()), real)

        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(main())

    return run_scenario


def test_headers_and_body_in_one_iteration_are_one_write(run: Callable[[Scenario], None]) -> None:
    async def scenario(transport: CoalescingTransport, real: RecordingTransport) -> None:
        transport.write(HEADERS)
        assert real.calls == []
        transport.write(b"{}")
        assert real.calls == [("write", HEADERS + b"{}")]
        await asyncio.sleep(0)
        assert real.calls == [("write", HEADERS + b"{}")]

    run(scenario)


def test_a_lone_write_goes_out_before_the_next_iteration_runs(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario(transport: CoalescingTransport, real: RecordingTransport) -> None:
        transport.write(HEADERS)  # a HEAD or 204 answer, or a streaming response's headers
        await asyncio.sleep(0)
        assert real.calls == [("write", HEADERS)]

    run(scenario)


def test_close_sends_what_is_held_first(run: Callable[[Scenario], None]) -> None:
    async def scenario(transport: CoalescingTransport, real: RecordingTransport) -> None:
        transport.write(HEADERS)
        transport.close()
        await asyncio.sleep(0)
        assert real.calls == [("write", HEADERS), ("close", None)]

    run(scenario)


def test_write_eof_sends_what_is_held_first(run: Callable[[Scenario], None]) -> None:
    async def scenario(transport: CoalescingTransport, real: RecordingTransport) -> None:
        transport.write(HEADERS)
        transport.write_eof()
        assert real.calls == [("write", HEADERS), ("write_eof", None)]

    run(scenario)


def test_a_large_body_follows_the_held_headers_uncopied(run: Callable[[Scenario], None]) -> None:
    async def scenario(transport: CoalescingTransport, real: RecordingTransport) -> None:
        body = b"x" * (HOLD_MAX_BYTES + 1)
        transport.write(HEADERS)
        transport.write(body)
        transport.write(body)
        assert real.calls == [("write", HEADERS), ("write", body), ("write", body)]

    run(scenario)


def test_streamed_chunks_keep_their_order(run: Callable[[Scenario], None]) -> None:
    async def scenario(transport: CoalescingTransport, real: RecordingTransport) -> None:
        transport.write(HEADERS)
        await asyncio.sleep(0)
        for part in (b"2\r\nab\r\n", b"2\r\ncd\r\n", b"0\r\n\r\n"):
            transport.write(part)
        await asyncio.sleep(0)
        written = b"".join(data for name, data in real.calls if name == "write")
        assert written == HEADERS + b"2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n"

    run(scenario)


def test_a_held_write_is_its_own_copy(run: Callable[[Scenario], None]) -> None:
    async def scenario(transport: CoalescingTransport, real: RecordingTransport) -> None:
        data = bytearray(b"HTTP/1.1 100 Continue\r\n\r\n")
        transport.write(data)
        data[:] = b"changed"
        await asyncio.sleep(0)
        assert real.calls == [("write", b"HTTP/1.1 100 Continue\r\n\r\n")]

    run(scenario)


def test_nothing_is_written_to_a_transport_closed_under_us(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario(transport: CoalescingTransport, real: RecordingTransport) -> None:
        transport.write(HEADERS)
        real.closing = True  # the peer reset the connection
        await asyncio.sleep(0)
        transport.close()
        assert real.calls == [("close", None)]

    run(scenario)


def test_abort_drops_what_is_held(run: Callable[[Scenario], None]) -> None:
    async def scenario(transport: CoalescingTransport, real: RecordingTransport) -> None:
        transport.write(HEADERS)
        transport.abort()
        await asyncio.sleep(0)
        assert real.calls == [("abort", None)]

    run(scenario)


def test_reading_is_paused_and_resumed_on_the_real_transport(
    run: Callable[[Scenario], None],
) -> None:
    async def scenario(transport: CoalescingTransport, real: RecordingTransport) -> None:
        transport.pause_reading()
        transport.resume_reading()
        assert real.calls == [("pause_reading", None), ("resume_reading", None)]

    run(scenario)
