"""network: networks, subnets, ports and their addresses, security groups, routers,
floating IPs and tags

Revision ID: network_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "network_0001"
down_revision = None
branch_labels = ("network",)
depends_on = None

TABLES = (
    "network_tags",
    "network_floating_ips",
    "network_routers",
    "network_port_security_groups",
    "network_ip_allocations",
    "network_security_group_rules",
    "network_default_security_groups",
    "network_ports",
    "network_subnets",
    "network_security_groups",
    "network_networks",
)


def upgrade() -> None:
    op.create_table(
        "network_networks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("external", sa.Boolean(), nullable=False),
        sa.Column("network_type", sa.String(length=16), nullable=False),
        sa.Column("physical_network", sa.String(length=64), nullable=True),
        sa.Column("segmentation_id", sa.Integer(), nullable=True),
        sa.Column("mtu", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("network_type", "segmentation_id", name="ux_network_segment"),
    )
    op.create_index(
        op.f("ix_network_networks_project_id"), "network_networks", ["project_id"], unique=False
    )
    op.create_table(
        "network_security_groups",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("stateful", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_network_security_groups_project_id"),
        "network_security_groups",
        ["project_id"],
        unique=False,
    )
    op.create_table(
        "network_tags",
        sa.Column("resource_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("resource_id", "tag"),
    )
    op.create_table(
        "network_default_security_groups",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["network_security_groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("project_id"),
    )
    op.create_table(
        "network_ports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("network_id", sa.String(length=36), nullable=False),
        sa.Column("mac_address", sa.String(length=32), nullable=False),
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.String(length=255), nullable=False),
        sa.Column("device_owner", sa.String(length=255), nullable=False),
        sa.Column("host_id", sa.String(length=255), nullable=False),
        sa.Column("vif_type", sa.String(length=32), nullable=False),
        sa.Column("vif_details", sa.JSON(), nullable=False),
        sa.Column("port_security_enabled", sa.Boolean(), nullable=False),
        sa.Column("allowed_address_pairs", sa.JSON(), nullable=False),
        sa.Column("created_for", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["network_networks.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("network_id", "mac_address", name="ux_network_port_mac"),
    )
    op.create_index(
        "ix_network_ports_device", "network_ports", ["device_id", "device_owner"], unique=False
    )
    op.create_index(
        op.f("ix_network_ports_network_id"), "network_ports", ["network_id"], unique=False
    )
    op.create_index(
        op.f("ix_network_ports_project_id"), "network_ports", ["project_id"], unique=False
    )
    op.create_table(
        "network_routers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("gateway_network_id", sa.String(length=36), nullable=True),
        sa.Column("enable_snat", sa.Boolean(), nullable=False),
        sa.Column("routes", sa.JSON(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["gateway_network_id"],
            ["network_networks.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_network_routers_project_id"), "network_routers", ["project_id"], unique=False
    )
    op.create_table(
        "network_security_group_rules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("ethertype", sa.String(length=8), nullable=False),
        sa.Column("protocol", sa.String(length=40), nullable=True),
        sa.Column("port_range_min", sa.Integer(), nullable=True),
        sa.Column("port_range_max", sa.Integer(), nullable=True),
        sa.Column("remote_ip_prefix", sa.String(length=64), nullable=True),
        sa.Column("remote_group_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["network_security_groups.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["remote_group_id"], ["network_security_groups.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_network_security_group_rules_group_id"),
        "network_security_group_rules",
        ["group_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_network_security_group_rules_project_id"),
        "network_security_group_rules",
        ["project_id"],
        unique=False,
    )
    op.create_table(
        "network_subnets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("network_id", sa.String(length=36), nullable=False),
        sa.Column("ip_version", sa.Integer(), nullable=False),
        sa.Column("cidr", sa.String(length=64), nullable=False),
        sa.Column("gateway_ip", sa.String(length=64), nullable=True),
        sa.Column("enable_dhcp", sa.Boolean(), nullable=False),
        sa.Column("allocation_pools", sa.JSON(), nullable=False),
        sa.Column("dns_nameservers", sa.JSON(), nullable=False),
        sa.Column("host_routes", sa.JSON(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["network_id"], ["network_networks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_network_subnets_network_id"), "network_subnets", ["network_id"], unique=False
    )
    op.create_index(
        op.f("ix_network_subnets_project_id"), "network_subnets", ["project_id"], unique=False
    )
    op.create_table(
        "network_floating_ips",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("floating_network_id", sa.String(length=36), nullable=False),
        sa.Column("floating_port_id", sa.String(length=36), nullable=False),
        sa.Column("floating_ip_address", sa.String(length=64), nullable=False),
        sa.Column("port_id", sa.String(length=36), nullable=True),
        sa.Column("fixed_ip_address", sa.String(length=64), nullable=True),
        sa.Column("router_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["floating_network_id"],
            ["network_networks.id"],
        ),
        sa.ForeignKeyConstraint(["floating_port_id"], ["network_ports.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["port_id"], ["network_ports.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("floating_port_id"),
        sa.UniqueConstraint("port_id"),
    )
    op.create_index(
        op.f("ix_network_floating_ips_project_id"),
        "network_floating_ips",
        ["project_id"],
        unique=False,
    )
    op.create_table(
        "network_ip_allocations",
        sa.Column("port_id", sa.String(length=36), nullable=False),
        sa.Column("subnet_id", sa.String(length=36), nullable=False),
        sa.Column("ip_address", sa.String(length=64), nullable=False),
        sa.Column("network_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["port_id"], ["network_ports.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["subnet_id"],
            ["network_subnets.id"],
        ),
        sa.PrimaryKeyConstraint("port_id", "subnet_id", "ip_address"),
        sa.UniqueConstraint("subnet_id", "ip_address", name="ux_network_ip_allocation"),
    )
    op.create_index(
        op.f("ix_network_ip_allocations_network_id"),
        "network_ip_allocations",
        ["network_id"],
        unique=False,
    )
    op.create_table(
        "network_port_security_groups",
        sa.Column("port_id", sa.String(length=36), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["network_security_groups.id"],
        ),
        sa.ForeignKeyConstraint(["port_id"], ["network_ports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("port_id", "group_id"),
    )
    op.create_index(
        op.f("ix_network_port_security_groups_group_id"),
        "network_port_security_groups",
        ["group_id"],
        unique=False,
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
