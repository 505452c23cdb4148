"""DHCP for plugged ports: on a dataplane that carries traffic, each network with DHCP-enabled
IPv4 subnets gets one DHCP port (device_owner `network:dhcp`, an address from IPAM in each such
subnet, as Neutron's DHCP agent makes) and `ensure_dhcp` with a host entry per port of the
network, so guests get their fixed IP. The network agent syncs a network after each plug of
one of its ports, reading every port then, so the last sync has read the last plug; syncs of
one network run one at a time (the DHCP port is made once)."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.network.drivers import DhcpHost, DhcpSpec, Segment
from onestack.network.drivers import Subnet as SubnetSpec
from onestack.network.manager.base import NetworkBase, NetworkDeps
from onestack.network.manager.ports import DHCP as DHCP_OWNER
from onestack.network.manager.ports import PortRecords
from onestack.network.models import IpAllocation, Network, Port, Subnet


class DhcpSync(NetworkBase):
    def __init__(self, deps: NetworkDeps, ports: PortRecords) -> None:
        super().__init__(deps)
        self.ports = ports
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def sync(self, network_id: str) -> None:
        """The network's DHCP server answers its ports now (removed when it has no DHCP)."""
        if not self.deps.dataplane.carries_traffic:
            return  # nothing would answer: no DHCP port either
        with self._lock(network_id):
            with self.db.reader() as session:
                network = session.get(Network, network_id)
                subnets = _dhcp_subnets(session, network_id)
            if network is None:
                return
            if not subnets:
                self.deps.dataplane.remove_dhcp(network_id)
                return
            self._ensure_port(network, subnets)
            self.deps.dataplane.ensure_dhcp(self._spec(network, subnets))

    def _ensure_port(self, network: Network, subnets: list[Subnet]) -> None:
        """The network's DHCP port, with an address in every DHCP-enabled subnet."""
        with self.db.reader() as session:
            port = _dhcp_port(session, network.network_id)
            held = {a.subnet_id for a in port.fixed_ips} if port is not None else set()
        wanted = [s.subnet_id for s in subnets]
        if port is not None and set(wanted) <= held:
            return
        if port is not None:  # a subnet was added: the port gets an address there too
            kept = [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in port.fixed_ips]
            fixed = kept + [{"subnet_id": s} for s in wanted if s not in held]
            self.ports.update(None, port.port_id, {"fixed_ips": fixed})
            return
        body = {
            "network_id": network.network_id,
            "device_owner": DHCP_OWNER,
            "device_id": f"dhcp-{network.network_id}",
            "fixed_ips": [{"subnet_id": s} for s in wanted],
        }
        self.ports.create(None, body, project_id=network.project_id)

    def _spec(self, network: Network, subnets: list[Subnet]) -> DhcpSpec:
        ids = {s.subnet_id for s in subnets}
        with self.db.reader() as session:
            ports = list(session.scalars(select(Port).where(Port.network_id == network.network_id)))
        server_ips: list[tuple[str, str]] = []
        hosts: list[DhcpHost] = []
        for port in ports:
            for address in port.fixed_ips:
                if address.subnet_id not in ids:
                    continue
                if port.device_owner == DHCP_OWNER:
                    server_ips.append((address.subnet_id, address.ip_address))
                else:
                    hosts.append(DhcpHost(port.mac_address, address.ip_address, _name(address)))
        return DhcpSpec(
            segment=Segment(
                network_id=network.network_id,
                network_type=network.network_type,
                physical_network=network.physical_network,
                segmentation_id=network.segmentation_id,
                mtu=network.mtu,
            ),
            subnets=tuple(_subnet_spec(s) for s in subnets),
            server_ips=tuple(sorted(server_ips)),
            hosts=tuple(sorted(hosts, key=lambda h: h.ip_address)),
        )

    def _lock(self, network_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(network_id, threading.Lock())


def _dhcp_subnets(session: Session, network_id: str) -> list[Subnet]:
    query = (
        select(Subnet)
        .where(Subnet.network_id == network_id, Subnet.ip_version == 4, Subnet.enable_dhcp)
        .order_by(Subnet.created_at)
    )
    return list(session.scalars(query))


def _dhcp_port(session: Session, network_id: str) -> Port | None:
    query = select(Port).where(Port.network_id == network_id, Port.device_owner == DHCP_OWNER)
    return session.scalars(query).first()


def _subnet_spec(row: Subnet) -> SubnetSpec:
    return SubnetSpec(
        subnet_id=row.subnet_id,
        network_id=row.network_id,
        cidr=row.cidr,
        gateway_ip=row.gateway_ip,
        enable_dhcp=row.enable_dhcp,
        dns_nameservers=tuple(row.dns_nameservers or ()),
    )


def _name(address: IpAllocation) -> str:
    """Neutron's DNS-less host name for an address: host-10-0-0-5."""
    return "host-" + address.ip_address.replace(".", "-")
