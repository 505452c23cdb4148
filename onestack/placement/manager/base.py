"""What placement's managers share: their deps, the clock, provider lookups and the
generation compare-and-set that keeps concurrent writers from overcommitting."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from onestack.common.manager import Deps, Manager
from onestack.placement import errors
from onestack.placement.models import Allocation, Provider, ProviderTrait

# A write that lost the generation race re-reads and tries again this many times.
RETRIES = 20


class PlacementDeps(Deps):
    pass


class PlacementBase(Manager[PlacementDeps]):
    """A placement manager; writes that change what a provider holds bump its generation."""


class GenerationRace(Exception):
    """A provider's generation moved between our read and our write: read again."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def get_provider(session: Session, uuid: str) -> Provider:
    provider = session.get(Provider, uuid)
    if provider is None:
        raise errors.ProviderNotFound(uuid)
    return provider


def bump(session: Session, uuid: str, seen: int) -> int:
    """Move provider `uuid` from generation `seen` to the next one, or raise GenerationRace.

    On PostgreSQL the UPDATE waits for a concurrent writer's row lock and then re-checks the
    WHERE clause against the committed row, so exactly one of two racing writers wins."""
    result = session.execute(
        update(Provider)
        .where(Provider.uuid == uuid, Provider.generation == seen)
        .values(generation=seen + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise GenerationRace(uuid)
    return seen + 1


def used_by_class(session: Session, uuid: str) -> dict[str, int]:
    """What is allocated on provider `uuid`, per resource class."""
    rows = session.execute(
        select(Allocation.resource_class, func.sum(Allocation.used))
        .where(Allocation.provider_uuid == uuid)
        .group_by(Allocation.resource_class)
    )
    return {name: int(total) for name, total in rows}


def traits_of(session: Session, uuid: str) -> set[str]:
    return set(
        session.scalars(select(ProviderTrait.trait).where(ProviderTrait.provider_uuid == uuid))
    )


def has_traits(
    session: Session, uuid: str, required: frozenset[str], forbidden: frozenset[str]
) -> bool:
    """True when provider `uuid` has every `required` trait and none of `forbidden`."""
    if not required and not forbidden:
        return True
    held = traits_of(session, uuid)
    return required <= held and not forbidden & held
