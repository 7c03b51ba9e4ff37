"""`portal worker` on SIGTERM: the batch in hand is finished and recorded, then it stops."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.jobs.worker import Worker
from portal.settings import Settings

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
