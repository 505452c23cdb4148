"""Swift's listing options over an ordered name column: prefix, delimiter (names folded into
`subdir` entries), marker, end_marker, limit and reverse."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from onestack.object.manager.base import ordered

MAX_LIMIT = 10_000


@dataclass(frozen=True)
class ListQuery:
    prefix: str = ""
    delimiter: str = ""
    marker: str = ""
    end_marker: str = ""
    limit: int = MAX_LIMIT
    reverse: bool = False


@dataclass(frozen=True)
class Subdir:
    """Names under one `prefix + ... + delimiter`, listed once."""

    name: str


def filtered(
    session: Session, stmt: Select[Any], column: InstrumentedAttribute[str], query: ListQuery
) -> Select[Any]:
    name = ordered(session, column)
    if query.prefix:
        stmt = stmt.where(column.startswith(query.prefix, autoescape=True))
    after, before = (
        (query.end_marker, query.marker) if query.reverse else (query.marker, query.end_marker)
    )
    if after:
        stmt = stmt.where(name > after)
    if before:
        stmt = stmt.where(name < before)
    return stmt.order_by(name.desc() if query.reverse else name)


def folded(rows: Iterable[Any], query: ListQuery) -> Iterator[Any]:
    """The rows, with names past the prefix that hold the delimiter folded into one Subdir."""
    seen = ""
    for row in rows:
        if query.delimiter:
            rest = row.name[len(query.prefix) :]
            cut = rest.find(query.delimiter)
            if cut >= 0:
                subdir = query.prefix + rest[: cut + len(query.delimiter)]
                if subdir != seen:
                    seen = subdir
                    yield Subdir(subdir)
                continue
        yield row


def page(rows: Iterable[Any], query: ListQuery) -> list[Any]:
    out: list[Any] = []
    for item in folded(rows, query):
        if len(out) >= query.limit:
            break
        out.append(item)
    return out
