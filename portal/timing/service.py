"""Telling a candidate about their published feedback at a humane hour.

Publishing calls `tell_candidate` (the editor, bulk publishing and a CSV import all
do). The first publishing of an application decides when its invitation goes: at
once inside the organization's send window, or at the window's next opening (a
`timing.send` job), or, for a finalist of an organization that calls finalists
first, after a recruiter has ticked off the call. Publishing again sends nothing:
the candidate already has (or will get) their link, and staff re-send one by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from portal import concurrency
from portal.access.models import AccessLink, LinkPurpose
from portal.audit import service as audit
from portal.candidates.models import Application, Stage
from portal.candidates.service import readable_applications
from portal.formats import zone_info
from portal.jobs import service as jobs
from portal.orgs.models import Organization
from portal.security.actors import Staff
from portal.settings import Settings
from portal.staff.models import StaffUser
from portal.timing.delivery import send_and_record
from portal.timing.forms import SendSettingsForm
from portal.timing.jobs import SEND, ScheduledSend
from portal.timing.models import (
    DEFAULT_UNTOLD_DAYS,
    WAITING_STATES,
    FeedbackSend,
    SendSettings,
    SendState,
)
from portal.timing.window import (
    DEFAULT_DAYS,
    DEFAULT_END,
    DEFAULT_START,
    SendWindow,
    clock,
    describe,
    next_opening,
)


@dataclass(frozen=True)
class Timing:
    """An organization's send settings as the pages and the scheduler read them."""

    window: SendWindow
    call_finalists_first: bool
    untold_days: int
    version: int  # of the settings row; 0 while the organization uses the defaults


async def timing_of(db: AsyncSession, *, organization_id: int) -> Timing:
    row = (
        await db.execute(
            select(
                Organization.time_zone,
                SendSettings.days,
                SendSettings.start_minute,
                SendSettings.end_minute,
                SendSettings.holidays,
                SendSettings.call_finalists_first,
                SendSettings.untold_days,
                SendSettings.version,
            )
            .outerjoin(SendSettings, SendSettings.organization_id == Organization.id)
            .where(Organization.id == organization_id)
        )
    ).one()
    zone = zone_info(row.time_zone)
    if row.version is None:
        return Timing(SendWindow(zone), False, DEFAULT_UNTOLD_DAYS, 0)
    window = SendWindow(
        zone,
        frozenset(row.days),
        row.start_minute,
        row.end_minute,
        frozenset(dt.date.fromisoformat(day) for day in row.holidays),
    )
    return Timing(window, row.call_finalists_first, row.untold_days, row.version)


def form_values(timing: Timing) -> dict[str, str]:
    """The settings as the send-window form shows them."""
    window = timing.window
    return {
        "days": ",".join(str(day) for day in sorted(window.days)),
        "start": clock(window.start),
        "end": clock(window.end),
        "holidays": "\n".join(day.isoformat() for day in sorted(window.holidays)),
        "call_finalists_first": "on" if timing.call_finalists_first else "",
        "untold_days": str(timing.untold_days),
        "version": str(timing.version),
    }


async def update_send_settings(
    db: AsyncSession,
    *,
    actor: Staff,
    changes: SendSettingsForm,
    ip_hash: str | None = None,
) -> None:
    """Save an admin's send window (audited); raises `Conflict` when someone saved in
    between (the form carries the version it showed: 0 for the defaults)."""
    row = await db.get(SendSettings, actor.organization_id, populate_existing=True)
    if row is None:
        if changes.version != 0:
            raise concurrency.Conflict(version=0)
        row = SendSettings(
            organization_id=actor.organization_id,
            days=list(DEFAULT_DAYS),
            start_minute=DEFAULT_START,
            end_minute=DEFAULT_END,
            holidays=[],
            call_finalists_first=False,
            untold_days=DEFAULT_UNTOLD_DAYS,
        )
        db.add(row)
    else:
        concurrency.expect_version(row, changes.version)
    wanted = {
        "days": changes.day_numbers,
        "start_minute": changes.start_minute,
        "end_minute": changes.end_minute,
        "holidays": [day.isoformat() for day in changes.holiday_dates],
        "call_finalists_first": changes.calls_first,
        "untold_days": changes.untold_days,
    }
    changed = sorted(name for name, value in wanted.items() if getattr(row, name) != value)
    for name, value in wanted.items():
        setattr(row, name, value)
    await concurrency.flush(db)
    audit.by_staff(
        db,
        actor,
        action="organization.send_window_changed",
        subject_type="organization",
        subject_id=actor.organization_id,
        ip_hash=ip_hash,
        details={"fields": changed},
    )


