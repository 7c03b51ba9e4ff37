"""Migration 0032 on either database: the applications that events processed before it
made keep which ATS person they came from (read from the events' bodies), so that
an anonymization finds them; erasure by the ATS fits the widened constraints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from portal import migrate
from portal.db import create_engine
from portal.settings import Settings
from tests.test_migration_requirements import WHEN, _database, _insert, _on_postgres

GREENHOUSE = {
    "action": "reject_candidate",
    "payload": {"application": {"id": 1, "candidate": {"id": 60304594}, "jobs": [{"id": 4}]}},
}
LEVER = {"event": "candidateArchiveChange", "data": {"opportunityId": "o", "contactId": "c-7ef1"}}


async def _empty_database(database_url: str, tmp_path: Path) -> str:
    if not _on_postgres(database_url):
        return f"sqlite:///{tmp_path / 'old.db'}"
    base = make_url(database_url)
    name = f"{base.database}_m0032"
    await _database(database_url, name, create=True)
    return base.set(database=name).render_as_string(hide_password=False)


def _old_rows(connection: Connection) -> None:
    _insert(
        connection,
        "organizations",
        id=7,
        name="Acme",
        slug="acme",
        display_name="Acme",
        reply_promise_days=5,
        invitation_days=14,
    )
    _insert(connection, "jobs", id=3, organization_id=7, title="Analyst", created_at=WHEN)
    _insert(connection, "candidates", id=5, organization_id=7, email="d@example.com", name="D")
    for application_id in (11, 12, 13):
        _insert(
            connection,
            "applications",
            id=application_id,
            organization_id=7,
            candidate_id=5,
            job_id=3,
            stage="interview",
            status="rejected",
        )
    events: list[tuple[int, str, Any, str, int | None]] = [
        (1, "greenhouse", GREENHOUSE, "processed", 11),
        (2, "greenhouse", GREENHOUSE, "processed", 11),  # the same person again: one row
        (3, "lever", LEVER, "processed", 12),
        (4, "greenhouse", {"erased": True}, "processed", 13),  # erased body: nothing to read
        (5, "greenhouse", GREENHOUSE, "waiting", None),
        (6, "ashby", "{not json", "failed", 13),
    ]
    for event_id, ats, body, state, made in events:
        _insert(
            connection,
            "ats_events",
            id=event_id,
            organization_id=7,
            ats=ats,
            replay_key=f"key-{event_id}",
            body=body if isinstance(body, str) else json.dumps(body),
            state=state,
            application_id=made,
            message="",
            received_at=WHEN,
        )


def _after(connection: Connection) -> list[tuple[Any, ...]]:
    rows = connection.execute(
        text("SELECT application_id, ats, external_id FROM ats_candidates ORDER BY id")
    ).all()
    # Erasure by the ATS now fits the constraints; another value still does not.
    _insert(connection, "legal_holds", organization_id=7, erased_at=WHEN, cause="ats")
    _insert(connection, "data_requests", organization_id=7, kind="erasure", source="ats")
    return [tuple(row) for row in rows]


def _refused(connection: Connection) -> None:
    _insert(connection, "legal_holds", organization_id=7, erased_at=WHEN, cause="someone")


async def test_0032_keeps_the_ats_person_of_applications_already_made(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=await _empty_database(database_url, tmp_path))
    scripts = ScriptDirectory.from_config(migrate.alembic_config(settings))
    before = scripts.get_revision("0032_ats_anonymized").down_revision
    assert isinstance(before, str)
    await anyio.to_thread.run_sync(migrate.upgrade, settings, before)
    engine = create_engine(settings, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_old_rows)
        await anyio.to_thread.run_sync(migrate.upgrade, settings, "0032_ats_anonymized")
        async with engine.begin() as connection:
            after = await connection.run_sync(_after)
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.run_sync(_refused)
        # And back: the erasures by the ATS stay, in the older words.
        await anyio.to_thread.run_sync(command.downgrade, migrate.alembic_config(settings), before)
        async with engine.connect() as connection:
            causes = (await connection.execute(text("SELECT cause FROM legal_holds"))).all()
            sources = (await connection.execute(text("SELECT source FROM data_requests"))).all()
    finally:
        await engine.dispose()
        if _on_postgres(database_url):
            await _database(
                database_url, str(make_url(settings.database_url).database), create=False
            )
    assert after == [(11, "greenhouse", "60304594"), (12, "lever", "c-7ef1")]
    assert causes == [("staff",)] and sources == [("staff",)]
