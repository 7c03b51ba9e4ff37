"""The autocommit reader: on PostgreSQL it bypasses SQLAlchemy's execution, so it
must give back exactly what SQLAlchemy would."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.db import async_url, utcnow
from portal.feedback.service import FEEDBACK_PAGE
from portal.reader import ConnectionQueue, Reader, connect_args
from portal.security.models import Session
from portal.security.sessions import TOUCH_SESSION, start_session
from portal.security.tokens import token_digest
from portal.settings import Settings
from tests.factories import make_world

Sessions = async_sessionmaker[AsyncSession]


async def _signed_in(sessions: Sessions, settings: Settings) -> tuple[bytes, int]:
    world = await make_world(sessions)
    async with sessions() as db, db.begin():
        token = await start_session(
            db,
            candidate_id=world.candidate_id,
            absolute_hours=settings.session_absolute_hours,
            now=utcnow(),
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
        expected = (await connection.execute(FEEDBACK_PAGE, params)).mappings().all()

    assert len(rows) == len(expected) > 3
    for got, want in zip(rows, expected, strict=True):
        # The same names (every column labelled, none twice) and the same values.
        assert list(got.keys()) == list(want.keys())
        assert len(set(got.keys())) == len(list(got.keys()))
        assert dict(got) == dict(want)
        # Same Python types too: aware UTC datetimes, decoded JSON, and so on.
        assert {k: type(v) for k, v in dict(got).items()} == {
            k: type(v) for k, v in dict(want).items()
        }
        for value in dict(got).values():
            if isinstance(value, dt.datetime):
                assert value.utcoffset() == dt.timedelta(0)
    assert isinstance(rows[0]["suggested_roles"], list)  # a JSON column


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


@pytest.fixture
def postgres(database_url: str) -> dict[str, Any]:
    if async_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("the connection queue serves PostgreSQL only")
    return connect_args(database_url)


def test_connect_args_read_the_url_as_the_engine_does() -> None:
    args = connect_args(
        "postgresql://ana:p%40ss@db.example:6543/portal?ssl=require&prepared_statement_cache_size=0"
    )
    assert args == {
        "host": "db.example",
        "port": 6543,
        "user": "ana",
        "password": "p@ss",
        "database": "portal",
        "ssl": "require",
        "statement_cache_size": 0,
    }


async def test_waiting_tasks_get_connections_in_arrival_order(postgres: dict[str, Any]) -> None:
    queue = ConnectionQueue(postgres, size=1)
    served: list[str] = []
    first_in = asyncio.Event()
    let_go = asyncio.Event()

    async def holder() -> None:
        async with queue.connection():
            first_in.set()
            await let_go.wait()
        # Asking again at once, before the woken waiters run, must not jump the queue.
        async with queue.connection():
            served.append("again")

    async def task(name: str) -> None:
        async with queue.connection() as connection:
            served.append(name)
            await connection.fetchval("SELECT 1")

    try:
        hold = asyncio.create_task(holder())
        await first_in.wait()
        waiting = [asyncio.create_task(task(name)) for name in ("a", "b", "c")]
        await asyncio.sleep(0.01)
        let_go.set()
        await asyncio.gather(hold, *waiting)
        assert served == ["a", "b", "c", "again"]
        assert queue.opened == 1
    finally:
        await queue.close()


async def test_never_more_connections_than_the_size(postgres: dict[str, Any]) -> None:
    queue = ConnectionQueue(postgres, size=3)
    busy = 0
    most = 0

    async def task() -> None:
        nonlocal busy, most
        async with queue.connection() as connection:
            busy += 1
            most = max(most, busy)
            await connection.fetchval("SELECT pg_sleep(0.005)")
            busy -= 1

    try:
        await asyncio.gather(*(task() for _ in range(30)))
        assert most == 3
        assert queue.opened == 3
    finally:
        await queue.close()


async def test_a_failed_statement_closes_its_connection(postgres: dict[str, Any]) -> None:
    queue = ConnectionQueue(postgres, size=1)
    try:
        with pytest.raises(asyncpg.DataError):
            async with queue.connection() as connection:
                failed = connection
                await connection.fetchval("SELECT 1 / $1::int", 0)
        assert failed.is_closed()
        assert queue.opened == 0
        async with queue.connection() as connection:
            assert connection is not failed
            assert await connection.fetchval("SELECT 2") == 2
    finally:
        await queue.close()


async def test_a_cancelled_request_leaves_no_broken_connection(
    postgres: dict[str, Any],
) -> None:
    queue = ConnectionQueue(postgres, size=1)

    async def slow() -> None:
        async with queue.connection() as connection:
            await connection.fetchval("SELECT pg_sleep(5)")

    try:
        running = asyncio.create_task(slow())
        waiting = asyncio.create_task(slow())  # waits for the only connection
        await asyncio.sleep(0.1)
        waiting.cancel()
        running.cancel()
        for task in (running, waiting):
            with pytest.raises(asyncio.CancelledError):
                await task
        assert queue.opened == 0
        async with queue.connection() as connection:
            assert await connection.fetchval("SELECT 3") == 3
    finally:
        await queue.close()


async def test_closing_refuses_new_and_waiting_requests(postgres: dict[str, Any]) -> None:
    queue = ConnectionQueue(postgres, size=1)
    async with queue.connection() as connection:
        await connection.fetchval("SELECT 1")
        waiting = asyncio.create_task(queue.connection().__aenter__())
        await asyncio.sleep(0.01)
        await queue.close()
        with pytest.raises(RuntimeError, match="closed"):
            await waiting
    assert connection.is_closed()
    assert queue.opened == 0
    with pytest.raises(RuntimeError, match="closed"):
        async with queue.connection():
            pass
