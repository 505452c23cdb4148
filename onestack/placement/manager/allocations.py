"""Allocations: what each consumer holds on which providers, written all at once.

A consumer's allocations are replaced as a whole (PUT /allocations/{consumer}): the old ones
are dropped, each new amount is checked against the provider's inventory (unit rules, then
capacity minus what others hold), and the generation of every provider touched is compared
and set. A writer that lost that race reads again and retries, so concurrent claims can
never together exceed a provider's capacity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from onestack.placement import errors
from onestack.placement.manager import capacity
from onestack.placement.manager.base import (
    RETRIES,
    GenerationRace,
    PlacementBase,
    bump,
    used_by_class,
    utcnow,
)
from onestack.placement.models import Allocation, Consumer, Provider

# provider uuid -> resource class -> amount
Amounts = dict[str, dict[str, int]]


class Unset:
    """No consumer generation given (before microversion 1.28): no check."""


UNSET = Unset()


@dataclass(frozen=True)
class ConsumerAllocations:
    """A consumer's allocations as GET /allocations/{consumer} shows them."""

    consumer_id: str
    allocations: Amounts = field(default_factory=dict)
    generations: dict[str, int] = field(default_factory=dict)  # provider uuid -> generation
    project_id: str | None = None
    user_id: str | None = None
    consumer_generation: int | None = None
    consumer_type: str | None = None


@dataclass(frozen=True)
class Request:
    """One consumer's complete new allocations."""

    consumer_id: str
    amounts: Amounts
    project_id: str
    user_id: str
    consumer_generation: int | Unset | None = UNSET
    consumer_type: str | None = None


class Allocations(PlacementBase):
    def get(self, consumer_id: str) -> ConsumerAllocations:
        """The consumer's allocations; empty when it holds none."""
        with self.db.reader() as session:
            consumer = session.get(Consumer, consumer_id)
            if consumer is None:
                return ConsumerAllocations(consumer_id)
            rows = session.execute(
                select(Allocation, Provider.generation)
                .join(Provider, Provider.uuid == Allocation.provider_uuid)
                .where(Allocation.consumer_id == consumer_id)
            )
            amounts: Amounts = {}
            generations: dict[str, int] = {}
            for row, generation in rows:
                amounts.setdefault(row.provider_uuid, {})[row.resource_class] = row.used
                generations[row.provider_uuid] = generation
            return ConsumerAllocations(
                consumer_id,
                amounts,
                generations,
                consumer.project_id,
                consumer.user_id,
                consumer.generation,
                consumer.consumer_type,
            )

    def on_provider(self, uuid: str) -> tuple[int, Amounts]:
        """The provider's generation and, per consumer, what it holds there."""
        with self.db.reader() as session:
            provider = session.get(Provider, uuid)
            if provider is None:
                raise errors.ProviderNotFound(uuid)
            rows = session.scalars(select(Allocation).where(Allocation.provider_uuid == uuid))
            by_consumer: Amounts = {}
            for row in rows:
                by_consumer.setdefault(row.consumer_id, {})[row.resource_class] = row.used
            return provider.generation, by_consumer

    def replace(self, requests: list[Request]) -> None:
        """Write every request's allocations in one transaction (an empty `amounts` deletes
        the consumer's); retried on a generation race, all or nothing."""
        for _ in range(RETRIES):
            try:
                with self.writing("Allocations of this consumer changed meanwhile.") as session:
                    seen: dict[str, int] = {}
                    for request in requests:
                        self._write(session, request, seen)
                    for uuid, generation in sorted(seen.items()):  # one lock order: no deadlock
                        bump(session, uuid, generation)
                return
            except GenerationRace:
                continue
        raise errors.ConcurrentUpdate()

    def delete(self, consumer_id: str) -> bool:
        """Drop the consumer's allocations; False when it had none."""
        if self.get(consumer_id).consumer_generation is None:
            return False
        self.replace([Request(consumer_id, {}, "", "")])
        return True

    def _write(self, session: Session, request: Request, seen: dict[str, int]) -> None:
        consumer = session.get(Consumer, request.consumer_id)
        _check_consumer_generation(request, consumer)
        old = session.scalars(
            select(Allocation.provider_uuid).where(Allocation.consumer_id == request.consumer_id)
        )
        for uuid in set(old):
            _remember(session, uuid, seen)
        session.execute(delete(Allocation).where(Allocation.consumer_id == request.consumer_id))
        if not any(request.amounts.values()):
            if consumer is not None:
                session.delete(consumer)
            return
        consumer = _save_consumer(session, request, consumer)
        for uuid, amounts in request.amounts.items():
            provider = _remember(session, uuid, seen)
            _check_room(session, provider, amounts)
            for name, used in amounts.items():
                session.add(
                    Allocation(
                        provider_uuid=uuid,
                        consumer_id=request.consumer_id,
                        resource_class=name,
                        used=used,
                    )
                )
        session.flush()


def _remember(session: Session, uuid: str, seen: dict[str, int]) -> Provider:
    """The provider, its generation noted as first read in this transaction."""
    provider = session.get(Provider, uuid)
    if provider is None:
        raise errors.InvalidRequest(
            f"Allocation for resource provider '{uuid}' that does not exist."
        )
    seen.setdefault(uuid, provider.generation)
    return provider


def _check_consumer_generation(request: Request, consumer: Consumer | None) -> None:
    if isinstance(request.consumer_generation, Unset):
        return
    current = None if consumer is None else consumer.generation
    if request.consumer_generation != current:
        raise errors.ConsumerGenerationConflict(
            f"consumer generation conflict - expected {request.consumer_generation} "
            f"but got {current}"
        )


def _save_consumer(session: Session, request: Request, consumer: Consumer | None) -> Consumer:
    now = utcnow()
    if consumer is None:
        consumer = Consumer(
            consumer_id=request.consumer_id,
            project_id=request.project_id,
            user_id=request.user_id,
            consumer_type=request.consumer_type,
            generation=0,
            created_at=now,
            updated_at=now,
        )
        session.add(consumer)
        session.flush()  # before its allocations, which refer to it
        return consumer
    # Compare-and-set as for providers: two writers of one consumer cannot both win.
    result = session.execute(
        update(Consumer)
        .where(
            Consumer.consumer_id == request.consumer_id,
            Consumer.generation == consumer.generation,
        )
        .values(
            generation=consumer.generation + 1,
            project_id=request.project_id or consumer.project_id,
            user_id=request.user_id or consumer.user_id,
            consumer_type=request.consumer_type or consumer.consumer_type,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise GenerationRace(request.consumer_id)
    return consumer


def _check_room(session: Session, provider: Provider, amounts: Mapping[str, int]) -> None:
    """400 for a class the provider has no inventory of or an amount breaking its unit rules;
    409 when the amount does not fit beside what others hold."""
    stock = {inv.resource_class: inv for inv in provider.inventories}
    used = used_by_class(session, provider.uuid)
    for name, amount in amounts.items():
        if name not in stock:
            raise errors.InvalidRequest(
                f"Unable to allocate inventory: Inventory for '{name}' on resource provider "
                f"'{provider.uuid}' invalid."
            )
        problem = capacity.unit_problem(stock[name], amount)
        if problem is not None:
            raise errors.InvalidRequest(
                f"Unable to allocate inventory for resource provider {provider.uuid}: "
                f"'{name}': {problem}."
            )
        if used.get(name, 0) + amount > capacity.capacity(stock[name]):
            raise errors.InsufficientCapacity(name, provider.uuid)
