"""the JSON API: keys, idempotent requests, and the ATS's ids of jobs and applications

Revision ID: 0024_api
Revises: 0023_pool_which_roles
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_api"
down_revision: str | None = "0023_pool_which_roles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("created_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_api_keys_created_by_staff_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_api_keys_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index(op.f("ix_api_keys_organization_id"), "api_keys", ["organization_id"])
    op.create_table(
        "api_idempotent_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_api_idempotent_requests_api_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_idempotent_requests")),
        sa.UniqueConstraint(
            "api_key_id",
            "idempotency_key",
            name=op.f("uq_api_idempotent_requests_api_key_id_idempotency_key"),
        ),
    )
    op.create_index(
        "ix_api_idempotent_requests_created_at", "api_idempotent_requests", ["created_at"]
    )
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("external_id", sa.String(length=200), nullable=True))
    op.create_index(
        "uq_jobs_organization_id_external_id",
        "jobs",
        ["organization_id", "external_id"],
        unique=True,
    )
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("external_id", sa.String(length=200), nullable=True))
    op.create_index(
        "uq_applications_organization_id_external_id",
        "applications",
        ["organization_id", "external_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_applications_organization_id_external_id", table_name="applications")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("external_id")
    op.drop_index("uq_jobs_organization_id_external_id", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("external_id")
    op.drop_index("ix_api_idempotent_requests_created_at", table_name="api_idempotent_requests")
    op.drop_table("api_idempotent_requests")
    op.drop_index(op.f("ix_api_keys_organization_id"), table_name="api_keys")
    op.drop_table("api_keys")
