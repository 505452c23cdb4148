"""The in-process RPC: calls, casts, host targets, remote errors and timeouts, as over AMQP."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from onestack.common.rpc import LocalRpc, RemoteError, RpcTimeout


class Endpoints:
    def __init__(self, name: str = "h1") -> None:
        self.name = name
        self.pinged = threading.Event()
        self.release = threading.Event()

    def add(self, a: int, b: int) -> int:
        return a + b

    def echo(self, value: object) -> object:
        return value

    def whoami(self) -> str:
        return self.name

    def ping(self) -> None:
        self.pinged.set()

    def fail(self) -> None:
        raise ValueError("disk full")

    def hang(self) -> None:
        self.release.wait(10)

    def _secret(self) -> str:
        return "private"


@pytest.fixture
def rpc() -> Iterator[LocalRpc]:
    rpc = LocalRpc(timeout_s=5)
    yield rpc
    rpc.close()


def test_call_returns_the_result(rpc: LocalRpc) -> None:
    rpc.serve("compute", Endpoints())

    assert rpc.call("compute", "add", a=2, b=3) == 5


def test_arguments_and_results_travel_as_json(rpc: LocalRpc) -> None:
    rpc.serve("compute", Endpoints())

    assert rpc.call("compute", "echo", value=(1, {"k": (2,)})) == [1, {"k": [2]}]


def test_host_topic_reaches_that_host_only(rpc: LocalRpc) -> None:
    rpc.serve("compute", Endpoints("h1"), host="h1")
    rpc.serve("compute", Endpoints("h2"), host="h2")

    assert {rpc.call("compute.h2", "whoami") for _ in range(4)} == {"h2"}
    assert {rpc.call("compute", "whoami") for _ in range(4)} == {"h1", "h2"}


def test_remote_exception_comes_back_as_remote_error(rpc: LocalRpc) -> None:
    rpc.serve("compute", Endpoints())

    with pytest.raises(RemoteError) as raised:
        rpc.call("compute", "fail")

    assert raised.value.exc_type == "builtins.ValueError"
    assert raised.value.remote_message == "disk full"
    assert "disk full" in raised.value.remote_traceback


@pytest.mark.parametrize("method", ["nothing_like_it", "_secret", "__init__"])
def test_unknown_and_private_methods_are_refused(rpc: LocalRpc, method: str) -> None:
    rpc.serve("compute", Endpoints())

    with pytest.raises(RemoteError) as raised:
        rpc.call("compute", method)

    assert raised.value.exc_type == "builtins.AttributeError"


def test_call_to_nobody_times_out(rpc: LocalRpc) -> None:
    with pytest.raises(RpcTimeout):
        rpc.call("network", "add", a=1, b=2)


def test_call_that_does_not_answer_in_time_times_out(rpc: LocalRpc) -> None:
    endpoints = Endpoints()
    rpc.serve("compute", endpoints)

    with pytest.raises(RpcTimeout) as raised:
        rpc.call("compute", "hang", timeout_s=0.1)

    endpoints.release.set()
    assert raised.value.status == 504


def test_cast_runs_without_waiting(rpc: LocalRpc) -> None:
    endpoints = Endpoints()
    rpc.serve("compute", endpoints)

    rpc.cast("compute", "ping")

    assert endpoints.pinged.wait(5)


def test_cast_failure_or_no_server_does_not_reach_the_caller(rpc: LocalRpc) -> None:
    rpc.serve("compute", Endpoints())

    rpc.cast("compute", "fail")
    rpc.cast("nobody", "ping")

    assert rpc.call("compute", "add", a=1, b=1) == 2


def test_stopped_server_no_longer_answers(rpc: LocalRpc) -> None:
    server = rpc.serve("compute", Endpoints())
    server.stop()

    with pytest.raises(RpcTimeout):
        rpc.call("compute", "add", a=1, b=2)
