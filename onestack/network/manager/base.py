"""What the network managers share: dependencies, the caller, visibility, the clock, tags
and Neutron's notifications (`<resource>.<action>.end`, payload `{<resource>: body}`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.manager import Deps, Manager
from onestack.common.ownership import Ownership
from onestack.network import errors
from onestack.network.drivers import Dataplane
from onestack.network.models import Network, Tag
from onestack.settings import NetworkSettings


@dataclass
class Waker:
    """How a request wakes the network agent; set once the agent (or bus) is known."""

    wake: Callable[[], None] = field(default=lambda: None)


@dataclass(frozen=True)
class NetworkDeps(Deps):
    settings: NetworkSettings
    ownership: Ownership
    dataplane: Dataplane
    waker: Waker


class NetworkBase(Manager[NetworkDeps]):
    """Base of the network resource managers."""

    def __init__(self, deps: NetworkDeps) -> None:
        super().__init__(deps)
        self.settings = deps.settings

    def notify(self, caller: Caller | None, event: str, kind: str, body: dict[str, Any]) -> None:
        """`<kind>.<event>.end` after the commit, Neutron's payload shape."""
        payload: dict[str, Any] = {kind: body}
        if caller is not None:
            payload["initiator"] = caller.ctx.initiator()
        self.notifier.info(f"{kind}.{event}.end", payload)


@dataclass(frozen=True)
class Caller:
    """Who asks: their context, and whether policy makes them a network admin."""

    ctx: RequestContext
    is_admin: bool = False

    @property
    def project_id(self) -> str:
        return self.ctx.project_id or ""

    def owns(self, project_id: str) -> bool:
        return self.is_admin or project_id == self.project_id


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    """UTC now, naive, as every timestamp column holds it."""
    return datetime.now(UTC).replace(tzinfo=None)


def stamp(row: Any, **values: Any) -> None:
    """Apply `values` to a row and count a revision, as Neutron does on every update."""
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = now()
    row.revision_number = (row.revision_number or 0) + 1


def network_visible(caller: Caller, network: Network) -> bool:
    return caller.owns(network.project_id) or network.shared or network.external


def get_network(session: Session, caller: Caller | None, network_id: str) -> Network:
    """The network if the caller may see it (None: the service itself); 404 otherwise."""
    network = session.get(Network, network_id)
    if network is None or (caller is not None and not network_visible(caller, network)):
        raise errors.NetworkNotFound(network_id)
    return network


def tags_of(session: Session, resource_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {rid: [] for rid in resource_ids}
    if not resource_ids:
        return found
    rows = session.execute(
        select(Tag.resource_id, Tag.tag).where(Tag.resource_id.in_(resource_ids)).order_by(Tag.tag)
    )
    for resource_id, tag in rows:
        found[resource_id].append(tag)
    return found


def set_tags(session: Session, resource_id: str, tags: list[str]) -> None:
    session.execute(delete(Tag).where(Tag.resource_id == resource_id))
    for tag in sorted(set(tags)):
        session.add(Tag(resource_id=resource_id, tag=tag))


def drop_tags(session: Session, resource_id: str) -> None:
    session.execute(delete(Tag).where(Tag.resource_id == resource_id))


def standard(row: Any, tags: list[str]) -> dict[str, Any]:
    """The standard attributes and both names of the owner."""
    return {
        "project_id": row.project_id,
        "tenant_id": row.project_id,
        "description": row.description,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "revision_number": row.revision_number,
        "tags": tags,
    }


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def owner_for(caller: Caller, body: dict[str, Any]) -> str:
    """The project a new resource belongs to: the caller's, or (admins only) the one named
    by `project_id`/`tenant_id`; both named must agree."""
    named = {body.get("project_id"), body.get("tenant_id")} - {None}
    if len(named) > 1:
        raise errors.InvalidInput("project_id and tenant_id do not match.")
    if not named:
        return caller.project_id
    project_id = str(named.pop())
    if project_id != caller.project_id and not caller.is_admin:
        raise errors.PolicyNotAuthorized(
            "Only an administrator may create a resource for another project."
        )
    return project_id


class Race(errors.Conflict):
    """A concurrent request took the value this one picked (an address, a MAC, a VXLAN id);
    the write is retried with a fresh pick, and this is the 409 when every retry lost."""

    message = "A concurrent request took the same resource; please retry."


def retrying(attempts: int, write: Callable[[], Any]) -> Any:
    """Run `write` (a whole transaction) again while it loses a race on a unique index."""
    for attempt in range(attempts):
        try:
            return write()
        except Race:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
