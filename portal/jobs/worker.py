"""The worker: claims due jobs under a lease, runs them, records what happened.

Claiming is one statement that sets a lease (`locked_until`, `lease_id`); on
PostgreSQL the rows are picked with `FOR UPDATE SKIP LOCKED`, so any number of
workers never take the same row, and a worker that dies releases its rows when
the lease runs out. SQLite serialises writers, so the same statement is safe
there for the one worker it runs.

Three promises about work done outside the database (email):

- A lease never runs out under a live worker: a heartbeat renews it while the
  batch runs, and a job is only started while the lease has time to spare. If
  the renewals fail (the database is gone), the worker stops starting jobs
  before another worker could take them.
- What was done is never forgotten: outcomes are buffered and written with
  retries; the worker takes no new work until they are written, so a database
  that drops after the SMTP server accepted a batch costs no second send.
- One job that cannot be handled fails alone; the rest of its batch goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.db import DatabaseUnavailable, unit_of_work, utcnow
from portal.jobs.models import BackgroundJob, JobState
from portal.jobs.registry import JobContext, JobKind, P, Registry, registry
from portal.jobs.service import backoff, schedule_periodic
from portal.settings import Settings

log = logging.getLogger("portal.worker")

LEASE = dt.timedelta(minutes=2)  # PORTAL_JOB_LEASE_SECONDS' default
BATCH = 50
RECORD_EVERY = 10
POLL_SECONDS = 2.0
RECORD_RETRY_CAP_SECONDS = 2.0

# The database went away or answered with an error: worth trying again.
TRANSIENT = (SQLAlchemyError, OSError, DatabaseUnavailable)


@dataclass(frozen=True)
class ClaimedJob(Generic[P]):
    id: int
    attempts: int  # this one included
    payload: P


class LeaseLost(RuntimeError):
    """Another worker holds the job now: this worker's work on it is rolled back."""


class Lease:
    """The rows of one claim, and until when this worker may work on them."""

    def __init__(
        self, ids: Sequence[int], *, lease_id: str, expires: dt.datetime, duration: dt.timedelta
    ) -> None:
        self.id = lease_id
        self.open = set(ids)  # not finished yet
        self.held = set(ids)  # not recorded yet: renewed, or another worker would redo them
        self.expires = expires
        self.duration = duration

    def holds(self, job_id: int, now: dt.datetime) -> bool:
        # A quarter of the lease to spare: time for one job (an SMTP send) to finish.
        return job_id in self.open and now < self.expires - self.duration / 4

    def release(self, job_id: int) -> None:
        self.open.discard(job_id)

    def recorded(self, job_id: int) -> None:
        self.open.discard(job_id)
        self.held.discard(job_id)


@dataclass
class Outcome:
    job_id: int
    kind: JobKind[Any]
    lease: Lease
    attempts: int
    payload: BaseModel | None = None
    error: BaseException | None = None  # None: done
    permanent: bool = False
    release: bool = False  # never started: back to the queue as it was


class Batch(Generic[P]):
    """What a `run_batch` handler gets: its jobs, one at a time, while the lease holds."""

    def __init__(
        self, worker: Worker, kind: JobKind[P], jobs: list[ClaimedJob[P]], lease: Lease
    ) -> None:
        self.settings = worker.settings
        self.clock = worker.clock
        self._worker = worker
        self._kind = kind
        self._jobs = jobs
        self._lease = lease
        self._finished: set[int] = set()
        self._started: set[int] = set()

    async def __aiter__(self) -> AsyncIterator[ClaimedJob[P]]:
        for job in self._jobs:
            await self._worker.recorder.flush_now_and_then()
            if not self._lease.holds(job.id, self.clock()):
                continue
            self._started.add(job.id)
            yield job

    def done(self, job: ClaimedJob[P]) -> None:
        self._finish(job, Outcome(job.id, self._kind, self._lease, job.attempts, job.payload))

    def fail(self, job: ClaimedJob[P], error: BaseException, *, permanent: bool = False) -> None:
        log.warning("%s job %d failed: %r", self._kind.name, job.id, error)
        self._finish(
            job,
            Outcome(
                job.id, self._kind, self._lease, job.attempts, error=error, permanent=permanent
            ),
        )

    def _finish(self, job: ClaimedJob[P], outcome: Outcome) -> None:
        self._finished.add(job.id)
        self._lease.release(job.id)
        self._worker.recorder.add(outcome)

    def finish_rest(self, error: BaseException | None) -> None:
        """After the handler: an error retries every unfinished job; otherwise the
        jobs it never reached (the lease ran short) go back untouched."""
        for job in self._jobs:
            if job.id in self._finished:
                continue
            outcome = Outcome(job.id, self._kind, self._lease, job.attempts)
            if error is not None:
                outcome.error = error  # logged once, for the batch
            else:
                outcome.release = True
            self._finish(job, outcome)


