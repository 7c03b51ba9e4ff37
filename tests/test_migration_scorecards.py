"""0029 moves the scorecards an ATS sent (`ats_scorecards`, JSON) into Afterword's own
`scorecards` and `scorecard_entries`: attribute notes candidate-safe, questions private;
and back on downgrade."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from alembic import command

from portal import migrate
from portal.settings import Settings

PRIVATE = "Private: salary expectations too high."


def _insert(db: sqlite3.Connection, table: str, values: dict[str, Any]) -> None:
    """A row with the given values and a blank in every other NOT NULL column."""
    for _, column, kind, not_null, default, _ in db.execute(f"PRAGMA table_info({table})"):
        if not_null and default is None and column not in values:
            values[column] = 0 if kind in ("INTEGER", "BOOLEAN") else "[]" if kind == "JSON" else ""
    names = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(values.values()))  # noqa: S608


def test_0029_moves_ats_scorecards_and_back(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(settings, "0028_rate_limit_hits")
    now = "2026-11-20 10:00:00"
    with sqlite3.connect(tmp_path / "old.db") as db:
        _insert(
            db,
            "organizations",
            {
                "id": 7,
                "name": "Acme",
                "slug": "acme",
                "reply_promise_days": 5,
                "invitation_days": 14,
                "consent_text_version": 1,
                "consent_durations_months": "[6]",
                "created_at": now,
            },
        )
        _insert(db, "jobs", {"id": 3, "organization_id": 7, "title": "Analyst", "created_at": now})
        _insert(
            db,
            "candidates",
            {
                "id": 5,
                "organization_id": 7,
                "email": "d@example.com",
                "name": "D",
                "created_at": now,
            },
        )
        _insert(
            db,
            "applications",
            {
                "id": 11,
                "organization_id": 7,
                "candidate_id": 5,
                "job_id": 3,
                "stage": "interview",
                "status": "rejected",
                "created_at": now,
            },
        )
        _insert(
            db,
            "ats_scorecards",
            {
                "application_id": 11,
                "ats": "greenhouse",
                "external_id": "gh-1",
                "interviewer": "Kate",
                "overall_recommendation": "strong_yes",
                "attributes": json.dumps(
                    [{"name": "SQL", "type": "Skills", "note": "Good joins.", "rating": "yes"}]
                ),
                "questions": json.dumps([{"question": "Notes", "answer": PRIVATE}]),
                "submitted_at": now,
                "created_at": now,
            },
        )
    migrate.upgrade(settings)
    with sqlite3.connect(tmp_path / "old.db") as db:
        cards = db.execute(
            "SELECT application_id, source, external_id, interviewer, overall_recommendation, "
            "interviewed_on FROM scorecards"
        ).fetchall()
        assert cards == [(11, "greenhouse", "gh-1", "Kate", "strong_yes", "2026-11-20")]
        entries = db.execute(
            "SELECT kind, name, rating, text, private FROM scorecard_entries ORDER BY position"
        ).fetchall()
        assert entries == [
            ("attribute", "SQL", "yes", "Good joins.", 0),
            ("question", "Notes", None, PRIVATE, 1),
        ]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        assert "ats_scorecards" not in tables
    command.downgrade(migrate.alembic_config(settings), "0028_rate_limit_hits")
    with sqlite3.connect(tmp_path / "old.db") as db:
        back = db.execute(
            "SELECT application_id, ats, external_id, attributes, questions FROM ats_scorecards"
        ).fetchall()
        assert len(back) == 1 and back[0][:3] == (11, "greenhouse", "gh-1")
        assert json.loads(back[0][4]) == [{"question": "Notes", "answer": PRIVATE}]
