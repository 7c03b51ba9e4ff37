"""mail senders and headers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 21:57:38.522046
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mail_from_address", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("mail_from_name", sa.String(length=200), nullable=True))

    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        # Defaults only for rows queued before this migration.
        batch_op.add_column(
            sa.Column("from_address", sa.String(length=320), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("from_name", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("headers", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.drop_column("headers")
        batch_op.drop_column("from_name")
        batch_op.drop_column("from_address")

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("mail_from_name")
        batch_op.drop_column("mail_from_address")
