"""Image's own tables: images, their properties, tags, members, locations and import tasks.

An image's data lives in one or more stores (see `drivers/`): one `image_locations` row per
store that holds it; the image row keeps what the data hashes to, and where staged data waits
for its import (`stage_location`). Extra properties are rows, so list filters on them are SQL.

The metadata definitions catalog (`metadef_*`) describes the properties other services
understand; object and property definitions are kept as JSON documents.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
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
    stage_location: Mapped[str | None] = mapped_column(Text, nullable=True)
    properties: Mapped[list[ImageProperty]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ImageProperty.name"
    )
    tags: Mapped[list[ImageTag]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ImageTag.tag"
    )
    locations: Mapped[list[ImageLocation]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="[ImageLocation.created_at, ImageLocation.store_id]",
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


class ImageLocation(Base):
    """Where one store keeps an image's data (committed, complete, hashed as the image says)."""

    __tablename__ = "image_locations"
    image_id: Mapped[str] = mapped_column(
        ForeignKey("image_images.id", ondelete="CASCADE"), primary_key=True
    )
    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    location: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ImageTask(Base):
    """An import of data into an image (Glance's api_image_import task).

    Not tied to the image by a foreign key: a task outlives a deleted image, as in Glance.
    """

    __tablename__ = "image_tasks"
    task_id: Mapped[str] = mapped_column("id", String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(30), index=True)
    image_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    input: Mapped[str] = mapped_column(Text)  # JSON
    result: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class MetadefNamespace(Base):
    """A named group of property definitions, objects and tags (Glance's metadef namespace)."""

    __tablename__ = "image_metadef_namespaces"
    namespace_id: Mapped[str] = mapped_column("id", String(36), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    visibility: Mapped[str] = mapped_column(String(32), index=True)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class MetadefItem(Base):
    """An object, property or tag of a namespace: `kind` says which; `body` is its JSON
    definition (an object's description/required/properties, a property's schema)."""

    __tablename__ = "image_metadef_items"
    __table_args__ = (UniqueConstraint("namespace_id", "kind", "name"),)
    item_id: Mapped[str] = mapped_column("id", String(36), primary_key=True)
    namespace_id: Mapped[str] = mapped_column(
        ForeignKey("image_metadef_namespaces.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class MetadefResourceType(Base):
    """A kind of resource namespaces apply to (OS::Glance::Image, OS::Nova::Flavor...)."""

    __tablename__ = "image_metadef_resource_types"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    protected: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class MetadefAssociation(Base):
    """A namespace applies to a resource type, its properties named with `prefix`."""

    __tablename__ = "image_metadef_associations"
    namespace_id: Mapped[str] = mapped_column(
        ForeignKey("image_metadef_namespaces.id", ondelete="CASCADE"), primary_key=True
    )
    resource_type: Mapped[str] = mapped_column(
        ForeignKey("image_metadef_resource_types.name", ondelete="CASCADE"), primary_key=True
    )
    prefix: Mapped[str | None] = mapped_column(String(80), nullable=True)
    properties_target: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
