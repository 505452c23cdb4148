"""image: images, their properties, tags and members

Revision ID: image_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "image_0001"
down_revision = None
branch_labels = ("image",)
depends_on = None


def _image_fk() -> sa.Column:
    return sa.Column(
        "image_id",
        sa.String(36),
        sa.ForeignKey("image_images.id", ondelete="CASCADE"),
        primary_key=True,
    )


def upgrade() -> None:
    op.create_table(
        "image_images",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("status", sa.String(30), nullable=False, index=True),
        sa.Column("visibility", sa.String(20), nullable=False, index=True),
        sa.Column("protected", sa.Boolean, nullable=False),
        sa.Column("os_hidden", sa.Boolean, nullable=False),
        sa.Column("owner", sa.String(64), nullable=True, index=True),
        sa.Column("size", sa.BigInteger, nullable=True),
        sa.Column("virtual_size", sa.BigInteger, nullable=True),
        sa.Column("checksum", sa.String(32), nullable=True),
        sa.Column("os_hash_algo", sa.String(64), nullable=True),
        sa.Column("os_hash_value", sa.String(128), nullable=True),
        sa.Column("disk_format", sa.String(20), nullable=True),
        sa.Column("container_format", sa.String(20), nullable=True),
        sa.Column("min_disk", sa.Integer, nullable=False),
        sa.Column("min_ram", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("store", sa.String(64), nullable=True),
        sa.Column("location", sa.Text, nullable=True),
    )
    op.create_table(
        "image_properties",
        _image_fk(),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "image_tags",
        _image_fk(),
        sa.Column("tag", sa.String(255), primary_key=True),
    )
    op.create_table(
        "image_members",
        _image_fk(),
        sa.Column("member_id", sa.String(255), primary_key=True, index=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("image_members")
    op.drop_table("image_tags")
    op.drop_table("image_properties")
    op.drop_table("image_images")
