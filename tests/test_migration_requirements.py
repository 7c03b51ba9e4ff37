"""Migration 0020 on either database: feedback published before it keeps the
requirements as its candidates read them, and drafts keep following the job."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import anyio
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, make_url, text
from sqlalchemy.engine import Connection

from portal import migrate
from portal.db import async_url, create_engine
from portal.settings import Settings

WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _on_postgres(url: str) -> bool:
    return async_url(url).get_backend_name() == "postgresql"


async def _database(database_url: str, name: str, *, create: bool) -> None:
    engine = create_engine(Settings(database_url=database_url), pool_size=1)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            if create:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


async def _empty_database(database_url: str, tmp_path: Path) -> str:
    """A database of its own, beside the suite's (whose schema is at the newest)."""
    if not _on_postgres(database_url):
        return f"sqlite:///{tmp_path / 'old.db'}"
    base = make_url(database_url)
    name = f"{base.database}_m0020"
    await _database(database_url, name, create=True)
    return base.set(database=name).render_as_string(hide_password=False)


def _insert(connection: Connection, table: str, **given: Any) -> None:
    """A row with the values given, and a blank one for each other required column."""
    values = dict(given)
    for column in inspect(connection).get_columns(table):
        name = column["name"]
        if name in values or column["nullable"] or column.get("default") is not None:
            continue
        kind = str(column["type"]).upper()
        if "INT" in kind:
            values[name] = 0
        elif "BOOL" in kind:
            values[name] = False
        elif "JSON" in kind:
            values[name] = "[]"
        elif "TIME" in kind or "DATE" in kind:
            values[name] = WHEN
        else:
            values[name] = ""
    names = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    connection.execute(text(f"INSERT INTO {table} ({names}) VALUES ({marks})"), values)  # noqa: S608


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
    for requirement_id, position, name, description in (
        (1, 0, "SQL", "Writes queries"),
        (2, 1, "Statistics", "A/B tests"),
    ):
        _insert(
            connection,
            "requirements",
            id=requirement_id,
            job_id=3,
            position=position,
            name=name,
            description=description,
        )
    _insert(connection, "candidates", id=5, organization_id=7, email="d@example.com", name="D")
    _insert(
        connection,
        "applications",
        id=11,
        organization_id=7,
        candidate_id=5,
        job_id=3,
        stage="interview",
        status="rejected",
    )
    for feedback_id, version, state in ((1, 1, "published"), (2, 2, "draft")):
        _insert(
            connection,
            "feedback",
            id=feedback_id,
            application_id=11,
            version=version,
            state=state,
            suggested_roles="[]",
        )
    items: list[tuple[int, int, str, int | None, str | None]] = [
        (1, 1, "assessment", 1, "met"),
        (2, 1, "strength", 2, None),
        (3, 1, "strength", None, None),
        (4, 2, "assessment", 1, "met"),
    ]
    for item_id, feedback_id, kind, linked, rating in items:
        _insert(
            connection,
            "feedback_items",
            id=item_id,
            feedback_id=feedback_id,
            kind=kind,
            requirement_id=linked,
            rating=rating,
            body="Evidence",
            visible=True,
        )


def _after(connection: Connection) -> dict[str, Any]:
    items = connection.execute(
        text("SELECT id, requirement_name, requirement_description FROM feedback_items ORDER BY id")
    ).all()
    job = connection.execute(text("SELECT version, archived_at, posting_url FROM jobs")).one()
    retired = connection.execute(text("SELECT retired_at FROM requirements")).scalars().all()
    return {
        "items": [tuple(row) for row in items],
        "job": tuple(job),
        "retired": retired,
        "library": connection.execute(text("SELECT count(*) FROM library_requirements")).scalar(),
    }


async def test_0020_keeps_published_requirements_as_they_were_read(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=await _empty_database(database_url, tmp_path))
    scripts = ScriptDirectory.from_config(migrate.alembic_config(settings))
    before = scripts.get_revision("0020_job_pages").down_revision
    assert isinstance(before, str)
    await anyio.to_thread.run_sync(migrate.upgrade, settings, before)
    engine = create_engine(settings, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_old_rows)
        await anyio.to_thread.run_sync(migrate.upgrade, settings)
        async with engine.connect() as connection:
            after = await connection.run_sync(_after)
    finally:
        await engine.dispose()
        if _on_postgres(database_url):
            await _database(
                database_url, str(make_url(settings.database_url).database), create=False
            )
    assert after["items"] == [
        (1, "SQL", "Writes queries"),  # published: what its candidate read
        (2, "Statistics", "A/B tests"),
        (3, None, None),  # tied to no requirement
        (4, None, None),  # a draft follows the job
    ]
    assert after["job"] == (1, None, None)
    assert after["retired"] == [None, None]
    assert after["library"] == 0
