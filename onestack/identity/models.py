"""Identity's own tables; no other service reads or writes them.

Attributes are named by kind (`project_id`) and mapped to an `id` column. Free-form attributes
a client sends beyond the known fields (Keystone keeps them) live in `extra`, a JSON object.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SYSTEM_TARGET = "system"
# Global roles have no domain; a sentinel rather than NULL keeps (name, domain_id) unique.
GLOBAL_ROLE_DOMAIN = "<<global>>"


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON}


class Domain(Base):
    __tablename__ = "identity_domains"
    domain_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Project(Base):
    __tablename__ = "identity_projects"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    project_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    domain_id: Mapped[str] = mapped_column(ForeignKey("identity_domains.id"))
    parent_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ProjectTag(Base):
    __tablename__ = "identity_project_tags"
    project_id: Mapped[str] = mapped_column(
        ForeignKey("identity_projects.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(255), primary_key=True)


class User(Base):
    __tablename__ = "identity_users"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    user_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    domain_id: Mapped[str] = mapped_column(ForeignKey("identity_domains.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    password_created_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    password_expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    default_project_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    failed_auth_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_auth_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Tokens issued before this moment are invalid (set on password change).
    tokens_valid_after: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Group(Base):
    __tablename__ = "identity_groups"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    group_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    domain_id: Mapped[str] = mapped_column(ForeignKey("identity_domains.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Membership(Base):
    __tablename__ = "identity_memberships"
    group_id: Mapped[str] = mapped_column(
        ForeignKey("identity_groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("identity_users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Role(Base):
    __tablename__ = "identity_roles"
    __table_args__ = (UniqueConstraint("name", "domain_id"),)
    role_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    domain_id: Mapped[str] = mapped_column(String(64), default=GLOBAL_ROLE_DOMAIN)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ImpliedRole(Base):
    __tablename__ = "identity_implied_roles"
    prior_role_id: Mapped[str] = mapped_column(
        ForeignKey("identity_roles.id", ondelete="CASCADE"), primary_key=True
    )
    implied_role_id: Mapped[str] = mapped_column(
        ForeignKey("identity_roles.id", ondelete="CASCADE"), primary_key=True
    )


class Assignment(Base):
    """A role held by an actor (a user or a group) on a target: a project, a domain or the
    system. An inherited assignment applies to the target's subtree, not to the target."""

    __tablename__ = "identity_assignments"
    actor_type: Mapped[str] = mapped_column(String(8), primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    target_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    role_id: Mapped[str] = mapped_column(
        ForeignKey("identity_roles.id", ondelete="CASCADE"), primary_key=True
    )
    inherited: Mapped[bool] = mapped_column(Boolean, primary_key=True, default=False)


class Region(Base):
    __tablename__ = "identity_regions"
    region_id: Mapped[str] = mapped_column("id", String(255), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    parent_region_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Service(Base):
    __tablename__ = "identity_services"
    service_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Endpoint(Base):
    __tablename__ = "identity_endpoints"
    endpoint_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("identity_services.id", ondelete="CASCADE"))
    interface: Mapped[str] = mapped_column(String(8))
    region_id: Mapped[str | None] = mapped_column(ForeignKey("identity_regions.id"), nullable=True)
    url: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Credential(Base):
    """A user's secret (ec2, totp, cert, ...); the blob is stored encrypted, never in clear."""

    __tablename__ = "identity_credentials"
    credential_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("identity_users.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    type: Mapped[str] = mapped_column(String(255))
    encrypted_blob: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class StoredPolicy(Base):
    """A policy blob kept for others to fetch (/v3/policies); identity never evaluates it."""

    __tablename__ = "identity_policies"
    policy_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(255))
    blob: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Generation(Base):
    """One row counting identity writes: every write bumps it in its own transaction, so a
    process holding cached token validations knows, with one read, whether they still hold."""

    __tablename__ = "identity_generation"
    generation_id: Mapped[int] = mapped_column("id", Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class RevokedToken(Base):
    """A revoked token, by audit id; kept until the token would have expired anyway."""

    __tablename__ = "identity_revoked_tokens"
    audit_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class RegisteredLimit(Base):
    """A resource a service limits, with its default per-project limit (-1: unlimited).

    One per (service, region, resource name); the unique index folds a missing region into ''
    because SQL treats NULLs as distinct."""

    __tablename__ = "identity_registered_limits"
    __table_args__ = (
        sa.Index(
            "ux_identity_registered_limits_scope",
            "service_id",
            sa.func.coalesce(sa.text("region_id"), ""),
            "resource_name",
            unique=True,
        ),
    )
    registered_limit_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("identity_services.id"), index=True)
    region_id: Mapped[str | None] = mapped_column(ForeignKey("identity_regions.id"), nullable=True)
    resource_name: Mapped[str] = mapped_column(String(255))
    default_limit: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)


