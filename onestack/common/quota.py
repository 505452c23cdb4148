"""Quota enforcement over unified limits: what a service calls before it creates something.

Limits live in identity (registered defaults and per-project overrides); usage is the
service's own business, counted from its own tables. A service holds a `Quotas` built over a
`LimitSource` (identity's `manager.limits`, never identity's tables) and calls

    quotas.enforce(project_id, "image", {"image_count_total": 1}, count_usage)

before the write. There is no reservation: as oslo.limit advises, a service that must not
overshoot under concurrent requests calls `recheck()` after its write and undoes the write
when that raises.

The flat model: the effective limit is the project's own limit if set, else the registered
default; -1 is unlimited, and a resource nobody registered a limit for is unlimited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from onestack.common.errors import OneStackError

UNLIMITED = -1

# usage(project_id, resource_names) -> how much of each resource the project uses now.
Usage = Callable[[str, list[str]], Mapping[str, int]]


class LimitSource(Protocol):
    """Where limits come from (identity implements it)."""

    def effective_limits(
        self,
        project_id: str,
        service: str,
        region_id: str | None,
        resource_names: Iterable[str],
    ) -> dict[str, int]:
        """The project's limit per named resource that has one (-1: unlimited); a name
        left out has no limit. `service` is a service id or type."""
        ...


@dataclass(frozen=True)
class Overage:
    resource: str
    limit: int
    usage: int
    requested: int

    def __str__(self) -> str:
        return (
            f"{self.resource}: limit {self.limit}, in use {self.usage}, requested {self.requested}"
        )


class OverQuota(OneStackError):
    """A claim would take a project over its limit; every exceeded resource is listed.

    413 as Glance answers; a service whose API answers differently (Nova: 403) maps it."""

    status = 413
    title = "Request Entity Too Large"

    def __init__(self, project_id: str, overages: list[Overage]) -> None:
        self.project_id = project_id
        self.overages = overages
        first = overages[0]
        self.resource, self.limit = first.resource, first.limit
        self.usage, self.requested = first.usage, first.requested
        listed = "; ".join(str(o) for o in overages)
        super().__init__(f"Quota exceeded for project {project_id}: {listed}.")


class Quotas:
    """Checks claims against a LimitSource for one service (and optionally one region)."""

    def __init__(self, limits: LimitSource, region_id: str | None = None) -> None:
        self.source = limits
        self.region_id = region_id

    def limits_source(self, project_id: str, service: str, names: list[str]) -> dict[str, int]:
        return self.source.effective_limits(project_id, service, self.region_id, names)

    def enforce(
        self, project_id: str, service: str, deltas: Mapping[str, int], usage: Usage
    ) -> None:
        """Raise OverQuota unless usage + delta stays within the limit for every resource.

        `usage` is only asked about resources with a finite limit, so unlimited resources cost
        no counting. A negative delta (a release) never fails.
        """
        limits = self.limits_source(project_id, service, list(deltas))
        bounded = sorted(name for name, limit in limits.items() if limit != UNLIMITED)
        if not bounded:
            return
        used = usage(project_id, bounded)
        overages = [
            Overage(name, limits[name], used.get(name, 0), deltas[name])
            for name in bounded
            if deltas[name] >= 0 and used.get(name, 0) + deltas[name] > limits[name]
        ]
        if overages:
            raise OverQuota(project_id, overages)

    def limits(
        self, project_id: str, service: str, resource_names: Iterable[str]
    ) -> dict[str, int]:
        """The project's effective limit per named resource; UNLIMITED where none is set."""
        names = list(resource_names)
        found = self.limits_source(project_id, service, names)
        return {name: found.get(name, UNLIMITED) for name in names}

    def standing(
        self, project_id: str, service: str, resource: str, usage: Usage
    ) -> tuple[int, int] | None:
        """(limit, usage) of one resource for the project now; None when unlimited."""
        limit = self.limits(project_id, service, [resource])[resource]
        if limit == UNLIMITED:
            return None
        return limit, usage(project_id, [resource]).get(resource, 0)

    def recheck(
        self, project_id: str, service: str, resource_names: Iterable[str], usage: Usage
    ) -> None:
        """After a write: raise OverQuota when concurrent claims took usage past a limit."""
        self.enforce(project_id, service, dict.fromkeys(resource_names, 0), usage)
