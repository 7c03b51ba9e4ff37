"""kept forms: what a person typed after their session ended

A question or a feedback draft posted after its writer's session ended is kept
for the same candidate or staff member until they sign in again (a day at most).

Revision ID: 0022_keep_typed
Revises: 0021_staff_notifications
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_keep_typed"
down_revision: str | None = "0021_staff_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kept_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(candidate_id IS NULL) <> (staff_user_id IS NULL)",
            name=op.f("ck_kept_forms_one_owner"),
        ),
        sa.CheckConstraint(
            "kind IN ('question', 'feedback_draft')", name=op.f("ck_kept_forms_kind")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_kept_forms_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidates.id"],
            name=op.f("fk_kept_forms_candidate_id_candidates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_kept_forms_staff_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kept_forms")),
    )
    with op.batch_alter_table("kept_forms", schema=None) as batch_op:
        for column in ("application_id", "candidate_id", "expires_at", "staff_user_id"):
            batch_op.create_index(batch_op.f(f"ix_kept_forms_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table("kept_forms")
