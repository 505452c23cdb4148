"""identity: unified limits (registered limits and project/domain limits)

Revision ID: identity_0003
Revises: identity_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0003"
down_revision = "identity_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_registered_limits",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "service_id", sa.String(64), sa.ForeignKey("identity_services.id"), nullable=False
        ),
        sa.Column("region_id", sa.String(255), sa.ForeignKey("identity_regions.id"), nullable=True),
        sa.Column("resource_name", sa.String(255), nullable=False),
        sa.Column("default_limit", sa.Integer, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
    )
    op.create_index(
        "ix_identity_registered_limits_service_id", "identity_registered_limits", ["service_id"]
    )
    # NULL regions are not distinct from each other here: coalesce them for uniqueness.
    op.create_index(
        "ux_identity_registered_limits_scope",
        "identity_registered_limits",
        ["service_id", sa.text("coalesce(region_id, '')"), "resource_name"],
        unique=True,
    )
    op.create_table(
        "identity_limits",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "registered_limit_id",
            sa.String(64),
            sa.ForeignKey("identity_registered_limits.id"),
            nullable=False,
        ),
        sa.Column("project_id", sa.String(64), nullable=True),
        sa.Column("domain_id", sa.String(64), nullable=True),
        sa.Column("resource_limit", sa.Integer, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
    )
    op.create_index(
        "ix_identity_limits_registered_limit_id", "identity_limits", ["registered_limit_id"]
    )
    op.create_index("ix_identity_limits_project_id", "identity_limits", ["project_id"])
    op.create_index("ix_identity_limits_domain_id", "identity_limits", ["domain_id"])
    op.create_index(
        "ux_identity_limits_scope",
        "identity_limits",
        [
            "registered_limit_id",
            sa.text("coalesce(project_id, '')"),
            sa.text("coalesce(domain_id, '')"),
        ],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("identity_limits")
    op.drop_table("identity_registered_limits")
