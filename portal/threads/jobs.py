"""The conversations' periodic job: the daily digest of questions waiting for staff
(portal.threads.notifications). It runs every hour; each person's digest goes with
the first run after DIGEST_HOUR of their day, once a day (its idempotency key)."""

from __future__ import annotations

import datetime as dt
import logging

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from portal.jobs.registry import JobContext, JobKind, registry
from portal.threads import notifications

log = logging.getLogger(__name__)


class Digest(BaseModel):
    pass


async def _run_digest(db: AsyncSession, _: Digest, context: JobContext) -> None:
    queued = await notifications.send_digests(db, settings=context.settings, now=context.now)
    if queued:
        log.info("questions: %d daily digests queued for staff", queued)


DIGEST = registry.add(
    JobKind("threads.digest", Digest, run=_run_digest, every=dt.timedelta(hours=1))
)
