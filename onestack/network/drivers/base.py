"""The dataplane contract: what the network agent asks of a host to make the API's records
real. The records come in as plain frozen dataclasses (never rows: drivers see no database).

Every method is idempotent (`ensure_*` / `remove_*`): the agent calls them again after a
crash or on reconcile, so a second call with the same argument changes nothing, and
`remove_*` of something absent is not an error. A method that fails raises `DataplaneError`
and leaves nothing half-made that a repeated call could not finish or remove.

The no-op driver (`noop.py`) does nothing on the host: ports become ACTIVE as soon as the
agent has run. `linuxbridge.py` is the real one (bridges and VXLAN in one dataplane
namespace, dnsmasq per network, a namespace per router with SNAT and floating IPs, security
groups as iptables chains, the metadata proxy).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from onestack.settings import NetworkSettings


class DataplaneError(Exception):
    """The host refused a change; the message says which and why."""


@dataclass(frozen=True)
class Segment:
    """A network as the host sees it."""

    network_id: str
    network_type: str  # flat | vxlan | local
    physical_network: str | None
    segmentation_id: int | None
    mtu: int
    # On the external network only: the gateway address with its prefix ("172.24.4.1/24"),
    # put on a link in the host's own namespace so the host reaches floating IPs.
    host_address: str | None = None


@dataclass(frozen=True)
class Subnet:
    subnet_id: str
    network_id: str
    cidr: str
    gateway_ip: str | None
    enable_dhcp: bool
    dns_nameservers: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecurityRule:
    """One security group rule as the host applies it. `remote` None means from (or to)
    anywhere; a tuple lists the only prefixes allowed (a remote group expanded to its members'
    addresses by the manager; empty matches nothing)."""

    direction: str  # ingress | egress
    protocol: str | None = None  # None = any; tcp | udp | icmp | a number
    port_range_min: int | None = None
    port_range_max: int | None = None
    remote: tuple[str, ...] | None = None
    ethertype: str = "IPv4"


@dataclass(frozen=True)
class DhcpHost:
    """A port that dnsmasq answers: its MAC, address and host name."""

    mac_address: str
    ip_address: str
    hostname: str


@dataclass(frozen=True)
class DhcpSpec:
    """What a network's DHCP server serves: its DHCP-enabled subnets, the address the server
    holds in each (the network's DHCP port, `(subnet_id, ip)`), and one entry per port."""

    segment: Segment
    subnets: tuple[Subnet, ...]
    server_ips: tuple[tuple[str, str], ...]
    hosts: tuple[DhcpHost, ...] = ()
    # Serve the metadata proxy at 169.254.169.254 from the DHCP namespace.
    metadata: bool = True


@dataclass(frozen=True)
class RouterLeg:
    """A router port on a network: the router holds `ip` (with `cidr`'s prefix) on its bridge."""

    port_id: str
    network_id: str
    cidr: str
    ip: str


@dataclass(frozen=True)
class FloatingIp:
    floating_ip: str
    fixed_ip: str


@dataclass(frozen=True)
class Vif:
    """A port to plug: its network, addresses and the names the compute driver will use."""

    port_id: str
    segment: Segment
    mac_address: str
    fixed_ips: tuple[tuple[str, str], ...]  # (subnet_id, ip_address)
    device_owner: str
    devname: str
    bridge_name: str
    security_group_ids: tuple[str, ...] = ()
    port_security_enabled: bool = True
    # The rules of all its security groups together (remote groups already expanded).
    security_rules: tuple[SecurityRule, ...] = ()


@dataclass(frozen=True)
class RouterSpec:
    router_id: str
    gateway_ips: tuple[str, ...] = ()
    enable_snat: bool = True
    interfaces: tuple[tuple[str, str, str], ...] = field(default=())  # (port, cidr, ip)
    # What a real dataplane needs beyond the above: the legs with their networks, the
    # external leg (its cidr is the external subnet's; `external_gateway` is that subnet's
    # gateway, the next hop), and the floating IPs to translate.
    legs: tuple[RouterLeg, ...] = ()
    external: RouterLeg | None = None
    external_gateway: str | None = None
    floating_ips: tuple[FloatingIp, ...] = ()


class Dataplane(ABC):
    """One host's dataplane. `name` is the key in `DRIVERS`."""

    name: str = ""
    # Capabilities: whether a plugged port carries traffic on this host.
    carries_traffic: bool = False

    @classmethod
    def from_settings(cls, settings: NetworkSettings) -> Dataplane:
        return cls()

    @abstractmethod
    def ensure_segment(self, segment: Segment) -> None:
        """The network's bridge (and VXLAN device) exists on this host."""

    @abstractmethod
    def remove_segment(self, network_id: str) -> None:
        """The network's bridge and everything on it are gone from this host."""

    @abstractmethod
    def plug(self, vif: Vif) -> None:
        """The port is wired to its segment's bridge with its security groups applied; the
        segment is ensured first. After this returns the port may be reported ACTIVE. Called
        again with other `security_rules` it replaces the port's filters; the device itself
        (`devname`, `tap<port_id[:11]>`) is the compute driver's, and may come after."""

    @abstractmethod
    def unplug(self, port_id: str) -> None:
        """The port's device, filters and anything made for it are gone."""

    @abstractmethod
    def ensure_router(self, router: RouterSpec) -> None:
        """The router exists with exactly these gateway addresses and interfaces (and, for a
        driver that carries traffic, exactly these `legs`, `external` leg and floating IPs,
        with SNAT when `enable_snat`). The segments of its legs are ensured first by the
        caller; a leg on a network this host has no bridge for raises `DataplaneError`."""

    @abstractmethod
    def remove_router(self, router_id: str) -> None:
        """The router and its addresses are gone."""

    @abstractmethod
    def ensure_dhcp(self, spec: DhcpSpec) -> None:
        """The network's DHCP server runs (segment ensured first) and answers exactly
        `spec.hosts` on its subnets, with the gateway as router and the segment's MTU; with
        `spec.metadata` the metadata proxy answers at 169.254.169.254 on the network. A change
        of hosts or options reaches the running server without a restart. A spec with no
        subnet is the same as `remove_dhcp`."""

    @abstractmethod
    def remove_dhcp(self, network_id: str) -> None:
        """The network's DHCP server, metadata proxy, namespace and files are gone."""

    def host_inventory(self) -> dict[str, list[str]]:
        """Everything of ours on this host, by kind (namespaces, links, chains, processes,
        files): what `host_clean` removes and what tests count before and after."""
        return {}

    def host_clean(self) -> None:  # noqa: B027 - a driver that makes nothing cleans nothing
        """Remove everything `host_inventory` lists, and nothing else."""
