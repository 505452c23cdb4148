"""Resource providers: create, list (by name, uuid, capacity for `resources`), rename, delete."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.placement import errors
from onestack.placement.manager import capacity
from onestack.placement.manager.base import (
    GenerationRace,
    PlacementBase,
    bump,
    get_provider,
    has_traits,
    used_by_class,
    utcnow,
)
from onestack.placement.models import Allocation, Provider


@dataclass(frozen=True)
class ProviderQuery:
    """The list filters of GET /resource_providers; None means no filter."""

    name: str | None = None
    uuid: str | None = None
    in_tree: str | None = None
    resources: Mapping[str, int] | None = None
    required: frozenset[str] = frozenset()
    forbidden: frozenset[str] = frozenset()


class Providers(PlacementBase):
    def create(self, uuid: str, name: str, parent_uuid: str | None = None) -> Provider:
        """A new provider at generation 0; 409 for a taken name or uuid, 400 for an unknown
        parent."""
        now = utcnow()
        with self.writing(errors.DuplicateName(name)) as session:
            if session.get(Provider, uuid) is not None:
                raise errors.DuplicateUuid(uuid)
            if session.scalar(select(Provider.uuid).where(Provider.name == name)) is not None:
                raise errors.DuplicateName(name)
            root = uuid
            if parent_uuid is not None:
                parent = session.get(Provider, parent_uuid)
                if parent is None:
                    raise errors.ParentNotFound(parent_uuid)
                root = parent.root_provider_uuid
            provider = Provider(
                uuid=uuid,
                name=name,
                generation=0,
                parent_provider_uuid=parent_uuid,
                root_provider_uuid=root,
                created_at=now,
                updated_at=now,
                inventories=[],
            )
            session.add(provider)
        return provider

    def get(self, uuid: str) -> Provider:
        with self.db.reader() as session:
            return get_provider(session, uuid)

    def find(self, uuid: str) -> Provider | None:
        with self.db.reader() as session:
            return session.get(Provider, uuid)

    def list(self, query: ProviderQuery | None = None) -> list[Provider]:
        query = query or ProviderQuery()
        stmt = select(Provider).order_by(Provider.created_at, Provider.uuid)
        if query.name is not None:
            stmt = stmt.where(Provider.name == query.name)
        if query.uuid is not None:
            stmt = stmt.where(Provider.uuid == query.uuid)
        if query.in_tree is not None:
            root = select(Provider.root_provider_uuid).where(Provider.uuid == query.in_tree)
            stmt = stmt.where(Provider.root_provider_uuid.in_(root.scalar_subquery()))
        with self.db.reader() as session:
            providers = list(session.scalars(stmt))
            if query.resources:
                wanted = query.resources
                providers = [p for p in providers if _has_room(session, p, wanted)]
            return [
                p for p in providers if has_traits(session, p.uuid, query.required, query.forbidden)
            ]

    def update(self, uuid: str, name: str, parent_uuid: str | None = None) -> Provider:
        """Rename (and, from none, give a parent); bumps the generation (compare-and-set:
        a concurrent write to the provider makes this a 409, never a lost generation)."""
        try:
            with self.writing(errors.DuplicateName(name)) as session:
                provider = get_provider(session, uuid)
                seen = provider.generation
                taken = session.scalar(
                    select(Provider.uuid).where(Provider.name == name, Provider.uuid != uuid)
                )
                if taken is not None:
                    raise errors.DuplicateName(name)
                if parent_uuid is not None and parent_uuid != provider.parent_provider_uuid:
                    self._reparent(session, provider, parent_uuid)
                provider.name = name
                bump(session, uuid, seen)
        except GenerationRace:
            raise errors.ConcurrentUpdate() from None
        return self.get(uuid)

    def delete(self, uuid: str) -> None:
        """Delete a provider and its inventories; 409 while it has allocations or children."""
        # A claim committed between the check and the delete fails the foreign key: also 409.
        with self.writing(errors.ProviderInUse(uuid)) as session:
            provider = get_provider(session, uuid)
            held = select(Allocation.allocation_id).where(Allocation.provider_uuid == uuid)
            if session.scalar(held.limit(1)) is not None:
                raise errors.ProviderInUse(uuid)
            child = select(Provider.uuid).where(Provider.parent_provider_uuid == uuid)
            if session.scalar(child.limit(1)) is not None:
                raise errors.ProviderHasChildren(uuid)
            session.delete(provider)

    @staticmethod
    def _reparent(session: Session, provider: Provider, parent_uuid: str) -> None:
        if provider.parent_provider_uuid is not None:
            raise errors.InvalidRequest("Re-parenting a provider is not currently allowed.")
        parent = session.get(Provider, parent_uuid)
        if parent is None or parent.root_provider_uuid == provider.uuid:
            raise errors.ParentNotFound(parent_uuid)
        provider.parent_provider_uuid = parent_uuid
        provider.root_provider_uuid = parent.root_provider_uuid


def _has_room(session: Session, provider: Provider, wanted: Mapping[str, int]) -> bool:
    """True when `provider` alone can take every amount in `wanted` now."""
    stock = {inv.resource_class: inv for inv in provider.inventories}
    used = used_by_class(session, provider.uuid)
    return all(
        name in stock and capacity.fits(stock[name], used.get(name, 0), amount)
        for name, amount in wanted.items()
    )
