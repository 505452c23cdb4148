"""A tiny agent for the RPC tests: `python -m tests.functional.rpc_agent URL EXCHANGE AGENT HOST`
serves `Endpoints` over AMQP, prints `ready` once its queues are bound, stops on SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading

from onestack.common.rpc_amqp import RpcServer


class Endpoints:
    def __init__(self, host: str) -> None:
        self.host = host
        self.remembered: list[object] = []

    def add(self, a: int, b: int) -> int:
        return a + b

    def whoami(self) -> str:
        return self.host

    def fail(self, reason: str) -> None:
        raise ValueError(reason)

    def remember(self, value: object) -> None:
        self.remembered.append(value)

    def recall(self) -> list[object]:
        return self.remembered


def main(url: str, exchange: str, agent: str, host: str) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = RpcServer(url, agent, Endpoints(host), host=host, exchange=exchange).start()
    print("ready", flush=True)
    stop.wait()
    server.stop()


if __name__ == "__main__":
    main(*sys.argv[1:5])
