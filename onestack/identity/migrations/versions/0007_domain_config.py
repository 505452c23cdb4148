"""identity: domain-specific configuration

Revision ID: identity_0007
Revises: identity_0006
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0007"
down_revision = "identity_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_domain_config",
        sa.Column(
            "domain_id",
            sa.String(64),
            sa.ForeignKey("identity_domains.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("group_name", sa.String(255), primary_key=True),
        sa.Column("option_name", sa.String(255), primary_key=True),
        sa.Column("value", sa.JSON, nullable=True),
        sa.Column("sensitive", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("identity_domain_config")
