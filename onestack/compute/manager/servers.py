"""Servers as the API sees them: create (validate, write, queue the build), list, show, update,
delete and power actions. The long work is queued for the compute agent (`manager.build`) in
the transaction that writes the state change, so nothing is left half-done by a dead process.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.ownership import WorkRow
from onestack.common.quota import OverQuota
from onestack.compute import errors
from onestack.compute.manager import requests as checks
from onestack.compute.manager import states
from onestack.compute.manager.base import Caller, ComputeBase, ComputeDeps, now
from onestack.compute.manager.flavors import FlavorManager
from onestack.compute.manager.keypairs import KeypairManager
from onestack.compute.manager.quota import ComputeQuotas
from onestack.compute.manager.requests import ServerRequest
from onestack.compute.models import Flavor, Server

BUILD, POWER, DELETE = "compute.build", "compute.power", "compute.delete"
WORK_KINDS = (BUILD, POWER, DELETE)


@dataclass(frozen=True)
class ServerQuery:
    """The listing's filters, as the API parsed them."""

    all_projects: bool = False
    project_id: str | None = None
    name: str | None = None
    status: str | None = None
    image: str | None = None
    flavor: str | None = None
    ip: str | None = None
    changes_since: datetime | None = None
    reservation_id: str | None = None
    deleted: bool = False
    limit: int | None = None
    marker: str | None = None


@dataclass(frozen=True)
class Created:
    servers: list[Server]
    admin_password: str
    reservation_id: str


