"""identity: trusts (OS-TRUST)

Revision ID: identity_0005
Revises: identity_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0005"
down_revision = "identity_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_trusts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("trustor_user_id", sa.String(64), nullable=False),
        sa.Column("trustee_user_id", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=True),
        sa.Column("impersonation", sa.Boolean, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=True),
        sa.Column("remaining_uses", sa.Integer, nullable=True),
        sa.Column("allow_redelegation", sa.Boolean, nullable=False),
        sa.Column("redelegation_count", sa.Integer, nullable=True),
        sa.Column("redelegated_trust_id", sa.String(64), nullable=True),
        sa.Column("deleted_at", sa.DateTime, nullable=True),
        sa.Column("extra", sa.JSON, nullable=False),
    )
    op.create_index("ix_identity_trusts_trustor_user_id", "identity_trusts", ["trustor_user_id"])
    op.create_index("ix_identity_trusts_trustee_user_id", "identity_trusts", ["trustee_user_id"])
    op.create_table(
        "identity_trust_roles",
        sa.Column(
            "trust_id",
            sa.String(64),
            sa.ForeignKey("identity_trusts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "role_id",
            sa.String(64),
            sa.ForeignKey("identity_roles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )


def downgrade() -> None:
    op.drop_table("identity_trust_roles")
    op.drop_table("identity_trusts")
