"""Accounts (one per project, `AUTH_<project_id>`): their metadata, counts and container
listing. An account exists as soon as it is addressed (Swift's account autocreate); its row
holds only metadata, and is made by the first write that needs one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from onestack.object.manager.base import ObjectBase, utcnow
from onestack.object.manager.listing import ListQuery, filtered, page
from onestack.object.models import Account, Container, StoredObject


@dataclass(frozen=True)
class AccountView:
    account: str
    containers: int
    objects: int
    bytes_used: int
    created_at: datetime
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ContainerEntry:
    name: str
    count: int
    bytes_used: int
    last_modified: datetime


class AccountManager(ObjectBase):
    def stat(self, account: str) -> AccountView:
        with self.db.reader() as session:
            row = session.get(Account, account)
            containers = session.scalar(
                select(func.count()).select_from(Container).where(Container.account == account)
            )
            objects, used = session.execute(
                select(func.count(), func.coalesce(func.sum(StoredObject.size), 0)).where(
                    StoredObject.account == account
                )
            ).one()
        return AccountView(
            account,
            int(containers or 0),
            int(objects),
            int(used),
            row.created_at if row else utcnow(),
            dict(row.metadata_) if row else {},
        )

    def update(self, account: str, changes: Mapping[str, str]) -> None:
        """Set metadata; an empty value removes the key (Swift's POST)."""
        with self.writing() as session:
            row = ensure_account(session, account)
            row.metadata_ = merged(row.metadata_, changes)

    def containers(self, account: str, query: ListQuery) -> list[Any]:
        """Container entries (with counts) and Subdirs, as the listing options select."""
        with self.db.reader() as session:
            stmt = filtered(
                session,
                select(Container).where(Container.account == account),
                Container.name,
                query,
            )
            rows = page(session.scalars(stmt), query)
            counts = _counts(session, account, [r.name for r in rows if isinstance(r, Container)])
        return [_entry(r, counts) if isinstance(r, Container) else r for r in rows]


def _counts(session: Any, account: str, names: list[str]) -> dict[str, tuple[int, int]]:
    if not names:
        return {}
    rows = session.execute(
        select(StoredObject.container, func.count(), func.coalesce(func.sum(StoredObject.size), 0))
        .where(StoredObject.account == account, StoredObject.container.in_(names))
        .group_by(StoredObject.container)
    )
    return {name: (int(count), int(used)) for name, count, used in rows}


def _entry(row: Container, counts: dict[str, tuple[int, int]]) -> ContainerEntry:
    count, used = counts.get(row.name, (0, 0))
    return ContainerEntry(row.name, count, used, row.updated_at)


def ensure_account(session: Any, account: str) -> Account:
    row = session.get(Account, account)
    if row is None:
        row = Account(account=account, metadata_={}, created_at=utcnow())
        session.add(row)
    return row


def merged(current: Mapping[str, str], changes: Mapping[str, str]) -> dict[str, str]:
    out = dict(current)
    for key, value in changes.items():
        if value:
            out[key] = value
        else:
            out.pop(key, None)
    return out
