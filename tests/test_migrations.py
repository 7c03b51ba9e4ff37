"""The schema comes only from migrations, and the migrations match the models."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from starlette.applications import Starlette

from portal import migrate
from portal.models import Base
from portal.settings import Settings


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_models_and_migrations_agree(app: Starlette) -> None:
    async with app.state.portal.engine.connect() as connection:
        diff = await connection.run_sync(_diff)
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"


async def test_migrations_create_every_table(app: Starlette) -> None:
    async with app.state.portal.engine.connect() as connection:
        names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= names
    assert "alembic_version" in names


def test_upgrade_keeps_existing_applications_and_their_feedback(tmp_path: Path) -> None:
    """0003 rebuilds `applications` on SQLite: no row may be lost on the way, nor
    the feedback that cascades from it."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(settings, "0002")
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(
            """
            INSERT INTO organizations (id, name, slug, display_name, accent_colour,
                reply_promise_days, invitation_days, consent_text, consent_text_version,
                consent_durations_months, replies_need_approval, created_at)
            VALUES (7, 'Acme', 'acme', 'Acme', '#224466', 5, 14, '', 1, '[6]', 0,
                '2026-01-01 00:00:00');
            INSERT INTO jobs (id, organization_id, title, team, location, created_at)
            VALUES (3, 7, 'Analyst', '', '', '2026-01-01 00:00:00');
            INSERT INTO candidates (id, organization_id, email, name, preferred_language,
                created_at)
            VALUES (5, 7, 'dana@example.com', 'Dana', 'en', '2026-01-01 00:00:00');
            INSERT INTO applications (id, candidate_id, job_id, stage, status, created_at)
            VALUES (11, 5, 3, 'interview', 'rejected', '2026-01-01 00:00:00');
            """
        )
        feedback_columns = db.execute("PRAGMA table_info(feedback)").fetchall()
        values = {
            "id": 1,
            "application_id": 11,
            "version": 1,
            "state": "published",
            "created_at": "2026-01-01 00:00:00",
        }
        for _, column, kind, not_null, _, _ in feedback_columns:
            blank = 0 if kind in ("INTEGER", "BOOLEAN") else "[]" if kind == "JSON" else ""
            values.setdefault(column, blank if not_null else None)
        placeholders = ", ".join("?" for _ in values)
        db.execute(
            f"INSERT INTO feedback ({', '.join(values)}) VALUES ({placeholders})",  # noqa: S608
            list(values.values()),
        )
    migrate.upgrade(settings)
    with sqlite3.connect(tmp_path / "old.db") as db:
        assert db.execute("SELECT id, organization_id FROM applications").fetchall() == [(11, 7)]
        assert db.execute("SELECT count(*) FROM feedback").fetchone() == (1,)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