class ServerManager(ComputeBase):
    def __init__(
        self,
        deps: ComputeDeps,
        flavors: FlavorManager,
        keypairs: KeypairManager,
        quotas: ComputeQuotas,
    ) -> None:
        super().__init__(deps)
        self.flavors = flavors
        self.keypairs = keypairs
        self.quotas = quotas
        self.images = deps.images
        self.network = deps.network
        self.ownership = deps.ownership
        self.wake_agent: Callable[[], None] = lambda: None

    # -- reads ---------------------------------------------------------------------------

    def get(self, caller: Caller, server_id: str) -> Server:
        """The server if the caller's project owns it (any project's for an admin); 404."""
        with self.db.reader() as session:
            server = session.get(Server, server_id)
        if server is None or server.deleted or not _visible(caller, server):
            raise errors.InstanceNotFound(server_id)
        return server

    def list(self, caller: Caller, query: ServerQuery) -> list[Server]:
        """Newest first; filtered, then paged after `marker`."""
        stmt = select(Server).order_by(Server.created_at.desc(), Server.server_id.desc())
        if not (caller.is_admin and query.all_projects):
            stmt = stmt.where(Server.project_id == caller.project_id)
        elif query.project_id:
            stmt = stmt.where(Server.project_id == query.project_id)
        if not (query.deleted and caller.is_admin) and query.changes_since is None:
            stmt = stmt.where(Server.deleted.is_(False))
        with self.db.reader() as session:
            rows = [row for row in session.scalars(stmt) if self._matches(row, query)]
        if query.ip is not None:
            rows = self._with_ip(rows, query.ip)
        return _page(rows, query.marker, query.limit)

    def _matches(self, server: Server, query: ServerQuery) -> bool:
        if query.name is not None and not _regex_search(query.name, server.name):
            return False
        if query.status is not None and server.vm_state not in states.vm_state_of(query.status):
            return False
        if query.image is not None and server.image_id != query.image:
            return False
        if query.flavor is not None and server.flavor.get("id") != query.flavor:
            return False
        if query.reservation_id is not None and server.reservation_id != query.reservation_id:
            return False
        return query.changes_since is None or server.updated_at >= query.changes_since

    def _with_ip(self, rows: list[Server], pattern: str) -> list[Server]:
        addresses = self.network.addresses_for([row.server_id for row in rows])
        return [
            row
            for row in rows
            if any(
                _regex_search(pattern, entry["addr"])
                for entries in addresses.get(row.server_id, {}).values()
                for entry in entries
            )
        ]

    def addresses(self, servers: list[Server]) -> dict[str, dict[str, list[dict[str, Any]]]]:
        return self.network.addresses_for([server.server_id for server in servers])

    def ports(self, server: Server) -> list[dict[str, Any]]:
        return self.network.ports_of(server.server_id)

    # -- create --------------------------------------------------------------------------

    def create(self, caller: Caller, request: ServerRequest) -> Created:
        """Validate everything, then write the servers and their queued builds together."""
        _check_metadata(request.metadata)
        image = checks.boot_source(self.images, caller, request.image_id)
        try:
            flavor = self.flavors.get(caller, request.flavor_id)
        except errors.FlavorNotFound as exc:
            raise errors.InvalidInput("Invalid flavorRef provided.") from exc
        checks.check_fits(flavor, image)
        keypair = self.keypairs.find(caller.user_id, request.key_name) if request.key_name else None
        checks.check_keypair(keypair, request.key_name)
        self._check_zone(request.availability_zone)
        _check_user_data(request.user_data, self.settings.max_user_data_bytes)
        checks.check_networks(self.network, caller, request.networks)
        count = self._count_within_quota(caller, flavor, request)
        password = secrets.token_urlsafe(9)
        reservation = f"r-{secrets.token_hex(4)}"
        detail = {"image": asdict(image)}
        with self.writing() as session:
            servers = [
                self._add(session, caller, request, flavor, keypair, reservation, index, detail)
                for index in range(count)
            ]
        self.wake_agent()
        for server in servers:
            self.notify(caller.ctx, "instance.create.start", payload(server))
        return Created(servers, password, reservation)

    def _check_zone(self, zone: str | None) -> None:
        if zone not in (None, "", self.settings.availability_zone):
            raise errors.InvalidInput("The requested availability zone is not available")

    def _count_within_quota(self, caller: Caller, flavor: Flavor, request: ServerRequest) -> int:
        """max_count if it fits, else the most that fits down to min_count (Nova's rule)."""
        for count in range(request.max_count, request.min_count - 1, -1):
            try:
                self.quotas.claim(caller.project_id, flavor, count)
                return count
            except OverQuota as exc:
                last = exc
        raise errors.QuotaExceeded(self.quotas.message(last))

    def _add(
        self,
        session: Session,
        caller: Caller,
        request: ServerRequest,
        flavor: Flavor,
        keypair: Any,
        reservation: str,
        index: int,
        detail: dict[str, Any],
    ) -> Server:
        server_id = str(uuid.uuid4())
        multiple = request.max_count > 1
        name = f"{request.name}-{index + 1}" if multiple else request.name
        moment = now()
        server = Server(
            server_id=server_id,
            name=name,
            project_id=caller.project_id,
            user_id=caller.user_id,
            image_id=request.image_id,
            flavor=flavor_copy(flavor),
            key_name=request.key_name,
            key_data=keypair.public_key if keypair is not None else None,
            user_data=request.user_data,
            server_metadata=dict(request.metadata),
            security_groups=list(request.security_groups),
            requested_networks=request.networks,
            availability_zone=request.availability_zone or self.settings.availability_zone,
            config_drive=request.config_drive,
            hostname=_hostname(request.hostname or name),
            description=request.description,
            access_ipv4=request.access_ipv4,
            access_ipv6=request.access_ipv6,
            reservation_id=reservation,
            launch_index=index,
            vm_state=states.BUILDING,
            task_state="scheduling",
            power_state=0,
            progress=0,
            locked=False,
            deleted=False,
            created_at=moment,
            updated_at=moment,
        )
        session.add(server)
        self.ownership.enqueue(session, BUILD, server_id, detail)
        return server

    # -- update, delete, actions ----------------------------------------------------------

    def update(self, caller: Caller, server_id: str, changes: dict[str, Any]) -> Server:
        with self.writing() as session:
            server = _locked(session, caller, server_id)
            for name, value in changes.items():
                setattr(server, name, value)
            if "name" in changes and "hostname" not in changes:
                server.hostname = _hostname(changes["name"])
            server.updated_at = now()
        self.notify(caller.ctx, "instance.update", payload(server))
        return server

    def delete(self, caller: Caller, server_id: str) -> None:
        """Mark the server deleting; the agent tears it down (a build or action running now
        hands it over when it reaches its next step)."""
        with self.writing() as session:
            server = _locked(session, caller, server_id)
            if server.task_state == "deleting":
                return
            server.task_state = "deleting"
            server.updated_at = now()
            if not _work_held(session, server_id):
                self.ownership.enqueue(session, DELETE, server_id)
        self.wake_agent()
        self.notify(caller.ctx, "instance.delete.start", payload(server))

    def act(self, caller: Caller, server_id: str, action: str) -> Server:
        """Start a power action (`states.ACTIONS` key): 409 unless the state allows it."""
        spec = states.ACTIONS[action]
        with self.writing() as session:
            server = _locked(session, caller, server_id)
            states.check(spec, server)
            server.task_state = spec.task_state
            server.updated_at = now()
            self.ownership.enqueue(session, POWER, server_id, {"action": action})
        self.wake_agent()
        self.notify(caller.ctx, f"instance.{spec.event}.start", payload(server))
        return server