class Limit(Base):
    """A project's (or a domain's) own limit for a registered resource; it names the
    registered limit, so service, region and resource name come from there."""

    __tablename__ = "identity_limits"
    __table_args__ = (
        sa.Index(
            "ux_identity_limits_scope",
            "registered_limit_id",
            sa.func.coalesce(sa.text("project_id"), ""),
            sa.func.coalesce(sa.text("domain_id"), ""),
            unique=True,
        ),
    )
    limit_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    registered_limit_id: Mapped[str] = mapped_column(
        ForeignKey("identity_registered_limits.id"), index=True
    )
    project_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    domain_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    resource_limit: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)


class ApplicationCredential(Base):
    """A user's delegation of (some of) their roles on one project to an application; only the
    secret's hash is kept."""

    __tablename__ = "identity_application_credentials"
    __table_args__ = (UniqueConstraint("user_id", "name"),)
    app_cred_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(
        ForeignKey("identity_users.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    unrestricted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ApplicationCredentialRole(Base):
    """One role an application credential delegates."""

    __tablename__ = "identity_application_credential_roles"
    app_cred_id: Mapped[str] = mapped_column(
        ForeignKey("identity_application_credentials.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[str] = mapped_column(
        ForeignKey("identity_roles.id", ondelete="CASCADE"), primary_key=True
    )


class AccessRule(Base):
    """A request (service, method, path) a user's application credentials may be limited to;
    kept per user and shared by the credentials that name it. Stored and shown, not yet
    enforced by the other services."""

    __tablename__ = "identity_access_rules"
    __table_args__ = (UniqueConstraint("user_id", "service", "method", "path"),)
    access_rule_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("identity_users.id", ondelete="CASCADE"), index=True
    )
    service: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(255))


class ApplicationCredentialAccessRule(Base):
    """One access rule an application credential is limited to."""

    __tablename__ = "identity_application_credential_access_rules"
    app_cred_id: Mapped[str] = mapped_column(
        ForeignKey("identity_application_credentials.id", ondelete="CASCADE"), primary_key=True
    )
    access_rule_id: Mapped[str] = mapped_column(
        ForeignKey("identity_access_rules.id"), primary_key=True, index=True
    )


class Trust(Base):
    """A trustor's delegation of roles on a project to a trustee (OS-TRUST). Deleting one only
    marks it, so a redelegated chain can still name its parent."""

    __tablename__ = "identity_trusts"
    trust_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    trustor_user_id: Mapped[str] = mapped_column(String(64), index=True)
    trustee_user_id: Mapped[str] = mapped_column(String(64), index=True)
    project_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    impersonation: Mapped[bool] = mapped_column(Boolean)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    remaining_uses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    allow_redelegation: Mapped[bool] = mapped_column(Boolean, default=False)
    redelegation_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    redelegated_trust_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class TrustRole(Base):
    """One role a trust delegates, as the trustor named it (implied roles come at use)."""

    __tablename__ = "identity_trust_roles"
    trust_id: Mapped[str] = mapped_column(
        ForeignKey("identity_trusts.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[str] = mapped_column(
        ForeignKey("identity_roles.id", ondelete="CASCADE"), primary_key=True
    )


class EndpointGroup(Base):
    """A named filter over endpoints (service_id, region_id, interface) (OS-EP-FILTER)."""

    __tablename__ = "identity_endpoint_groups"
    endpoint_group_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ProjectEndpoint(Base):
    """An endpoint a project's catalog shows (OS-EP-FILTER)."""

    __tablename__ = "identity_project_endpoints"
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class ProjectEndpointGroup(Base):
    """An endpoint group a project's catalog shows (OS-EP-FILTER)."""

    __tablename__ = "identity_project_endpoint_groups"
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    endpoint_group_id: Mapped[str] = mapped_column(
        ForeignKey("identity_endpoint_groups.id", ondelete="CASCADE"), primary_key=True
    )


class DomainConfigOption(Base):
    """One option of a domain's specific configuration (`/v3/domains/{id}/config`)."""

    __tablename__ = "identity_domain_config"
    domain_id: Mapped[str] = mapped_column(
        ForeignKey("identity_domains.id", ondelete="CASCADE"), primary_key=True
    )
    group: Mapped[str] = mapped_column("group_name", String(255), primary_key=True)
    option: Mapped[str] = mapped_column("option_name", String(255), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)


class OAuthConsumer(Base):
    """An OAuth 1.0a consumer (OS-OAUTH1); its secret signs requests, so it is kept encrypted
    with the credential keys (recoverable, never in clear)."""

    __tablename__ = "identity_oauth_consumers"
    consumer_id: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    encrypted_secret: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PasswordHistory(Base):
    """A password a user had, as its hash, for the reuse check (unique_last_password_count)."""

    __tablename__ = "identity_password_history"
    entry_id: Mapped[int] = mapped_column("id", Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("identity_users.id", ondelete="CASCADE"), index=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime)
