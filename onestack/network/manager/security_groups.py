"""Security groups and their rules: each project's `default` group, made once on first use
(a row keyed by project makes that race-free), rule validation and duplicate detection."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.network import errors
from onestack.network.manager import views
from onestack.network.manager.base import (
    Caller,
    NetworkBase,
    drop_tags,
    new_id,
    now,
    owner_for,
    stamp,
    tags_of,
)
from onestack.network.manager.quota import NetworkQuotas
from onestack.network.models import (
    DefaultSecurityGroup,
    PortSecurityGroup,
    SecurityGroup,
    SecurityGroupRule,
)

DEFAULT = "default"
PROTOCOLS = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1,
    "igmp": 2, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58,
    "icmpv6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89,
    "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112,
}  # fmt: skip
WITH_PORTS = {6, 17, 33, 132, 136}
ICMP = {1, 58}


def render(session: Session, rows: list[SecurityGroup]) -> list[dict[str, Any]]:
    tags = tags_of(session, [g.group_id for g in rows])
    return [views.security_group(g, tags[g.group_id]) for g in rows]


def get_group(session: Session, caller: Caller | None, group_id: str) -> SecurityGroup:
    group = session.get(SecurityGroup, group_id)
    if group is None or (caller is not None and not caller.owns(group.project_id)):
        raise errors.SecurityGroupNotFound(group_id)
    return group


def default_rules(group_id: str, project_id: str) -> list[SecurityGroupRule]:
    """Neutron's defaults: any egress, ingress from members of the same group; v4 and v6."""
    moment = now()
    return [
        SecurityGroupRule(
            rule_id=new_id(),
            group_id=group_id,
            project_id=project_id,
            description="",
            direction=direction,
            ethertype=ethertype,
            remote_group_id=group_id if direction == "ingress" else None,
            created_at=moment,
            updated_at=moment,
            revision_number=0,
        )
        for direction in ("egress", "ingress")
        for ethertype in ("IPv4", "IPv6")
    ]


