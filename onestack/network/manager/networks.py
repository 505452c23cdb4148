"""Networks: provider attributes, VXLAN id allocation, visibility and deletion rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.network import errors
from onestack.network.manager import views
from onestack.network.manager.base import (
    Caller,
    NetworkBase,
    Race,
    drop_tags,
    get_network,
    network_visible,
    new_id,
    now,
    owner_for,
    retrying,
    stamp,
    tags_of,
)
from onestack.network.manager.quota import NetworkQuotas
from onestack.network.models import FloatingIp, IpAllocation, Network, Port, Subnet

NETWORK_TYPES = ("flat", "vxlan", "local")
MTU = {"vxlan": 1450, "flat": 1500, "local": 1500}
# Ports deleted with their network (its DHCP ports, and its floating IPs with theirs, as
# Neutron does); any other port keeps the network from being deleted.
OWN_PORTS = ("network:dhcp", "network:floatingip")


def render(session: Session, rows: list[Network]) -> list[dict[str, Any]]:
    ids = [n.network_id for n in rows]
    subnets: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        query = select(Subnet.network_id, Subnet.subnet_id).where(Subnet.network_id.in_(ids))
        for network_id, subnet_id in session.execute(query.order_by(Subnet.created_at)):
            subnets[network_id].append(subnet_id)
    tags = tags_of(session, ids)
    return [views.network(n, subnets[n.network_id], tags[n.network_id]) for n in rows]


class NetworkRecords(NetworkBase):
    def __init__(self, deps: Any, quotas: NetworkQuotas) -> None:
        super().__init__(deps)
        self.quotas = quotas

    def list(self, caller: Caller) -> list[dict[str, Any]]:
        with self.db.reader() as session:
            rows = [n for n in session.scalars(select(Network)) if network_visible(caller, n)]
            return render(session, rows)

    def get(self, caller: Caller | None, network_id: str) -> dict[str, Any]:
        with self.db.reader() as session:
            return render(session, [get_network(session, caller, network_id)])[0]

    def create(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        project_id = owner_for(caller, body)
        self.quotas.claim(project_id, "network")
        segment = self._segment_asked(body)
        network_id = new_id()

        def write() -> dict[str, Any]:
            with self.writing(Race()) as session:
                network_type, physnet, seg_id = self._segment(session, *segment)
                mtu = self._mtu(network_type, body.get("mtu"))
                moment = now()
                row = Network(
                    network_id=network_id,
                    project_id=project_id,
                    name=body.get("name") or "",
                    description=body.get("description") or "",
                    admin_state_up=body.get("admin_state_up", True),
                    shared=bool(body.get("shared", False)),
                    external=bool(body.get("router:external", False)),
                    network_type=network_type,
                    physical_network=physnet,
                    segmentation_id=seg_id,
                    mtu=mtu,
                    status="ACTIVE",
                    created_at=moment,
                    updated_at=moment,
                    revision_number=1,
                )
                session.add(row)
                session.flush()
                return render(session, [row])[0]

        created = retrying(8, write)
        self.quotas.recheck(project_id, "network", lambda: self._undo(network_id))
        self.notify(caller, "create", "network", created)
        return created

    def _segment_asked(self, body: dict[str, Any]) -> tuple[str, str | None, int | None]:
        network_type = body.get("provider:network_type") or "vxlan"
        if network_type not in NETWORK_TYPES:
            raise errors.InvalidInput(
                f"network_type value '{network_type}' not supported; "
                f"one of {', '.join(NETWORK_TYPES)}."
            )
        physnet = body.get("provider:physical_network")
        seg_id = body.get("provider:segmentation_id")
        if network_type == "flat":
            if seg_id is not None:
                raise errors.InvalidInput(
                    "segmentation_id is not allowed for flat provider network."
                )
            physnet = physnet or "public"
        elif physnet is not None:
            raise errors.InvalidInput(
                f"physical_network is not allowed for {network_type} provider network."
            )
        if network_type == "local" and seg_id is not None:
            raise errors.InvalidInput("segmentation_id is not allowed for local provider network.")
        if network_type == "vxlan" and seg_id is not None and not 1 <= seg_id <= 16_777_215:
            raise errors.InvalidInput(f"VXLAN segmentation_id {seg_id} is out of range.")
        return network_type, physnet, seg_id

    def _segment(
        self, session: Session, network_type: str, physnet: str | None, seg_id: int | None
    ) -> tuple[str, str | None, int | None]:
        if network_type == "flat":
            taken = session.scalar(
                select(Network.network_id).where(
                    Network.network_type == "flat", Network.physical_network == physnet
                )
            )
            if taken is not None:
                raise errors.FlatNetworkInUse(physnet or "")
        if network_type == "vxlan":
            seg_id = self._vxlan_id(session, seg_id)
        return network_type, physnet, seg_id

    def _vxlan_id(self, session: Session, asked: int | None) -> int:
        used = set(
            session.scalars(select(Network.segmentation_id).where(Network.network_type == "vxlan"))
        )
        if asked is not None:
            if asked in used:
                raise errors.TunnelIdInUse(asked)
            return asked
        low, high = self.settings.vxlan_id_min, self.settings.vxlan_id_max
        for candidate in range(low, high + 1):
            if candidate not in used:
                return candidate  # a concurrent create taking it too loses on the index
        raise errors.NoNetworkAvailable()

    def _mtu(self, network_type: str, asked: Any) -> int:
        biggest = MTU[network_type]
        if asked is None:
            return biggest
        if not 68 <= asked <= biggest:
            raise errors.InvalidInput(
                f"Requested MTU {asked} is out of range (68-{biggest}) for {network_type}."
            )
        return int(asked)

    def _undo(self, network_id: str) -> None:
        with self.writing() as session:
            row = session.get(Network, network_id)
            if row is not None:
                session.delete(row)

    def update(self, caller: Caller, network_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        with self.writing() as session:
            row = self._owned(session, caller, network_id)
            if any(key.startswith("provider:") for key in changes):
                raise errors.InvalidInput("Plugin does not support updating provider attributes.")
            values = {
                {"router:external": "external"}.get(key, key): value
                for key, value in changes.items()
                if key in ("name", "description", "admin_state_up", "shared", "router:external")
            }
            if "mtu" in changes:
                values["mtu"] = self._mtu(row.network_type, changes["mtu"])
            stamp(row, **values)
            session.flush()
            updated = render(session, [row])[0]
        self.notify(caller, "update", "network", updated)
        return updated

    def delete(self, caller: Caller, network_id: str) -> None:
        with self.writing() as session:
            row = self._owned(session, caller, network_id)
            body = render(session, [row])[0]
            in_use = session.scalar(
                select(func.count())
                .select_from(Port)
                .where(Port.network_id == network_id, Port.device_owner.not_in(OWN_PORTS))
            )
            if in_use:
                raise errors.NetworkInUse(network_id)
            floating = select(FloatingIp).where(FloatingIp.floating_network_id == network_id)
            for fip in session.scalars(floating):
                drop_tags(session, fip.floating_ip_id)
                session.delete(fip)
            session.flush()
            for port in session.scalars(select(Port).where(Port.network_id == network_id)):
                session.delete(port)
            session.flush()
            session.execute(
                IpAllocation.__table__.delete().where(IpAllocation.network_id == network_id)
            )
            for subnet in session.scalars(select(Subnet).where(Subnet.network_id == network_id)):
                drop_tags(session, subnet.subnet_id)
                session.delete(subnet)
            drop_tags(session, network_id)
            session.delete(row)
        self.notify(caller, "delete", "network", body)

    def _owned(self, session: Session, caller: Caller, network_id: str) -> Network:
        """The network for a change: 404 if invisible, 403 if visible but someone else's."""
        row = get_network(session, caller, network_id)
        if not caller.owns(row.project_id):
            raise errors.PolicyNotAuthorized(f"You are not allowed to change network {network_id}.")
        return row
