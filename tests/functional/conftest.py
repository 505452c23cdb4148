"""Fixtures: one real cloud per database backend (SQLite, and PostgreSQL when one answers)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.functional.cloud import CloudProcess

PG_ADMIN_URL = os.environ.get(
    "ONESTACK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for SQLite in the state dir, or the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    name = f"onestack_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL answers at {PG_ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def cloud(backend: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudProcess]:
    """A running cloud shared by a module's tests; stopped (SIGTERM) at the end."""
    state_dir = tmp_path_factory.mktemp("cloud") / "state"
    process = CloudProcess(state_dir=state_dir, database_url=backend)
    process.start()
    yield process
    if process.process is not None:
        process.stop()
    # Bad input must never be a 500: any server error in the whole module fails it.
    assert process.server_errors() == []
