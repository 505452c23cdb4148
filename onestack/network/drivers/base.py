"""The dataplane contract: what the network agent asks of a host to make the API's records
real. The records come in as plain frozen dataclasses (never rows: drivers see no database).

Every method is idempotent (`ensure_*` / `remove_*`): the agent calls them again after a
crash or on reconcile, so a second call with the same argument changes nothing, and
`remove_*` of something absent is not an error. A method that fails raises `DataplaneError`
and leaves nothing half-made that a repeated call could not finish or remove.

The no-op driver (`noop.py`) does nothing on the host: ports become ACTIVE as soon as the
agent has run. The next slice adds `linuxbridge` (bridges and VXLAN in one dataplane
namespace, dnsmasq per subnet, a namespace per router with SNAT and floating IPs, security
groups as iptables chains, the metadata proxy), joining `DRIVERS` beside it.
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


@dataclass(frozen=True)
class Subnet:
    subnet_id: str
    network_id: str
    cidr: str
    gateway_ip: str | None
    enable_dhcp: bool
    dns_nameservers: tuple[str, ...] = ()


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


@dataclass(frozen=True)
class RouterSpec:
    router_id: str
    gateway_ips: tuple[str, ...] = ()
    enable_snat: bool = True
    interfaces: tuple[tuple[str, str, str], ...] = field(default=())  # (port, cidr, ip)


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
        segment is ensured first. After this returns the port may be reported ACTIVE."""

    @abstractmethod
    def unplug(self, port_id: str) -> None:
        """The port's device, filters and anything made for it are gone."""

    @abstractmethod
    def ensure_router(self, router: RouterSpec) -> None:
        """The router exists with exactly these gateway addresses and interfaces."""

    @abstractmethod
    def remove_router(self, router_id: str) -> None:
        """The router and its addresses are gone."""