class Recorder:
    """Writes job outcomes; when the database is away, keeps them until it answers."""

    def __init__(self, worker: Worker) -> None:
        self._worker = worker
        self._pending: list[Outcome] = []
        self._failed_at = -float("inf")

    def add(self, outcome: Outcome) -> None:
        self._pending.append(outcome)

    def __len__(self) -> int:
        return len(self._pending)

    async def flush_now_and_then(self) -> None:
        """During a batch: write every few outcomes, so a killed worker re-sends little."""
        waited = time.monotonic() - self._failed_at
        if len(self._pending) >= RECORD_EVERY and waited > RECORD_RETRY_CAP_SECONDS:
            await self.flush()

    async def flush(self) -> bool:
        if not self._pending:
            return True
        outcomes = list(self._pending)
        try:
            await self._write(outcomes)
        except TRANSIENT as exc:
            self._failed_at = time.monotonic()
            log.warning("could not record %d job outcome(s) yet: %r", len(outcomes), exc)
            return False
        del self._pending[: len(outcomes)]
        for outcome in outcomes:
            outcome.lease.recorded(outcome.job_id)
        return True

    async def flush_until_done(self) -> None:
        delay = 0.1
        while not await self.flush():
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECORD_RETRY_CAP_SECONDS)

    async def _write(self, outcomes: list[Outcome]) -> None:
        worker = self._worker
        now = worker.clock()
        kept: list[dict[str, Any]] = []
        deleted: list[int] = []
        async with unit_of_work(worker.sessions) as db:
            for outcome in outcomes:
                if outcome.release:
                    await db.execute(
                        _mine(outcome)
                        .values(
                            locked_until=None,
                            lease_id=None,
                            attempts=BackgroundJob.attempts - 1,
                        )
                        .execution_options(synchronize_session=False)
                    )
                elif outcome.error is not None:
                    values = worker.failure_values(outcome, now)
                    await db.execute(
                        _mine(outcome).values(**values).execution_options(synchronize_session=False)
                    )
                elif outcome.kind.keep is not None and outcome.payload is not None:
                    # Done (its lease may have run out meanwhile: it was still done).
                    kept.append(
                        {"id": outcome.job_id, "payload": outcome.kind.keep(outcome.payload)}
                    )
                else:
                    deleted.append(outcome.job_id)
            if kept:
                done = {
                    "state": JobState.DONE.value,
                    "finished_at": now,
                    "locked_until": None,
                    "lease_id": None,
                    "last_error": None,
                }
                await db.execute(update(BackgroundJob), [{**row, **done} for row in kept])
            if deleted:
                await db.execute(
                    delete(BackgroundJob)
                    .where(BackgroundJob.id.in_(deleted))
                    .execution_options(synchronize_session=False)
                )


def _mine(outcome: Outcome) -> Any:
    return update(BackgroundJob).where(
        BackgroundJob.id == outcome.job_id, BackgroundJob.lease_id == outcome.lease.id
    )


