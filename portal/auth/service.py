"""Ending sessions: the same for every kind of actor. (They start in
`portal.auth.signin`.)"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.security.actors import Actor, Candidate, Staff
from portal.security.sessions import revoke_session


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
