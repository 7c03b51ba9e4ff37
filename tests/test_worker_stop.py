"""`portal worker` on SIGTERM: the batch in hand is finished and recorded, then it stops."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.db import unit_of_work, utcnow
from portal.jobs import service as jobs
from portal.jobs.models import BackgroundJob
from portal.jobs.registry import JobContext, JobKind, Registry
from portal.jobs.worker import Worker
from portal.settings import Settings
from tests.test_jobs import Greeting

Sessions = async_sessionmaker[AsyncSession]


async def test_a_stopped_worker_returns_from_its_loop(
    settings: Settings, sessions: Sessions
) -> None:
    worker = Worker(settings=settings, sessions=sessions)
    running = asyncio.create_task(worker.run_forever())
    await asyncio.sleep(0.2)  # idle, waiting for work
    worker.stop()
    await asyncio.wait_for(running, timeout=10)
    # Stopped, it takes nothing more.
    assert await worker.run_once() == 0


async def test_the_lease_is_a_setting(settings: Settings, sessions: Sessions) -> None:
    shorter = settings.model_copy(update={"job_lease_seconds": 7})
    assert Worker(settings=shorter, sessions=sessions).lease == dt.timedelta(seconds=7)
    assert Worker(settings=settings, sessions=sessions).lease == dt.timedelta(minutes=2)


async def test_stopped_mid_batch_it_finishes_and_records_the_batch_and_takes_no_more(
    settings: Settings, sessions: Sessions
) -> None:
    kinds = Registry()
    done: list[str] = []
    worker: Worker | None = None

    async def greet(db: AsyncSession, payload: Greeting, context: JobContext) -> None:
        done.append(payload.name)
        if len(done) == 2:
            assert worker is not None
            worker.stop()  # SIGTERM arrives while the batch is in hand
        await asyncio.sleep(0.01)

    kind = kinds.add(JobKind("test.greet_stop", Greeting, run=greet))
    worker = Worker(settings=settings, sessions=sessions, kinds=kinds, batch_size=5)
    async with unit_of_work(sessions) as db:
        for n in range(8):
            await jobs.enqueue(db, kind, Greeting(name=f"n{n}"), run_at=utcnow())
    await asyncio.wait_for(worker.run_forever(), timeout=30)
    # The whole batch of five ran, once each, and is recorded (done jobs go): nothing
    # waits for its lease. The three beyond it were never taken.
    assert done == [f"n{n}" for n in range(5)]
    async with unit_of_work(sessions) as db:
        left = (await db.scalars(select(BackgroundJob).order_by(BackgroundJob.id))).all()
        assert [(job.attempts, job.lease_id) for job in left] == [(0, None)] * 3
