"""The autocommit reader: on PostgreSQL it bypasses SQLAlchemy's execution, so it
must give back exactly what SQLAlchemy would."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.app import create_app
from portal.db import async_url, unit_of_work, utcnow
from portal.feedback.models import Feedback
from portal.feedback.service import FEEDBACK_PAGE
from portal.reader import ConnectionQueue, Reader, StatementCache, connect_args
from portal.security.models import Session
from portal.security.sessions import TOUCH_SESSION, cookie_name, start_session
from portal.security.tokens import token_digest
from portal.settings import Settings
from tests.conftest import BASE_URL
from tests.factories import World, make_world
from tests.tcpproxy import TcpProxy

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


def _plain(kind: type) -> type:
    return str if issubclass(kind, enum.StrEnum) else kind


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
        # Same Python types too: aware UTC datetimes, decoded JSON, and so on. Enum
        # columns are the exception: the driver gives their values, which compare
        # equal to the members SQLAlchemy gives (checked above).
        assert {k: _plain(type(v)) for k, v in dict(got).items()} == {
            k: _plain(type(v)) for k, v in dict(want).items()
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


def test_the_statement_cache_keeps_at_most_its_size() -> None:
    cache = StatementCache(size=4)
    held = []
    for i in range(50):
        # Fifty different statements, each built anew as a request might.
        statement = select(Session.id_hash).where(Session.candidate_id == bindparam(f"c{i}"))
        held.append(statement)
        assert cache.get(statement).names == (f"c{i}",)
        assert len(cache) <= 4
    assert cache.compilations == 50


def test_statements_built_per_request_share_one_compilation() -> None:
    cache = StatementCache(size=4)
    for state in ("draft", "published") * 20:
        statement = select(Feedback.id).where(
            Feedback.state == state, Feedback.application_id == bindparam("application_id")
        )
        driver = cache.get(statement)
        # Literal values are the statement's own, even when its SQL was compiled
        # for an earlier statement of the same shape.
        assert state in driver.defaults.values()
        assert driver.sql.count("$") == 2
    assert cache.compilations == 1
    assert len(cache) <= 4


async def test_statements_built_per_request_read_their_own_values(
    app: Starlette, sessions: Sessions
) -> None:
    await make_world(sessions)
    reader: Reader = app.state.portal.reader
    for state, expected in (("published", 1), ("draft", 0), ("published", 1)):
        statement = select(Feedback.version.label("version")).where(Feedback.state == state)
        rows = await reader.fetch(statement, {})
        assert len(rows) == expected
        assert all(row["version"] == 1 for row in rows)


# -- when the database goes away or stops answering (PostgreSQL, through a proxy) --


@pytest.fixture
async def proxy(postgres: dict[str, Any]) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(postgres["host"], postgres["port"])
    await proxy.start()
    yield proxy
    await proxy.close()


@contextlib.asynccontextmanager
async def _proxied_app(
    proxy: TcpProxy, settings: Settings, sessions: Sessions, *, db_timeout: float
) -> AsyncIterator[tuple[httpx.AsyncClient, World]]:
    """A second app whose database connections all go through the proxy, with
    database timeouts of `db_timeout` seconds, and a client signed in to it."""
    url = make_url(settings.database_url).set(host="127.0.0.1", port=proxy.port)
    proxied_settings = settings.model_copy(
        update={
            "database_url": url.render_as_string(hide_password=False),
            "db_acquire_timeout_seconds": db_timeout,
            "db_statement_timeout_seconds": db_timeout,
            "db_pool_size": 4,
        }
    )
    app = create_app(proxied_settings, run_worker=False)
    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        token = await start_session(
            db,
            candidate_id=world.candidate_id,
            absolute_hours=settings.session_absolute_hours,
            now=utcnow(),
        )
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url=BASE_URL, cookies={cookie_name(settings.https): token}
        ) as client:
            yield client, world
    finally:
        proxy.resume()
        await proxy.restore()
        await app.state.portal.engine.dispose()
        await app.state.portal.reader.close()


@pytest.fixture
async def proxied(
    proxy: TcpProxy, settings: Settings, sessions: Sessions
) -> AsyncIterator[tuple[httpx.AsyncClient, World]]:
    """Timeouts of half a second, for the tests of a database that stops answering."""
    async with _proxied_app(proxy, settings, sessions, db_timeout=0.5) as pair:
        yield pair


@pytest.fixture
async def proxied_patient(
    proxy: TcpProxy, settings: Settings, sessions: Sessions
) -> AsyncIterator[tuple[httpx.AsyncClient, World]]:
    """Timeouts a busy test machine can meet, for the tests of lost connections."""
    async with _proxied_app(proxy, settings, sessions, db_timeout=10.0) as pair:
        yield pair


async def _page_views(client: httpx.AsyncClient, world: World, count: int) -> list[int]:
    responses = await asyncio.gather(
        *(client.get(f"/feedback/{world.application_id}") for _ in range(count))
    )
    return [response.status_code for response in responses]


async def test_a_dropped_and_restored_database_costs_no_page_view(
    proxy: TcpProxy, proxied_patient: tuple[httpx.AsyncClient, World]
) -> None:
    client, world = proxied_patient
    assert await _page_views(client, world, 8) == [200] * 8  # several connections open
    proxy.cut_silently()
    await asyncio.sleep(0.5)
    await proxy.restore()
    # Every pooled connection is dead, and the app does not know it yet.
    assert await _page_views(client, world, 8) == [200] * 8
    for _ in range(10):
        assert (await client.get(f"/feedback/{world.application_id}")).status_code == 200


async def test_a_database_that_stops_answering_gets_a_503_in_time(
    proxy: TcpProxy, proxied: tuple[httpx.AsyncClient, World]
) -> None:
    client, world = proxied
    assert (await client.get(f"/feedback/{world.application_id}")).status_code == 200
    proxy.pause()
    # The first view waits on a pooled connection's statement, the next ones on a
    # connection that cannot be opened: each is bounded.
    for _ in range(3):
        started = time.monotonic()
        response = await client.get(f"/feedback/{world.application_id}")
        assert time.monotonic() - started < 2
        assert response.status_code == 503
        assert "try again" in response.text
        assert response.headers["retry-after"] == "5"
    started = time.monotonic()
    ready = await client.get("/readyz")
    assert time.monotonic() - started < 2
    assert ready.status_code == 503
    proxy.resume()
    assert (await client.get(f"/feedback/{world.application_id}")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200


async def test_pages_on_the_transactional_engine_do_not_hang_either(
    proxy: TcpProxy, proxied: tuple[httpx.AsyncClient, World]
) -> None:
    client, _ = proxied
    assert (await client.get("/feedback")).status_code == 303  # one application: its page
    proxy.pause()
    for _ in range(2):
        started = time.monotonic()
        response = await client.get("/feedback")
        assert time.monotonic() - started < 3
        assert response.status_code == 503
    proxy.resume()
    assert (await client.get("/feedback")).status_code == 303
