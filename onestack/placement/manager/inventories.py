"""Inventories: what each provider offers per resource class; every change compares and sets
the provider's generation, and none may leave less capacity than is already allocated."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from onestack.placement import errors
from onestack.placement.manager import capacity
from onestack.placement.manager.base import (
    RETRIES,
    GenerationRace,
    PlacementBase,
    PlacementDeps,
    bump,
    get_provider,
    used_by_class,
)
from onestack.placement.manager.classes import ResourceClasses
from onestack.placement.models import Inventory, Provider

MAX_INT = 2147483647


@dataclass(frozen=True)
class Stock:
    """One inventory record as clients send it (placement's defaults)."""

    total: int
    reserved: int = 0
    min_unit: int = 1
    max_unit: int = MAX_INT
    step_size: int = 1
    allocation_ratio: float = 1.0


Stocks = dict[str, Stock]
Change = Callable[[Stocks], Stocks]


def stock_of(row: Inventory) -> Stock:
    return Stock(
        row.total, row.reserved, row.min_unit, row.max_unit, row.step_size, row.allocation_ratio
    )


class Inventories(PlacementBase):
    def __init__(self, deps: PlacementDeps, classes: ResourceClasses) -> None:
        super().__init__(deps)
        self.classes = classes

    def get_all(self, uuid: str) -> tuple[int, Stocks]:
        """The provider's generation and its inventories."""
        with self.db.reader() as session:
            provider = get_provider(session, uuid)
            return provider.generation, {
                i.resource_class: stock_of(i) for i in provider.inventories
            }

    def get_one(self, uuid: str, resource_class: str) -> tuple[int, Stock]:
        generation, stocks = self.get_all(uuid)
        if resource_class not in stocks:
            raise errors.InventoryNotFound(uuid, resource_class)
        return generation, stocks[resource_class]

    def set_all(self, uuid: str, generation: int | None, stocks: Mapping[str, Stock]) -> int:
        """Replace every inventory; `generation` None means "whatever it is now" (retried
        on a race), else a stale one is a 409. Returns the new generation."""
        return self.change(uuid, generation, lambda _old: dict(stocks))

    def add_one(self, uuid: str, resource_class: str, stock: Stock) -> int:
        """A new inventory record at the provider's current generation; 409 when one exists."""

        def change(old: Stocks) -> Stocks:
            if resource_class in old:
                raise errors.InventoryExists(uuid, resource_class)
            return {**old, resource_class: stock}

        return self.change(uuid, None, change)

    def set_one(self, uuid: str, generation: int, resource_class: str, stock: Stock) -> int:
        def change(old: Stocks) -> Stocks:
            if resource_class not in old:
                raise errors.InventoryNotFound(uuid, resource_class)
            return {**old, resource_class: stock}

        return self.change(uuid, generation, change)

    def delete_one(self, uuid: str, generation: int | None, resource_class: str) -> int:
        def change(old: Stocks) -> Stocks:
            if resource_class not in old:
                raise errors.InventoryNotFound(uuid, resource_class)
            return {k: v for k, v in old.items() if k != resource_class}

        return self.change(uuid, generation, change)

    def change(self, uuid: str, generation: int | None, change: Change) -> int:
        """Apply `change` to the provider's inventories under its generation."""
        for _ in range(RETRIES):
            try:
                with self.writing() as session:
                    return self._write(session, uuid, generation, change)
            except GenerationRace:
                if generation is not None:
                    raise errors.ConcurrentUpdate() from None
        raise errors.ConcurrentUpdate()

    def _write(self, session: Session, uuid: str, generation: int | None, change: Change) -> int:
        provider = get_provider(session, uuid)
        seen = provider.generation
        if generation is not None and generation != seen:
            raise errors.ConcurrentUpdate()
        old = {i.resource_class: stock_of(i) for i in provider.inventories}
        new = change(old)
        self._check(session, provider, new)
        session.execute(delete(Inventory).where(Inventory.provider_uuid == uuid))
        session.expire(provider, ["inventories"])
        for name, stock in new.items():
            session.add(Inventory(provider_uuid=uuid, resource_class=name, **asdict(stock)))
        return bump(session, uuid, seen)

    def _check(self, session: Session, provider: Provider, new: Stocks) -> None:
        used = used_by_class(session, provider.uuid)
        for name, stock in new.items():
            if not self.classes.exists(name):
                raise errors.InvalidRequest(
                    f"Unknown resource class in inventory for resource provider "
                    f"{provider.uuid}: {name}"
                )
            problem = capacity.inventory_problem(stock)
            if problem is not None:
                raise errors.InvalidRequest(
                    f"Unable to update inventory for resource provider {provider.uuid}: "
                    f"invalid inventory for '{name}': {problem}."
                )
            if capacity.capacity(stock) < used.get(name, 0):
                raise errors.InventoryInUse(name, provider.uuid)
        for name, amount in used.items():
            if amount and name not in new:
                raise errors.InventoryInUse(name, provider.uuid)
