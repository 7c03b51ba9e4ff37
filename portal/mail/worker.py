"""The background worker: answers queued jobs, then delivers the outbox.

Rows are claimed in one statement that sets a lease (`locked_until`); on
PostgreSQL the candidate rows are picked with `FOR UPDATE SKIP LOCKED`, so
any number of workers never take the same row, and a worker that dies
releases its rows when the lease runs out. SQLite serialises writers, so the
same statement is safe there for the one worker it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.access import service as access
from portal.db import unit_of_work, utcnow
from portal.mail.backends import Envelope, MailBackend, build_message, is_permanent, mail_backend
from portal.mail.models import BackgroundJob, OutboxEmail
from portal.settings import Settings

log = logging.getLogger("portal.worker")

LEASE = dt.timedelta(minutes=2)
BATCH = 50
RECORD_EVERY = 10
JOB_MAX_ATTEMPTS = 5
POLL_SECONDS = 2.0
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP = dt.timedelta(hours=6)

JobHandler = Callable[..., Awaitable[None]]
JOB_HANDLERS: dict[str, JobHandler] = {
    "sign_in_request": access.answer_sign_in_request,
    "fresh_link_request": access.answer_fresh_link_request,
}
_jitter = random.Random()  # noqa: S311 - spreading retries, not security


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, … capped at 6 h, each shortened by up to half at random."""
    full = min(BACKOFF_CAP.total_seconds(), BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=full * _jitter.uniform(0.5, 1.0))


class Worker:
    def __init__(
        self,
        *,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        backend: MailBackend | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.backend = backend or mail_backend(settings)
        self.clock = clock
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
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
        """One pass: due jobs, then one batch of due email. Returns how many items it took."""
        return await self.run_jobs() + await self.deliver_mail()

    # --- jobs ------------------------------------------------------------------

    async def run_jobs(self) -> int:
        jobs = await self._claim(
            BackgroundJob,
            BackgroundJob.run_at,
            BackgroundJob.id,
            BackgroundJob.kind,
            BackgroundJob.payload,
            BackgroundJob.attempts,
        )
        for job_id, kind, payload, attempts in jobs:
            await self._run_job(job_id, kind, payload, attempts)
        return len(jobs)

    async def _run_job(
        self, job_id: int, kind: str, payload: dict[str, Any], attempts: int
    ) -> None:
        handler = JOB_HANDLERS.get(kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {kind!r}")
            async with unit_of_work(self.sessions) as db:
                await handler(db, payload=payload, settings=self.settings, now=self.clock())
                # Done: the job (which may hold an email address) is not kept.
                await db.execute(delete(BackgroundJob).where(BackgroundJob.id == job_id))
        except Exception as exc:
            log.exception("job %d (%s) failed", job_id, kind)
            values: dict[str, Any] = {"last_error": repr(exc)[:2000], "locked_until": None}
            if attempts >= JOB_MAX_ATTEMPTS:
                values["state"] = "failed"
            else:
                values["run_at"] = self.clock() + backoff(attempts)
            async with unit_of_work(self.sessions) as db:
                await db.execute(
                    update(BackgroundJob).where(BackgroundJob.id == job_id).values(**values)
                )

    async def _claim(
        self, model: type[BackgroundJob] | type[OutboxEmail], due_at: Any, *columns: Any
    ) -> list[Any]:
        """Lease a batch of due rows (SKIP LOCKED on PostgreSQL) and return `columns`."""
        now = self.clock()
        due = (
            select(model.id)
            .where(
                model.state == "pending",
                due_at <= now,
                or_(model.locked_until.is_(None), model.locked_until < now),
            )
            .order_by(model.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
        async with unit_of_work(self.sessions) as db:
            rows = (
                await db.execute(
                    update(model)
                    .where(model.id.in_(due.scalar_subquery()))
                    .values(locked_until=now + LEASE, attempts=model.attempts + 1)
                    .returning(*columns)
                    .execution_options(synchronize_session=False)
                )
            ).all()
        return sorted(rows, key=lambda row: row[0])

    # --- mail ------------------------------------------------------------------

    async def deliver_mail(self) -> int:
        batch = await self._claim_mail()
        if not batch:
            return 0
        sent: list[int] = []
        failures: dict[int, tuple[BaseException, int]] = {}
        pending = list(batch)
        try:
            async with self.backend.connect() as connection:
                while pending:
                    envelope, attempts = pending[0]
                    try:
                        await connection.send(build_message(envelope), outbox_id=envelope.id)
                    except Exception as exc:
                        if not is_permanent(exc):
                            raise  # the connection is suspect: retry the rest later
                        failures[envelope.id] = (exc, attempts)
                    else:
                        sent.append(envelope.id)
                    pending.pop(0)
                    if len(sent) >= RECORD_EVERY:
                        # Record as we go: a worker killed mid-batch re-sends little.
                        await self._record(sent, {})
                        sent = []
        except Exception as exc:
            log.warning(
                "mail delivery interrupted: %r; %d email(s) will be retried", exc, len(pending)
            )
            for envelope, attempts in pending:
                failures[envelope.id] = (exc, attempts)
        if sent or failures:
            await self._record(sent, failures)
        return len(batch)

    async def _claim_mail(self) -> list[tuple[Envelope, int]]:
        rows = await self._claim(
            OutboxEmail,
            OutboxEmail.next_attempt_at,
            OutboxEmail.id,
            OutboxEmail.to_address,
            OutboxEmail.from_address,
            OutboxEmail.from_name,
            OutboxEmail.subject,
            OutboxEmail.text_body,
            OutboxEmail.html_body,
            OutboxEmail.headers,
            OutboxEmail.attempts,
        )
        return [(Envelope(*row[:8]), row[8]) for row in rows]

    async def _record(
        self, sent: list[int], failures: dict[int, tuple[BaseException, int]]
    ) -> None:
        now = self.clock()
        async with unit_of_work(self.sessions) as db:
            if sent:
                await db.execute(
                    update(OutboxEmail)
                    .where(OutboxEmail.id.in_(sent))
                    .values(state="sent", sent_at=now, locked_until=None, last_error=None)
                    .execution_options(synchronize_session=False)
                )
            for email_id, (exc, attempts) in failures.items():
                error = repr(exc)[:2000]
                if is_permanent(exc) or attempts >= self.settings.mail_max_attempts:
                    values: dict[str, Any] = {"state": "failed"}
                    log.error("email %d failed for good: %s", email_id, error)
                else:
                    values = {"next_attempt_at": now + backoff(attempts)}
                await db.execute(
                    update(OutboxEmail)
                    .where(OutboxEmail.id == email_id)
                    .values(last_error=error, locked_until=None, **values)
                    .execution_options(synchronize_session=False)
                )
