"""one job table: email becomes a job kind; leases, idempotency keys, done jobs

Revision ID: 0006_one_job_table
Revises: 0005_application_organization
Create Date: 2026-11-22 03:20:00.000000

`outbox_emails` rows move into `background_jobs` as `mail.send` jobs: pending
and failed ones with their message, sent ones as the record `portal mail
status` shows (to, template, subject), without bodies.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006_one_job_table"
down_revision: str | None = "0005_application_organization"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KIND_RENAMES = {"sign_in_request": "access.sign_in", "fresh_link_request": "access.fresh_link"}

jobs = sa.table(
    "background_jobs",
    sa.column("id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("payload", sa.JSON()),
    sa.column("state", sa.String()),
    sa.column("attempts", sa.Integer()),
    sa.column("run_at", sa.DateTime(timezone=True)),
    sa.column("last_error", sa.Text()),
    sa.column("idempotency_key", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("finished_at", sa.DateTime(timezone=True)),
)
outbox = sa.table(
    "outbox_emails",
    sa.column("organization_id", sa.Integer()),
    sa.column("to_address", sa.String()),
    sa.column("from_address", sa.String()),
    sa.column("from_name", sa.String()),
    sa.column("headers", sa.JSON()),
    sa.column("template", sa.String()),
    sa.column("subject", sa.String()),
    sa.column("text_body", sa.Text()),
    sa.column("html_body", sa.Text()),
    sa.column("state", sa.String()),
    sa.column("attempts", sa.Integer()),
    sa.column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.column("last_error", sa.Text()),
    sa.column("idempotency_key", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("sent_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("background_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f("ck_background_jobs_state"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_background_jobs_state"), "state IN ('pending', 'done', 'failed')"
        )
        batch_op.create_unique_constraint(
            op.f("uq_background_jobs_idempotency_key"), ["idempotency_key"]
        )
        batch_op.create_index("ix_background_jobs_kind_state", ["kind", "state"], unique=False)

    connection = op.get_bind()
    for old, new in KIND_RENAMES.items():
        connection.execute(sa.update(jobs).where(jobs.c.kind == old).values(kind=new))
    rows = [_mail_job(row._mapping) for row in connection.execute(sa.select(outbox))]
    if rows:
        connection.execute(sa.insert(jobs), rows)
    op.drop_table("outbox_emails")


def _mail_job(row: Any) -> dict[str, Any]:
    record = {
        "to": row["to_address"],
        "template": row["template"],
        "subject": row["subject"],
        "organization_id": row["organization_id"],
    }
    sent = row["state"] == "sent"
    message = {
        "from_address": row["from_address"],
        "from_name": row["from_name"],
        "text": row["text_body"],
        "html": row["html_body"],
        "headers": row["headers"] or {},
    }
    return {
        "kind": "mail.send",
        "payload": record if sent else {**record, **message},
        "state": "done" if sent else row["state"],
        "attempts": row["attempts"],
        "run_at": row["next_attempt_at"],
        "last_error": row["last_error"],
        "idempotency_key": row["idempotency_key"],
        "created_at": row["created_at"],
        "finished_at": row["sent_at"],
    }


def downgrade() -> None:
    op.create_table(
        "outbox_emails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("template", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("from_address", sa.String(length=320), nullable=False, server_default=""),
        sa.Column("from_name", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("headers", sa.JSON(), nullable=False, server_default="{}"),
        sa.CheckConstraint(
            "state IN ('pending', 'sent', 'failed')", name=op.f("ck_outbox_emails_state")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_outbox_emails_organization_id_organizations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_emails")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_emails_idempotency_key")),
    )
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_emails_state_next_attempt_at", ["state", "next_attempt_at"], unique=False
        )
    # Email queued as jobs is not moved back: deliver it before downgrading.
    connection = op.get_bind()
    connection.execute(sa.delete(jobs).where(jobs.c.kind.in_(["mail.send", "jobs.prune"])))
    connection.execute(sa.delete(jobs).where(jobs.c.state == "done"))
    for old, new in KIND_RENAMES.items():
        connection.execute(sa.update(jobs).where(jobs.c.kind == new).values(kind=old))
    with op.batch_alter_table("background_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_background_jobs_kind_state")
        batch_op.drop_constraint(op.f("uq_background_jobs_idempotency_key"), type_="unique")
        batch_op.drop_constraint(op.f("ck_background_jobs_state"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_background_jobs_state"), "state IN ('pending', 'failed')"
        )
        batch_op.drop_column("finished_at")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("lease_id")
