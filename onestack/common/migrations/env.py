"""Alembic environment: runs the migrations online against the configured database URL."""

from alembic import context
from sqlalchemy import create_engine

url = context.config.attributes["database_url"]
connectable = create_engine(url)
with connectable.connect() as connection:
    context.configure(connection=connection, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()
connectable.dispose()
