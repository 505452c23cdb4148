"""Fixtures: the one way to start a cloud (`make_cloud`), and `cloud`, one real cloud per
database backend (SQLite, and PostgreSQL when one answers) shared by a module's tests.

With `ONESTACK_TEST_CLOUD=<clouds.yaml entry>` every `cloud` is that running cloud instead
(tests/functional/running.py), and tests that need a cloud of their own skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.functional.cloud import Cloud, CloudFactory
from tests.functional.running import ENTRY_VARIABLE, RunningCloud, clouds_yaml_path, entry_name

PG_ADMIN_URL = os.environ.get(
    "ONESTACK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if entry_name() is not None and item.get_closest_marker("own_cloud") is not None:
        pytest.skip(f"would leave the cloud {ENTRY_VARIABLE} names unfit for other tests")


@pytest.fixture(scope="module")
def make_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudFactory]:
    """The one way a test module starts clouds; each is stopped at the module's end.

    A fixture that takes both `backend` and `make_cloud` names `backend` first, so that its
    database is dropped only after the clouds on it have stopped."""
    factory = CloudFactory(tmp_path_factory)
    yield factory
    factory.stop_all()


def _backends() -> list[str]:
    return ["running"] if entry_name() is not None else ["sqlite", "postgresql"]


@pytest.fixture(scope="module", params=_backends())
def backend(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for SQLite in the state dir, or the URL of a fresh PostgreSQL database."""
    if request.param != "postgresql":
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
def cloud(backend: str | None, make_cloud: CloudFactory) -> Cloud:
    """A running cloud shared by a module's tests; stopped (SIGTERM) at the end."""
    entry = entry_name()
    if entry is not None:
        return RunningCloud(entry, clouds_yaml_path())
    return make_cloud(database_url=backend)
