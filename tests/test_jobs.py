"""The job table: typed payloads, run_at, periodic jobs, retries, one row per key."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from pydantic import BaseModel
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.db import unit_of_work, utcnow
from portal.jobs import service as jobs
from portal.jobs.models import BackgroundJob
from portal.jobs.registry import JobContext, JobKind, Registry, registry
from portal.jobs.worker import Worker
from portal.settings import Settings
from tests.test_mail_delivery import Clock

Sessions = async_sessionmaker[AsyncSession]


class Greeting(BaseModel):
    name: str
    times: int = 1


class Tick(BaseModel):
    pass


class Kinds:
    """A registry of test kinds that remember what they were given."""

    def __init__(self, *, periodic: bool = False) -> None:
        self.registry = Registry()
        self.greeted: list[Greeting] = []
        self.ticks: list[dt.datetime] = []
        self.failures_left = 0
        self.greet = self.registry.add(JobKind("test.greet", Greeting, run=self._greet))
        if periodic:
            self.registry.add(
                JobKind("test.tick", Tick, run=self._tick, every=dt.timedelta(hours=1))
            )

    async def _greet(self, db: AsyncSession, payload: Greeting, context: JobContext) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("not today")
        self.greeted.append(payload)

    async def _tick(self, db: AsyncSession, payload: Tick, context: JobContext) -> None:
        self.ticks.append(context.now)


@pytest.fixture
def kinds() -> Kinds:
    return Kinds()


async def _rows(sessions: Sessions) -> list[BackgroundJob]:
    async with unit_of_work(sessions) as db:
        return list((await db.scalars(select(BackgroundJob).order_by(BackgroundJob.id))).all())


def test_every_domain_kind_is_registered() -> None:
    from portal import job_kinds  # noqa: F401

    names = {kind.name for kind in registry}
    assert {"access.sign_in", "access.fresh_link", "mail.send", "jobs.prune"} <= names
    with pytest.raises(ValueError, match="already registered"):
        registry.add(JobKind("mail.send", Greeting, run=Kinds()._greet))


async def test_a_job_runs_with_its_typed_payload_when_its_time_comes(
    sessions: Sessions, settings: Settings, kinds: Kinds
) -> None:
    clock = Clock()
    worker = Worker(settings=settings, sessions=sessions, clock=clock, kinds=kinds.registry)
    async with unit_of_work(sessions) as db:
        await jobs.enqueue(
            db,
            kinds.greet,
            Greeting(name="Dana", times=2),
            run_at=clock.now + dt.timedelta(hours=2),
        )
    assert await worker.run_once() == 0
    clock.advance(hours=2, seconds=1)
    assert await worker.run_once() == 1
    assert kinds.greeted == [Greeting(name="Dana", times=2)]
    assert await _rows(sessions) == []  # done jobs go


async def test_a_failing_job_is_retried_later_then_given_up(
    sessions: Sessions, settings: Settings, kinds: Kinds
) -> None:
    clock = Clock()
    worker = Worker(settings=settings, sessions=sessions, clock=clock, kinds=kinds.registry)
    kinds.failures_left = 99
    async with unit_of_work(sessions) as db:
        await jobs.enqueue(db, kinds.greet, Greeting(name="Dana"), run_at=clock.now)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0  # backing off
    for _ in range(4):
        clock.advance(hours=7)
        assert await worker.run_once() == 1
    [job] = await _rows(sessions)
    assert job.state == "failed" and job.attempts == 5 and "not today" in (job.last_error or "")
    clock.advance(days=2)
    assert await worker.run_once() == 0
    async with unit_of_work(sessions) as db:
        await jobs.requeue(db, kind="test.greet", now=clock.now, failed=True)
    kinds.failures_left = 0
    assert await worker.run_once() == 1
    assert [greeting.name for greeting in kinds.greeted] == ["Dana"]


async def test_a_payload_that_does_not_fit_its_model_fails_alone(
    sessions: Sessions, settings: Settings, kinds: Kinds
) -> None:
    now = utcnow()
    async with unit_of_work(sessions) as db:
        await db.execute(
            insert(BackgroundJob),
            [
                {"kind": "test.greet", "payload": {"nom": "x"}, "run_at": now},
                {"kind": "test.greet", "payload": {"name": "Dana"}, "run_at": now},
            ],
        )
    worker = Worker(settings=settings, sessions=sessions, kinds=kinds.registry)
    assert await worker.run_once() == 2
    assert [greeting.name for greeting in kinds.greeted] == ["Dana"]
    [broken] = await _rows(sessions)
    assert broken.state == "failed" and broken.attempts == 1
    assert "name" in (broken.last_error or "")


async def test_a_periodic_kind_has_exactly_one_pending_row_and_runs_every_interval(
    sessions: Sessions, settings: Settings
) -> None:
    kinds = Kinds(periodic=True)
    clock = Clock()
    workers = [
        Worker(settings=settings, sessions=sessions, clock=clock, kinds=kinds.registry)
        for _ in range(4)
    ]
    assert await asyncio.gather(*(worker.run_once() for worker in workers)) == [0] * 4
    [tick] = await _rows(sessions)
    assert tick.kind == "test.tick" and tick.state == "pending"
    first_due = tick.run_at

    clock.advance(hours=1, seconds=1)
    assert sum(await asyncio.gather(*(worker.run_once() for worker in workers))) == 1
    assert len(kinds.ticks) == 1
    [tick] = await _rows(sessions)
    assert tick.state == "pending" and tick.attempts == 0
    assert tick.run_at >= first_due + dt.timedelta(hours=1)
    async with unit_of_work(sessions) as db:
        assert await jobs.schedule_periodic(db, kinds.registry, now=clock.now) == 0
    assert len(await _rows(sessions)) == 1


async def test_concurrent_enqueue_of_one_job_key_creates_one_row(
    sessions: Sessions, kinds: Kinds
) -> None:
    async def enqueue() -> int | None:
        async with unit_of_work(sessions) as db:
            return await jobs.enqueue(
                db, kinds.greet, Greeting(name="Dana"), run_at=utcnow(), idempotency_key="k"
            )

    results = await asyncio.gather(*(enqueue() for _ in range(8)))
    assert len([job_id for job_id in results if job_id is not None]) == 1
    assert len(await _rows(sessions)) == 1
