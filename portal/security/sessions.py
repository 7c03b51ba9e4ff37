"""Server-side sessions (DESIGN §6): opaque id in a cookie, only its hash stored.

A session ends after `session_idle_minutes` without a request, after
`session_absolute_hours` whatever happens, or when it is revoked (sign-out,
account deactivation, a staff member's new password). Whose a session is, and
whether it still counts, is `portal.auth`'s business; this module only stores
and ends them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.security.models import Session
from portal.security.tokens import new_token, token_digest


def cookie_name(https: bool) -> str:
    # The __Host- prefix pins the cookie to this host and path / over HTTPS.
    return "__Host-afterword_session" if https else "afterword_session"


async def start_session(
    db: AsyncSession,
    *,
    absolute_hours: int,
    now: dt.datetime,
    candidate_id: int | None = None,
    staff_user_id: int | None = None,
) -> str:
    """Open a new session for a candidate or a staff member and return the cookie
    value (a fresh id at every sign-in)."""
    token = new_token()
    db.add(
        Session(
            id_hash=token_digest(token),
            candidate_id=candidate_id,
            staff_user_id=staff_user_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=absolute_hours),
        )
    )
    await db.flush()
    return token


def session_hash(cookie_value: str | None) -> bytes | None:
    if not cookie_value or len(cookie_value) > 100:
        return None
    return token_digest(cookie_value)


# Parameters: session_id_hash, now.
TOUCH_SESSION = (
    update(Session)
    .where(Session.id_hash == bindparam("session_id_hash"))
    .values(last_seen_at=bindparam("now"))
)


async def revoke_session(db: AsyncSession, *, id_hash: bytes, now: dt.datetime) -> None:
    await db.execute(
        update(Session)
        .where(Session.id_hash == id_hash, Session.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_staff_sessions(db: AsyncSession, *, staff_user_id: int, now: dt.datetime) -> None:
    """End every session of a staff member: at deactivation, and when their way of
    signing in changes (a new password or single sign-on identity)."""
    await db.execute(
        update(Session)
        .where(Session.staff_user_id == staff_user_id, Session.revoked_at.is_(None))
        .values(revoked_at=now)
    )
