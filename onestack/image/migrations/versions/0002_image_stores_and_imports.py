"""image: data in several stores (image_locations), staged data, import tasks

An image's one `store`/`location` pair becomes a row of `image_locations` (an image may now
be in several stores); `stage_location` says where staged data waits for its import;
`image_tasks` keeps the import tasks.

Revision ID: image_0002
Revises: image_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "image_0002"
down_revision = "image_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_locations",
        sa.Column(
            "image_id",
            sa.String(36),
            sa.ForeignKey("image_images.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("store_id", sa.String(64), primary_key=True),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.execute(
        "INSERT INTO image_locations (image_id, store_id, location, created_at) "
        "SELECT id, store, location, updated_at FROM image_images "
        "WHERE store IS NOT NULL AND location IS NOT NULL"
    )
    # Plain column drops (SQLite >= 3.35 does them in place: no table rebuild, which would
    # cascade-delete the properties, tags and members that reference the images).
    op.drop_column("image_images", "store")
    op.drop_column("image_images", "location")
    op.add_column("image_images", sa.Column("stage_location", sa.Text, nullable=True))
    op.create_table(
        "image_tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("status", sa.String(30), nullable=False, index=True),
        sa.Column("image_id", sa.String(36), nullable=True, index=True),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("user_id", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("input", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("image_tasks")
    op.drop_column("image_images", "stage_location")
    op.add_column("image_images", sa.Column("store", sa.String(64), nullable=True))
    op.add_column("image_images", sa.Column("location", sa.Text, nullable=True))
    op.execute(
        "UPDATE image_images SET store = (SELECT store_id FROM image_locations l "
        "WHERE l.image_id = image_images.id ORDER BY created_at LIMIT 1), "
        "location = (SELECT location FROM image_locations l "
        "WHERE l.image_id = image_images.id ORDER BY created_at LIMIT 1)"
    )
    op.drop_table("image_locations")
