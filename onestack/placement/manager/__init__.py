"""Placement's logic and its only writes, and its public Python interface for compute
(`PlacementManager.ensure_provider`, `candidates`, `claim`, `release`, `usages`), which takes
and returns plain dicts shaped like the REST bodies so that it can become a REST call."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from onestack.common.bus import Notifier
from onestack.common.db import Database
from onestack.placement import errors
from onestack.placement.manager.allocations import (
    UNSET,
    Allocations,
    ConsumerAllocations,
    Request,
    Unset,
)
from onestack.placement.manager.base import PlacementDeps
from onestack.placement.manager.candidates import Candidate, Candidates
from onestack.placement.manager.classes import STANDARD, ResourceClasses
from onestack.placement.manager.inventories import MAX_INT, Inventories, Stock
from onestack.placement.manager.providers import ProviderQuery, Providers
from onestack.placement.manager.traits import Traits
from onestack.placement.manager.usages import Usages

__all__ = [
    "MAX_INT",
    "STANDARD",
    "UNSET",
    "Candidate",
    "ConsumerAllocations",
    "PlacementManager",
    "ProviderQuery",
    "Request",
    "Stock",
    "Unset",
]


class PlacementManager:
    """Placement's managers over one `PlacementDeps`, and the facade compute calls."""

    def __init__(self, db: Database, notifier: Notifier) -> None:
        deps = PlacementDeps(db, notifier)
        self.classes = ResourceClasses(deps)
        self.providers = Providers(deps)
        self.inventories = Inventories(deps, self.classes)
        self.allocations = Allocations(deps)
        self.usage = Usages(deps)
        self.candidate_finder = Candidates(deps)
        self.traits = Traits(deps)

    def ensure_provider(
        self, uuid: str, name: str, inventories: Mapping[str, dict[str, Any]]
    ) -> None:
        """Create (or rename) provider `uuid` and set its inventories to `inventories`
        ({"VCPU": {"total": 2, "allocation_ratio": 16.0, ...}}); a class left out is removed.
        Raises InventoryInUse when that would leave less than is allocated."""
        provider = self.providers.find(uuid)
        if provider is None:
            # Created meanwhile by another process: its inventories are set below all the same.
            with contextlib.suppress(errors.DuplicateUuid):
                self.providers.create(uuid, name)
        elif provider.name != name:
            self.providers.update(uuid, name)
        stocks = {rc: Stock(**fields) for rc, fields in inventories.items()}
        self.inventories.set_all(uuid, None, stocks)

    def candidates(self, resources: Mapping[str, int]) -> list[str]:
        """Providers that can hold `resources` now, most free first."""
        return [found.uuid for found in self.candidate_finder.find(resources)]

    def claim(
        self,
        consumer_id: str,
        provider_uuid: str,
        resources: Mapping[str, int],
        project_id: str,
        user_id: str,
    ) -> bool:
        """Replace the consumer's allocations by `resources` on `provider_uuid`, atomically;
        False when they do not fit (any more): beyond capacity, against the unit rules, or
        the provider is gone. Concurrent claims never overcommit."""
        request = Request(consumer_id, {provider_uuid: dict(resources)}, project_id, user_id)
        try:
            self.allocations.replace([request])
        except (errors.InsufficientCapacity, errors.InvalidRequest):
            return False
        return True

    def release(self, consumer_id: str) -> None:
        """Delete the consumer's allocations; nothing happens when it has none."""
        self.allocations.delete(consumer_id)

    def usages(self, provider_uuid: str) -> dict[str, int]:
        """What is allocated on the provider per class it has inventory of."""
        return self.usage.of_provider(provider_uuid)[1]
