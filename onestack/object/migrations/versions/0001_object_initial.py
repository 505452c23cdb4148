"""object: accounts, containers and objects

Revision ID: object_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "object_0001"
down_revision = None
branch_labels = ("object",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "object_accounts",
        sa.Column("account", sa.String(255), primary_key=True),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "object_containers",
        sa.Column("account", sa.String(255), primary_key=True),
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("read_acl", sa.Text, nullable=True),
        sa.Column("write_acl", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "object_objects",
        sa.Column("account", sa.String(255), primary_key=True),
        sa.Column("container", sa.String(256), primary_key=True),
        sa.Column("name", sa.String(1024), primary_key=True),
        sa.Column("data_key", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("etag", sa.String(32), nullable=False),
        sa.Column("content_type", sa.String(256), nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
        sa.Column("last_modified", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("object_objects")
    op.drop_table("object_containers")
    op.drop_table("object_accounts")
