"""Retention: a candidate's content is erased a set time after their last decision.

Each organization picks its period (`organizations.retention_months`; see
docs/admin/privacy.md for the defaults and their legal reasons). A candidate is due
when every application of theirs is decided, the latest decision is older than the
period, they are not an active talent-pool member (the pool's own consent and expiry
rules keep them), and any membership of theirs ended longer ago than the period too.
The dry run for admins and the daily run select with the one function `due`, so
what the dry run lists is exactly what the run erases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit.models import AuditEvent
from portal.audit.service import record
from portal.candidates.models import Application, Candidate
from portal.orgs.models import Organization
from portal.pool.models import PoolMembership, PoolState
from portal.pool.panel import add_months
from portal.privacy.erasure import erase_candidate, forget_expired
from portal.privacy.models import ErasureCause, LegalHold
from portal.settings import Settings

# Candidates erased per organization in one run; the next day's run takes the rest.
RUN_BATCH = 500


@dataclass(frozen=True)
class Due:
    candidate_id: int
    name: str
    email: str
    last_decided_at: dt.datetime


def cutoff(now: dt.datetime, months: int) -> dt.datetime:
    return add_months(now, -months)


async def due(
    db: AsyncSession, *, organization_id: int, months: int, now: dt.datetime, limit: int | None
) -> tuple[list[Due], int]:
    """The organization's candidates due for erasure (oldest decision first, up to
    `limit`), and how many there are in all."""
    before = cutoff(now, months)
    last_decision = (
        select(func.max(Application.decided_at))
        .where(Application.candidate_id == Candidate.id)
        .correlate(Candidate)
        .scalar_subquery()
    )
    pool_ended = (
        select(func.max(func.coalesce(PoolMembership.left_at, PoolMembership.expires_at)))
        .where(
            PoolMembership.candidate_id == Candidate.id,
            PoolMembership.state != PoolState.ACTIVE,
        )
        .correlate(Candidate)
        .scalar_subquery()
    )
    conditions = [
        Candidate.organization_id == organization_id,
        last_decision <= before,
        ~exists().where(Application.candidate_id == Candidate.id, Application.decided_at.is_(None)),
        ~exists().where(
            PoolMembership.candidate_id == Candidate.id,
            PoolMembership.state == PoolState.ACTIVE,
        ),
        or_(pool_ended.is_(None), pool_ended <= before),
    ]
    total = await db.scalar(select(func.count()).select_from(Candidate).where(*conditions))
    statement = (
        select(
            Candidate.id.label("candidate_id"),
            Candidate.name,
            Candidate.email,
            last_decision.label("last_decided_at"),
        )
        .where(*conditions)
        .order_by(last_decision, Candidate.id)
    )
    if limit is not None:
        statement = statement.limit(limit)
    rows = await db.execute(statement)
    return [Due(**row._mapping) for row in rows], total or 0


async def run_retention(
    db: AsyncSession, *, settings: Settings, now: dt.datetime
) -> tuple[int, int]:
    """Erase every organization's due candidates (up to RUN_BATCH each), record each
    organization's run in its audit trail, and forget expired legal holds and exports.
    Returns (candidates erased, legal holds ended)."""
    organizations = (
        await db.execute(
            select(Organization.id, Organization.retention_months).order_by(Organization.id)
        )
    ).all()
    erased = 0
    for organization in organizations:
        found, total = await due(
            db,
            organization_id=organization.id,
            months=organization.retention_months,
            now=now,
            limit=RUN_BATCH,
        )
        for candidate in found:
            await erase_candidate(
                db,
                organization_id=organization.id,
                candidate_id=candidate.candidate_id,
                cause=ErasureCause.RETENTION,
                settings=settings,
                now=now,
                actor_kind="system",
                notify=False,
            )
        erased += len(found)
        record(
            db,
            action="privacy.retention_run",
            actor_kind="system",
            organization_id=organization.id,
            subject_type="organization",
            subject_id=organization.id,
            details={
                "erased": len(found),
                "left_for_next_run": total - len(found),
                "retention_months": organization.retention_months,
            },
        )
    holds, _ = await forget_expired(db, now=now)
    await db.flush()
    return erased, holds


async def last_run(db: AsyncSession, *, organization_id: int) -> tuple[dt.datetime, int] | None:
    """When retention last ran for the organization, and how many it erased."""
    row = (
        await db.execute(
            select(AuditEvent.created_at, AuditEvent.details)
            .where(
                AuditEvent.organization_id == organization_id,
                AuditEvent.action == "privacy.retention_run",
            )
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
    ).one_or_none()
    if row is None:
        return None
    return row.created_at, int(row.details.get("erased", 0))


async def legal_holds(db: AsyncSession, *, organization_id: int) -> tuple[int, dt.datetime | None]:
    """How many legal holds the organization keeps, and when the next one ends."""
    row = (
        await db.execute(
            select(func.count(), func.min(LegalHold.keep_until)).where(
                LegalHold.organization_id == organization_id
            )
        )
    ).one()
    return int(row[0]), row[1]
