"""Starting and ending sessions: the same for every kind of actor."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.auth.actors import Actor, Candidate, Staff
from portal.security.sessions import revoke_session, start_session
from portal.settings import Settings


async def replace_session(
    db: AsyncSession,
    *,
    previous: bytes | None,
    settings: Settings,
    now: dt.datetime,
    candidate_id: int | None = None,
    staff_user_id: int | None = None,
) -> str:
    """Sign in: end the browser's previous session (if any) and start a new one, so
    every sign-in gets a fresh id. Returns the new cookie value."""
    if previous is not None:
        await revoke_session(db, id_hash=previous, now=now)
    return await start_session(
        db,
        candidate_id=candidate_id,
        staff_user_id=staff_user_id,
        absolute_hours=settings.session_absolute_hours,
        now=now,
    )


async def end_session(db: AsyncSession, *, actor: Actor, now: dt.datetime, ip_hash: str) -> None:
    """Revoke the actor's session on the server (nothing to do for anyone else)."""
    if isinstance(actor, Candidate):
        kind, actor_id, action = "candidate", actor.candidate_id, "session.signed_out"
    elif isinstance(actor, Staff):
        kind, actor_id, action = "staff", actor.staff_id, "staff.signed_out"
    else:
        return
    await revoke_session(db, id_hash=actor.session_id_hash, now=now)
    audit.record(
        db,
        action=action,
        actor_kind=kind,
        actor_id=actor_id,
        organization_id=actor.organization_id,
        ip_hash=ip_hash,
    )