class Worker:
    def __init__(
        self,
        *,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], dt.datetime] = utcnow,
        kinds: Registry = registry,
        lease: dt.timedelta | None = None,
        batch_size: int = BATCH,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self.kinds = kinds
        self.lease = lease or dt.timedelta(seconds=settings.job_lease_seconds)
        self.batch_size = batch_size
        self.recorder = Recorder(self)
        self._wake = asyncio.Event()
        self._scheduled = False
        self.stopping = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the batch in hand, record it, and take no more (`portal worker` on
        SIGTERM): nothing is left to wait for its lease."""
        self.stopping = True
        self._wake.set()

    async def run_forever(self) -> None:
        while not self.stopping:
            try:
                done = await self.run_once()
            except Exception:
                log.exception("worker pass failed; retrying")
                done = 0
            if done:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)

    async def run_once(self) -> int:
        """Run what is due, including jobs that those jobs queue for now (a sign-in
        request's email), until nothing is left. Returns how many jobs it took."""
        total = 0
        while not self.stopping and (taken := await self._pass()):
            total += taken
        return total

    async def _pass(self) -> int:
        """One claim of due jobs, run and recorded. Returns how many it took."""
        # Outcomes of an earlier pass come first: nothing done is ever done again.
        await self.recorder.flush_until_done()
        if not self._scheduled:
            async with unit_of_work(self.sessions) as db:
                await schedule_periodic(db, self.kinds, now=self.clock())
            self._scheduled = True
        rows, lease = await self._claim()
        if not rows:
            return 0
        heartbeat = asyncio.create_task(self._heartbeat(lease))
        try:
            await self._run(rows, lease)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        await self.recorder.flush_until_done()
        return len(rows)

    async def _claim(self) -> tuple[list[Any], Lease]:
        """Lease a batch of due rows (SKIP LOCKED on PostgreSQL)."""
        now = self.clock()
        due = (
            select(BackgroundJob.id)
            .where(
                BackgroundJob.state == JobState.PENDING.value,
                BackgroundJob.run_at <= now,
                or_(BackgroundJob.locked_until.is_(None), BackgroundJob.locked_until < now),
            )
            .order_by(BackgroundJob.id)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True)
        )
        lease_id = secrets.token_hex(16)
        async with unit_of_work(self.sessions) as db:
            rows = (
                await db.execute(
                    update(BackgroundJob)
                    .where(BackgroundJob.id.in_(due.scalar_subquery()))
                    .values(
                        locked_until=now + self.lease,
                        lease_id=lease_id,
                        attempts=BackgroundJob.attempts + 1,
                    )
                    .returning(
                        BackgroundJob.id,
                        BackgroundJob.kind,
                        BackgroundJob.payload,
                        BackgroundJob.attempts,
                    )
                    .execution_options(synchronize_session=False)
                )
            ).all()
        rows = sorted(rows, key=lambda row: row.id)
        ids = [row.id for row in rows]
        return rows, Lease(ids, lease_id=lease_id, expires=now + self.lease, duration=self.lease)

    async def _heartbeat(self, lease: Lease) -> None:
        """Renew the lease on the unfinished rows every third of its length."""
        while True:
            await asyncio.sleep(lease.duration.total_seconds() / 3)
            asked = set(lease.held)
            if not asked:
                continue
            expires = self.clock() + lease.duration
            try:
                async with unit_of_work(self.sessions) as db:
                    kept = (
                        await db.scalars(
                            update(BackgroundJob)
                            .where(BackgroundJob.id.in_(asked), BackgroundJob.lease_id == lease.id)
                            .values(locked_until=expires)
                            .returning(BackgroundJob.id)
                            .execution_options(synchronize_session=False)
                        )
                    ).all()
            except TRANSIENT as exc:
                log.warning("could not renew the lease on %d job(s): %r", len(asked), exc)
                continue
            lease.expires = expires
            for job_id in asked - set(kept):
                lease.recorded(job_id)  # another worker has it: nothing of ours to record

    async def _run(self, rows: list[Any], lease: Lease) -> None:
        groups: dict[str, list[Any]] = {}
        for row in rows:
            groups.setdefault(row.kind, []).append(row)
        for kind_name, group in groups.items():
            kind = self.kinds.get(kind_name)
            jobs: list[ClaimedJob[Any]] = []
            for row in group:
                if kind is None:
                    self._failed(row.id, None, lease, row.attempts, LookupError(kind_name))
                    continue
                try:
                    jobs.append(
                        ClaimedJob(row.id, row.attempts, kind.payload.model_validate(row.payload))
                    )
                except ValidationError as exc:
                    self._failed(row.id, kind, lease, row.attempts, exc, permanent=True)
            if kind is None or not jobs:
                continue
            if kind.run_batch is not None:
                await self._run_batch(kind, jobs, lease)
            else:
                for job in jobs:
                    if lease.holds(job.id, self.clock()):
                        await self._run_one(kind, job, lease)
                    else:
                        lease.release(job.id)
                        self.recorder.add(Outcome(job.id, kind, lease, job.attempts, release=True))

    def _failed(
        self,
        job_id: int,
        kind: JobKind[Any] | None,
        lease: Lease,
        attempts: int,
        error: BaseException,
        *,
        permanent: bool = False,
    ) -> None:
        log.error("job %d (%s) cannot run: %r", job_id, kind.name if kind else "?", error)
        lease.release(job_id)
        self.recorder.add(
            Outcome(
                job_id,
                kind or _UNKNOWN,
                lease,
                attempts,
                error=error,
                permanent=permanent,
            )
        )

    async def _run_batch(self, kind: JobKind[P], jobs: list[ClaimedJob[P]], lease: Lease) -> None:
        assert kind.run_batch is not None
        batch = Batch(self, kind, jobs, lease)
        error: BaseException | None = None
        try:
            await kind.run_batch(batch)
        except Exception as exc:
            log.warning("%s batch interrupted: %r; the rest will be retried", kind.name, exc)
            error = exc
        batch.finish_rest(error)

    async def _run_one(self, kind: JobKind[P], job: ClaimedJob[P], lease: Lease) -> None:
        """The handler's work and the job's completion commit together, or not at all."""
        assert kind.run is not None
        context = JobContext(settings=self.settings, now=self.clock())
        try:
            async with unit_of_work(self.sessions) as db:
                await kind.run(db, job.payload, context)
                if not await self._complete(db, kind, job, lease, context.now):
                    raise LeaseLost(job.id)
        except LeaseLost:
            log.warning("job %d (%s) was taken over; its work was rolled back", job.id, kind.name)
            lease.recorded(job.id)
        except Exception as exc:
            log.exception("job %d (%s) failed", job.id, kind.name)
            lease.release(job.id)
            self.recorder.add(Outcome(job.id, kind, lease, job.attempts, error=exc))
        else:
            lease.recorded(job.id)

    async def _complete(
        self,
        db: AsyncSession,
        kind: JobKind[P],
        job: ClaimedJob[P],
        lease: Lease,
        now: dt.datetime,
    ) -> bool:
        mine = (BackgroundJob.id == job.id, BackgroundJob.lease_id == lease.id)
        if kind.every is not None:
            statement: Any = update(BackgroundJob).where(*mine).values(**self._next_run(kind, now))
        elif kind.keep is not None:
            statement = (
                update(BackgroundJob)
                .where(*mine)
                .values(
                    state=JobState.DONE.value,
                    payload=kind.keep(job.payload),
                    finished_at=now,
                    locked_until=None,
                    lease_id=None,
                    last_error=None,
                )
            )
        else:
            # Done: the job (which may hold an email address) is not kept.
            statement = delete(BackgroundJob).where(*mine)
        result = await db.execute(statement.execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0) == 1

    @staticmethod
    def _next_run(kind: JobKind[Any], now: dt.datetime) -> dict[str, Any]:
        assert kind.every is not None
        return {
            "state": JobState.PENDING.value,
            "run_at": now + kind.every,
            "attempts": 0,
            "locked_until": None,
            "lease_id": None,
        }

    def failure_values(self, outcome: Outcome, now: dt.datetime) -> dict[str, Any]:
        """A failed attempt: try again later, or give up (a periodic job waits its turn)."""
        assert outcome.error is not None
        error = repr(outcome.error)[:2000]
        kind = outcome.kind
        values: dict[str, Any] = {"last_error": error, "locked_until": None, "lease_id": None}
        if not outcome.permanent and outcome.attempts < kind.max_attempts(self.settings):
            return {**values, "run_at": now + backoff(outcome.attempts)}
        if kind.every is not None:
            return {**values, **self._next_run(kind, now), "last_error": error}
        log.error("job %d (%s) failed for good: %s", outcome.job_id, kind.name, error)
        return {**values, "state": JobState.FAILED.value}


class _Unknown(BaseModel):
    pass


async def _cannot_run(db: AsyncSession, payload: _Unknown, context: JobContext) -> None:
    raise LookupError("no handler for this job kind")


# Stands in for a kind this worker does not know (e.g. from a newer release): its
# jobs are retried with backoff, so a worker that knows them can take them.
_UNKNOWN: JobKind[_Unknown] = JobKind("unknown", _Unknown, run=_cannot_run)
