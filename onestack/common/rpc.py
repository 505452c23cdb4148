"""Remote procedure calls between services and agents: `call` waits for an answer, `cast` not.

`Rpc` is the interface, chosen once in `cloud.make_rpc`: `LocalRpc` serves in this process
(all-in-one), `rpc_amqp.AmqpRpc` through RabbitMQ. A target is an agent's topic: `compute`
reaches any compute agent, `compute.<host>` that host's. `serve(agent, endpoints)` exposes the
public methods of `endpoints`. Arguments and results travel as JSON in both implementations, so a
call behaves the same in both modes: a method that raises comes back as `RemoteError`, no
answer within `timeout_s` is `RpcTimeout`, and the broker being unreachable is `BusUnavailable`.
"""

from __future__ import annotations

import itertools
import json
import logging
import socket
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Protocol

from onestack.common.errors import OneStackError

log = logging.getLogger("onestack.rpc")

DEFAULT_TIMEOUT_S = 60.0
Reply = dict[str, Any]


class RpcTimeout(OneStackError):
    status = 504
    title = "Gateway Timeout"
    message = "No agent answered in time."


class BusUnavailable(OneStackError):
    status = 503
    title = "Service Unavailable"
    message = "The message bus is not reachable."


class RemoteError(OneStackError):
    """The remote method raised: its exception's type, message and traceback, as text."""

    def __init__(self, exc_type: str, remote_message: str, remote_traceback: str = "") -> None:
        self.exc_type = exc_type
        self.remote_message = remote_message
        self.remote_traceback = remote_traceback
        super().__init__(f"{exc_type}: {remote_message}")


class RpcServerHandle(Protocol):
    def stop(self) -> None: ...


class Rpc(Protocol):
    def call(
        self, target: str, method: str, *, timeout_s: float | None = None, **kwargs: Any
    ) -> Any: ...

    def cast(self, target: str, method: str, **kwargs: Any) -> None: ...

    def serve(self, agent: str, endpoints: object, host: str | None = None) -> RpcServerHandle: ...

    def close(self) -> None: ...


def jsonable(value: Any) -> Any:
    """`value` as the other side sees it after JSON (tuples become lists, ...)."""
    return json.loads(json.dumps(value))


def dispatch(endpoints: object, method: str, args: dict[str, Any]) -> Reply:
    """Run `endpoints.<method>(**args)`; the reply carries the result or the failure."""
    try:
        if method.startswith("_") or not callable(getattr(endpoints, method, None)):
            raise AttributeError(f"{type(endpoints).__name__} has no method {method!r}")
        return {"result": getattr(endpoints, method)(**args)}
    except Exception as exc:
        return {"failure": failure(exc)}


def failure(exc: BaseException) -> dict[str, str]:
    kind = type(exc)
    return {
        "type": f"{kind.__module__}.{kind.__qualname__}",
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(exc)),
    }


def result_of(reply: Reply) -> Any:
    """The result in a reply, or its failure raised as `RemoteError`."""
    if "failure" in reply:
        found = reply["failure"]
        raise RemoteError(found["type"], found["message"], found.get("traceback", ""))
    return reply.get("result")


def topics(agent: str, host: str | None) -> tuple[str, str]:
    """The two topics an agent serves: any of its kind, and this host's."""
    return agent, f"{agent}.{host or socket.gethostname()}"


class LocalServer:
    """Serves one agent's endpoints in this process, on a small pool of threads."""

    def __init__(self, owner: LocalRpc, agent: str, endpoints: object, workers: int) -> None:
        self.owner = owner
        self.agent = agent
        self.endpoints = endpoints
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix=f"rpc-{agent}")

    def submit(self, method: str, args: dict[str, Any]) -> Future[Reply]:
        return self.pool.submit(lambda: jsonable(dispatch(self.endpoints, method, args)))

    def stop(self) -> None:
        self.owner.forget(self)
        self.pool.shutdown(wait=False, cancel_futures=True)


class LocalRpc:
    """The in-process `Rpc`: a registry of servers by topic, round-robin among equals."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._servers: dict[str, list[LocalServer]] = {}
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def serve(
        self, agent: str, endpoints: object, host: str | None = None, workers: int = 4
    ) -> LocalServer:
        server = LocalServer(self, agent, endpoints, workers)
        with self._lock:
            for topic in topics(agent, host):
                self._servers.setdefault(topic, []).append(server)
        return server

    def forget(self, server: LocalServer) -> None:
        with self._lock:
            for servers in self._servers.values():
                if server in servers:
                    servers.remove(server)

    def call(
        self, target: str, method: str, *, timeout_s: float | None = None, **kwargs: Any
    ) -> Any:
        timeout_s = timeout_s or self.timeout_s
        server = self._pick(target)
        if server is None:
            raise RpcTimeout(f"Nothing serves {target!r}; {method} was not answered.")
        future = server.submit(method, jsonable(kwargs))
        try:
            return result_of(future.result(timeout=timeout_s))
        except FutureTimeout:
            raise RpcTimeout(f"{target!r} did not answer {method} within {timeout_s} s.") from None

    def cast(self, target: str, method: str, **kwargs: Any) -> None:
        server = self._pick(target)
        if server is None:
            log.warning("cast %s to %s dropped: nothing serves it", method, target)
            return
        server.submit(method, jsonable(kwargs)).add_done_callback(_log_failure(target, method))

    def close(self) -> None:
        with self._lock:
            servers = {id(s): s for group in self._servers.values() for s in group}
        for server in servers.values():
            server.stop()

    def _pick(self, target: str) -> LocalServer | None:
        with self._lock:
            servers = self._servers.get(target) or []
            return servers[next(self._turn) % len(servers)] if servers else None


def _log_failure(target: str, method: str) -> Callable[[Future[Reply]], None]:
    """A cast has nobody to answer to: its failure is logged where it ran."""

    def done(future: Future[Reply]) -> None:
        if future.cancelled():
            return
        reply = future.result()
        if "failure" in reply:
            log.error("cast %s to %s failed: %s", method, target, reply["failure"]["message"])

    return done
