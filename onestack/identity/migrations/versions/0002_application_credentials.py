"""identity: application credentials, the roles they delegate, access rules

Revision ID: identity_0002
Revises: identity_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "identity_0002"
down_revision = "identity_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_application_credentials",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column(
            "user_id",
            sa.String(64),
            sa.ForeignKey("identity_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=True),
        sa.Column("unrestricted", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("user_id", "name"),
    )
    op.create_index(
        "ix_identity_application_credentials_user_id",
        "identity_application_credentials",
        ["user_id"],
    )
    op.create_index(
        "ix_identity_application_credentials_project_id",
        "identity_application_credentials",
        ["project_id"],
    )
    op.create_table(
        "identity_application_credential_roles",
        sa.Column(
            "app_cred_id",
            sa.String(64),
            sa.ForeignKey("identity_application_credentials.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "role_id",
            sa.String(64),
            sa.ForeignKey("identity_roles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_table(
        "identity_access_rules",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            sa.String(64),
            sa.ForeignKey("identity_users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("path", sa.String(255), nullable=False),
        sa.UniqueConstraint("user_id", "service", "method", "path"),
    )
    op.create_table(
        "identity_application_credential_access_rules",
        sa.Column(
            "app_cred_id",
            sa.String(64),
            sa.ForeignKey("identity_application_credentials.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "access_rule_id",
            sa.String(64),
            sa.ForeignKey("identity_access_rules.id"),
            primary_key=True,
            index=True,
        ),
    )


def downgrade() -> None:
    op.drop_table("identity_application_credential_access_rules")
    op.drop_table("identity_access_rules")
    op.drop_table("identity_application_credential_roles")
    op.drop_index(
        "ix_identity_application_credentials_project_id", "identity_application_credentials"
    )
    op.drop_index("ix_identity_application_credentials_user_id", "identity_application_credentials")
    op.drop_table("identity_application_credentials")
