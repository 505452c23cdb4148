"""Compute's tables (prefixed `compute_`): flavors, keypairs, servers, nodes and services.

A server keeps a copy of its flavor (as Nova's instance does), so deleting a flavor never
changes a running server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Flavor(Base):
    __tablename__ = "compute_flavors"
    flavor_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    memory_mb: Mapped[int] = mapped_column(Integer)
    vcpus: Mapped[int] = mapped_column(Integer)
    root_gb: Mapped[int] = mapped_column(Integer)
    ephemeral_gb: Mapped[int] = mapped_column(Integer, default=0)
    swap: Mapped[int] = mapped_column(Integer, default=0)
    rxtx_factor: Mapped[float] = mapped_column(default=1.0)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    extra_specs: Mapped[list[FlavorExtraSpec]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="FlavorExtraSpec.key"
    )
    # The projects a private flavor is shared with (os-flavor-access).
    projects: Mapped[list[FlavorProject]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="FlavorProject.project_id"
    )


class FlavorExtraSpec(Base):
    __tablename__ = "compute_flavor_extra_specs"
    flavor_id: Mapped[str] = mapped_column(
        ForeignKey("compute_flavors.flavor_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class FlavorProject(Base):
    __tablename__ = "compute_flavor_projects"
    flavor_id: Mapped[str] = mapped_column(
        ForeignKey("compute_flavors.flavor_id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class Keypair(Base):
    __tablename__ = "compute_keypairs"
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    key_type: Mapped[str] = mapped_column(String(10))
    public_key: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Server(Base):
    __tablename__ = "compute_servers"
    server_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    image_id: Mapped[str] = mapped_column(String(36))
    # The flavor as it was at create: id, name, memory_mb, vcpus, root_gb, ephemeral_gb,
    # swap, extra_specs.
    flavor: Mapped[dict[str, Any]] = mapped_column(JSON)
    key_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    key_data: Mapped[str | None] = mapped_column(Text, nullable=True)
    user_data: Mapped[str | None] = mapped_column(Text, nullable=True)
    server_metadata: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    security_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    # "none" | "auto" | [{"uuid"} | {"port"} | {"uuid", "fixed_ip"}], as requested.
    requested_networks: Mapped[Any] = mapped_column(JSON)
    availability_zone: Mapped[str] = mapped_column(String(255))
    config_drive: Mapped[bool] = mapped_column(Boolean, default=False)
    hostname: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    access_ipv4: Mapped[str] = mapped_column(String(64), default="")
    access_ipv6: Mapped[str] = mapped_column(String(64), default="")
    reservation_id: Mapped[str] = mapped_column(String(32), index=True)
    launch_index: Mapped[int] = mapped_column(Integer, default=0)
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    node_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    vm_state: Mapped[str] = mapped_column(String(30))
    task_state: Mapped[str | None] = mapped_column(String(30), nullable=True)
    power_state: Mapped[int] = mapped_column(Integer, default=0)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    fault: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    launched_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    terminated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ComputeService(Base):
    """A compute agent's host (os-services); one `nova-compute` row per host."""

    __tablename__ = "compute_services"
    service_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    host: Mapped[str] = mapped_column(String(255), unique=True)
    binary: Mapped[str] = mapped_column(String(64))
    zone: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ComputeNode(Base):
    """A hypervisor (os-hypervisors): one per host and driver."""

    __tablename__ = "compute_nodes"
    node_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    host: Mapped[str] = mapped_column(String(255), index=True)
    hypervisor_hostname: Mapped[str] = mapped_column(String(255))
    hypervisor_type: Mapped[str] = mapped_column(String(64))
    vcpus: Mapped[int] = mapped_column(Integer)
    memory_mb: Mapped[int] = mapped_column(Integer)
    disk_gb: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
