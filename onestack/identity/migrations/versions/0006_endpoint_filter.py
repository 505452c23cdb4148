"""identity: endpoint filtering (OS-EP-FILTER)

Revision ID: identity_0006
Revises: identity_0005
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0006"
down_revision = "identity_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_endpoint_groups",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("filters", sa.JSON, nullable=False),
    )
    op.create_table(
        "identity_project_endpoints",
        sa.Column("project_id", sa.String(64), primary_key=True),
        sa.Column("endpoint_id", sa.String(64), primary_key=True),
    )
    op.create_table(
        "identity_project_endpoint_groups",
        sa.Column("project_id", sa.String(64), primary_key=True),
        sa.Column(
            "endpoint_group_id",
            sa.String(64),
            sa.ForeignKey("identity_endpoint_groups.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )


def downgrade() -> None:
    op.drop_table("identity_project_endpoint_groups")
    op.drop_table("identity_project_endpoints")
    op.drop_table("identity_endpoint_groups")
