"""Placement's Python facade (what compute calls) on a real database: providers and their
inventories, candidates, claims that respect capacity and replace each other, release, usages;
and parallel claims that never overcommit, on SQLite and on PostgreSQL when one answers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from onestack.common import migrate
from onestack.common.bus import LocalBus, Notifier
from onestack.common.db import Database
from onestack.placement import errors
from onestack.placement.manager import PlacementManager

PG_ADMIN_URL = os.environ.get(
    "ONESTACK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
NODE = {
    "VCPU": {"total": 2, "allocation_ratio": 16.0, "reserved": 0, "min_unit": 1, "max_unit": 2},
    "MEMORY_MB": {"total": 2048, "allocation_ratio": 1.5, "reserved": 512, "max_unit": 2048},
    "DISK_GB": {"total": 20, "allocation_ratio": 1.0, "max_unit": 20},
}
TINY = {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}


def new_uuid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def placement(tmp_path: Path) -> Iterator[PlacementManager]:
    url = f"sqlite:///{tmp_path / 'onestack.db'}"
    migrate.upgrade(url)
    db = Database(url)
    yield PlacementManager(db, Notifier(LocalBus(), "placement"))
    db.dispose()


@pytest.fixture
def pg_placement() -> Iterator[PlacementManager]:
    name = f"onestack_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL answers at {PG_ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}".replace("postgresql:", "postgresql+psycopg:")
    migrate.upgrade(url)
    db = Database(url)
    yield PlacementManager(db, Notifier(LocalBus(), "placement"))
    db.dispose()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_ensure_provider_creates_then_updates(placement: PlacementManager) -> None:
    node = new_uuid()
    placement.ensure_provider(node, "host1", NODE)
    placement.ensure_provider(node, "host1-renamed", {**NODE, "VCPU": {**NODE["VCPU"], "total": 4}})

    provider = placement.providers.get(node)
    _, stocks = placement.inventories.get_all(node)
    assert provider.name == "host1-renamed"
    assert stocks["VCPU"].total == 4
    assert placement.usages(node) == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}


def test_candidates_are_ranked_most_free_first(placement: PlacementManager) -> None:
    busy, idle = new_uuid(), new_uuid()
    placement.ensure_provider(busy, "busy", NODE)
    placement.ensure_provider(idle, "idle", NODE)
    assert placement.claim(new_uuid(), busy, {"VCPU": 2, "MEMORY_MB": 1024}, "p", "u")

    assert placement.candidates(TINY) == [idle, busy]
    assert placement.candidates({"VCPU": 3}) == []  # above max_unit everywhere
    assert placement.candidates({"MEMORY_MB": 2048}) == [idle]


def test_claims_stop_at_capacity(placement: PlacementManager) -> None:
    node = new_uuid()
    placement.ensure_provider(node, "host1", NODE)
    # MEMORY_MB capacity is (2048 - 512) * 1.5 = 2304: four 512 MB servers fit, a fifth not.
    results = [placement.claim(new_uuid(), node, TINY, "p", "u") for _ in range(5)]

    assert results == [True, True, True, True, False]
    assert placement.usages(node) == {"VCPU": 4, "MEMORY_MB": 2048, "DISK_GB": 4}


def test_a_claim_replaces_the_consumers_earlier_one(placement: PlacementManager) -> None:
    first, second, server = new_uuid(), new_uuid(), new_uuid()
    placement.ensure_provider(first, "host1", NODE)
    placement.ensure_provider(second, "host2", NODE)
    assert placement.claim(server, first, TINY, "p", "u")

    assert placement.claim(server, second, {**TINY, "VCPU": 2}, "p", "u")

    assert placement.usages(first)["VCPU"] == 0
    assert placement.usages(second)["VCPU"] == 2


def test_release_frees_and_is_idempotent(placement: PlacementManager) -> None:
    node, server = new_uuid(), new_uuid()
    placement.ensure_provider(node, "host1", NODE)
    placement.claim(server, node, TINY, "p", "u")

    placement.release(server)
    placement.release(server)

    assert placement.usages(node) == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}
    assert placement.allocations.get(server).allocations == {}


def test_a_claim_on_an_unknown_provider_or_class_does_not_fit(placement: PlacementManager) -> None:
    node = new_uuid()
    placement.ensure_provider(node, "host1", NODE)

    assert not placement.claim(new_uuid(), new_uuid(), TINY, "p", "u")
    assert not placement.claim(new_uuid(), node, {"VGPU": 1}, "p", "u")
    assert placement.usages(node)["VCPU"] == 0


def test_inventory_cannot_shrink_below_allocations(placement: PlacementManager) -> None:
    node = new_uuid()
    placement.ensure_provider(node, "host1", NODE)
    placement.claim(new_uuid(), node, {"VCPU": 2}, "p", "u")
    shrunk = {**NODE, "VCPU": {**NODE["VCPU"], "total": 1, "allocation_ratio": 1.0}}

    with pytest.raises(errors.InventoryInUse):
        placement.ensure_provider(node, "host1", shrunk)
    with pytest.raises(errors.InventoryInUse):
        placement.ensure_provider(node, "host1", {"MEMORY_MB": NODE["MEMORY_MB"]})
    assert placement.inventories.get_all(node)[1]["VCPU"].total == 2


def test_a_provider_with_allocations_cannot_be_deleted(placement: PlacementManager) -> None:
    node, server = new_uuid(), new_uuid()
    placement.ensure_provider(node, "host1", NODE)
    placement.claim(server, node, TINY, "p", "u")

    with pytest.raises(errors.ProviderInUse):
        placement.providers.delete(node)
    placement.release(server)
    placement.providers.delete(node)
    assert placement.providers.find(node) is None


def claim_in_parallel(placement: PlacementManager, node: str, count: int) -> list[bool]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        claims = [
            pool.submit(placement.claim, new_uuid(), node, {"VCPU": 1}, "p", "u")
            for _ in range(count)
        ]
        return [claim.result() for claim in claims]


def parallel_claims_never_overcommit(placement: PlacementManager) -> None:
    node = new_uuid()
    # 5 VCPU of capacity for 30 parallel one-VCPU claims.
    placement.ensure_provider(node, "host1", {"VCPU": {"total": 5, "max_unit": 5}})

    results = claim_in_parallel(placement, node, 30)

    assert results.count(True) == 5
    assert placement.usages(node) == {"VCPU": 5}
    assert placement.providers.get(node).generation == 1 + 5  # inventory set, then 5 claims


def test_parallel_claims_never_overcommit_on_sqlite(placement: PlacementManager) -> None:
    parallel_claims_never_overcommit(placement)


def test_parallel_claims_never_overcommit_on_postgresql(pg_placement: PlacementManager) -> None:
    parallel_claims_never_overcommit(pg_placement)
