"""Schema migrations: one Alembic environment, one version branch per service.

Each service keeps its revisions in `onestack/<service>/migrations/versions` under its own
branch label, so services evolve their tables independently; `upgrade()` takes every branch
to its head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

PACKAGE_DIR = Path(__file__).resolve().parent.parent
SERVICES_WITH_TABLES = ("identity", "image")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PACKAGE_DIR / "common" / "migrations"))
    locations = [
        str(PACKAGE_DIR / name / "migrations" / "versions") for name in SERVICES_WITH_TABLES
    ]
    config.set_main_option("version_locations", " ".join(locations))
    config.set_main_option("path_separator", "space")
    config.attributes["database_url"] = url
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema of every service."""
    command.upgrade(alembic_config(url), "heads")
