"""identity: domains, projects, users, roles, assignments, catalog and revoked tokens

Revision ID: identity_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0001"
down_revision = None
branch_labels = ("identity",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_domains",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "identity_projects",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("domain_id", sa.String(64), sa.ForeignKey("identity_domains.id"), nullable=False),
        sa.Column("parent_id", sa.String(64), nullable=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.UniqueConstraint("domain_id", "name"),
    )
    op.create_table(
        "identity_users",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("domain_id", sa.String(64), sa.ForeignKey("identity_domains.id"), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("default_project_id", sa.String(64), nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("domain_id", "name"),
    )
    op.create_table(
        "identity_roles",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
    )
    op.create_table(
        "identity_implied_roles",
        sa.Column(
            "prior_role_id", sa.String(64), sa.ForeignKey("identity_roles.id"), primary_key=True
        ),
        sa.Column(
            "implied_role_id", sa.String(64), sa.ForeignKey("identity_roles.id"), primary_key=True
        ),
    )
    op.create_table(
        "identity_assignments",
        sa.Column("actor_id", sa.String(64), primary_key=True),
        sa.Column("target_type", sa.String(16), primary_key=True),
        sa.Column("target_id", sa.String(64), primary_key=True),
        sa.Column("role_id", sa.String(64), sa.ForeignKey("identity_roles.id"), primary_key=True),
    )
    op.create_table(
        "identity_regions",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
    )
    op.create_table(
        "identity_services",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "identity_endpoints",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "service_id", sa.String(64), sa.ForeignKey("identity_services.id"), nullable=False
        ),
        sa.Column("interface", sa.String(8), nullable=False),
        sa.Column(
            "region_id", sa.String(255), sa.ForeignKey("identity_regions.id"), nullable=False
        ),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "identity_revoked_tokens",
        sa.Column("audit_id", sa.String(32), primary_key=True),
        sa.Column("expires_at", sa.DateTime, nullable=False, index=True),
    )