# --- telling the candidate ------------------------------------------------------------


async def already_told(db: AsyncSession, *, application_id: int) -> bool:
    """Whether the candidate has had (or will get) an invitation for this application."""
    planned = await db.scalar(
        select(FeedbackSend.application_id).where(FeedbackSend.application_id == application_id)
    )
    if planned is not None:
        return True
    link = await db.scalar(
        select(AccessLink.id)
        .where(
            AccessLink.application_id == application_id,
            AccessLink.purpose == LinkPurpose.INVITATION,
        )
        .limit(1)
    )
    return link is not None


async def first_email_waiting(db: AsyncSession, *, application_id: int) -> SendState | None:
    """The state of the candidate's first invitation while it has not gone yet
    (it waits for the call, or for the send window), else None. Until it goes,
    sending a link by hand would skip the call, or "send now" and its reason."""
    state = await db.scalar(
        select(FeedbackSend.state).where(FeedbackSend.application_id == application_id)
    )
    return state if state in WAITING_STATES else None


async def tell_candidate(
    db: AsyncSession,
    *,
    application_id: int,
    settings: Settings,
    now: dt.datetime,
    staff_id: int | None = None,
    ip_hash: str | None = None,
) -> FeedbackSend | None:
    """Decide when the invitation to newly published feedback goes, and send or
    schedule it. None when the candidate was told before (nothing is sent again)."""
    if await already_told(db, application_id=application_id):
        return None
    application = (
        await db.execute(
            select(Application.organization_id, Application.stage).where(
                Application.id == application_id
            )
        )
    ).one()
    timing = await timing_of(db, organization_id=application.organization_id)
    row = FeedbackSend(
        application_id=application_id,
        organization_id=application.organization_id,
        state=SendState.SCHEDULED,
        created_at=now,
    )
    db.add(row)
    if timing.call_finalists_first and application.stage == Stage.FINAL:
        row.state = SendState.WAITING_FOR_CALL
        await db.flush()
        return row
    await _send_in_window(
        db, row, timing, settings=settings, now=now, staff_id=staff_id, ip_hash=ip_hash
    )
    return row


async def _send_in_window(
    db: AsyncSession,
    row: FeedbackSend,
    timing: Timing,
    *,
    settings: Settings,
    now: dt.datetime,
    staff_id: int | None,
    ip_hash: str | None = None,
) -> None:
    send_at = next_opening(timing.window, now)
    if send_at <= now:
        await send_and_record(
            db, row, settings=settings, now=now, staff_id=staff_id, ip_hash=ip_hash
        )
        return
    row.state = SendState.SCHEDULED
    row.send_at = send_at
    await db.flush()
    await jobs.enqueue(
        db,
        SEND,
        ScheduledSend(application_id=row.application_id),
        run_at=send_at,
        idempotency_key=f"timing.send:{row.application_id}:{send_at.isoformat()}",
    )
    audit.record(
        db,
        action="feedback.send_scheduled",
        actor_kind="staff" if staff_id else "system",
        actor_id=staff_id,
        organization_id=row.organization_id,
        subject_type="application",
        subject_id=row.application_id,
        ip_hash=ip_hash,
        details={"send_at": send_at.isoformat()},
    )


class NotWaiting(Exception):
    """Nothing waits to be sent for this application (sent already, or not published)."""


