"""Drafting many applications from their scorecards: one job in the jobs table at a
time, a chunk of applications per run, each run committed with its progress (so the
applications list can show it) and queueing the next chunk until all are done."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.drafting import service
from portal.drafting.models import DraftingRun, DraftingRunState
from portal.jobs.registry import JobContext, JobKind, registry
from portal.jobs.service import enqueue
from portal.security.actors import Staff, StaffRole
from portal.staff.models import StaffUser

# Applications per run of the job: one transaction each, short enough to show progress.
CHUNK = 100


class DraftChunk(BaseModel):
    run_id: int
    offset: int = 0


async def start_run(
    db: AsyncSession,
    *,
    actor: Staff,
    application_ids: Sequence[int],
    now: dt.datetime,
    ip_hash: str | None = None,
) -> int:
    """Queue drafting for the chosen applications (of the actor's organization, checked
    as each chunk runs); the run's id, for its progress."""
    run = DraftingRun(
        organization_id=actor.organization_id,
        staff_id=actor.staff_id,
        application_ids=list(dict.fromkeys(application_ids)),
        state=DraftingRunState.RUNNING,
        done=0,
        drafted=0,
        skipped=[],
        created_at=now,
    )
    db.add(run)
    await db.flush()
    audit.record(
        db,
        action="drafting.bulk_started",
        actor_kind="staff",
        actor_id=actor.staff_id,
        organization_id=actor.organization_id,
        ip_hash=ip_hash,
        details={"applications": len(run.application_ids), "run": run.id},
    )
    await enqueue(
        db,
        DRAFT_MANY,
        DraftChunk(run_id=run.id),
        run_at=now,
        idempotency_key=f"drafting:{run.id}:0",
    )
    return run.id


async def run_chunk(db: AsyncSession, *, run_id: int, offset: int, now: dt.datetime) -> None:
    run = await db.get(DraftingRun, run_id, with_for_update=True)
    if run is None or run.state == DraftingRunState.DONE or run.done != offset:
        return  # gone, finished, or this chunk ran already
    staff = await db.scalar(
        select(StaffUser).where(
            StaffUser.id == run.staff_id, StaffUser.organization_id == run.organization_id
        )
    )
    ids = list(run.application_ids)[offset : offset + CHUNK]
    if staff is None:
        skipped = [{"application_id": a, "reason": "its requester left"} for a in ids]
        drafted = 0
    else:
        actor = Staff(
            staff_id=staff.id,
            organization_id=run.organization_id,
            role=StaffRole(staff.role),
            name=staff.name,
            session_id_hash=b"",
        )
        result = await service.draft_many(db, actor=actor, application_ids=ids, now=now)
        skipped = [{"application_id": a, "reason": reason} for a, reason in result.skipped]
        drafted = len(result.drafted)
    run.done = offset + len(ids)
    run.drafted += drafted
    run.skipped = [*run.skipped, *skipped]
    if run.done >= len(run.application_ids):
        run.state = DraftingRunState.DONE
        run.finished_at = now
    else:
        await enqueue(
            db,
            DRAFT_MANY,
            DraftChunk(run_id=run.id, offset=run.done),
            run_at=now,
            idempotency_key=f"drafting:{run.id}:{run.done}",
        )
    await db.flush()


async def _run(db: AsyncSession, payload: DraftChunk, context: JobContext) -> None:
    await run_chunk(db, run_id=payload.run_id, offset=payload.offset, now=context.now)


DRAFT_MANY = registry.add(JobKind("drafting.bulk", DraftChunk, run=_run))


async def load_run(db: AsyncSession, *, actor: Staff, run_id: int) -> DraftingRun | None:
    return await db.scalar(
        select(DraftingRun).where(
            DraftingRun.id == run_id, DraftingRun.organization_id == actor.organization_id
        )
    )
