"""The compute agent of one host, assembled: its drivers (`[compute] driver`, "auto" = every
real one the host can run), a node per driver registered (service row, compute node, placement
provider), the image cache, the work runtime (`common.agent`) taking builds, power
actions and deletes, the console endpoint on RPC topic `compute-host.<host>`, and the periodic
power-state sync. `onestack up` runs it on its own threads; `onestack agent compute` alone."""

from __future__ import annotations

import logging

from onestack.common.agent import Agent, agent_kind
from onestack.common.ownership import Ownership
from onestack.common.rpc import BusUnavailable, Rpc, RpcServerHandle
from onestack.compute.drivers import make_drivers
from onestack.compute.manager import HOST_AGENT, ComputeHost, ComputeManager, PowerSync
from onestack.settings import Settings

NAME = "compute"
log = logging.getLogger("onestack.compute.agent")


class ConsoleEndpoints:
    """What the API may ask of a host's agent over RPC."""

    def __init__(self, host: ComputeHost) -> None:
        self._host = host

    def console_log(self, server_id: str, lines: int | None = None) -> str:
        return self._host.console_log(server_id, lines)


class ComputeAgent:
    def __init__(self, compute: ComputeManager, settings: Settings) -> None:
        drivers = make_drivers(settings.compute.driver, settings.compute, settings.state_dir)
        ownership = Ownership(compute.ownership.db, agent_kind(NAME), settings.agent.lease_s)
        cache = settings.compute.image_cache_dir or settings.state_dir / "compute" / "images"
        self.host = compute.host(drivers, ownership, cache)
        self.agent = Agent(
            NAME,
            ownership,
            self.host.handlers(),
            poll_s=settings.agent.poll_s,
            threads=settings.agent.threads,
        )
        self.sync = PowerSync(self.host, settings.compute.power_sync_s)
        self._console: RpcServerHandle | None = None

    def start(self, rpc: Rpc | None) -> None:
        self.host.register()
        if rpc is not None:
            try:
                self._console = rpc.serve(
                    HOST_AGENT, ConsoleEndpoints(self.host), host=self.host.host
                )
            except BusUnavailable:
                log.warning("console output is unavailable: the bus is not reachable")
        self.agent.start(rpc)
        self.sync.start()

    def stop(self) -> None:
        self.sync.stop()
        if self._console is not None:
            self._console.stop()
        self.agent.stop()
