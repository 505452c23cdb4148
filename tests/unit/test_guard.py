"""The server guard's deadlines, on a real protocol fed bytes by hand: a late head and a
stalled body time out, a body the server is not reading (the app busy, reading paused) does not.

The transport is a recorder (the OS boundary); time is what the test hands `check_deadlines`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from uvicorn.config import Config
from uvicorn.server import ServerState

from onestack.common.guard import GuardedHttpToolsProtocol, sweep_interval_s
from tests.unit.test_server import RecordingTransport

HEADER_S = 30.0
BODY_S = 60.0
UPLOAD_HEAD = b"PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"


async def app(scope: dict, receive: Callable[[], Awaitable[dict]], send: Callable) -> None:
    """An app that never reads the body: its request waits in the server's buffer."""
    await asyncio.sleep(3600)


async def early_answer(scope: dict, receive: Callable[[], Awaitable[dict]], send: Callable) -> None:
    """An app that answers before reading the body (as a 401 would)."""
    headers = [(b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


Scenario = Callable[[GuardedHttpToolsProtocol, RecordingTransport, float], Awaitable[None]]


def run(scenario: Scenario, asgi_app: Callable = app) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        config = Config(asgi_app, http=GuardedHttpToolsProtocol, lifespan="off", log_config=None)
        protocol = GuardedHttpToolsProtocol(config, ServerState(), {}, _loop=loop)
        real = RecordingTransport()
        protocol.connection_made(real)
        await scenario(protocol, real, loop.time())
        for task in list(protocol.tasks):
            task.cancel()

    with asyncio.Runner() as runner:
        runner.run(main())


def written(real: RecordingTransport) -> bytes:
    return b"".join(data for call, data in real.calls if call == "write")


def closed(real: RecordingTransport) -> bool:
    return ("close", None) in real.calls


def test_a_connection_that_sent_nothing_is_closed_without_an_answer() -> None:
    async def scenario(p: GuardedHttpToolsProtocol, real: RecordingTransport, t0: float) -> None:
        p.check_deadlines(t0 + HEADER_S - 1, HEADER_S, BODY_S)
        assert not closed(real)
        p.check_deadlines(t0 + HEADER_S + 1, HEADER_S, BODY_S)
        assert closed(real) and written(real) == b""

    run(scenario)


def test_a_partial_head_past_the_header_timeout_is_answered_408() -> None:
    async def scenario(p: GuardedHttpToolsProtocol, real: RecordingTransport, t0: float) -> None:
        p.data_received(b"GET / HTTP/1.1\r\nHost: x\r\n")
        p.check_deadlines(t0 + HEADER_S + 1, HEADER_S, BODY_S)
        assert written(real).startswith(b"HTTP/1.1 408 ")
        assert closed(real)

    run(scenario)


def test_a_body_that_stops_moving_is_answered_408_after_the_idle_timeout() -> None:
    async def scenario(p: GuardedHttpToolsProtocol, real: RecordingTransport, t0: float) -> None:
        p.data_received(UPLOAD_HEAD + b"x" * 10)
        p.check_deadlines(t0 + 1, HEADER_S, BODY_S)  # the sweep sees it moved
        p.check_deadlines(t0 + BODY_S, HEADER_S, BODY_S)
        assert not closed(real)
        p.check_deadlines(t0 + BODY_S + 2, HEADER_S, BODY_S)
        assert written(real).startswith(b"HTTP/1.1 408 ")
        assert p.cycle.disconnected  # the app's receive() sees the client gone

    run(scenario)


def test_a_body_that_keeps_moving_is_never_cut() -> None:
    async def scenario(p: GuardedHttpToolsProtocol, real: RecordingTransport, t0: float) -> None:
        p.data_received(UPLOAD_HEAD)
        for second in range(0, 10 * int(BODY_S), int(BODY_S) // 2):
            p.data_received(b"x")
            p.check_deadlines(t0 + second, HEADER_S, BODY_S)
        assert not closed(real)

    run(scenario)


def test_a_body_the_server_stopped_reading_does_not_time_out() -> None:
    async def scenario(p: GuardedHttpToolsProtocol, real: RecordingTransport, t0: float) -> None:
        p.data_received(UPLOAD_HEAD + b"x" * 10)
        p.flow.pause_reading()  # the app is busy with what it has (flow control)
        for second in range(0, 10 * int(BODY_S), 10):
            p.check_deadlines(t0 + second, HEADER_S, BODY_S)
        assert not closed(real)

    run(scenario)


def test_a_body_that_stalls_after_an_early_answer_is_closed() -> None:
    # Without a deadline here, a client could hold the connection with a body it never ends.
    async def scenario(p: GuardedHttpToolsProtocol, real: RecordingTransport, t0: float) -> None:
        p.data_received(UPLOAD_HEAD + b"x" * 10)
        for _ in range(5):  # let the app answer
            await asyncio.sleep(0)
        assert written(real).startswith(b"HTTP/1.1 401 ")
        p.data_received(b"x" * 10)
        p.check_deadlines(t0 + 1, HEADER_S, BODY_S)
        p.check_deadlines(t0 + BODY_S + 2, HEADER_S, BODY_S)
        assert closed(real)
        assert b"408" not in written(real)  # the answer was given: nothing more is sent

    run(scenario, early_answer)


def test_the_sweep_runs_a_few_times_per_timeout_within_bounds() -> None:
    assert sweep_interval_s(2, 60) == 0.5
    assert sweep_interval_s(30, 60) == 1.0
    assert sweep_interval_s(0.01, 60) == 0.05
