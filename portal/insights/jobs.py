"""The insights' periodic job: every organization's monthly figures, worked out again
every hour (portal.insights.refresh)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from portal.insights import refresh
from portal.jobs.registry import JobContext, JobKind, registry


class Refresh(BaseModel):
    pass


async def _run(db: AsyncSession, _: Refresh, context: JobContext) -> None:
    await refresh.refresh_all(db, now=context.now)


REFRESH = registry.add(JobKind("insights.refresh", Refresh, run=_run, every=dt.timedelta(hours=1)))
