"""Allocation candidates, the basic kind: single providers that can take every requested
amount now, ranked with the most free capacity first (no nested or sharing providers)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.placement.manager import capacity
from onestack.placement.manager.base import PlacementBase, has_traits, traits_of, used_by_class
from onestack.placement.models import Inventory, Provider


@dataclass(frozen=True)
class Candidate:
    """A provider that fits, with its generation, capacity and usage per class."""

    uuid: str
    generation: int
    capacity: dict[str, int]
    used: dict[str, int]
    free_share: float
    traits: list[str]


class Candidates(PlacementBase):
    def find(
        self,
        wanted: Mapping[str, int],
        limit: int | None = None,
        required: frozenset[str] = frozenset(),
        forbidden: frozenset[str] = frozenset(),
    ) -> list[Candidate]:
        """Providers that fit `wanted` and have the `required` traits and no `forbidden` one."""
        if not wanted:
            return []
        holders = select(Inventory.provider_uuid).where(Inventory.resource_class.in_(list(wanted)))
        with self.db.reader() as session:
            providers = session.scalars(
                select(Provider).where(Provider.uuid.in_(holders)).order_by(Provider.uuid)
            )
            fitting = [p for p in providers if has_traits(session, p.uuid, required, forbidden)]
            found = [c for p in fitting if (c := _candidate(session, p, wanted)) is not None]
        found.sort(key=lambda c: -c.free_share)  # stable: ties stay in uuid order
        return found[:limit] if limit is not None else found


def _candidate(session: Session, provider: Provider, wanted: Mapping[str, int]) -> Candidate | None:
    stock = {inv.resource_class: inv for inv in provider.inventories}
    used = used_by_class(session, provider.uuid)
    for name, amount in wanted.items():
        if name not in stock or not capacity.fits(stock[name], used.get(name, 0), amount):
            return None
    share = min(capacity.free_share(stock[n], used.get(n, 0) + a) for n, a in wanted.items())
    return Candidate(
        provider.uuid,
        provider.generation,
        {name: capacity.capacity(inv) for name, inv in stock.items()},
        {name: used.get(name, 0) for name in stock},
        share,
        sorted(traits_of(session, provider.uuid)),
    )
