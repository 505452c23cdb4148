"""placement: providers, inventories, consumers, allocations, custom resource classes

Revision ID: placement_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "placement_0001"
down_revision = None
branch_labels = ("placement",)
depends_on = None


def _provider_fk(ondelete: str | None = None, **kwargs: object) -> sa.Column:
    return sa.Column(
        "provider_uuid",
        sa.String(36),
        sa.ForeignKey("placement_providers.uuid", ondelete=ondelete),
        **kwargs,
    )


def upgrade() -> None:
    op.create_table(
        "placement_providers",
        sa.Column("uuid", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("parent_provider_uuid", sa.String(36), nullable=True),
        sa.Column("root_provider_uuid", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "placement_inventories",
        _provider_fk("CASCADE", primary_key=True),
        sa.Column("resource_class", sa.String(255), primary_key=True),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("reserved", sa.Integer, nullable=False),
        sa.Column("min_unit", sa.Integer, nullable=False),
        sa.Column("max_unit", sa.Integer, nullable=False),
        sa.Column("step_size", sa.Integer, nullable=False),
        sa.Column("allocation_ratio", sa.Float, nullable=False),
    )
    op.create_table(
        "placement_consumers",
        sa.Column("consumer_id", sa.String(36), primary_key=True),
        sa.Column("project_id", sa.String(255), nullable=False, index=True),
        sa.Column("user_id", sa.String(255), nullable=False, index=True),
        sa.Column("consumer_type", sa.String(255), nullable=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "placement_allocations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _provider_fk(nullable=False, index=True),
        sa.Column(
            "consumer_id",
            sa.String(36),
            sa.ForeignKey("placement_consumers.consumer_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("resource_class", sa.String(255), nullable=False),
        sa.Column("used", sa.Integer, nullable=False),
        sa.UniqueConstraint("consumer_id", "provider_uuid", "resource_class"),
    )
    op.create_table(
        "placement_resource_classes",
        sa.Column("name", sa.String(255), primary_key=True),
    )


def downgrade() -> None:
    for table in (
        "placement_resource_classes",
        "placement_allocations",
        "placement_consumers",
        "placement_inventories",
        "placement_providers",
    ):
        op.drop_table(table)
