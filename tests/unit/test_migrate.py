"""`migrate.upgrade()`: Alembic runs only when a branch is behind its head."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.script import ScriptDirectory

from onestack.common import migrate


def test_heads_read_from_the_version_files_are_alembics_heads(tmp_path: Path) -> None:
    config = migrate.alembic_config(f"sqlite:///{tmp_path / 'db.sqlite'}")

    expected = set(ScriptDirectory.from_config(config).get_heads())

    assert migrate.heads() == expected


def test_a_new_database_is_not_current_until_upgraded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    assert not migrate.is_current(url)

    migrate.upgrade(url)

    assert migrate.is_current(url)


def test_a_database_behind_one_head_is_upgraded_again(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    # As if the image branch's tables had never been created: its head is not recorded.
    with sqlite3.connect(path) as connection:
        connection.execute("DELETE FROM alembic_version WHERE version_num LIKE 'image_%'")
        listed = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        for (table,) in listed.fetchall():
            if table.startswith("image_"):
                connection.execute(f"DROP TABLE {table}")
    assert not migrate.is_current(url)

    migrate.upgrade(url)

    assert migrate.is_current(url)
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert "image_images" in tables


def test_the_first_upgrade_leaves_sqlite_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"

    migrate.upgrade(f"sqlite:///{path}")

    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
