"""Signing in: the one way a session starts, whichever way in led here (a
candidate's link, a staff password, single sign-on, an accepted invitation).

A sign-in ends the browser's previous session, starts a new one (a new id, so a
session fixed before signing in is worth nothing), and records the audit event
that says who signed in and how, with the client's hashed address. The caller
answers with the new cookie (`portal.auth.set_session_cookie`, or
`portal.web.signed_in`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from portal.audit import service as audit
from portal.auth.middleware import session_id_hash
from portal.security.sessions import revoke_session, start_session
from portal.settings import Settings
from portal.web import client_ip_hash, portal


@dataclass(frozen=True)
class SignIn:
    """Who signs in, and the audit event that records it: `action` with `details`.
    A staff member's event names their account as its subject too."""

    action: str
    organization_id: int
    candidate_id: int | None = None
    staff_user_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def candidate(
        cls, candidate_id: int, organization_id: int, *, details: dict[str, Any]
    ) -> SignIn:
        return cls("session.signed_in", organization_id, candidate_id=candidate_id, details=details)

    @classmethod
    def staff(
        cls,
        staff_user_id: int,
        organization_id: int,
        *,
        action: str = "staff.signed_in",
        details: dict[str, Any] | None = None,
    ) -> SignIn:
        return cls(action, organization_id, staff_user_id=staff_user_id, details=details or {})


async def begin_session(
    db: AsyncSession,
    entry: SignIn,
    *,
    previous: bytes | None,
    ip_hash: str,
    settings: Settings,
    now: dt.datetime,
) -> str:
    """End the browser's `previous` session (if any), start a new one for whoever
    `entry` names, and audit it. Returns the new session's cookie value."""
    if previous is not None:
        await revoke_session(db, id_hash=previous, now=now)
    cookie = await start_session(
        db,
        candidate_id=entry.candidate_id,
        staff_user_id=entry.staff_user_id,
        absolute_hours=settings.session_absolute_hours,
        now=now,
    )
    staff = entry.staff_user_id is not None
    audit.record(
        db,
        action=entry.action,
        actor_kind="staff" if staff else "candidate",
        actor_id=entry.staff_user_id if staff else entry.candidate_id,
        organization_id=entry.organization_id,
        subject_type="staff_user" if staff else None,
        subject_id=entry.staff_user_id,
        ip_hash=ip_hash,
        details=entry.details,
    )
    return cookie


async def sign_in(db: AsyncSession, request: Request, entry: SignIn, *, now: dt.datetime) -> str:
    """`begin_session` for the browser of this request. Returns the cookie value."""
    return await begin_session(
        db,
        entry,
        previous=session_id_hash(request),
        ip_hash=client_ip_hash(request),
        settings=portal(request).settings,
        now=now,
    )
