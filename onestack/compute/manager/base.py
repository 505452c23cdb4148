"""What every compute manager shares: `ComputeDeps`, the caller, and Nova's notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from onestack.common.context import RequestContext
from onestack.common.manager import Deps, Manager
from onestack.common.ownership import Ownership
from onestack.common.quota import Quotas
from onestack.compute.manager.peers import ImageLookup, NetworkPeer, PlacementPeer
from onestack.settings import ComputeSettings


@dataclass(frozen=True)
class ComputeDeps(Deps):
    settings: ComputeSettings
    ownership: Ownership
    images: ImageLookup
    network: NetworkPeer
    placement: PlacementPeer
    quotas: Quotas | None = None


@dataclass(frozen=True)
class Caller:
    """The validated caller and whether policy makes them a compute admin."""

    ctx: RequestContext
    is_admin: bool

    @property
    def project_id(self) -> str:
        return self.ctx.project_id or ""

    @property
    def user_id(self) -> str:
        return self.ctx.user_id


class ComputeBase(Manager[ComputeDeps]):
    def __init__(self, deps: ComputeDeps) -> None:
        super().__init__(deps)
        self.settings = deps.settings

    def notify(self, ctx: RequestContext | None, event: str, payload: dict[str, Any]) -> None:
        """`compute.<event>`, with the caller as initiator when there is one."""
        body = dict(payload)
        if ctx is not None:
            body.setdefault("initiator", ctx.initiator())
        self.notifier.info(f"compute.{event}", body)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
