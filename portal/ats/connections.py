"""An organization's connection to an ATS beyond its webhook secret: the credentials of
the ATS's API (set by an admin on the ATS page, `portal.ats.clients` uses them), and
processing again an event that failed (its API answered an error, since fixed)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.ats.models import Ats, AtsConnection, AtsEvent, AtsEventState
from portal.ats.service import _queue
from portal.audit import service as audit
from portal.security.actors import Staff


class NotConnected(LookupError):
    """API credentials before the webhook secret: the page says to set that first."""


async def set_api_credentials(
    db: AsyncSession,
    *,
    actor: Staff,
    ats: Ats,
    credentials: str | None,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> None:
    """Set (or, with None, remove) the credentials Afterword asks `ats`'s API with.
    Audited without them."""
    found = await db.scalar(
        select(AtsConnection).where(
            AtsConnection.organization_id == actor.organization_id, AtsConnection.ats == ats
        )
    )
    if found is None:
        raise NotConnected(ats)
    found.api_credentials = credentials
    found.api_credentials_set_at = now if credentials else None
    found.updated_at = now
    audit.by_staff(
        db,
        actor,
        action="ats.api_credentials_set",
        ip_hash=ip_hash,
        details={"ats": ats.value} | ({} if credentials else {"removed": True}),
    )
    await db.flush()


async def process_again(
    db: AsyncSession, *, actor: Staff, event_id: int, now: dt.datetime, ip_hash: str | None = None
) -> bool:
    """Queue a failed event of the admin's organization again (its API answered an
    error, say, since fixed); False for any other event."""
    event = await db.scalar(
        select(AtsEvent)
        .where(AtsEvent.id == event_id, AtsEvent.organization_id == actor.organization_id)
        .with_for_update()
    )
    if event is None or event.state != AtsEventState.FAILED:
        return False
    event.state = AtsEventState.RECEIVED
    event.message = ""
    event.processed_at = None
    await _queue(db, event.id, now=now, round_=int(now.timestamp() * 1000))
    audit.by_staff(
        db,
        actor,
        action="ats.event_processed_again",
        ip_hash=ip_hash,
        details={"ats": str(event.ats), "event_id": event.id},
    )
    await db.flush()
    return True
