"""Server-side sessions (DESIGN §6): opaque id in a cookie, only its hash stored.

A session ends after `session_idle_minutes` without a request, after
`session_absolute_hours` whatever happens, or when it is revoked (sign-out,
account deactivation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
            select(*SESSION_COLUMNS)
            .join(Candidate, Candidate.id == Session.candidate_id)
            .where(Session.id_hash == id_hash)
        )
    ).one_or_none()
    if row is None:
        return None
    who, touch = check_session_row(row, id_hash=id_hash, now=now, settings=settings)
    if touch:
        await db.execute(TOUCH_SESSION, {"session_id_hash": id_hash, "now": now})
    return who


def session_hash(cookie_value: str | None) -> bytes | None:
    if not cookie_value or len(cookie_value) > 100:
        return None
    return token_digest(cookie_value)


# What a query selects, first, to check a session and know whose it is.
SESSION_COLUMNS = (
    Session.last_seen_at,
    Session.expires_at,
    Session.revoked_at,
    Candidate.id,
    Candidate.organization_id,
    Candidate.name,
)


def check_session_row(
    row: Sequence[Any], *, id_hash: bytes, now: dt.datetime, settings: Settings
) -> tuple[CandidateSession | None, bool]:
    """From a row that starts with SESSION_COLUMNS: the signed-in candidate, or None
    if the session is past its idle or absolute limit or revoked; and whether to
    record activity (run TOUCH_SESSION) on this request."""
    last_seen_at, expires_at, revoked_at, candidate_id, organization_id, name = row[:6]
    idle_limit = dt.timedelta(minutes=settings.session_idle_minutes)
    if revoked_at is not None or now >= expires_at or now - last_seen_at >= idle_limit:
        return None, False
    who = CandidateSession(id_hash, candidate_id, organization_id, name)
    return who, now - last_seen_at >= TOUCH_INTERVAL


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
