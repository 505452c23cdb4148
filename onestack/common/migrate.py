"""Schema migrations: one Alembic environment, one version branch per service (and `common`).

Each service keeps its revisions in `onestack/<service>/migrations/versions` under its own
branch label (the shared tables of `common/ownership.py` in `common/migrations/versions`),
so services evolve their tables independently; `upgrade()` takes every branch to its head. A
database already at every head is recognised without Alembic (importing and running it costs
more than the rest of a restart), by reading the revision ids from the version files and
comparing them with the `alembic_version` table.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

PACKAGE_DIR = Path(__file__).resolve().parent.parent
SERVICES_WITH_TABLES = (
    "common",
    "identity",
    "image",
    "placement",
    "network",
    "compute",
    "object",
)


def version_dirs() -> list[Path]:
    return [PACKAGE_DIR / name / "migrations" / "versions" for name in SERVICES_WITH_TABLES]


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(PACKAGE_DIR / "common" / "migrations"))
    config.set_main_option("version_locations", " ".join(str(d) for d in version_dirs()))
    config.set_main_option("path_separator", "space")
    config.attributes["database_url"] = url
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema of every service."""
    if is_current(url):
        return
    from alembic import command

    command.upgrade(alembic_config(url), "heads")


def is_current(url: str) -> bool:
    """True when the database records exactly the head revision of every branch."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version"))
            recorded = {row[0] for row in rows}
    except DBAPIError:  # no alembic_version table yet: a new database
        return False
    finally:
        engine.dispose()
    return recorded == heads()


def heads() -> set[str]:
    """The head revision of every branch, from the version files' `revision` and
    `down_revision` assignments (parsed, not imported: they import Alembic)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for directory in version_dirs():
        for path in directory.glob("*.py"):
            fields = _assignments(path)
            revisions.add(fields["revision"])
            down = fields.get("down_revision")
            parents.update([down] if isinstance(down, str) else down or ())
    return revisions - parents


def _assignments(path: Path) -> dict[str, object]:
    """The literal module-level assignments of a version file (`x = ...` or `x: T = ...`)."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if isinstance(target, ast.Name):
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                continue
    return found
