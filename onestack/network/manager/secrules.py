"""Security groups as the dataplane needs them: a port's rules with remote groups expanded to
their members' addresses, and which plugged ports a change of rules reaches (read-only)."""

from __future__ import annotations

import ipaddress

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.network.drivers import SecurityRule
from onestack.network.models import IpAllocation, Port, PortSecurityGroup, SecurityGroupRule


def rules_for(session: Session, port: Port) -> tuple[SecurityRule, ...]:
    """Every rule of the port's groups, for the host."""
    group_ids = [member.group_id for member in port.security_groups]
    if not group_ids:
        return ()
    rows = session.scalars(
        select(SecurityGroupRule).where(SecurityGroupRule.group_id.in_(group_ids))
    ).all()
    return tuple(_rule(session, row) for row in sorted(rows, key=lambda r: r.rule_id))


def plugged_ports_of(session: Session, group_ids: list[str]) -> list[str]:
    """ACTIVE ports in these groups or in a group with a rule naming one of them as remote."""
    referring = select(SecurityGroupRule.group_id).where(
        SecurityGroupRule.remote_group_id.in_(group_ids)
    )
    members = select(PortSecurityGroup.port_id).where(
        PortSecurityGroup.group_id.in_(group_ids) | PortSecurityGroup.group_id.in_(referring)
    )
    query = select(Port.port_id).where(Port.port_id.in_(members), Port.status == "ACTIVE")
    return sorted(set(session.scalars(query)))


def _rule(session: Session, row: SecurityGroupRule) -> SecurityRule:
    remote: tuple[str, ...] | None = None
    if row.remote_ip_prefix:
        remote = (row.remote_ip_prefix,)
    elif row.remote_group_id:
        remote = _member_addresses(session, row.remote_group_id, row.ethertype)
    return SecurityRule(
        direction=row.direction,
        protocol=row.protocol,
        port_range_min=row.port_range_min,
        port_range_max=row.port_range_max,
        remote=remote,
        ethertype=row.ethertype,
    )


def _member_addresses(session: Session, group_id: str, ethertype: str) -> tuple[str, ...]:
    version = 6 if ethertype == "IPv6" else 4
    query = select(IpAllocation.ip_address).where(
        IpAllocation.port_id.in_(
            select(PortSecurityGroup.port_id).where(PortSecurityGroup.group_id == group_id)
        )
    )
    found = {ipaddress.ip_address(ip) for ip in session.scalars(query)}
    return tuple(
        f"{ip}/{ip.max_prefixlen}" for ip in sorted(a for a in found if a.version == version)
    )
