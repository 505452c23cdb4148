"""Object storage's own tables: accounts, containers and objects as the listings see them.

The object data lives in the store (`drivers/`); a row here is what makes it visible. An
object's `data_key` names its bytes in the store, and a new write gets a new key, so a row
never points at half-written or stale data. Metadata maps are JSON (header name suffix ->
value).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "object_accounts"
    account: Mapped[str] = mapped_column(String(255), primary_key=True)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Container(Base):
    __tablename__ = "object_containers"
    account: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    read_acl: Mapped[str | None] = mapped_column(Text, nullable=True)
    write_acl: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class StoredObject(Base):
    __tablename__ = "object_objects"
    account: Mapped[str] = mapped_column(String(255), primary_key=True)
    container: Mapped[str] = mapped_column(String(256), primary_key=True)
    name: Mapped[str] = mapped_column(String(1024), primary_key=True)
    data_key: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str] = mapped_column(String(32))
    content_type: Mapped[str] = mapped_column(String(256))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    last_modified: Mapped[datetime] = mapped_column(DateTime)
