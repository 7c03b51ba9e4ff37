"""privacy: data requests, legal holds, retention periods

Candidates' export and erasure requests (with their one-time links, kept as
hashes), what erasure keeps of an application for a while (the legal hold), and
each organization's retention period and legal-hold period.

Revision ID: 0026_privacy
Revises: 0023_pool_which_roles
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_privacy"
down_revision: str | None = "0025_webhooks_and_ats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain added columns: SQLite adds them without rebuilding `organizations` (whose
    # rebuild would cascade-delete everything); the settings form checks the ranges.
    op.add_column(
        "organizations",
        sa.Column("retention_months", sa.Integer(), server_default="6", nullable=False),
    )
    op.add_column(
        "organizations",
        sa.Column("legal_hold_months", sa.Integer(), server_default="12", nullable=False),
    )
    op.create_table(
        "data_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("candidate_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("export_sealed", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('export', 'erasure')", name=op.f("ck_data_requests_kind")),
        sa.CheckConstraint(
            "source IN ('candidate', 'staff')", name=op.f("ck_data_requests_source")
        ),
        sa.ForeignKeyConstraint(
            ["candidate_id"],
            ["candidates.id"],
            name=op.f("fk_data_requests_candidate_id_candidates"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_data_requests_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_users.id"],
            name=op.f("fk_data_requests_staff_user_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_data_requests_token_hash")),
    )
    with op.batch_alter_table("data_requests", schema=None) as batch_op:
        for column in ("candidate_id", "organization_id", "requested_at"):
            batch_op.create_index(batch_op.f(f"ix_data_requests_{column}"), [column], unique=False)
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("keep_until", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "cause IN ('candidate', 'staff', 'retention')", name=op.f("ck_legal_holds_cause")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_legal_holds_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_legal_holds_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        for column in ("keep_until", "organization_id"):
            batch_op.create_index(batch_op.f(f"ix_legal_holds_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table("legal_holds")
    op.drop_table("data_requests")
    # SQLite (3.35+) drops a column in place: no rebuild of `organizations`.
    op.drop_column("organizations", "legal_hold_months")
    op.drop_column("organizations", "retention_months")
