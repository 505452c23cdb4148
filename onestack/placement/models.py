"""Placement's own tables: resource providers, their inventories, consumers and allocations.

A provider's `generation` is bumped by every write that changes what it holds (inventories,
allocations against it): writers compare-and-set it, so two concurrent claims never both fit
into the same free capacity. Custom resource classes and traits are rows; the standard ones
live in code (`manager/classes.py`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Provider(Base):
    __tablename__ = "placement_providers"
    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    parent_provider_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    root_provider_uuid: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    inventories: Mapped[list[Inventory]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Inventory.resource_class"
    )


class Inventory(Base):
    __tablename__ = "placement_inventories"
    provider_uuid: Mapped[str] = mapped_column(
        String(36), ForeignKey("placement_providers.uuid", ondelete="CASCADE"), primary_key=True
    )
    resource_class: Mapped[str] = mapped_column(String(255), primary_key=True)
    total: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    min_unit: Mapped[int] = mapped_column(Integer, default=1)
    max_unit: Mapped[int] = mapped_column(Integer)
    step_size: Mapped[int] = mapped_column(Integer, default=1)
    allocation_ratio: Mapped[float] = mapped_column(Float, default=1.0)


class Consumer(Base):
    __tablename__ = "placement_consumers"
    consumer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(255), index=True)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    consumer_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Allocation(Base):
    __tablename__ = "placement_allocations"
    __table_args__ = (UniqueConstraint("consumer_id", "provider_uuid", "resource_class"),)
    allocation_id: Mapped[int] = mapped_column("id", Integer, primary_key=True, autoincrement=True)
    # No cascade: a provider with allocations cannot be deleted (409), checked first.
    provider_uuid: Mapped[str] = mapped_column(
        String(36), ForeignKey("placement_providers.uuid"), index=True
    )
    consumer_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("placement_consumers.consumer_id"), index=True
    )
    resource_class: Mapped[str] = mapped_column(String(255))
    used: Mapped[int] = mapped_column(Integer)


class CustomClass(Base):
    __tablename__ = "placement_resource_classes"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)


class CustomTrait(Base):
    __tablename__ = "placement_traits"
    name: Mapped[str] = mapped_column(String(255), primary_key=True)


class ProviderTrait(Base):
    __tablename__ = "placement_provider_traits"
    provider_uuid: Mapped[str] = mapped_column(
        String(36), ForeignKey("placement_providers.uuid", ondelete="CASCADE"), primary_key=True
    )
    trait: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
