"""Rows as Neutron's REST bodies (plain dicts): what the API renders, what notifications
carry and what the compute facade returns, so all three agree."""

from __future__ import annotations

from typing import Any

from onestack.network.manager.base import iso, standard
from onestack.network.models import (
    FloatingIp,
    Network,
    Port,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
)


def network(row: Network, subnet_ids: list[str], tags: list[str]) -> dict[str, Any]:
    return {
        "id": row.network_id,
        "name": row.name,
        "admin_state_up": row.admin_state_up,
        "status": row.status,
        "shared": row.shared,
        "router:external": row.external,
        "provider:network_type": row.network_type,
        "provider:physical_network": row.physical_network,
        "provider:segmentation_id": row.segmentation_id,
        "mtu": row.mtu,
        "subnets": subnet_ids,
        "availability_zones": [],
        "availability_zone_hints": [],
        "port_security_enabled": True,
        "is_default": False,
        "ipv4_address_scope": None,
        "ipv6_address_scope": None,
        **standard(row, tags),
    }


def subnet(row: Subnet, tags: list[str]) -> dict[str, Any]:
    return {
        "id": row.subnet_id,
        "name": row.name,
        "network_id": row.network_id,
        "ip_version": row.ip_version,
        "cidr": row.cidr,
        "gateway_ip": row.gateway_ip,
        "enable_dhcp": row.enable_dhcp,
        "allocation_pools": row.allocation_pools,
        "dns_nameservers": row.dns_nameservers,
        "host_routes": row.host_routes,
        "ipv6_address_mode": None,
        "ipv6_ra_mode": None,
        "subnetpool_id": None,
        "segment_id": None,
        "service_types": [],
        **standard(row, tags),
    }


def port(row: Port, tags: list[str]) -> dict[str, Any]:
    return {
        "id": row.port_id,
        "name": row.name,
        "network_id": row.network_id,
        "mac_address": row.mac_address,
        "admin_state_up": row.admin_state_up,
        "status": row.status,
        "device_id": row.device_id,
        "device_owner": row.device_owner,
        "fixed_ips": [
            {"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in row.fixed_ips
        ],
        "security_groups": sorted(g.group_id for g in row.security_groups),
        "allowed_address_pairs": row.allowed_address_pairs,
        "port_security_enabled": row.port_security_enabled,
        "binding:host_id": row.host_id,
        "binding:vif_type": row.vif_type,
        "binding:vif_details": row.vif_details,
        "binding:vnic_type": "normal",
        "binding:profile": {},
        "extra_dhcp_opts": [],
        **standard(row, tags),
    }


def security_group(row: SecurityGroup, tags: list[str]) -> dict[str, Any]:
    return {
        "id": row.group_id,
        "name": row.name,
        "stateful": row.stateful,
        "shared": False,
        "security_group_rules": [rule(r) for r in row.rules],
        **standard(row, tags),
    }


def rule(row: SecurityGroupRule) -> dict[str, Any]:
    return {
        "id": row.rule_id,
        "security_group_id": row.group_id,
        "direction": row.direction,
        "ethertype": row.ethertype,
        "protocol": row.protocol,
        "port_range_min": row.port_range_min,
        "port_range_max": row.port_range_max,
        "remote_ip_prefix": row.remote_ip_prefix,
        "remote_group_id": row.remote_group_id,
        "remote_address_group_id": None,
        "normalized_cidr": row.remote_ip_prefix,
        "project_id": row.project_id,
        "tenant_id": row.project_id,
        "description": row.description,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "revision_number": row.revision_number,
        "tags": [],
    }


def router(row: Router, gateway_ips: list[dict[str, str]], tags: list[str]) -> dict[str, Any]:
    gateway = None
    if row.gateway_network_id is not None:
        gateway = {
            "network_id": row.gateway_network_id,
            "enable_snat": row.enable_snat,
            "external_fixed_ips": gateway_ips,
        }
    return {
        "id": row.router_id,
        "name": row.name,
        "admin_state_up": row.admin_state_up,
        "status": row.status,
        "external_gateway_info": gateway,
        "routes": row.routes,
        "distributed": False,
        "ha": False,
        "availability_zones": [],
        "availability_zone_hints": [],
        "flavor_id": None,
        **standard(row, tags),
    }


def floating_ip(row: FloatingIp, details: dict[str, Any] | None, tags: list[str]) -> dict[str, Any]:
    return {
        "id": row.floating_ip_id,
        "floating_ip_address": row.floating_ip_address,
        "floating_network_id": row.floating_network_id,
        "port_id": row.port_id,
        "fixed_ip_address": row.fixed_ip_address,
        "router_id": row.router_id,
        "status": row.status,
        "port_details": details,
        "dns_domain": "",
        "dns_name": "",
        "port_forwardings": [],
        "qos_policy_id": None,
        **standard(row, tags),
    }
