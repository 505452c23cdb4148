"""image: the metadata definitions catalog (namespaces, their items, resource types)

Revision ID: image_0003
Revises: image_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "image_0003"
down_revision = "image_0002"
branch_labels = None
depends_on = None


def _times() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "image_metadef_namespaces",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("namespace", sa.String(80), nullable=False, unique=True),
        sa.Column("display_name", sa.String(80), nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("visibility", sa.String(32), nullable=False, index=True),
        sa.Column("protected", sa.Boolean, nullable=False),
        sa.Column("owner", sa.String(255), nullable=True, index=True),
        *_times(),
    )
    op.create_table(
        "image_metadef_items",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "namespace_id",
            sa.String(36),
            sa.ForeignKey("image_metadef_namespaces.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        *_times(),
        sa.UniqueConstraint("namespace_id", "kind", "name"),
    )
    op.create_table(
        "image_metadef_resource_types",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("protected", sa.Boolean, nullable=False),
        *_times(),
    )
    op.create_table(
        "image_metadef_associations",
        sa.Column(
            "namespace_id",
            sa.String(36),
            sa.ForeignKey("image_metadef_namespaces.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "resource_type",
            sa.String(80),
            sa.ForeignKey("image_metadef_resource_types.name", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("prefix", sa.String(80), nullable=True),
        sa.Column("properties_target", sa.String(80), nullable=True),
        *_times(),
    )
