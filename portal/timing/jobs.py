"""The timing's jobs: a scheduled invitation (`timing.send`, one per application and
moment, queued when publishing falls outside the send window), and the hourly
`timing.untold` that emails recruiters about candidates decided but not told."""

from __future__ import annotations

import datetime as dt
import logging

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from portal.jobs.registry import JobContext, JobKind, registry
from portal.timing import delivery, untold

log = logging.getLogger(__name__)


class ScheduledSend(BaseModel):
    application_id: int


async def _run_send(db: AsyncSession, payload: ScheduledSend, context: JobContext) -> None:
    await delivery.deliver_scheduled(
        db, application_id=payload.application_id, settings=context.settings, now=context.now
    )


SEND = registry.add(JobKind("timing.send", ScheduledSend, run=_run_send))


class UntoldDigest(BaseModel):
    pass


async def _run_untold(db: AsyncSession, _: UntoldDigest, context: JobContext) -> None:
    queued = await untold.send_untold_digests(db, settings=context.settings, now=context.now)
    if queued:
        log.info("timing: %d digests of candidates not yet told queued for staff", queued)


UNTOLD = registry.add(
    JobKind("timing.untold", UntoldDigest, run=_run_untold, every=dt.timedelta(hours=1))
)
