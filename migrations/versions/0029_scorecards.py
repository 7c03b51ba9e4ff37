"""scorecards: Afterword's own, from every source; drafting from them

Scorecards were kept only as an ATS sent them (`ats_scorecards`, JSON). They are now
Afterword's own data, from an ATS, the API, a CSV or the application page: `scorecards`
and their attributes and questions (`scorecard_entries`, each candidate-safe or
private). The ATS's rows move across: attribute notes candidate-safe, as the drafts
already used them, and every question private. Also: a job's mapping from attribute
names to requirements, the organization's suggestion library, the record of each draft
made from scorecards, and bulk drafting's progress.

Revision ID: 0029_scorecards
Revises: 0028_rate_limit_hits
"""

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0029_scorecards"
down_revision: str | None = "0028_rate_limit_hits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = "'greenhouse', 'lever', 'ashby', 'api', 'csv', 'form'"
RATINGS = ("definitely_not", "no", "mixed", "yes", "strong_yes", "no_decision")
RATING_LIST = ", ".join(f"'{r}'" for r in RATINGS)


def upgrade() -> None:
    op.create_table(
        "scorecards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("interviewer", sa.String(length=200), nullable=False),
        sa.Column("step", sa.String(length=200), nullable=False),
        sa.Column("interviewed_on", sa.Date(), nullable=True),
        sa.Column("overall_recommendation", sa.String(length=20), nullable=True),
        sa.Column("created_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"source IN ({SOURCES})", name=op.f("ck_scorecards_source")),
        sa.CheckConstraint(
            f"overall_recommendation IS NULL OR overall_recommendation IN ({RATING_LIST})",
            name=op.f("ck_scorecards_overall_recommendation"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_scorecards_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_scorecards_created_by_staff_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecards")),
        sa.UniqueConstraint(
            "application_id",
            "source",
            "external_id",
            name=op.f("uq_scorecards_application_id_source_external_id"),
        ),
    )
    op.create_index(op.f("ix_scorecards_application_id"), "scorecards", ["application_id"])
    op.create_table(
        "scorecard_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scorecard_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("rating", sa.String(length=20), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('attribute', 'question')", name=op.f("ck_scorecard_entries_kind")
        ),
        sa.CheckConstraint(
            f"rating IS NULL OR rating IN ({RATING_LIST})",
            name=op.f("ck_scorecard_entries_rating"),
        ),
        sa.ForeignKeyConstraint(
            ["scorecard_id"],
            ["scorecards.id"],
            name=op.f("fk_scorecard_entries_scorecard_id_scorecards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_entries")),
    )
    op.create_index(
        "ix_scorecard_entries_scorecard_id_position",
        "scorecard_entries",
        ["scorecard_id", "position"],
    )
    op.create_table(
        "scorecard_attribute_maps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("attribute", sa.String(length=300), nullable=False),
        sa.Column("requirement_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.id"],
            name=op.f("fk_scorecard_attribute_maps_job_id_jobs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requirement_id"],
            ["requirements.id"],
            name=op.f("fk_scorecard_attribute_maps_requirement_id_requirements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_attribute_maps")),
        sa.UniqueConstraint(
            "job_id", "attribute", name=op.f("uq_scorecard_attribute_maps_job_id_attribute")
        ),
    )
    op.create_table(
        "growth_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("requirement_key", sa.String(length=100), nullable=False),
        sa.Column("requirement_name", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_growth_suggestions_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_growth_suggestions")),
        sa.UniqueConstraint(
            "organization_id",
            "requirement_key",
            name=op.f("uq_growth_suggestions_organization_id_requirement_key"),
        ),
    )
    op.create_table(
        "drafted_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sentences", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("created_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("kept", sa.Integer(), nullable=True),
        sa.Column("edited", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_drafted_feedback_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_drafted_feedback_created_by_staff_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafted_feedback")),
        sa.UniqueConstraint(
            "application_id", "version", name=op.f("uq_drafted_feedback_application_id_version")
        ),
    )
    op.create_table(
        "drafting_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("application_ids", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("drafted", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('running', 'done')", name=op.f("ck_drafting_runs_state")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_drafting_runs_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_drafting_runs_staff_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drafting_runs")),
    )
    _move_ats_scorecards()
    with op.batch_alter_table("ats_scorecards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ats_scorecards_application_id"))
    op.drop_table("ats_scorecards")


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else (value or [])


def _moment(value: Any) -> dt.datetime | None:
    """A timestamp as read back: SQLite gives text."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value


def _rating(value: Any) -> str | None:
    return value if value in RATINGS else None


def _move_ats_scorecards() -> None:
    bind = op.get_bind()
    cards = sa.table(
        "scorecards",
        sa.column("id", sa.Integer),
        sa.column("application_id", sa.Integer),
        sa.column("source", sa.String),
        sa.column("external_id", sa.String),
        sa.column("interviewer", sa.String),
        sa.column("step", sa.String),
        sa.column("interviewed_on", sa.Date),
        sa.column("overall_recommendation", sa.String),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    entries = sa.table(
        "scorecard_entries",
        sa.column("scorecard_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("position", sa.Integer),
        sa.column("name", sa.String),
        sa.column("rating", sa.String),
        sa.column("text", sa.Text),
        sa.column("private", sa.Boolean),
    )
    rows = bind.execute(
        sa.text(
            "SELECT id, application_id, ats, external_id, interviewer, overall_recommendation, "
            "attributes, questions, submitted_at, created_at FROM ats_scorecards ORDER BY id"
        )
    ).all()
    for row in rows:
        submitted = _moment(row.submitted_at)
        new_id = bind.execute(
            cards.insert()
            .values(
                application_id=row.application_id,
                source=row.ats,
                external_id=row.external_id,
                interviewer=row.interviewer or "",
                step="",
                interviewed_on=submitted.date() if submitted else None,
                overall_recommendation=_rating(row.overall_recommendation),
                created_at=_moment(row.created_at),
            )
            .returning(cards.c.id)
        ).scalar_one()
        values = []
        for position, attribute in enumerate(_json(row.attributes)):
            values.append(
                {
                    "scorecard_id": new_id,
                    "kind": "attribute",
                    "position": position,
                    "name": str(attribute.get("name", ""))[:300],
                    "rating": _rating(attribute.get("rating")),
                    "text": str(attribute.get("note") or ""),
                    "private": False,
                }
            )
        for question in _json(row.questions):
            values.append(
                {
                    "scorecard_id": new_id,
                    "kind": "question",
                    "position": len(values),
                    "name": str(question.get("question", ""))[:300],
                    "rating": None,
                    "text": str(question.get("answer") or ""),
                    "private": True,
                }
            )
        if values:
            bind.execute(entries.insert(), values)


def downgrade() -> None:
    op.create_table(
        "ats_scorecards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("ats", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("interviewer", sa.String(length=200), nullable=False),
        sa.Column("overall_recommendation", sa.String(length=40), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ats IN ('greenhouse', 'lever', 'ashby')", name=op.f("ck_ats_scorecards_ats")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_ats_scorecards_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ats_scorecards")),
        sa.UniqueConstraint(
            "application_id",
            "ats",
            "external_id",
            name=op.f("uq_ats_scorecards_application_id_ats_external_id"),
        ),
    )
    with op.batch_alter_table("ats_scorecards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ats_scorecards_application_id"), ["application_id"], unique=False
        )
    # Only what came from an ATS had a place there; the rest goes with these tables.
    bind = op.get_bind()
    cards = bind.execute(
        sa.text(
            "SELECT id, application_id, source, external_id, interviewer, "
            "overall_recommendation, created_at FROM scorecards "
            "WHERE source IN ('greenhouse', 'lever', 'ashby') AND external_id IS NOT NULL"
        )
    ).all()
    target = sa.table(
        "ats_scorecards",
        sa.column("application_id", sa.Integer),
        sa.column("ats", sa.String),
        sa.column("external_id", sa.String),
        sa.column("interviewer", sa.String),
        sa.column("overall_recommendation", sa.String),
        sa.column("attributes", sa.JSON),
        sa.column("questions", sa.JSON),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    for card in cards:
        found = bind.execute(
            sa.text(
                "SELECT kind, name, rating, text FROM scorecard_entries "
                "WHERE scorecard_id = :id ORDER BY position"
            ),
            {"id": card.id},
        ).all()
        bind.execute(
            target.insert().values(
                application_id=card.application_id,
                ats=card.source,
                external_id=card.external_id,
                interviewer=card.interviewer,
                overall_recommendation=card.overall_recommendation or "",
                attributes=[
                    {"name": e.name, "type": "", "note": e.text, "rating": e.rating or ""}
                    for e in found
                    if e.kind == "attribute"
                ],
                questions=[
                    {"question": e.name, "answer": e.text} for e in found if e.kind == "question"
                ],
                created_at=_moment(card.created_at),
            )
        )
    op.drop_table("drafting_runs")
    op.drop_table("drafted_feedback")
    op.drop_table("growth_suggestions")
    op.drop_table("scorecard_attribute_maps")
    op.drop_index("ix_scorecard_entries_scorecard_id_position", table_name="scorecard_entries")
    op.drop_table("scorecard_entries")
    op.drop_index(op.f("ix_scorecards_application_id"), table_name="scorecards")
    op.drop_table("scorecards")
