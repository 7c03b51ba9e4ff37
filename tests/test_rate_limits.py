"""Rate limits shared by every app process: counters in PostgreSQL by default there,
in memory on SQLite, or wherever `PORTAL_RATE_LIMIT_STORAGE` says."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from limits.aio.storage import MemoryStorage
from limits.storage import storage_from_string
from sqlalchemy import func, select, update
from starlette.applications import Starlette

from portal.db import create_engine, session_factory, unit_of_work, utcnow
from portal.jobs.housekeeping import Prune, prune_finished_jobs
from portal.jobs.registry import JobContext
from portal.security.ratelimit import LIMITS, RateLimiter, storage_for
from portal.security.ratelimit_storage import PostgresStorage, RateLimitHit
from portal.settings import Settings, SettingsError


def _on_postgres(settings: Settings) -> bool:
    return settings.database_url.startswith("postgresql")


async def test_the_default_counts_in_the_database_on_postgresql_and_in_memory_on_sqlite(
    app: Starlette, settings: Settings
) -> None:
    storage = app.state.portal.limiter.storage
    if _on_postgres(settings):
        assert isinstance(storage, PostgresStorage)
        assert storage.engine is app.state.portal.engine  # no connections of its own
    else:
        assert isinstance(storage, MemoryStorage)


def test_database_counters_need_postgresql() -> None:
    with pytest.raises(SettingsError, match="PORTAL_RATE_LIMIT_STORAGE=database needs"):
        Settings(database_url="sqlite:///x.db", rate_limit_storage="database").check()
    Settings(database_url="postgresql://h/db", rate_limit_storage="database").check()


def test_a_limits_storage_uri_is_still_accepted(settings: Settings) -> None:
    engine = create_engine(settings)
    assert isinstance(storage_for("memory://", engine), MemoryStorage)
    # Our storage is registered with `limits` under its scheme.
    storage = storage_from_string("async+postgresql://postgres@127.0.0.1/none")
    assert isinstance(storage, PostgresStorage)


async def test_two_processes_count_against_one_limit(settings: Settings, app: Starlette) -> None:
    if not _on_postgres(settings):
        pytest.skip("shared counters are PostgreSQL's")
    # Two engines, as two app processes have.
    engines = [create_engine(settings, pool_size=3) for _ in range(2)]
    try:
        limiters = [RateLimiter(storage_for("", engine)) for engine in engines]
        allowed = LIMITS["signin_ip"].amount
        # Many at once, from both: exactly the limit gets through.
        answers = await asyncio.gather(
            *(limiters[n % 2].allow("signin_ip", "192.0.2.1") for n in range(allowed * 3))
        )
        assert answers.count(True) == allowed
        # Another key is counted apart.
        assert await limiters[1].allow("signin_ip", "192.0.2.2")
        # And the table keeps hashes, never the address or email counted.
        async with engines[0].connect() as connection:
            hashes = set((await connection.execute(select(RateLimitHit.key_hash))).scalars())
        assert len(hashes) == 2
        assert all(b"192.0.2" not in value for value in hashes)
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_window_that_passed_is_counted_afresh_and_pruned(
    settings: Settings, app: Starlette
) -> None:
    if not _on_postgres(settings):
        pytest.skip("shared counters are PostgreSQL's")
    storage = PostgresStorage(engine=app.state.portal.engine)
    assert await storage.acquire_entry("k", 2, 60)
    assert await storage.acquire_entry("k", 2, 60)
    assert not await storage.acquire_entry("k", 2, 60)
    start, count = await storage.get_moving_window("k", 2, 60)
    assert count == 2 and start <= utcnow().timestamp()
    # Age the hits past their window: the key is counted afresh.
    sessions = session_factory(app.state.portal.engine)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(RateLimitHit).values(
                hit_at=utcnow() - dt.timedelta(minutes=2),
                expires_at=utcnow() - dt.timedelta(minutes=1),
            )
        )
    assert await storage.acquire_entry("k", 2, 60)
    # The fixed window's interface works on the same rows.
    assert await storage.incr("fixed", 60) == 1
    assert await storage.incr("fixed", 60, amount=2) == 3
    assert await storage.get("fixed") == 3
    assert await storage.get_expiry("fixed") > utcnow().timestamp()
    await storage.clear("fixed")
    assert await storage.get("fixed") == 0
    assert await storage.check()
    # The hourly prune forgets hits whose window passed, whatever their key.
    async with unit_of_work(sessions) as db:
        await db.execute(update(RateLimitHit).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    async with unit_of_work(sessions) as db:
        await prune_finished_jobs(db, Prune(), JobContext(settings=settings, now=utcnow()))
    async with unit_of_work(sessions) as db:
        assert await db.scalar(select(func.count()).select_from(RateLimitHit)) == 0
