"""identity: password history (security compliance)

Revision ID: identity_0009
Revises: identity_0008
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0009"
down_revision = "identity_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_password_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            sa.String(64),
            sa.ForeignKey("identity_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index(
        "ix_identity_password_history_user_id", "identity_password_history", ["user_id"]
    )


def downgrade() -> None:
    op.drop_table("identity_password_history")
