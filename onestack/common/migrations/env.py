"""Alembic environment: runs the migrations online against the configured database URL.

On SQLite the whole upgrade is one transaction in WAL mode: pysqlite would otherwise commit
(and sync to disk) after every DDL statement, which made the first start wait on ~200 syncs.
Foreign keys stay off, as batch migrations that copy a table need.
"""

from alembic import context
from sqlalchemy import create_engine, event

url = context.config.attributes["database_url"]
connectable = create_engine(url)
if url.startswith("sqlite"):

    @event.listens_for(connectable, "connect")
    def _no_implicit_transactions(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # the "begin" listener below says when
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        dbapi_connection.execute("PRAGMA busy_timeout=10000")

    @event.listens_for(connectable, "begin")
    def _begin_writing(connection):  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN IMMEDIATE")  # one writer migrates at a time


with connectable.connect() as connection:
    context.configure(connection=connection, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()
connectable.dispose()
