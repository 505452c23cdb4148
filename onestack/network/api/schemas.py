"""The request bodies of the network API, as pydantic models with Neutron's attribute
names (aliases where a name has a colon). Unknown attributes are a 400, as in Neutron
("Unrecognized attribute(s)"); read-only ones (id, status, ...) are unknown here."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

NAME = Field(None, max_length=255)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class Owned(Strict):
    project_id: str | None = Field(None, max_length=64)
    tenant_id: str | None = Field(None, max_length=64)


class NetworkCreate(Owned):
    name: str | None = NAME
    description: str | None = NAME
    admin_state_up: bool = True
    shared: bool = False
    router_external: bool = Field(False, alias="router:external")
    network_type: str | None = Field(None, alias="provider:network_type")
    physical_network: str | None = Field(None, alias="provider:physical_network", max_length=64)
    segmentation_id: int | None = Field(None, alias="provider:segmentation_id")
    mtu: int | None = None
    port_security_enabled: bool | None = None
    availability_zone_hints: list[str] | None = None
    dns_domain: str | None = None


class NetworkUpdate(Strict):
    name: str | None = NAME
    description: str | None = NAME
    admin_state_up: bool | None = None
    shared: bool | None = None
    router_external: bool | None = Field(None, alias="router:external")
    mtu: int | None = None


class NetworkCreateBody(Strict):
    network: NetworkCreate


class NetworkUpdateBody(Strict):
    network: NetworkUpdate


class Pool(Strict):
    start: str
    end: str


class HostRoute(Strict):
    destination: str
    nexthop: str


class SubnetCreate(Owned):
    network_id: str = Field(max_length=36)
    name: str | None = NAME
    description: str | None = NAME
    ip_version: int | None = Field(None, ge=4, le=6)
    cidr: str | None = Field(None, max_length=64)
    gateway_ip: str | None = Field(None, max_length=64)
    enable_dhcp: bool = True
    allocation_pools: list[Pool] | None = None
    dns_nameservers: list[str] | None = None
    host_routes: list[HostRoute] | None = None
    ipv6_address_mode: None = None
    ipv6_ra_mode: None = None
    subnetpool_id: None = None


class SubnetUpdate(Strict):
    name: str | None = NAME
    description: str | None = NAME
    gateway_ip: str | None = Field(None, max_length=64)
    enable_dhcp: bool | None = None
    allocation_pools: list[Pool] | None = None
    dns_nameservers: list[str] | None = None
    host_routes: list[HostRoute] | None = None


class SubnetCreateBody(Strict):
    subnet: SubnetCreate


class SubnetUpdateBody(Strict):
    subnet: SubnetUpdate


class FixedIp(Strict):
    subnet_id: str | None = Field(None, max_length=36)
    ip_address: str | None = Field(None, max_length=64)


class AddressPair(Strict):
    ip_address: str = Field(max_length=64)
    mac_address: str | None = Field(None, max_length=32)


class PortCreate(Owned):
    network_id: str = Field(max_length=36)
    name: str | None = NAME
    description: str | None = NAME
    admin_state_up: bool = True
    mac_address: str | None = Field(None, max_length=32)
    fixed_ips: list[FixedIp] | None = None
    device_id: str | None = NAME
    device_owner: str | None = NAME
    security_groups: list[str] | None = None
    port_security_enabled: bool = True
    allowed_address_pairs: list[AddressPair] | None = None
    host_id: str | None = Field(None, alias="binding:host_id", max_length=255)
    vnic_type: str | None = Field(None, alias="binding:vnic_type", pattern="^normal$")
    binding_profile: dict[str, Any] | None = Field(None, alias="binding:profile")


class PortUpdate(Strict):
    name: str | None = NAME
    description: str | None = NAME
    admin_state_up: bool | None = None
    mac_address: str | None = Field(None, max_length=32)
    fixed_ips: list[FixedIp] | None = None
    device_id: str | None = NAME
    device_owner: str | None = NAME
    security_groups: list[str] | None = None
    port_security_enabled: bool | None = None
    allowed_address_pairs: list[AddressPair] | None = None
    host_id: str | None = Field(None, alias="binding:host_id", max_length=255)
    vnic_type: str | None = Field(None, alias="binding:vnic_type", pattern="^normal$")
    binding_profile: dict[str, Any] | None = Field(None, alias="binding:profile")


class PortCreateBody(Strict):
    port: PortCreate


class PortUpdateBody(Strict):
    port: PortUpdate


class SecurityGroupCreate(Owned):
    name: str | None = NAME
    description: str | None = NAME
    stateful: bool = True


class SecurityGroupUpdate(Strict):
    name: str | None = NAME
    description: str | None = NAME
    stateful: bool | None = None


class SecurityGroupCreateBody(Strict):
    security_group: SecurityGroupCreate


class SecurityGroupUpdateBody(Strict):
    security_group: SecurityGroupUpdate


class RuleCreate(Owned):
    security_group_id: str = Field(max_length=36)
    description: str | None = NAME
    direction: str = Field(max_length=8)
    ethertype: str | None = Field(None, max_length=8)
    protocol: str | int | None = None
    port_range_min: int | None = None
    port_range_max: int | None = None
    remote_ip_prefix: str | None = Field(None, max_length=64)
    remote_group_id: str | None = Field(None, max_length=36)
    remote_address_group_id: None = None


class SecurityGroupRuleCreateBody(Strict):
    security_group_rule: RuleCreate


class GatewayInfo(Strict):
    network_id: str | None = Field(None, max_length=36)
    enable_snat: bool | None = None
    external_fixed_ips: list[FixedIp] | None = None


class StaticRoute(Strict):
    destination: str = Field(max_length=64)
    nexthop: str = Field(max_length=64)


class RouterCreate(Owned):
    name: str | None = NAME
    description: str | None = NAME
    admin_state_up: bool = True
    external_gateway_info: GatewayInfo | None = None
    distributed: bool | None = None
    ha: bool | None = None


class RouterUpdate(Strict):
    name: str | None = NAME
    description: str | None = NAME
    admin_state_up: bool | None = None
    external_gateway_info: GatewayInfo | None = None
    routes: list[StaticRoute] | None = None
    distributed: bool | None = None
    ha: bool | None = None


class RouterCreateBody(Strict):
    router: RouterCreate


class RouterUpdateBody(Strict):
    router: RouterUpdate


class RouterInterfaceBody(Strict):
    """add_router_interface / remove_router_interface: not wrapped, as in Neutron."""

    subnet_id: str | None = Field(None, max_length=36)
    port_id: str | None = Field(None, max_length=36)


class FloatingIpCreate(Owned):
    floating_network_id: str = Field(max_length=36)
    port_id: str | None = Field(None, max_length=36)
    fixed_ip_address: str | None = Field(None, max_length=64)
    floating_ip_address: str | None = Field(None, max_length=64)
    subnet_id: str | None = Field(None, max_length=36)
    description: str | None = NAME


class FloatingIpUpdate(Strict):
    port_id: str | None = Field(None, max_length=36)
    fixed_ip_address: str | None = Field(None, max_length=64)
    description: str | None = NAME


class FloatingIpCreateBody(Strict):
    floatingip: FloatingIpCreate


class FloatingIpUpdateBody(Strict):
    floatingip: FloatingIpUpdate


class QuotaValues(Strict):
    network: int | None = Field(None, ge=-1)
    subnet: int | None = Field(None, ge=-1)
    port: int | None = Field(None, ge=-1)
    router: int | None = Field(None, ge=-1)
    floatingip: int | None = Field(None, ge=-1)
    security_group: int | None = Field(None, ge=-1)
    security_group_rule: int | None = Field(None, ge=-1)
    # Neutron's quota-check-limit: refuse a limit below what the project uses now.
    check_limit: bool | None = None
    force: bool | None = None


class QuotaUpdateBody(Strict):
    quota: QuotaValues
