"""Network's own tables. Every resource carries Neutron's standard attributes (description,
created_at, updated_at, revision_number) and its tags live in `network_tags`.

An address is a row of `network_ip_allocations`, unique per (subnet, address): that index,
not a lock, is what keeps IPAM from handing out one address twice (see `manager/ipam.py`).
Router interfaces and gateways are ports whose device_id is the router's id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Standard:
    """Neutron's standard attributes, on every resource."""

    name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(String(255), default="")
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    revision_number: Mapped[int] = mapped_column(Integer, default=0)


class Network(Standard, Base):
    __tablename__ = "network_networks"
    __table_args__ = (
        # One vxlan id per segment; NULLs (flat, local) never collide.
        UniqueConstraint("network_type", "segmentation_id", name="ux_network_segment"),
    )
    network_id: Mapped[str] = mapped_column("id", String(36), primary_key=True)
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    network_type: Mapped[str] = mapped_column(String(16))
    physical_network: Mapped[str | None] = mapped_column(String(64), nullable=True)
    segmentation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mtu: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")


class Subnet(Standard, Base):
    __tablename__ = "network_subnets"
    subnet_id: Mapped[str] = mapped_column("id", String(36), primary_key=True)
    network_id: Mapped[str] = mapped_column(
        ForeignKey("network_networks.id", ondelete="CASCADE"), index=True
    )
    ip_version: Mapped[int] = mapped_column(Integer)
    cidr: Mapped[str] = mapped_column(String(64))
    gateway_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enable_dhcp: Mapped[bool] = mapped_column(Boolean, default=True)
    allocation_pools: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    dns_nameservers: Mapped[list[str]] = mapped_column(JSON)
    host_routes: Mapped[list[dict[str, str]]] = mapped_column(JSON)


class Port(Standard, Base):
    __tablename__ = "network_ports"
    __table_args__ = (UniqueConstraint("network_id", "mac_address", name="ux_network_port_mac"),)
    port_id: Mapped[str] = mapped_column("id", String(36), primary_key=True)
    network_id: Mapped[str] = mapped_column(ForeignKey("network_networks.id"), index=True)
    mac_address: Mapped[str] = mapped_column(String(32))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")
    device_id: Mapped[str] = mapped_column(String(255), default="")
    device_owner: Mapped[str] = mapped_column(String(255), default="")
    host_id: Mapped[str] = mapped_column(String(255), default="")
    vif_type: Mapped[str] = mapped_column(String(32), default="unbound")
    vif_details: Mapped[dict[str, Any]] = mapped_column(JSON)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    allowed_address_pairs: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    # Who made it for a server: "compute" ports are deleted with the server, user ports unbound.
    created_for: Mapped[str] = mapped_column(String(16), default="")
    fixed_ips: Mapped[list[IpAllocation]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="IpAllocation.ip_address"
    )
    security_groups: Mapped[list[PortSecurityGroup]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )


class IpAllocation(Base):
    __tablename__ = "network_ip_allocations"
    __table_args__ = (UniqueConstraint("subnet_id", "ip_address", name="ux_network_ip_allocation"),)
    port_id: Mapped[str] = mapped_column(
        ForeignKey("network_ports.id", ondelete="CASCADE"), primary_key=True
    )
    subnet_id: Mapped[str] = mapped_column(ForeignKey("network_subnets.id"), primary_key=True)
    ip_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    network_id: Mapped[str] = mapped_column(String(36), index=True)


class PortSecurityGroup(Base):
    __tablename__ = "network_port_security_groups"
    port_id: Mapped[str] = mapped_column(
        ForeignKey("network_ports.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(
        ForeignKey("network_security_groups.id"), primary_key=True, index=True
    )


class SecurityGroup(Standard, Base):
    __tablename__ = "network_security_groups"
    group_id: Mapped[str] = mapped_column("id", String(36), primary_key=True)
    stateful: Mapped[bool] = mapped_column(Boolean, default=True)
    rules: Mapped[list[SecurityGroupRule]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        foreign_keys="SecurityGroupRule.group_id",
        order_by="SecurityGroupRule.created_at",
    )


class DefaultSecurityGroup(Base):
    """One row per project: makes creating the `default` group on first use race-free."""

    __tablename__ = "network_default_security_groups"
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group_id: Mapped[str] = mapped_column(
        ForeignKey("network_security_groups.id", ondelete="CASCADE")
    )


class SecurityGroupRule(Base):
    __tablename__ = "network_security_group_rules"
    rule_id: Mapped[str] = mapped_column("id", String(36), primary_key=True)
    group_id: Mapped[str] = mapped_column(
        ForeignKey("network_security_groups.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    direction: Mapped[str] = mapped_column(String(8))
    ethertype: Mapped[str] = mapped_column(String(8))
    protocol: Mapped[str | None] = mapped_column(String(40), nullable=True)
    port_range_min: Mapped[int | None] = mapped_column(Integer, nullable=True)
    port_range_max: Mapped[int | None] = mapped_column(Integer, nullable=True)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64), nullable=True)
    remote_group_id: Mapped[str | None] = mapped_column(
        ForeignKey("network_security_groups.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    revision_number: Mapped[int] = mapped_column(Integer, default=0)


class Router(Standard, Base):
    __tablename__ = "network_routers"
    router_id: Mapped[str] = mapped_column("id", String(36), primary_key=True)
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    gateway_network_id: Mapped[str | None] = mapped_column(
        ForeignKey("network_networks.id"), nullable=True
    )
    enable_snat: Mapped[bool] = mapped_column(Boolean, default=True)
    routes: Mapped[list[dict[str, str]]] = mapped_column(JSON)


class FloatingIp(Standard, Base):
    __tablename__ = "network_floating_ips"
    floating_ip_id: Mapped[str] = mapped_column("id", String(36), primary_key=True)
    floating_network_id: Mapped[str] = mapped_column(ForeignKey("network_networks.id"))
    # The port on the external network that holds the address (device_owner
    # network:floatingip), so IPAM's one index covers floating addresses too.
    floating_port_id: Mapped[str] = mapped_column(
        ForeignKey("network_ports.id", ondelete="CASCADE"), unique=True
    )
    floating_ip_address: Mapped[str] = mapped_column(String(64))
    port_id: Mapped[str | None] = mapped_column(
        ForeignKey("network_ports.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    fixed_ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    router_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")


class Tag(Base):
    __tablename__ = "network_tags"
    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True)


Index("ix_network_ports_device", Port.device_id, Port.device_owner)
