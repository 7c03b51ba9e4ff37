"""Queueing jobs, in the same transaction as their cause, and putting failed ones back."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from portal.jobs.models import BackgroundJob, JobState
from portal.jobs.registry import JobKind, P, Registry

BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP = dt.timedelta(hours=6)
_jitter = random.Random()  # noqa: S311 - spreading retries, not security


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, … capped at 6 h, each shortened by up to half at random."""
    full = min(BACKOFF_CAP.total_seconds(), BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=full * _jitter.uniform(0.5, 1.0))


async def enqueue(
    db: AsyncSession,
    kind: JobKind[P],
    payload: P,
    *,
    run_at: dt.datetime,
    idempotency_key: str | None = None,
) -> int | None:
    """Queue one job; returns its id, or None when a job with this key already exists.

    One `INSERT … ON CONFLICT DO NOTHING`: two transactions queueing the same key
    at the same moment make one row, and neither fails.
    """
    values = {
        "kind": kind.name,
        "payload": payload.model_dump(mode="json"),
        "state": JobState.PENDING.value,
        "attempts": 0,
        "run_at": run_at,
        "created_at": run_at,
        "idempotency_key": idempotency_key,
    }
    return await _insert_once(db, values)


async def _insert_once(db: AsyncSession, values: dict[str, Any]) -> int | None:
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(BackgroundJob)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[BackgroundJob.idempotency_key])
        .returning(BackgroundJob.id)
    )
    return (await db.execute(statement)).scalar_one_or_none()


async def schedule_periodic(db: AsyncSession, registry: Registry, *, now: dt.datetime) -> int:
    """Make sure every periodic kind has its one row, due one interval from now.

    Returns how many rows it created: none when another worker got there first.
    """
    created = 0
    for kind in registry.periodic():
        payload = kind.payload().model_dump(mode="json")
        values = {
            "kind": kind.name,
            "payload": payload,
            "state": JobState.PENDING.value,
            "attempts": 0,
            "run_at": now + kind.every if kind.every else now,
            "created_at": now,
            "idempotency_key": kind.periodic_key,
        }
        created += await _insert_once(db, values) is not None
    return created


async def count_by_state(db: AsyncSession, *, kind: str) -> dict[str, int]:
    counts = {state.value: 0 for state in JobState}
    for row in await db.execute(
        select(BackgroundJob.state, func.count().label("jobs"))
        .where(BackgroundJob.kind == kind)
        .group_by(BackgroundJob.state)
    ):
        counts[row.state] = row.jobs
    return counts


async def requeue(
    db: AsyncSession,
    *,
    kind: str,
    now: dt.datetime,
    job_id: int | None = None,
    failed: bool = False,
) -> int:
    """Put a failed (or stuck) job back in the queue with fresh attempts."""
    statement = (
        update(BackgroundJob)
        .where(BackgroundJob.kind == kind)
        .values(
            state=JobState.PENDING.value,
            attempts=0,
            run_at=now,
            locked_until=None,
            lease_id=None,
        )
    )
    if job_id is not None:
        statement = statement.where(
            BackgroundJob.id == job_id, BackgroundJob.state != JobState.DONE.value
        )
    elif failed:
        statement = statement.where(BackgroundJob.state == JobState.FAILED.value)
    else:
        raise ValueError("name a job id or ask for all failed ones")
    result = await db.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


async def queue_depths(db: AsyncSession, *, now: dt.datetime) -> list[tuple[str, str, int]]:
    """(kind, what, jobs) for the metrics: jobs `due` now and not claimed, `waiting`
    for a later time, `running` under a worker's lease, and `failed`, by kind. Finished
    jobs are not counted (they are kept a while, see `jobs.housekeeping`)."""
    job = BackgroundJob
    what = case(
        (job.state == JobState.FAILED.value, "failed"),
        (and_(job.locked_until.is_not(None), job.locked_until >= now), "running"),
        (job.run_at > now, "waiting"),
        else_="due",
    ).label("what")
    rows = await db.execute(
        select(job.kind, what, func.count().label("jobs"))
        .where(job.state != JobState.DONE.value)
        .group_by(job.kind, what)
        .order_by(job.kind, what)
    )
    return [(row.kind, row.what, row.jobs) for row in rows]
