"""The talent pool's periodic job: ask members to renew before their consent
ends, and end the consents that have run out."""

from __future__ import annotations

import datetime as dt
import logging

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from portal.jobs.registry import JobContext, JobKind, registry
from portal.pool import expiry

log = logging.getLogger(__name__)


class Expiry(BaseModel):
    pass


async def _run_expiry(db: AsyncSession, _: Expiry, context: JobContext) -> None:
    reminded, expired = await expiry.remind_and_expire(
        db, settings=context.settings, now=context.now
    )
    if reminded or expired:
        log.info("talent pool: %d asked to renew, %d consents expired", reminded, expired)


EXPIRY = registry.add(JobKind("pool.expiry", Expiry, run=_run_expiry, every=dt.timedelta(hours=1)))