class SecurityGroupRecords(NetworkBase):
    def __init__(self, deps: Any, quotas: NetworkQuotas) -> None:
        super().__init__(deps)
        self.quotas = quotas
        # Told the groups whose rules changed (the manager points it at the plugging).
        self.rules_changed: Callable[[list[str]], None] = lambda group_ids: None

    def ensure_default(self, project_id: str) -> str:
        """The project's `default` group id, created with its rules if missing."""
        if not project_id:
            return ""
        with self.db.reader() as session:
            found = session.get(DefaultSecurityGroup, project_id)
            if found is not None:
                return found.group_id
        group_id = new_id()
        moment = now()
        try:
            with self.db.transaction() as session:
                session.add(
                    SecurityGroup(
                        group_id=group_id,
                        project_id=project_id,
                        name=DEFAULT,
                        description="Default security group",
                        stateful=True,
                        created_at=moment,
                        updated_at=moment,
                        revision_number=1,
                    )
                )
                session.flush()
                session.add(DefaultSecurityGroup(project_id=project_id, group_id=group_id))
                session.add_all(default_rules(group_id, project_id))
        except IntegrityError:  # a concurrent request made it first
            with self.db.reader() as session:
                return session.get(DefaultSecurityGroup, project_id).group_id  # type: ignore[union-attr]
        self.notify(None, "create", "security_group", self.get(None, group_id))
        return group_id

    def list(self, caller: Caller) -> list[dict[str, Any]]:
        self.ensure_default(caller.project_id)
        with self.db.reader() as session:
            rows = [g for g in session.scalars(select(SecurityGroup)) if caller.owns(g.project_id)]
            return render(session, rows)

    def get(self, caller: Caller | None, group_id: str) -> dict[str, Any]:
        with self.db.reader() as session:
            return render(session, [get_group(session, caller, group_id)])[0]

    def create(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        project_id = owner_for(caller, body)
        if body.get("name") == DEFAULT:
            raise errors.SecurityGroupDefaultAlreadyExists()
        self.ensure_default(project_id)
        self.quotas.claim(project_id, "security_group")
        group_id = new_id()
        moment = now()
        with self.writing() as session:
            session.add(
                SecurityGroup(
                    group_id=group_id,
                    project_id=project_id,
                    name=body.get("name") or "",
                    description=body.get("description") or "",
                    stateful=body.get("stateful", True),
                    created_at=moment,
                    updated_at=moment,
                    revision_number=1,
                )
            )
            session.flush()
            # A new group allows all egress, as Neutron's does.
            session.add_all(
                r for r in default_rules(group_id, project_id) if r.direction == "egress"
            )
            session.flush()
            created = render(session, [session.get(SecurityGroup, group_id)])[0]  # type: ignore[list-item]
        self.quotas.recheck(
            project_id, "security_group", lambda: self._undo(SecurityGroup, group_id)
        )
        self.notify(caller, "create", "security_group", created)
        return created

    def update(self, caller: Caller, group_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        with self.writing() as session:
            row = get_group(session, caller, group_id)
            if row.name == DEFAULT and changes.get("name", DEFAULT) != DEFAULT:
                raise errors.SecurityGroupCannotUpdateDefault()
            if row.name != DEFAULT and changes.get("name") == DEFAULT:
                raise errors.SecurityGroupDefaultAlreadyExists()
            stamp(
                row,
                **{k: v for k, v in changes.items() if k in ("name", "description", "stateful")},
            )
            session.flush()
            updated = render(session, [row])[0]
        self.notify(caller, "update", "security_group", updated)
        return updated

    def delete(self, caller: Caller, group_id: str) -> None:
        with self.writing() as session:
            row = get_group(session, caller, group_id)
            body = render(session, [row])[0]
            default = session.get(DefaultSecurityGroup, row.project_id)
            is_default = default is not None and default.group_id == group_id
            # Only an admin removes a project's default group (cleaning up a project); it is
            # made again on the project's next use.
            if is_default and not caller.is_admin:
                raise errors.SecurityGroupCannotRemoveDefault()
            used = session.scalar(
                select(PortSecurityGroup.port_id).where(PortSecurityGroup.group_id == group_id)
            )
            if used is not None:
                raise errors.SecurityGroupInUse(group_id)
            drop_tags(session, group_id)
            if is_default:
                session.delete(default)
            session.delete(row)
        self.notify(caller, "delete", "security_group", body)

    def _undo(self, table: Any, row_id: str) -> None:
        with self.writing() as session:
            row = session.get(table, row_id)
            if row is not None:
                session.delete(row)

    # -- rules ------------------------------------------------------------------------------

    def list_rules(self, caller: Caller) -> list[dict[str, Any]]:
        self.ensure_default(caller.project_id)
        with self.db.reader() as session:
            rows = session.scalars(select(SecurityGroupRule))
            return [views.rule(r) for r in rows if caller.owns(r.project_id)]

    def get_rule(self, caller: Caller, rule_id: str) -> dict[str, Any]:
        with self.db.reader() as session:
            return views.rule(_get_rule(session, caller, rule_id))

    def create_rule(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        with self.db.reader() as session:
            group = get_group(session, caller, str(body["security_group_id"]))
            project_id = group.project_id
        self.quotas.claim(project_id, "security_group_rule")
        with self.writing() as session:
            group = get_group(session, caller, str(body["security_group_id"]))
            row = _new_rule(session, caller, group, body)
            for existing in group.rules:
                if _same(existing, row):
                    raise errors.SecurityGroupRuleExists(existing.rule_id)
            session.add(row)
            stamp(group)
            session.flush()
            created = views.rule(row)
        rule_id = created["id"]
        self.quotas.recheck(
            project_id, "security_group_rule", lambda: self._undo(SecurityGroupRule, rule_id)
        )
        self.notify(caller, "create", "security_group_rule", created)
        self.rules_changed([created["security_group_id"]])
        return created

    def delete_rule(self, caller: Caller, rule_id: str) -> None:
        with self.writing() as session:
            row = _get_rule(session, caller, rule_id)
            body = views.rule(row)
            group = session.get(SecurityGroup, row.group_id)
            if group is not None:
                stamp(group)
            session.delete(row)
        self.notify(caller, "delete", "security_group_rule", body)
        self.rules_changed([body["security_group_id"]])


def _get_rule(session: Session, caller: Caller, rule_id: str) -> SecurityGroupRule:
    row = session.get(SecurityGroupRule, rule_id)
    if row is None or not caller.owns(row.project_id):
        raise errors.SecurityGroupRuleNotFound(rule_id)
    return row


def _same(a: SecurityGroupRule, b: SecurityGroupRule) -> bool:
    keys = (
        "direction", "ethertype", "port_range_min", "port_range_max",
        "remote_ip_prefix", "remote_group_id",
    )  # fmt: skip
    return all(getattr(a, k) == getattr(b, k) for k in keys) and _number(a.protocol) == _number(
        b.protocol
    )


def _number(protocol: str | None) -> int | None:
    if protocol is None or protocol in ("any", ""):
        return None
    if protocol.isdigit():
        return int(protocol)
    return PROTOCOLS[protocol]


def _protocol(value: Any) -> str | None:
    """Neutron's protocol: a known name, or a number 0-255 (kept as given)."""
    if value is None or value in ("any", ""):
        return None
    text = str(value).lower()
    if text in PROTOCOLS or (text.isdigit() and 0 <= int(text) <= 255):
        return text
    raise errors.SecurityGroupRuleInvalidProtocol(str(value), sorted(PROTOCOLS))


def _new_rule(
    session: Session, caller: Caller, group: SecurityGroup, body: dict[str, Any]
) -> SecurityGroupRule:
    direction = body.get("direction")
    if direction not in ("ingress", "egress"):
        raise errors.InvalidInput(f"'{direction}' is not in ['ingress', 'egress'].")
    ethertype = body.get("ethertype") or "IPv4"
    if ethertype not in ("IPv4", "IPv6"):
        raise errors.InvalidInput(f"'{ethertype}' is not in ['IPv4', 'IPv6'].")
    protocol = _protocol(body.get("protocol"))
    low, high = _ports(protocol, body.get("port_range_min"), body.get("port_range_max"))
    prefix = _prefix(body.get("remote_ip_prefix"), ethertype)
    remote_group = body.get("remote_group_id")
    if prefix is not None and remote_group is not None:
        raise errors.InvalidInput("Only remote_ip_prefix or remote_group_id may be provided.")
    if remote_group is not None:
        get_group(session, caller, str(remote_group))
    moment = now()
    return SecurityGroupRule(
        rule_id=new_id(),
        group_id=group.group_id,
        project_id=group.project_id,
        description=body.get("description") or "",
        direction=direction,
        ethertype=ethertype,
        protocol=protocol,
        port_range_min=low,
        port_range_max=high,
        remote_ip_prefix=prefix,
        remote_group_id=remote_group,
        created_at=moment,
        updated_at=moment,
        revision_number=0,
    )


def _ports(protocol: str | None, low: Any, high: Any) -> tuple[int | None, int | None]:
    if low is None and high is None:
        return None, None
    number = _number(protocol)
    if number is None:
        raise errors.InvalidInput("Must also specify protocol if port range is given.")
    if number in ICMP:
        if low is None:
            raise errors.InvalidInput(
                f"ICMP type (port-range-min) is missing for ICMP code (port-range-max) {high}."
            )
        for value, what in ((low, "type"), (high, "code")):
            if value is not None and not 0 <= value <= 255:
                raise errors.InvalidInput(f"Invalid value for ICMP {what} {value}.")
        return low, high
    if number not in WITH_PORTS:
        raise errors.InvalidInput(f"Port ranges are not supported for protocol {protocol}.")
    if low is None:
        raise errors.InvalidInput(
            "For TCP/UDP protocols, port_range_min must be <= port_range_max."
        )
    high = low if high is None else high
    for value in (low, high):
        if not 1 <= value <= 65535:
            raise errors.InvalidInput(f"Invalid value for port {value}.")
    if low > high:
        raise errors.InvalidInput(
            "For TCP/UDP protocols, port_range_min must be <= port_range_max."
        )
    return low, high


def _prefix(value: Any, ethertype: str) -> str | None:
    if value is None:
        return None
    try:
        network = ipaddress.ip_network(str(value), strict=False)
    except ValueError as exc:
        raise errors.InvalidInput(f"'{value}' is not a valid IP prefix.") from exc
    if f"IPv{network.version}" != ethertype:
        raise errors.InvalidInput(f"Conflicting value ethertype {ethertype} for CIDR {value}.")
    return str(network)


class SecurityGroupRuleRecords:
    """The rules as a collection of their own (`/v2.0/security-group-rules`)."""

    def __init__(self, groups: SecurityGroupRecords) -> None:
        self.groups = groups

    def list(self, caller: Caller) -> list[dict[str, Any]]:
        return self.groups.list_rules(caller)

    def get(self, caller: Caller, rule_id: str) -> dict[str, Any]:
        return self.groups.get_rule(caller, rule_id)

    def create(self, caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
        return self.groups.create_rule(caller, body)

    def delete(self, caller: Caller, rule_id: str) -> None:
        self.groups.delete_rule(caller, rule_id)
