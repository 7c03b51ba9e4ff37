"""Candidates decided but not told: the clock on the applications list, and the
daily digest to recruiters once a candidate has waited longer than the
organization's `untold_days`.

Told means an invitation link was issued for the application (publishing sends
one, at once or when the send window opens). The digest goes to the application's
assignee, or, for unassigned applications, to every active colleague of the
organization; one per person and day in their time zone (`timing.untold:<staff>:
<date>`), with the first run of the hourly job after DIGEST_HOUR of their day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access.models import AccessLink, LinkPurpose
from portal.candidates.models import Application, Candidate, Job
from portal.formats import zone_info
from portal.mail import service as mail
from portal.orgs.models import Organization
from portal.settings import Settings
from portal.staff.models import StaffUser
from portal.timing.models import DEFAULT_UNTOLD_DAYS, FeedbackSend, SendSettings
from portal.urls import absolute_url

DIGEST_HOUR = 8
DIGEST_LIMIT = 50


def told() -> ColumnElement[bool]:
    """Whether the application's candidate was sent an invitation (correlated)."""
    return exists().where(
        AccessLink.application_id == Application.id,
        AccessLink.purpose == LinkPurpose.INVITATION,
    )


def untold_days(decided_at: dt.datetime | None, now: dt.datetime) -> int | None:
    """Whole days since the decision, for the clock; None before a decision."""
    if decided_at is None:
        return None
    return max(0, (now - decided_at).days)


@dataclass(frozen=True)
class UntoldEntry:
    application_id: int
    assignee_staff_id: int | None
    candidate_name: str
    job_title: str
    decided_at: dt.datetime
    send_at: dt.datetime | None  # a scheduled email, if any


async def _organizations(db: AsyncSession) -> list[tuple[int, int]]:
    """(organization id, days after which an untold candidate counts) for each
    organization."""
    rows = await db.execute(
        select(Organization.id, SendSettings.untold_days)
        .outerjoin(SendSettings, SendSettings.organization_id == Organization.id)
        .order_by(Organization.id)
    )
    return [(row.id, row.untold_days or DEFAULT_UNTOLD_DAYS) for row in rows]


async def send_untold_digests(db: AsyncSession, *, settings: Settings, now: dt.datetime) -> int:
    """Queue today's digest for each colleague whose day has reached DIGEST_HOUR and
    who looks after candidates waiting too long; how many were queued."""
    queued = 0
    for organization_id, days in await _organizations(db):
        rows = await db.execute(
            select(
                Application.id.label("application_id"),
                Application.assignee_staff_id,
                Candidate.name.label("candidate_name"),
                Job.title.label("job_title"),
                Application.decided_at,
                FeedbackSend.send_at,
            )
            .join(Candidate, Candidate.id == Application.candidate_id)
            .join(Job, Job.id == Application.job_id)
            .outerjoin(FeedbackSend, FeedbackSend.application_id == Application.id)
            .where(
                Application.organization_id == organization_id,
                Application.decided_at.is_not(None),
                Application.decided_at <= now - dt.timedelta(days=days),
                ~told(),
            )
            .order_by(Application.decided_at, Application.id)
        )
        waiting = [UntoldEntry(**row._mapping) for row in rows]
        if not waiting:
            continue
        staff = (
            await db.execute(
                select(
                    StaffUser.id,
                    StaffUser.name,
                    StaffUser.email,
                    StaffUser.time_zone,
                    Organization.time_zone.label("organization_time_zone"),
                )
                .join(Organization, Organization.id == StaffUser.organization_id)
                .where(StaffUser.organization_id == organization_id, StaffUser.active.is_(True))
                .order_by(StaffUser.id)
            )
        ).all()
        active = {person.id: person for person in staff}
        per_person: dict[int, list[UntoldEntry]] = defaultdict(list)
        for entry in waiting:
            if entry.assignee_staff_id is not None and entry.assignee_staff_id in active:
                per_person[entry.assignee_staff_id].append(entry)
            else:
                for person_id in active:
                    per_person[person_id].append(entry)
        for person_id, entries in per_person.items():
            person = active[person_id]
            zone = zone_info(person.time_zone or person.organization_time_zone)
            local = now.astimezone(zone)
            if local.hour < DIGEST_HOUR:
                continue
            shown = entries[:DIGEST_LIMIT]
            queued += await mail.enqueue_email(
                db,
                settings=settings,
                to_address=person.email,
                template="staff_untold",
                organization_id=organization_id,
                idempotency_key=f"timing.untold:{person_id}:{local.date().isoformat()}",
                context={
                    "name": person.name,
                    "days": days,
                    "count": len(entries),
                    "more": len(entries) - len(shown),
                    "entries": [
                        {
                            "candidate_name": e.candidate_name,
                            "job_title": e.job_title,
                            "waiting_days": untold_days(e.decided_at, now),
                            "scheduled_on": _day(e.send_at.astimezone(zone)) if e.send_at else "",
                            "url": absolute_url(
                                settings, "staff.application", application_id=e.application_id
                            ),
                        }
                        for e in shown
                    ],
                    "applications_url": absolute_url(settings, "staff.applications"),
                },
                now=now,
            )
    return queued


def _day(value: dt.datetime) -> str:
    return f"{value.day} {value:%B %Y}, {value:%H:%M}"
