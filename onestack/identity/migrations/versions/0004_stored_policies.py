"""identity: stored policy blobs (/v3/policies)

Revision ID: identity_0004
Revises: identity_0003
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0004"
down_revision = "identity_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_policies",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("blob", sa.Text, nullable=False),
        sa.Column("extra", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("identity_policies")
