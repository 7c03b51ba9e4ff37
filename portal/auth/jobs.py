"""The auth domain's periodic job: delete kept text past its time."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth import kept
from portal.jobs.registry import JobContext, JobKind, registry


class PruneKept(BaseModel):
    pass


async def _prune_kept(db: AsyncSession, _: PruneKept, context: JobContext) -> None:
    await kept.prune(db, now=context.now)


PRUNE_KEPT = registry.add(
    JobKind("auth.prune_kept_forms", PruneKept, run=_prune_kept, every=dt.timedelta(hours=1))
)
