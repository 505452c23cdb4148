"""identity: domains, projects, users, groups, roles, assignments, catalog, credentials, revocations

Revision ID: identity_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0001"
down_revision = None
branch_labels = ("identity",)
depends_on = None


def _id(length: int = 64) -> sa.Column:
    return sa.Column("id", sa.String(length), primary_key=True)


def _fk(name: str, table: str, **kwargs: object) -> sa.Column:
    nullable = bool(kwargs.pop("nullable", False))
    return sa.Column(
        name,
        sa.String(255 if table == "identity_regions" else 64),
        sa.ForeignKey(f"{table}.id", **kwargs),
        nullable=nullable,
    )  # type: ignore[arg-type]


def _extra() -> sa.Column:
    return sa.Column("extra", sa.JSON, nullable=False)


def upgrade() -> None:
    op.create_table(
        "identity_domains",
        _id(),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        _extra(),
    )
    op.create_table(
        "identity_projects",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        _fk("domain_id", "identity_domains"),
        sa.Column("parent_id", sa.String(64), nullable=True, index=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        _extra(),
        sa.UniqueConstraint("domain_id", "name"),
    )
    op.create_table(
        "identity_project_tags",
        sa.Column(
            "project_id",
            sa.String(64),
            sa.ForeignKey("identity_projects.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("tag", sa.String(255), primary_key=True),
    )
    op.create_table(
        "identity_users",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        _fk("domain_id", "identity_domains"),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("password_created_at", sa.DateTime, nullable=True),
        sa.Column("password_expires_at", sa.DateTime, nullable=True),
        sa.Column("default_project_id", sa.String(64), nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("failed_auth_count", sa.Integer, nullable=False),
        sa.Column("failed_auth_at", sa.DateTime, nullable=True),
        sa.Column("tokens_valid_after", sa.DateTime, nullable=True),
        sa.Column("options", sa.JSON, nullable=False),
        _extra(),
        sa.UniqueConstraint("domain_id", "name"),
    )
    op.create_table(
        "identity_groups",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        _fk("domain_id", "identity_domains"),
        sa.Column("description", sa.Text, nullable=False),
        _extra(),
        sa.UniqueConstraint("domain_id", "name"),
    )
    op.create_table(
        "identity_memberships",
        sa.Column(
            "group_id",
            sa.String(64),
            sa.ForeignKey("identity_groups.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.String(64),
            sa.ForeignKey("identity_users.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )
    op.create_table(
        "identity_roles",
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("domain_id", sa.String(64), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("options", sa.JSON, nullable=False),
        _extra(),
        sa.UniqueConstraint("name", "domain_id"),
    )
    op.create_table(
        "identity_implied_roles",
        sa.Column(
            "prior_role_id",
            sa.String(64),
            sa.ForeignKey("identity_roles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "implied_role_id",
            sa.String(64),
            sa.ForeignKey("identity_roles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "identity_assignments",
        sa.Column("actor_type", sa.String(8), primary_key=True),
        sa.Column("actor_id", sa.String(64), primary_key=True),
        sa.Column("target_type", sa.String(16), primary_key=True),
        sa.Column("target_id", sa.String(64), primary_key=True, index=True),
        sa.Column(
            "role_id",
            sa.String(64),
            sa.ForeignKey("identity_roles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("inherited", sa.Boolean, primary_key=True),
    )
    op.create_table(
        "identity_regions",
        _id(255),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("parent_region_id", sa.String(255), nullable=True),
        _extra(),
    )
    op.create_table(
        "identity_services",
        _id(),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        _extra(),
    )
    op.create_table(
        "identity_endpoints",
        _id(),
        _fk("service_id", "identity_services", ondelete="CASCADE"),
        sa.Column("interface", sa.String(8), nullable=False),
        _fk("region_id", "identity_regions", nullable=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        _extra(),
    )
    op.create_table(
        "identity_credentials",
        _id(),
        _fk("user_id", "identity_users", ondelete="CASCADE"),
        sa.Column("project_id", sa.String(64), nullable=True),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("encrypted_blob", sa.Text, nullable=False),
        _extra(),
    )
    op.create_index("ix_identity_credentials_user_id", "identity_credentials", ["user_id"])
    generation = op.create_table(
        "identity_generation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.bulk_insert(generation, [{"id": 1, "value": 0}])
    op.create_table(
        "identity_revoked_tokens",
        sa.Column("audit_id", sa.String(32), primary_key=True),
        sa.Column("expires_at", sa.DateTime, nullable=False, index=True),
    )
