"""Recording audit events, and reading them back for an organization's admins."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit.forms import AuditFilter
from portal.audit.models import AuditEvent
from portal.db import utcnow
from portal.security.actors import Actor, Staff, is_admin
from portal.staff.models import StaffUser


def record(
    db: AsyncSession,
    *,
    action: str,
    actor_kind: str,
    actor_id: int | None = None,
    organization_id: int | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    ip_hash: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    db.add(
        AuditEvent(
            action=action,
            actor_kind=actor_kind,
            actor_id=actor_id,
            organization_id=organization_id,
            subject_type=subject_type,
            subject_id=subject_id,
            ip_hash=ip_hash,
            details=details or {},
            created_at=utcnow(),
        )
    )


def by_staff(
    db: AsyncSession,
    actor: Staff,
    *,
    action: str,
    subject_type: str | None = None,
    subject_id: int | None = None,
    ip_hash: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Record what a staff member did in their own organization."""
    record(
        db,
        action=action,
        actor_kind="staff",
        actor_id=actor.staff_id,
        organization_id=actor.organization_id,
        subject_type=subject_type,
        subject_id=subject_id,
        ip_hash=ip_hash,
        details=details,
    )


def readable_events(actor: Actor) -> Select[AuditEvent]:
    """An organization's admins read its audit trail; nobody else reads any."""
    statement = select(AuditEvent)
    if is_admin(actor):
        return statement.where(AuditEvent.organization_id == actor.organization_id)
    return statement.where(false())


@dataclass(frozen=True)
class EventRow:
    id: int
    created_at: dt.datetime
    action: str
    actor_kind: str
    actor_id: int | None
    actor_name: str | None
    subject_type: str | None
    subject_id: int | None
    details: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    events: list[EventRow]
    total: int
    page: int
    pages: int
    people: list[tuple[int, str]]  # the organization's staff, to filter by
    actions: list[str]  # every action recorded in the organization


PER_PAGE = 50


async def audit_page(
    db: AsyncSession, *, actor: Actor, filters: AuditFilter, per_page: int = PER_PAGE
) -> AuditPage:
    """One page of the trail, newest first, filtered by who, what and when (dates
    are whole UTC days, both ends included)."""
    scoped = readable_events(actor)
    if filters.actor is not None:
        scoped = scoped.where(
            AuditEvent.actor_kind == "staff", AuditEvent.actor_id == filters.actor
        )
    if filters.action:
        scoped = scoped.where(AuditEvent.action == filters.action)
    if filters.since is not None:
        scoped = scoped.where(AuditEvent.created_at >= _midnight(filters.since))
    if filters.until is not None:
        scoped = scoped.where(
            AuditEvent.created_at < _midnight(filters.until + dt.timedelta(days=1))
        )
    total = await db.scalar(scoped.with_only_columns(func.count(AuditEvent.id))) or 0
    pages = max(1, -(-total // per_page))
    page = min(filters.page, pages)
    rows = (
        await db.execute(
            scoped.with_only_columns(
                AuditEvent.id,
                AuditEvent.created_at,
                AuditEvent.action,
                AuditEvent.actor_kind,
                AuditEvent.actor_id,
                StaffUser.name.label("actor_name"),
                AuditEvent.subject_type,
                AuditEvent.subject_id,
                AuditEvent.details,
            )
            .outerjoin(
                StaffUser,
                and_(
                    AuditEvent.actor_kind == "staff",
                    StaffUser.id == AuditEvent.actor_id,
                    StaffUser.organization_id == AuditEvent.organization_id,
                ),
            )
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    ).all()
    organization_id = actor.organization_id if isinstance(actor, Staff) else -1
    people = (
        await db.execute(
            select(StaffUser.id, StaffUser.name)
            .where(StaffUser.organization_id == organization_id)
            .order_by(StaffUser.name, StaffUser.id)
        )
    ).all()
    actions = (
        await db.scalars(
            readable_events(actor)
            .with_only_columns(AuditEvent.action)
            .distinct()
            .order_by(AuditEvent.action)
        )
    ).all()
    return AuditPage(
        events=[EventRow(**row._mapping) for row in rows],
        total=total,
        page=page,
        pages=pages,
        people=[(person.id, person.name) for person in people],
        actions=list(actions),
    )


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)
