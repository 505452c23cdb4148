"""Per-project network quotas over unified limits (Neutron's resource names).

Limits come from identity through `common.quota.Quotas` (registered limits of service
`network`: network, subnet, port, router, floatingip, security_group, security_group_rule);
usage is counted here from network's own tables. Over a limit is Neutron's 409 OverQuota.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.quota import UNLIMITED, Quotas
from onestack.common.quota import OverQuota as CommonOverQuota
from onestack.network import errors
from onestack.network.models import (
    FloatingIp,
    Network,
    Port,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
)

SERVICE = "network"
TABLES = {
    "network": Network,
    "subnet": Subnet,
    "port": Port,
    "router": Router,
    "floatingip": FloatingIp,
    "security_group": SecurityGroup,
    "security_group_rule": SecurityGroupRule,
}
RESOURCES = list(TABLES)


class LimitWriter(Protocol):
    """Sets a project's own limits where limits live (identity); the assembly provides it."""

    def set_project_limits(
        self, ctx: RequestContext, project_id: str, service: str, values: Mapping[str, int]
    ) -> None: ...

    def clear_project_limits(self, ctx: RequestContext, project_id: str, service: str) -> None: ...


class NetworkQuotas:
    def __init__(
        self, db: Database, quotas: Quotas | None, writer: LimitWriter | None = None
    ) -> None:
        self.db = db
        self.quotas = quotas
        self.writer = writer

    def claim(self, project_id: str, resource: str, count: int = 1) -> None:
        """Before creating `count` of `resource` for the project (409 OverQuota when over)."""
        if self.quotas is None or not project_id:
            return
        try:
            self.quotas.enforce(project_id, SERVICE, {resource: count}, self.usage)
        except CommonOverQuota as exc:
            raise errors.OverQuota(exc.resource) from exc

    def recheck(self, project_id: str, resource: str, undo: Callable[[], None]) -> None:
        """After a create: when concurrent creates took the project past its limit together,
        `undo` this one and refuse it (oslo.limit's pattern; both may be refused)."""
        try:
            self.claim(project_id, resource, 0)
        except errors.OverQuota:
            undo()
            raise

    def usage(self, project_id: str, names: list[str]) -> Mapping[str, int]:
        with self.db.reader() as session:
            return {name: _count(session, name, project_id) for name in names}

    def limits(self, project_id: str) -> dict[str, int]:
        if self.quotas is None:
            return dict.fromkeys(RESOURCES, UNLIMITED)
        return self.quotas.limits(project_id, SERVICE, RESOURCES)

    def set_limits(
        self,
        ctx: RequestContext,
        project_id: str,
        values: Mapping[str, int],
        check_limit: bool = False,
    ) -> dict[str, int]:
        """The project's own limits become `values` (others unchanged); its limits after.
        With `check_limit`, a limit below the project's usage is refused (400)."""
        if self.writer is None:
            raise errors.QuotasNotWritable()
        if check_limit:
            used = self.usage(project_id, list(values))
            for name, limit in values.items():
                if limit != UNLIMITED and limit < used[name]:
                    raise errors.InvalidQuotaValue(name, limit, used[name])
        self.writer.set_project_limits(ctx, project_id, SERVICE, values)
        return self.limits(project_id)

    def clear_limits(self, ctx: RequestContext, project_id: str) -> None:
        """The project falls back to the registered defaults."""
        if self.writer is None:
            raise errors.QuotasNotWritable()
        self.writer.clear_project_limits(ctx, project_id, SERVICE)

    def details(self, project_id: str) -> dict[str, dict[str, int]]:
        limits = self.limits(project_id)
        used = self.usage(project_id, RESOURCES)
        return {
            name: {"limit": limits[name], "used": used[name], "reserved": 0} for name in RESOURCES
        }


def _count(session: Session, name: str, project_id: str) -> int:
    table = TABLES[name]
    query = select(func.count()).select_from(table).where(table.project_id == project_id)
    return int(session.scalar(query) or 0)
