"""The background worker: answers queued jobs, then delivers the outbox.

Rows are claimed with a lease (`locked_until`) and, on PostgreSQL,
`FOR UPDATE SKIP LOCKED`, so several workers never take the same row and a
worker that dies releases its rows when the lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.access import service as access
from portal.db import unit_of_work, utcnow
from portal.mail.backends import FileMailBackend, build_message
from portal.mail.models import BackgroundJob, OutboxEmail
from portal.orgs.models import Organization
from portal.settings import Settings

log = logging.getLogger("portal.worker")

LEASE = dt.timedelta(minutes=2)
BATCH = 50
MAX_ATTEMPTS = 8
POLL_SECONDS = 2.0

JobHandler = Callable[..., Awaitable[None]]
JOB_HANDLERS: dict[str, JobHandler] = {
    "sign_in_request": access.answer_sign_in_request,
    "fresh_link_request": access.answer_fresh_link_request,
}


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(3600, 10 * 2 ** max(0, attempts - 1)))


class Worker:
    def __init__(self, *, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.backend = FileMailBackend(settings.mail_path)
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
        return await self._run_jobs() + await self._deliver_mail()

    async def _run_jobs(self) -> int:
        now = utcnow()
        async with unit_of_work(self.sessions) as db:
            jobs = (
                await db.execute(
                    select(BackgroundJob.id, BackgroundJob.kind, BackgroundJob.payload)
                    .where(
                        BackgroundJob.state == "pending",
                        BackgroundJob.run_at <= now,
                        or_(BackgroundJob.locked_until.is_(None), BackgroundJob.locked_until < now),
                    )
                    .order_by(BackgroundJob.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if jobs:
                await db.execute(
                    update(BackgroundJob)
                    .where(BackgroundJob.id.in_([job.id for job in jobs]))
                    .values(locked_until=now + LEASE, attempts=BackgroundJob.attempts + 1)
                )
        for job_id, kind, payload in jobs:
            await self._run_job(job_id, kind, payload)
        return len(jobs)

    async def _run_job(self, job_id: int, kind: str, payload: dict[str, Any]) -> None:
        handler = JOB_HANDLERS.get(kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {kind!r}")
            async with unit_of_work(self.sessions) as db:
                await handler(db, payload=payload, settings=self.settings, now=utcnow())
                # Done: the job (which may hold an email address) is not kept.
                await db.execute(delete(BackgroundJob).where(BackgroundJob.id == job_id))
        except Exception as exc:
            log.exception("job %d (%s) failed", job_id, kind)
            async with unit_of_work(self.sessions) as db:
                job = await db.get_one(BackgroundJob, job_id)
                job.last_error = repr(exc)[:2000]
                job.locked_until = None
                if job.attempts >= MAX_ATTEMPTS:
                    job.state = "failed"
                else:
                    job.run_at = utcnow() + backoff(job.attempts)

    async def _deliver_mail(self) -> int:
        now = utcnow()
        async with unit_of_work(self.sessions) as db:
            rows = (
                (
                    await db.execute(
                        select(OutboxEmail)
                        .where(
                            OutboxEmail.state == "pending",
                            OutboxEmail.next_attempt_at <= now,
                            or_(OutboxEmail.locked_until.is_(None), OutboxEmail.locked_until < now),
                        )
                        .order_by(OutboxEmail.id)
                        .limit(BATCH)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            senders: dict[int, str] = {}
            for row in rows:
                row.locked_until = now + LEASE
                row.attempts += 1
            org_ids = {row.organization_id for row in rows if row.organization_id}
            if org_ids:
                result = await db.execute(
                    select(Organization.id, Organization.display_name).where(
                        Organization.id.in_(org_ids)
                    )
                )
                senders = {org_id: name for org_id, name in result}
        for row in rows:
            await self._send(row, senders.get(row.organization_id or 0, "Afterword"))
        return len(rows)

    async def _send(self, row: OutboxEmail, sender_name: str) -> None:
        error: str | None = None
        try:
            message = build_message(self.settings, row, sender_name=sender_name)
            await self.backend.send(message, outbox_id=row.id)
        except Exception as exc:
            log.exception("delivering email %d failed", row.id)
            error = repr(exc)[:2000]
        async with unit_of_work(self.sessions) as db:
            values: dict[str, Any] = {"locked_until": None}
            if error is None:
                values.update(state="sent", sent_at=utcnow(), last_error=None)
            elif row.attempts >= MAX_ATTEMPTS:
                values.update(state="failed", last_error=error)
            else:
                values.update(last_error=error, next_attempt_at=utcnow() + backoff(row.attempts))
            await db.execute(update(OutboxEmail).where(OutboxEmail.id == row.id).values(**values))
