"""common: owners of in-flight work and the work they hold

Revision ID: common_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "common_0001"
down_revision = None
branch_labels = ("common",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "common_owners",
        sa.Column("owner_id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("pid_start", sa.BigInteger, nullable=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("lease_until", sa.DateTime, nullable=False),
    )
    op.create_table(
        "common_work",
        sa.Column("work_id", sa.String(120), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False, index=True),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("owner_id", sa.String(32), nullable=True, index=True),
        sa.Column("step", sa.String(30), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("common_work")
    op.drop_table("common_owners")
