"""Usages: what is allocated, per provider or per project (and user)."""

from __future__ import annotations

from sqlalchemy import func, select

from onestack.placement import errors
from onestack.placement.manager.base import PlacementBase, used_by_class
from onestack.placement.models import Allocation, Consumer, Provider


class Usages(PlacementBase):
    def of_provider(self, uuid: str) -> tuple[int, dict[str, int]]:
        """The provider's generation and its usage of every class it has inventory of."""
        with self.db.reader() as session:
            provider = session.get(Provider, uuid)
            if provider is None:
                raise errors.ProviderNotFound(uuid)
            used = used_by_class(session, uuid)
            usage = {inv.resource_class: 0 for inv in provider.inventories}
            return provider.generation, {**usage, **used}

    def of_project(self, project_id: str, user_id: str | None = None) -> dict[str, int]:
        stmt = (
            select(Allocation.resource_class, func.sum(Allocation.used))
            .join(Consumer, Consumer.consumer_id == Allocation.consumer_id)
            .where(Consumer.project_id == project_id)
            .group_by(Allocation.resource_class)
        )
        if user_id is not None:
            stmt = stmt.where(Consumer.user_id == user_id)
        with self.db.reader() as session:
            return {name: int(total) for name, total in session.execute(stmt)}

    def of_project_by_type(
        self, project_id: str, user_id: str | None = None
    ) -> dict[str, dict[str, int]]:
        """Usage per consumer type ("unknown" when none was given), each with the number of
        consumers as `consumer_count`, as GET /usages shows it from microversion 1.38."""
        kind = func.coalesce(Consumer.consumer_type, "unknown")
        where = [Consumer.project_id == project_id]
        if user_id is not None:
            where.append(Consumer.user_id == user_id)
        amounts = (
            select(kind, Allocation.resource_class, func.sum(Allocation.used))
            .join(Consumer, Consumer.consumer_id == Allocation.consumer_id)
            .where(*where)
            .group_by(kind, Allocation.resource_class)
        )
        counts = select(kind, func.count(Consumer.consumer_id)).where(*where).group_by(kind)
        with self.db.reader() as session:
            report: dict[str, dict[str, int]] = {
                name: {"consumer_count": int(count)} for name, count in session.execute(counts)
            }
            for name, resource_class, total in session.execute(amounts):
                report.setdefault(name, {"consumer_count": 0})[resource_class] = int(total)
            return report
