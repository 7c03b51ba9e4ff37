"""language model: per-organization settings and the rephrasings it proposed

An organization may name a language model (the `llm` library's model id) and turn on
its two uses: rephrasing a feedback draft, and a second opinion beside the feedback
check. Off (no model) by default. A rephrasing keeps the prompt sent and the model's
raw answer, and the draft version saved from it once a recruiter approves.

Revision ID: 0030_language_model
Revises: 0029_scorecards
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030_language_model"
down_revision: str | None = "0029_scorecards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Added in place (SQLite's ADD COLUMN, with constant defaults): a batch rebuild of
    # `organizations` would cascade-delete everything that hangs from it.
    op.add_column(
        "organizations",
        sa.Column("language_model", sa.String(length=100), server_default="", nullable=False),
    )
    op.add_column(
        "organizations",
        sa.Column("model_rephrases", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "organizations",
        sa.Column("model_second_opinion", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "feedback_rephrasings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("based_on_version", sa.Integer(), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("system", sa.Text(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("created_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('proposed', 'approved', 'rejected')",
            name=op.f("ck_feedback_rephrasings_state"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_feedback_rephrasings_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_feedback_rephrasings_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_feedback_rephrasings_created_by_staff_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_feedback_rephrasings_decided_by_staff_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_rephrasings")),
        sa.UniqueConstraint("feedback_id", name=op.f("uq_feedback_rephrasings_feedback_id")),
    )
    op.create_index(
        op.f("ix_feedback_rephrasings_application_id"),
        "feedback_rephrasings",
        ["application_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_feedback_rephrasings_application_id"), table_name="feedback_rephrasings")
    op.drop_table("feedback_rephrasings")
    # SQLite (3.35+) drops a column in place: no rebuild of `organizations`.
    op.drop_column("organizations", "model_second_opinion")
    op.drop_column("organizations", "model_rephrases")
    op.drop_column("organizations", "language_model")
