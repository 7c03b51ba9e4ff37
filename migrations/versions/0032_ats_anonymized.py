"""ATS candidates: which ATS person an application came from; erasure by the ATS

`ats_candidates` keeps the ATS's own id of the candidate an application came from
(an application's candidate is found by email address, so nothing else says which
ATS candidate is which of ours). Greenhouse's `candidate_anonymized` web hook names
a candidate by that id alone: this is how it finds their applications. The rows are
filled from what the processed events already received said.

Erasure gets a cause, and data requests a source, for the ATS (`ats`): the ATS
anonymized the candidate, so the portal erases them too.

Revision ID: 0032_ats_anonymized
Revises: 0031_ats_api_credentials
"""

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0032_ats_anonymized"
down_revision: str | None = "0031_ats_api_credentials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CAUSES = "cause IN ('candidate', 'staff', 'retention', 'ats')"
OLD_CAUSES = "cause IN ('candidate', 'staff', 'retention')"
SOURCES = "source IN ('candidate', 'staff', 'ats')"
OLD_SOURCES = "source IN ('candidate', 'staff')"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _candidate_id(ats: str, body: str) -> str:
    """The ATS's id of the candidate in an event's raw body, as the adapters of
    portal.ats read it when this migration was written ("" when it says none)."""
    try:
        payload = _dict(json.loads(body))
    except ValueError:
        return ""
    if ats == "greenhouse":
        application = _dict(_dict(payload.get("payload")).get("application"))
        found = _dict(application.get("candidate")).get("id")
    elif ats == "lever":
        data = _dict(payload.get("data"))
        found = data.get("contactId") or data.get("candidateId")
    else:
        application = _dict(_dict(payload.get("data")).get("application"))
        found = _dict(application.get("candidate")).get("id")
    if found is None or isinstance(found, dict | list | bool):
        return ""
    return " ".join(str(found).split())[:100]


def upgrade() -> None:
    op.create_table(
        "ats_candidates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("ats", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ats IN ('greenhouse', 'lever', 'ashby')", name=op.f("ck_ats_candidates_ats")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_ats_candidates_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ats_candidates")),
        sa.UniqueConstraint(
            "application_id",
            "ats",
            "external_id",
            name=op.f("uq_ats_candidates_application_id_ats_external_id"),
        ),
    )
    op.create_index(op.f("ix_ats_candidates_application_id"), "ats_candidates", ["application_id"])
    op.create_index("ix_ats_candidates_ats_external_id", "ats_candidates", ["ats", "external_id"])

    # What the events already processed said: each made (or updated) its application.
    bind = op.get_bind()
    events = bind.execute(
        sa.text(
            "SELECT ats, body, application_id FROM ats_events "
            "WHERE state = 'processed' AND application_id IS NOT NULL ORDER BY id"
        )
    )
    now = dt.datetime.now(dt.UTC)
    seen: set[tuple[int, str, str]] = set()
    rows = []
    for ats, body, application_id in events:
        external_id = _candidate_id(ats, body)
        if external_id and (application_id, ats, external_id) not in seen:
            seen.add((application_id, ats, external_id))
            rows.append(
                {
                    "application_id": application_id,
                    "ats": ats,
                    "external_id": external_id,
                    "created_at": now,
                }
            )
    if rows:
        table = sa.table(
            "ats_candidates",
            sa.column("application_id", sa.Integer()),
            sa.column("ats", sa.String()),
            sa.column("external_id", sa.String()),
            sa.column("created_at", sa.DateTime(timezone=True)),
        )
        op.bulk_insert(table, rows)

    # Neither table is referred to by another: SQLite's copy-and-rename of them
    # cascades nothing.
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_legal_holds_cause"), type_="check")
        batch_op.create_check_constraint(op.f("ck_legal_holds_cause"), CAUSES)
    with op.batch_alter_table("data_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_data_requests_source"), type_="check")
        batch_op.create_check_constraint(op.f("ck_data_requests_source"), SOURCES)


def downgrade() -> None:
    # Erasures by the ATS stay in the log and the legal holds under the nearest older
    # words: made on the employer's side, without the candidate's own request.
    op.execute("UPDATE data_requests SET source = 'staff' WHERE source = 'ats'")
    op.execute("UPDATE legal_holds SET cause = 'staff' WHERE cause = 'ats'")
    with op.batch_alter_table("data_requests", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_data_requests_source"), type_="check")
        batch_op.create_check_constraint(op.f("ck_data_requests_source"), OLD_SOURCES)
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_legal_holds_cause"), type_="check")
        batch_op.create_check_constraint(op.f("ck_legal_holds_cause"), OLD_CAUSES)
    op.drop_index("ix_ats_candidates_ats_external_id", table_name="ats_candidates")
    op.drop_index(op.f("ix_ats_candidates_application_id"), table_name="ats_candidates")
    op.drop_table("ats_candidates")
