"""Sending a scheduled invitation when its time comes (the `timing.send` job), and
the one place that marks a candidate told."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access.models import AccessLink, LinkPurpose
from portal.access.service import send_invitation
from portal.settings import Settings
from portal.timing.models import FeedbackSend, SendState


async def send_and_record(
    db: AsyncSession,
    row: FeedbackSend,
    *,
    settings: Settings,
    now: dt.datetime,
    staff_id: int | None = None,
    ip_hash: str | None = None,
) -> None:
    """Queue the invitation email with a fresh link, and record that it went."""
    await send_invitation(
        db,
        application_id=row.application_id,
        settings=settings,
        now=now,
        created_by_staff_id=staff_id,
        ip_hash=ip_hash,
    )
    row.state = SendState.SENT
    row.sent_at = now
    row.send_at = now
    await db.flush()


async def deliver_scheduled(
    db: AsyncSession, *, application_id: int, settings: Settings, now: dt.datetime
) -> bool:
    """Send a scheduled invitation whose time has come; nothing when it went already
    ("send now"), waits for a call, or was moved later. True when it sent."""
    row = await db.scalar(
        select(FeedbackSend).where(FeedbackSend.application_id == application_id).with_for_update()
    )
    if row is None or row.state != SendState.SCHEDULED:
        return False
    if row.send_at is not None and row.send_at > now:
        return False
    # A recruiter who pressed "Re-send the invitation" meanwhile sent one already.
    sent_by_hand = await db.scalar(
        select(func.min(AccessLink.created_at)).where(
            AccessLink.application_id == application_id,
            AccessLink.purpose == LinkPurpose.INVITATION,
        )
    )
    if sent_by_hand is not None:
        row.state = SendState.SENT
        row.sent_at = sent_by_hand
        await db.flush()
        return False
    await send_and_record(db, row, settings=settings, now=now)
    return True
