"""Before a consent ends, ask the member once whether to renew; when it ends, end it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.candidates.models import Candidate
from portal.formats import long_date
from portal.mail.service import enqueue_email
from portal.pool.models import ConsentActor, ConsentEventKind, PoolMembership, PoolState
from portal.pool.service import pool_event, record_change
from portal.pool.tokens import LinkPurpose, leave_url, member_token, renew_url
from portal.settings import Settings
from portal.webhooks import service as webhooks

EXPIRY_BATCH = 500


async def remind_and_expire(
    db: AsyncSession, *, settings: Settings, now: dt.datetime
) -> tuple[int, int]:
    """Queue the renewal request of memberships expiring within the notice period
    (once per consent period), and end those past their expiry. Returns (reminded,
    expired); each pass handles up to EXPIRY_BATCH of each, the next pass the rest."""
    notice = dt.timedelta(days=settings.pool_renewal_notice_days)
    due = (
        await db.scalars(
            select(PoolMembership)
            .where(
                PoolMembership.state == PoolState.ACTIVE,
                PoolMembership.renewal_requested_at.is_(None),
                PoolMembership.expires_at > now,
                PoolMembership.expires_at <= now + notice,
            )
            .order_by(PoolMembership.expires_at, PoolMembership.id)
            .limit(EXPIRY_BATCH)
        )
    ).all()
    for membership in due:
        await _ask_to_renew(db, membership=membership, settings=settings, now=now)
    ended = (
        await db.scalars(
            select(PoolMembership)
            .where(PoolMembership.state == PoolState.ACTIVE, PoolMembership.expires_at <= now)
            .order_by(PoolMembership.expires_at, PoolMembership.id)
            .limit(EXPIRY_BATCH)
        )
    ).all()
    for membership in ended:
        membership.state = PoolState.EXPIRED
        record_change(
            db,
            membership,
            kind=ConsentEventKind.EXPIRED,
            actor=ConsentActor.SYSTEM,
            actor_id=None,
            now=now,
            ip_hash=None,
        )
        await webhooks.emit(
            db,
            organization_id=membership.organization_id,
            event_type="pool.left",
            data=pool_event(membership, reason="expired"),
            now=now,
        )
    await db.flush()
    return len(due), len(ended)


async def _ask_to_renew(
    db: AsyncSession, *, membership: PoolMembership, settings: Settings, now: dt.datetime
) -> None:
    candidate = await db.get(Candidate, membership.candidate_id)
    assert candidate is not None
    # Two tokens: the renewal link goes to the member alone; the leave link also
    # travels in the List-Unsubscribe header and must not be able to renew.
    leave = member_token(settings, membership.id, LinkPurpose.LEAVE)
    renew = member_token(settings, membership.id, LinkPurpose.RENEW)
    membership.renewal_requested_at = now
    await enqueue_email(
        db,
        settings=settings,
        to_address=candidate.email,
        template="pool_renewal",
        context={
            "name": candidate.name,
            "expires_on": long_date(membership.expires_at),
            "renew_url": renew_url(settings, renew),
            "leave_url": leave_url(settings, leave),
        },
        # One request per consent period: a renewal moves the expiry, and with it the key.
        idempotency_key=f"pool.renewal:{membership.id}:{membership.expires_at.isoformat()}",
        now=now,
        organization_id=membership.organization_id,
        secrets=[leave, renew],
        unsubscribe_url=leave_url(settings, leave),
    )
