"""The common manager base: writes that keep nothing on failure and fail as the service's
conflict, and the hook a service adds to every write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from onestack.cloud import managers as managers_of
from onestack.common.bus import LocalBus, Notifier
from onestack.common.db import Database
from onestack.common.errors import Conflict
from onestack.common.manager import Deps, Manager
from onestack.compute.models import Base as ComputeBase
from onestack.identity.models import Base as IdentityBase
from onestack.image.models import Base as ImageBase
from onestack.network.models import Base as NetworkBase
from onestack.object.models import Base as ObjectBase
from onestack.placement.models import Base as PlacementBase
from onestack.settings import Settings

# Relationships no renderer reads, so they may load lazily (inside a manager's session only).
NOT_RENDERED = {"Image.members"}  # kept so deleting an image deletes its members


class Base(DeclarativeBase):
    pass


class Thing(Base):
    __tablename__ = "things"
    name: Mapped[str] = mapped_column(String(20), primary_key=True)


class Audit(Base):
    __tablename__ = "audit"
    entry: Mapped[str] = mapped_column(String(40), primary_key=True)


class ThingExists(Conflict):
    pass


class ThingManager(Manager[Deps]):
    """A service's manager whose every write also leaves an audit row (the hook)."""

    def add(self, *names: str) -> None:
        with self.writing(ThingExists(f"{names[-1]} exists")) as session:
            session.add_all(Thing(name=name) for name in names)

    def add_plainly(self, name: str) -> None:
        with self.writing(f"A thing named {name} exists.") as session:
            session.add(Thing(name=name))

    def before_commit(self, session: Session) -> None:
        count = session.scalar(select(func.count()).select_from(Audit)) or 0
        session.add(Audit(entry=f"write {count + 1}"))


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[ThingManager]:
    db = Database(f"sqlite:///{tmp_path / 'things.db'}")
    Base.metadata.create_all(db.engine)
    yield ThingManager(Deps(db, Notifier(LocalBus(), "things")))
    db.dispose()


def _rows(manager: ThingManager) -> tuple[list[str], list[str]]:
    with manager.db.reader() as session:
        things = sorted(session.scalars(select(Thing.name)))
        audit = sorted(session.scalars(select(Audit.entry)))
    return things, audit


def test_a_write_commits_with_what_the_hook_adds(manager: ThingManager) -> None:
    manager.add("a", "b")
    assert _rows(manager) == (["a", "b"], ["write 1"])


def test_a_duplicate_is_the_services_conflict_and_writes_nothing(manager: ThingManager) -> None:
    manager.add("a")
    with pytest.raises(ThingExists) as raised:
        manager.add("b", "a")  # "b" would be new: it must not stay either
    assert raised.value.status == 409
    assert raised.value.message == "a exists"
    assert _rows(manager) == (["a"], ["write 1"])


def test_a_message_makes_a_plain_conflict(manager: ThingManager) -> None:
    manager.add_plainly("a")
    with pytest.raises(Conflict, match=r"A thing named a exists\."):
        manager.add_plainly("a")


def test_every_identity_and_image_manager_is_on_the_common_base(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    db = Database(f"sqlite:///{tmp_path / 'onestack.db'}")
    identity, image = managers_of(settings, db, LocalBus())  # as `onestack up` builds them
    built = [
        (name, value)
        for facade in (identity, image)
        for name, value in vars(facade).items()
        if type(value).__name__.endswith(("Manager", "Records"))
    ]
    assert {"tokens", "limits", "images", "imports"} <= {name for name, _ in built}
    assert [name for name, value in built if not isinstance(value, Manager)] == []
    db.dispose()


@pytest.mark.parametrize(
    "base",
    [IdentityBase, ImageBase, PlacementBase, NetworkBase, ComputeBase, ObjectBase],
    ids=["identity", "image", "placement", "network", "compute", "object"],
)
def test_returned_rows_render_without_their_session(base: type[DeclarativeBase]) -> None:
    """Managers return detached rows: whatever a renderer reads must be loaded with the row
    (a lazy load after the session closed is a 500)."""
    lazy = [
        f"{mapper.class_.__name__}.{relation.key}"
        for mapper in base.registry.mappers
        for relation in mapper.relationships
        if relation.lazy not in ("selectin", "joined", "immediate")
    ]
    assert sorted(set(lazy) - NOT_RENDERED) == []
