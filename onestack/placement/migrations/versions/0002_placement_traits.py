"""placement: custom traits and the traits of each provider

Revision ID: placement_0002
Revises: placement_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "placement_0002"
down_revision = "placement_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("placement_traits", sa.Column("name", sa.String(255), primary_key=True))
    op.create_table(
        "placement_provider_traits",
        sa.Column(
            "provider_uuid",
            sa.String(36),
            sa.ForeignKey("placement_providers.uuid", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("trait", sa.String(255), primary_key=True, index=True),
    )


def downgrade() -> None:
    op.drop_table("placement_provider_traits")
    op.drop_table("placement_traits")
