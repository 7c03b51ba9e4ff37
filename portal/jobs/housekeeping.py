"""The periodic housekeeping job: forget finished jobs after a while, rate-limit hits
whose window has passed, and the API's answers kept for idempotent retries once their
24 hours are over."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from portal.api.models import IDEMPOTENCY_KEPT_FOR, IdempotentRequest
from portal.jobs.models import BackgroundJob, JobState
from portal.jobs.registry import JobContext, JobKind, registry
from portal.security.ratelimit_storage import delete_expired_hits

# How long `portal mail status` remembers a sent email (to, subject, template).
DONE_KEPT_FOR = dt.timedelta(days=30)


class Prune(BaseModel):
    pass


async def prune_finished_jobs(db: AsyncSession, _: Prune, context: JobContext) -> None:
    await db.execute(
        delete(BackgroundJob).where(
            BackgroundJob.state == JobState.DONE.value,
            BackgroundJob.finished_at < context.now - DONE_KEPT_FOR,
        )
    )
    await delete_expired_hits(db, context.now)
    await db.execute(
        delete(IdempotentRequest).where(
            IdempotentRequest.created_at < context.now - IDEMPOTENCY_KEPT_FOR
        )
    )


PRUNE = registry.add(
    JobKind("jobs.prune", Prune, run=prune_finished_jobs, every=dt.timedelta(hours=1))
)
