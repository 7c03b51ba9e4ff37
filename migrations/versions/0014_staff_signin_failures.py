"""staff sign-in failures: per address and client, for locks admins can see and clear

Revision ID: 0014_staff_signin_failures
Revises: 0013_csv_import
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_staff_signin_failures"
down_revision: str | None = "0013_csv_import"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_hash", sa.String(length=32), nullable=False),
        sa.Column("ip_hash", sa.String(length=32), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sign_in_failures")),
        sa.UniqueConstraint(
            "address_hash",
            "ip_hash",
            name=op.f("uq_staff_sign_in_failures_address_hash_ip_hash"),
        ),
    )
    with op.batch_alter_table("staff_sign_in_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_staff_sign_in_failures_last_failed_at"),
            ["last_failed_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_sign_in_failures_last_failed_at"))
    op.drop_table("staff_sign_in_failures")
