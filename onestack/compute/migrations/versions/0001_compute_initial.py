"""compute: flavors, keypairs, servers, services and nodes

Revision ID: compute_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "compute_0001"
down_revision = None
branch_labels = ("compute",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_flavors",
        sa.Column("flavor_id", sa.String(255), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("memory_mb", sa.Integer, nullable=False),
        sa.Column("vcpus", sa.Integer, nullable=False),
        sa.Column("root_gb", sa.Integer, nullable=False),
        sa.Column("ephemeral_gb", sa.Integer, nullable=False),
        sa.Column("swap", sa.Integer, nullable=False),
        sa.Column("rxtx_factor", sa.Float, nullable=False),
        sa.Column("is_public", sa.Boolean, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "compute_flavor_extra_specs",
        sa.Column(
            "flavor_id",
            sa.String(255),
            sa.ForeignKey("compute_flavors.flavor_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
    )
    op.create_table(
        "compute_flavor_projects",
        sa.Column(
            "flavor_id",
            sa.String(255),
            sa.ForeignKey("compute_flavors.flavor_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("project_id", sa.String(64), primary_key=True),
    )
    op.create_table(
        "compute_keypairs",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("key_type", sa.String(10), nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "compute_servers",
        sa.Column("server_id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False, index=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("image_id", sa.String(36), nullable=False),
        sa.Column("flavor", sa.JSON, nullable=False),
        sa.Column("key_name", sa.String(255), nullable=True),
        sa.Column("key_data", sa.Text, nullable=True),
        sa.Column("user_data", sa.Text, nullable=True),
        sa.Column("server_metadata", sa.JSON, nullable=False),
        sa.Column("security_groups", sa.JSON, nullable=False),
        sa.Column("requested_networks", sa.JSON, nullable=False),
        sa.Column("availability_zone", sa.String(255), nullable=False),
        sa.Column("config_drive", sa.Boolean, nullable=False),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("access_ipv4", sa.String(64), nullable=False),
        sa.Column("access_ipv6", sa.String(64), nullable=False),
        sa.Column("reservation_id", sa.String(32), nullable=False, index=True),
        sa.Column("launch_index", sa.Integer, nullable=False),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("node_uuid", sa.String(36), nullable=True),
        sa.Column("vm_state", sa.String(30), nullable=False),
        sa.Column("task_state", sa.String(30), nullable=True),
        sa.Column("power_state", sa.Integer, nullable=False),
        sa.Column("progress", sa.Integer, nullable=False),
        sa.Column("fault", sa.JSON, nullable=True),
        sa.Column("locked", sa.Boolean, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False, index=True),
        sa.Column("created_at", sa.DateTime, nullable=False, index=True),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("launched_at", sa.DateTime, nullable=True),
        sa.Column("terminated_at", sa.DateTime, nullable=True),
    )
    op.create_table(
        "compute_services",
        sa.Column("service_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("host", sa.String(255), nullable=False, unique=True),
        sa.Column("binary", sa.String(64), nullable=False),
        sa.Column("zone", sa.String(255), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "compute_nodes",
        sa.Column("node_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("host", sa.String(255), nullable=False, index=True),
        sa.Column("hypervisor_hostname", sa.String(255), nullable=False),
        sa.Column("hypervisor_type", sa.String(64), nullable=False),
        sa.Column("vcpus", sa.Integer, nullable=False),
        sa.Column("memory_mb", sa.Integer, nullable=False),
        sa.Column("disk_gb", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "compute_nodes",
        "compute_services",
        "compute_servers",
        "compute_keypairs",
        "compute_flavor_projects",
        "compute_flavor_extra_specs",
        "compute_flavors",
    ):
        op.drop_table(table)
