"""Staff accounts' periodic job: forget sign-in failures that no longer count."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from portal.jobs.registry import JobContext, JobKind, registry
from portal.staff import lockout


class ForgetFailures(BaseModel):
    pass


async def _forget_failures(db: AsyncSession, _: ForgetFailures, context: JobContext) -> None:
    await lockout.forget_old_failures(db, now=context.now)


FORGET_FAILURES = registry.add(
    JobKind(
        "staff.forget_sign_in_failures",
        ForgetFailures,
        run=_forget_failures,
        every=dt.timedelta(hours=1),
    )
)
