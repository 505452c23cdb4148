"""identity: OAuth 1.0a consumers (OS-OAUTH1)

Revision ID: identity_0008
Revises: identity_0007
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0008"
down_revision = "identity_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_oauth_consumers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("encrypted_secret", sa.Text, nullable=False),
        sa.Column("extra", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("identity_oauth_consumers")
