"""Identity's own tables; no other service reads or writes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SYSTEM_TARGET = "system"


class Base(DeclarativeBase):
    pass


class Domain(Base):
    __tablename__ = "identity_domains"
    domain_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class Project(Base):
    __tablename__ = "identity_projects"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    project_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    domain_id: Mapped[str] = mapped_column(ForeignKey("identity_domains.id"))
    parent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    __tablename__ = "identity_users"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    user_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    domain_id: Mapped[str] = mapped_column(ForeignKey("identity_domains.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    default_project_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Role(Base):
    __tablename__ = "identity_roles"
    role_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)


class ImpliedRole(Base):
    __tablename__ = "identity_implied_roles"
    prior_role_id: Mapped[str] = mapped_column(ForeignKey("identity_roles.id"), primary_key=True)
    implied_role_id: Mapped[str] = mapped_column(ForeignKey("identity_roles.id"), primary_key=True)


class Assignment(Base):
    """A role held by an actor (a user) on a target: a project, a domain or the system."""

    __tablename__ = "identity_assignments"
    actor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    target_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role_id: Mapped[str] = mapped_column(ForeignKey("identity_roles.id"), primary_key=True)


class Region(Base):
    __tablename__ = "identity_regions"
    region_id: Mapped[str] = mapped_column("id", String(255), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")


class Service(Base):
    __tablename__ = "identity_services"
    service_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class Endpoint(Base):
    __tablename__ = "identity_endpoints"
    endpoint_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("identity_services.id"))
    interface: Mapped[str] = mapped_column(String(8))
    region_id: Mapped[str] = mapped_column(ForeignKey("identity_regions.id"))
    url: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class RevokedToken(Base):
    """A revoked token, by audit id; kept until the token would have expired anyway."""

    __tablename__ = "identity_revoked_tokens"
    audit_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
