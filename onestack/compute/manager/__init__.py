"""Compute's logic and its only writes: flavors, keypairs, servers (the API's side), nodes and
the host's agent side (`ComputeHost`), over one `ComputeDeps`. The facade `ComputeManager` is
the compute service's public Python interface."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from onestack.common.bus import LocalBus, Notifier
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.ownership import Ownership
from onestack.common.quota import Quotas
from onestack.common.rpc import BusUnavailable, RemoteError, Rpc, RpcTimeout
from onestack.compute import errors
from onestack.compute.drivers import ComputeDriver
from onestack.compute.manager.base import Caller, ComputeDeps
from onestack.compute.manager.flavors import FlavorManager, FlavorSpec
from onestack.compute.manager.host import ComputeHost, PowerSync
from onestack.compute.manager.imagecache import ImageCache
from onestack.compute.manager.keypairs import KeypairManager
from onestack.compute.manager.nodes import NodeManager
from onestack.compute.manager.peers import (
    BootSource,
    ImageFiles,
    ImageLookup,
    NetworkPeer,
    NoNetwork,
    NoPlacement,
    PlacementPeer,
)
from onestack.compute.manager.quota import ComputeQuotas
from onestack.compute.manager.requests import ServerRequest
from onestack.compute.manager.servers import WORK_KINDS, ServerManager, ServerQuery
from onestack.compute.models import Server
from onestack.settings import ComputeSettings

__all__ = [
    "BootSource",
    "Caller",
    "ComputeHost",
    "ComputeManager",
    "FlavorSpec",
    "NoNetwork",
    "NoPlacement",
    "PowerSync",
    "ServerQuery",
    "ServerRequest",
    "bootstrap_compute",
]

HOST_AGENT = "compute-host"  # the RPC topic a host's agent serves console output on


class ComputeManager:
    """The compute managers over one `ComputeDeps`; `network` and `placement` default to the
    stand-ins (no ports, every node a candidate) when the cloud runs without them."""

    def __init__(
        self,
        db: Database,
        settings: ComputeSettings,
        notifier: Notifier,
        images: ImageLookup,
        ownership: Ownership,
        network: NetworkPeer | None = None,
        placement: PlacementPeer | None = None,
        quotas: Quotas | None = None,
        rpc: Rpc | None = None,
    ) -> None:
        self.settings = settings
        self.ownership = ownership
        self.rpc = rpc
        self.deps = ComputeDeps(
            db,
            notifier,
            settings,
            ownership,
            images,
            network or NoNetwork(),
            placement or NoPlacement(db),
            quotas,
        )
        self.quotas = ComputeQuotas(db, quotas)
        self.flavors = FlavorManager(self.deps)
        self.keypairs = KeypairManager(self.deps)
        self.nodes = NodeManager(self.deps)
        self.servers = ServerManager(self.deps, self.flavors, self.keypairs, self.quotas)

    def host(
        self,
        drivers: ComputeDriver | Sequence[ComputeDriver],
        ownership: Ownership,
        image_cache_dir: Path | None = None,
    ) -> ComputeHost:
        """This host's agent side over its drivers (one node each); `ownership` is the agent
        as owner. With `image_cache_dir`, images are fetched there for drivers that read
        disks (the image service must then offer `fetch`, as `GlanceImages` does)."""
        listed = [drivers] if isinstance(drivers, ComputeDriver) else list(drivers)
        cache = None
        if image_cache_dir is not None and hasattr(self.deps.images, "fetch"):
            cache = ImageCache(image_cache_dir, cast(ImageFiles, self.deps.images))
        return ComputeHost(self.deps, listed, self.nodes, ownership, image_cache=cache)

    @staticmethod
    def work_kinds() -> tuple[str, ...]:
        return WORK_KINDS

    def console_output(self, server: Server, lines: int | None) -> str:
        """The guest's console tail, asked of its host's agent; 409 when it cannot answer."""
        if server.host is None or server.vm_state == "building":
            raise errors.InstanceInvalidState(
                "get_console_output", server.server_id, "vm_state", server.vm_state
            )
        if self.rpc is None:
            raise errors.ConsoleNotAvailable(server.server_id)
        try:
            output: Any = self.rpc.call(
                f"{HOST_AGENT}.{server.host}",
                "console_log",
                timeout_s=10,
                server_id=server.server_id,
                lines=lines,
            )
        except (RpcTimeout, RemoteError, BusUnavailable) as exc:
            raise errors.ConsoleNotAvailable(server.server_id) from exc
        return str(output)


def bootstrap_compute(db: Database, settings: ComputeSettings) -> None:
    """What a fresh cloud's compute has before anyone asks: DevStack's flavors."""
    deps = ComputeDeps(
        db,
        Notifier(LocalBus(), "compute"),
        settings,
        Ownership(db, "api"),
        _no_images,
        NoNetwork(),
        NoPlacement(db),
    )
    FlavorManager(deps).ensure_defaults()


def _no_images(ctx: RequestContext, image_id: str) -> BootSource | None:
    return None
