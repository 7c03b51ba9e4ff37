"""Server-side sessions (DESIGN §6): opaque id in a cookie, only its hash stored.

A session ends after `session_idle_minutes` without a request, after
`session_absolute_hours` whatever happens, or when it is revoked (sign-out,
account deactivation).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.candidates.models import Candidate
from portal.security.models import Session
from portal.security.tokens import new_token, token_digest
from portal.settings import Settings

# Writing last_seen_at on every request would turn every page view into a
# write; once a minute is precise enough for a 30-minute idle timeout.
TOUCH_INTERVAL = dt.timedelta(seconds=60)


def cookie_name(settings: Settings) -> str:
    # The __Host- prefix pins the cookie to this host and path / over HTTPS.
    return "__Host-afterword_session" if settings.https else "afterword_session"


@dataclass(frozen=True)
class CandidateSession:
    id_hash: bytes
    candidate_id: int
    organization_id: int
    candidate_name: str


async def start_candidate_session(
    db: AsyncSession, *, candidate_id: int, settings: Settings, now: dt.datetime
) -> str:
    """Open a new session and return the cookie value (a fresh id at every sign-in)."""
    token = new_token()
    db.add(
        Session(
            id_hash=token_digest(token),
            candidate_id=candidate_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=settings.session_absolute_hours),
        )
    )
    await db.flush()
    return token


async def load_candidate_session(
    db: AsyncSession, *, cookie_value: str | None, settings: Settings, now: dt.datetime
) -> CandidateSession | None:
    id_hash = session_hash(cookie_value)
    if id_hash is None:
        return None
    row = (
        await db.execute(
            select(
                Session.last_seen_at,
                Session.expires_at,
                Session.revoked_at,
                Candidate.id,
                Candidate.organization_id,
                Candidate.name,
            )
            .join(Candidate, Candidate.id == Session.candidate_id)
            .where(Session.id_hash == id_hash)
        )
    ).one_or_none()
    if row is None:
        return None
    who = valid_session(
        id_hash=id_hash,
        last_seen_at=row[0],
        expires_at=row[1],
        revoked_at=row[2],
        now=now,
        settings=settings,
        candidate=(row[3], row[4], row[5]),
    )
    if who is not None and needs_touch(last_seen_at=row[0], now=now):
        await db.execute(TOUCH_SESSION, {"session_id_hash": id_hash, "now": now})
    return who


def session_hash(cookie_value: str | None) -> bytes | None:
    if not cookie_value or len(cookie_value) > 100:
        return None
    return token_digest(cookie_value)


def valid_session(
    *,
    id_hash: bytes,
    last_seen_at: dt.datetime,
    expires_at: dt.datetime,
    revoked_at: dt.datetime | None,
    now: dt.datetime,
    settings: Settings,
    candidate: tuple[int, int, str],
) -> CandidateSession | None:
    """The signed-in candidate if the session row is within its idle and absolute limits."""
    idle_limit = dt.timedelta(minutes=settings.session_idle_minutes)
    if revoked_at is not None or now >= expires_at or now - last_seen_at >= idle_limit:
        return None
    return CandidateSession(id_hash, *candidate)


def needs_touch(*, last_seen_at: dt.datetime, now: dt.datetime) -> bool:
    """Whether to record activity on a valid session (TOUCH_SESSION) on this request."""
    return now - last_seen_at >= TOUCH_INTERVAL


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