async def _own_send(db: AsyncSession, *, actor: Staff, application_id: int) -> FeedbackSend | None:
    """The application's send row, locked, if the application is the actor's to read."""
    scope = readable_applications(actor).with_only_columns(Application.id)
    return await db.scalar(
        select(FeedbackSend)
        .where(
            FeedbackSend.application_id == application_id, FeedbackSend.application_id.in_(scope)
        )
        .with_for_update()
    )


async def send_now(
    db: AsyncSession,
    *,
    actor: Staff,
    application_id: int,
    reason: str,
    settings: Settings,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> None:
    """Send a scheduled invitation at once, outside the window, for the reason given
    (kept with the record and audited). Raises `NotWaiting` when none is scheduled."""
    row = await _own_send(db, actor=actor, application_id=application_id)
    if row is None or row.state != SendState.SCHEDULED:
        raise NotWaiting(application_id)
    planned = row.send_at
    row.sent_now_by_staff_id = actor.staff_id
    row.sent_now_reason = reason
    await send_and_record(
        db, row, settings=settings, now=now, staff_id=actor.staff_id, ip_hash=ip_hash
    )
    audit.by_staff(
        db,
        actor,
        action="feedback.sent_now",
        subject_type="application",
        subject_id=application_id,
        ip_hash=ip_hash,
        details={"reason": reason, "planned": planned.isoformat() if planned else None},
    )


async def mark_called(
    db: AsyncSession,
    *,
    actor: Staff,
    application_id: int,
    settings: Settings,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> FeedbackSend:
    """Tick off the call before sending: the invitation then goes as the window
    allows. Raises `NotWaiting` when no call was waited for."""
    row = await _own_send(db, actor=actor, application_id=application_id)
    if row is None or row.state != SendState.WAITING_FOR_CALL:
        raise NotWaiting(application_id)
    row.call_done_at = now
    row.call_done_by_staff_id = actor.staff_id
    audit.by_staff(
        db,
        actor,
        action="feedback.call_done",
        subject_type="application",
        subject_id=application_id,
        ip_hash=ip_hash,
    )
    timing = await timing_of(db, organization_id=row.organization_id)
    await _send_in_window(
        db, row, timing, settings=settings, now=now, staff_id=actor.staff_id, ip_hash=ip_hash
    )
    return row


@dataclass(frozen=True)
class SendStatus:
    """What the application page says about the candidate's email."""

    state: SendState | None  # None: not published yet, or told before this existed
    send_at: dt.datetime | None
    sent_at: dt.datetime | None
    call_done_at: dt.datetime | None
    call_done_by: str | None
    sent_now_by: str | None
    sent_now_reason: str | None
    window: str  # the window in words

    @property
    def waiting(self) -> bool:
        """The first invitation waits (for the call, or the window): no resending by hand."""
        return self.state in WAITING_STATES


async def send_status(db: AsyncSession, *, actor: Staff, application_id: int) -> SendStatus:
    caller = aliased(StaffUser)
    sender = aliased(StaffUser)
    scope = readable_applications(actor).with_only_columns(Application.id)
    row = (
        await db.execute(
            select(
                FeedbackSend.state,
                FeedbackSend.send_at,
                FeedbackSend.sent_at,
                FeedbackSend.call_done_at,
                caller.name.label("call_done_by"),
                sender.name.label("sent_now_by"),
                FeedbackSend.sent_now_reason,
            )
            .outerjoin(caller, caller.id == FeedbackSend.call_done_by_staff_id)
            .outerjoin(sender, sender.id == FeedbackSend.sent_now_by_staff_id)
            .where(
                FeedbackSend.application_id == application_id,
                FeedbackSend.application_id.in_(scope),
            )
        )
    ).one_or_none()
    window = describe((await timing_of(db, organization_id=actor.organization_id)).window)
    if row is None:
        return SendStatus(None, None, None, None, None, None, None, window)
    return SendStatus(**row._mapping, window=window)
