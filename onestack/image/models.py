"""Image's own tables: images, their free-form properties, tags and members; nobody else's.

An image's data lives in a store (see `drivers/`); the row keeps where (`store`, `location`)
and what the data hashes to. Extra properties are rows, so list filters on them are SQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Image(Base):
    __tablename__ = "image_images"
    image_id: Mapped[str] = mapped_column("id", String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str] = mapped_column(String(30), index=True)
    visibility: Mapped[str] = mapped_column(String(20), index=True)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    os_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    virtual_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    checksum: Mapped[str | None] = mapped_column(String(32), nullable=True)
    os_hash_algo: Mapped[str | None] = mapped_column(String(64), nullable=True)
    os_hash_value: Mapped[str | None] = mapped_column(String(128), nullable=True)
    disk_format: Mapped[str | None] = mapped_column(String(20), nullable=True)
    container_format: Mapped[str | None] = mapped_column(String(20), nullable=True)
    min_disk: Mapped[int] = mapped_column(Integer, default=0)
    min_ram: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    store: Mapped[str | None] = mapped_column(String(64), nullable=True)
    location: Mapped[str | None] = mapped_column(Text, nullable=True)
    properties: Mapped[list[ImageProperty]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ImageProperty.name"
    )
    tags: Mapped[list[ImageTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ImageTag.tag"
    )
    # Loaded only when asked for; the relationship makes deleting an image delete its members.
    members: Mapped[list[ImageMember]] = relationship(cascade="all, delete-orphan", lazy="select")


class ImageProperty(Base):
    __tablename__ = "image_properties"
    image_id: Mapped[str] = mapped_column(
        ForeignKey("image_images.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ImageTag(Base):
    __tablename__ = "image_tags"
    image_id: Mapped[str] = mapped_column(
        ForeignKey("image_images.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(255), primary_key=True)


class ImageMember(Base):
    """A project an image owner shares a `shared` image with, and whether it accepted."""

    __tablename__ = "image_members"
    image_id: Mapped[str] = mapped_column(
        ForeignKey("image_images.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
