"""The autocommit reader: on PostgreSQL it bypasses SQLAlchemy's execution, so it
must give back exactly what SQLAlchemy would."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.db import Reader, utcnow
from portal.feedback.service import FEEDBACK_PAGE
from portal.security.models import Session
from portal.security.sessions import TOUCH_SESSION, start_candidate_session
from portal.security.tokens import token_digest
from portal.settings import Settings
from tests.factories import make_world

Sessions = async_sessionmaker[AsyncSession]


async def _signed_in(sessions: Sessions, settings: Settings) -> tuple[bytes, int]:
    world = await make_world(sessions)
    async with sessions() as db, db.begin():
        token = await start_candidate_session(
            db, candidate_id=world.candidate_id, settings=settings, now=utcnow()
        )
    return token_digest(token), world.application_id


async def test_reader_rows_equal_sqlalchemy_rows(
    app: Starlette, sessions: Sessions, settings: Settings
) -> None:
    id_hash, application_id = await _signed_in(sessions, settings)
    params = {"id_hash": id_hash, "application_id": application_id}
    reader: Reader = app.state.portal.reader

    rows = await reader.fetch(FEEDBACK_PAGE, params)
    async with app.state.portal.engine.connect() as connection:
        expected = (await connection.execute(FEEDBACK_PAGE, params)).all()

    assert len(rows) == len(expected) > 3
    for got, want in zip(rows, expected, strict=True):
        assert tuple(got) == tuple(want)
        # Same Python types too: aware UTC datetimes, decoded JSON, and so on.
        assert [type(value) for value in got] == [type(value) for value in want]
        for value in got:
            if isinstance(value, dt.datetime):
                assert value.utcoffset() == dt.timedelta(0)
    assert isinstance(rows[0][18], list)  # suggested_roles, a JSON column


async def test_reader_runs_the_same_statement_again_with_other_values(
    app: Starlette, sessions: Sessions, settings: Settings
) -> None:
    id_hash, application_id = await _signed_in(sessions, settings)
    reader: Reader = app.state.portal.reader
    assert await reader.fetch(FEEDBACK_PAGE, {"id_hash": id_hash, "application_id": application_id})
    # Another session id: no rows, not the previous statement's rows.
    stranger = {"id_hash": b"\0" * 32, "application_id": application_id}
    assert list(await reader.fetch(FEEDBACK_PAGE, stranger)) == []


async def test_reader_execute_writes_at_once(
    app: Starlette, sessions: Sessions, settings: Settings
) -> None:
    id_hash, _ = await _signed_in(sessions, settings)
    later = utcnow() + dt.timedelta(minutes=5)
    await app.state.portal.reader.execute(TOUCH_SESSION, {"session_id_hash": id_hash, "now": later})
    async with sessions() as db:
        seen = await db.scalar(select(Session.last_seen_at).where(Session.id_hash == id_hash))
    assert seen == later


async def test_reader_refuses_a_missing_parameter(app: Starlette) -> None:
    reader: Reader = app.state.portal.reader
    with pytest.raises((KeyError, StatementError)):  # the driver's path, SQLAlchemy's
        await reader.fetch(FEEDBACK_PAGE, {"application_id": 1})
