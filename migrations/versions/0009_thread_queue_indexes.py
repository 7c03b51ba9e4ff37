"""thread queue indexes: the navigation's counts and the lists of other states

Revision ID: 0009_thread_queue_indexes
Revises: 0008_threads
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_thread_queue_indexes"
down_revision: str | None = "0008_threads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.create_index("ix_threads_due", ["organization_id", "state", "due_on"])
        batch_op.create_index(
            "ix_threads_pending", ["organization_id", "state", "pending_approval"]
        )
        batch_op.create_index(
            "ix_threads_recent", ["organization_id", "state", "last_message_at", "id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("threads", schema=None) as batch_op:
        batch_op.drop_index("ix_threads_recent")
        batch_op.drop_index("ix_threads_pending")
        batch_op.drop_index("ix_threads_due")
