"""Database engine and transactions: SQLite (WAL) by default, PostgreSQL by URL.

Managers are the only writers, and they write inside `Database.transaction()`, so a failed
request rolls back everything it started. Services never read each other's tables.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITER_OPTION = "onestack_writer"


class Database:
    """One engine and its sessions for the whole process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(**{WRITER_OPTION: True})
        self._writers = sessionmaker(writer, expire_on_commit=False)
        self._held: list[Any] = []

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on any error.

        On SQLite the transaction takes the write lock when it begins (BEGIN IMMEDIATE), waiting
        up to the busy timeout for it: a deferred transaction that reads and then writes fails at
        once with "database is locked" when another connection committed in between.
        """
        with self._writers.begin() as session:
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for reads only; nothing it does is committed."""
        with self._sessions() as session:
            yield session

    def ping(self) -> None:
        """Raises unless the database answers a trivial query."""
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def held_connection(self) -> Any:
        """A DBAPI connection kept out of the pool for one caller's hot-path reads, in
        autocommit mode (never idle in a transaction); closed by `dispose()`."""
        raw = self.engine.raw_connection()
        driver = raw.driver_connection
        if hasattr(driver, "autocommit"):
            driver.autocommit = True  # psycopg; SQLite connections already are (_tune_sqlite)
        self._held.append(raw)
        return raw

    def release(self, raw: Any) -> None:
        """Give up a held connection (after an error): it is closed, not pooled again."""
        if raw in self._held:
            self._held.remove(raw)
        with contextlib.suppress(Exception):
            raw.invalidate()

    def dispose(self) -> None:
        for raw in self._held:
            with contextlib.suppress(Exception):
                raw.invalidate()
        self._held.clear()
        self.engine.dispose()


def make_engine(url: str) -> Engine:
    """An engine tuned for the backend: WAL, a busy timeout and foreign keys on SQLite."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _tune_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _begin_sqlite(connection: Connection) -> None:
    # pysqlite's own transaction handling is off (see _tune_sqlite), so we say how to begin.
    writer = connection.get_execution_options().get(WRITER_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def _tune_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    dbapi_connection.isolation_level = None  # no implicit BEGIN: _begin_sqlite emits it
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