def _locked(session: Session, caller: Caller, server_id: str) -> Server:
    server = session.scalar(select(Server).where(Server.server_id == server_id).with_for_update())
    if server is None or server.deleted or not _visible(caller, server):
        raise errors.InstanceNotFound(server_id)
    return server


def _work_held(session: Session, server_id: str) -> bool:
    ids = [f"{kind}:{server_id}" for kind in WORK_KINDS]
    return session.scalar(select(WorkRow.work_id).where(WorkRow.work_id.in_(ids))) is not None


def _visible(caller: Caller, server: Server) -> bool:
    return caller.is_admin or server.project_id == caller.project_id


def _page(rows: list[Server], marker: str | None, limit: int | None) -> list[Server]:
    if marker is not None:
        ids = [row.server_id for row in rows]
        if marker not in ids:
            raise errors.InvalidInput(f"marker [{marker}] not found")
        rows = rows[ids.index(marker) + 1 :]
    return rows if limit is None else rows[:limit]


def _regex_search(pattern: str, value: str) -> bool:
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return pattern in value


def _hostname(name: str) -> str:
    """A DNS label from a server name, as Nova sanitizes display names."""
    label = re.sub(r"[^\w.-]+", "-", name.lower().replace("_", "-")).strip(".-")
    return label[:63].strip(".-") or "server"


MAX_METADATA_ITEMS = 128


def _check_metadata(metadata: dict[str, str]) -> None:
    """Nova's metadata_items quota: a 403 past 128 items."""
    if len(metadata) > MAX_METADATA_ITEMS:
        raise errors.QuotaExceeded(
            f"Quota exceeded for metadata_items: Requested {len(metadata)}, but already used 0 "
            f"of {MAX_METADATA_ITEMS} metadata_items"
        )


def _check_user_data(user_data: str | None, max_bytes: int) -> None:
    if user_data is None:
        return
    if len(user_data) > max_bytes:
        raise errors.InvalidInput(
            f"User data too large. User data must be no larger than {max_bytes} bytes "
            "once base64 encoded."
        )
    try:
        base64.b64decode(user_data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise errors.InvalidInput("User data needs to be valid base 64.") from exc


def flavor_copy(flavor: Flavor) -> dict[str, Any]:
    return {
        "id": flavor.flavor_id,
        "name": flavor.name,
        "memory_mb": flavor.memory_mb,
        "vcpus": flavor.vcpus,
        "root_gb": flavor.root_gb,
        "ephemeral_gb": flavor.ephemeral_gb,
        "swap": flavor.swap,
        "extra_specs": {spec.key: spec.value for spec in flavor.extra_specs},
    }


def payload(server: Server) -> dict[str, Any]:
    """The instance payload of compute.instance.* notifications (Nova's legacy fields)."""
    return {
        "instance_id": server.server_id,
        "display_name": server.name,
        "tenant_id": server.project_id,
        "user_id": server.user_id,
        "image_ref_url": server.image_id,
        "instance_type": server.flavor.get("name"),
        "instance_type_id": server.flavor.get("id"),
        "memory_mb": server.flavor.get("memory_mb"),
        "vcpus": server.flavor.get("vcpus"),
        "root_gb": server.flavor.get("root_gb"),
        "host": server.host,
        "state": server.vm_state,
        "state_description": server.task_state or "",
        "availability_zone": server.availability_zone,
        "created_at": server.created_at.isoformat(),
    }
