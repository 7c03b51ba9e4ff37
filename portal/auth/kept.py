"""Nothing typed is lost when a session ends.

A form posted after its writer's session ended (30 idle minutes, the 12-hour
limit) is refused by its area's guard, as any request without a session is. For
the forms that hold writing (a candidate's question, a recruiter's feedback
draft), the guard first keeps what was posted, here, for the person whose session
it was: the owner is read from the ended session's row, which only the browser's
own session cookie names, so nobody can keep text for someone else or read it back.

After they sign in again, the same candidate or staff member finds it in the form
(`take`), once. Anyone else signing in on the same browser finds nothing: kept
text is bound to its writer, not to the browser. It is never logged, is deleted
when read, and expires after `KEEP_FOR` whatever happens (`prune`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.models import KeptForm, KeptFormKind
from portal.candidates.models import Application
from portal.security.models import Session
from portal.staff.models import StaffUser

# Long enough to ask for a sign-in link, find it and come back the next day; short
# enough that a forgotten text does not linger.
KEEP_FOR = dt.timedelta(hours=24)
# What one kept form may hold: a question is 2,000 characters, a feedback draft has
# a few dozen fields of up to 2,000 or so.
MAX_FIELDS = 200
MAX_CHARACTERS = 100_000


@dataclass(frozen=True)
class SessionOwner:
    """Whose session a browser's cookie names, though the session has ended: a
    candidate's or an active staff member's. (A revoked session, signed out or ended
    by an admin, has no owner here.)"""

    candidate_id: int | None = None
    staff_user_id: int | None = None
    organization_id: int | None = None


async def ended_session_owner(db: AsyncSession, *, id_hash: bytes) -> SessionOwner | None:
    """The owner of the session whose cookie hash is `id_hash`, if it ended by time
    (idle or absolute limit) rather than being revoked. Called only when the session
    no longer lets its owner in."""
    row = (
        await db.execute(
            select(
                Session.candidate_id,
                Session.staff_user_id,
                StaffUser.active.label("staff_active"),
                StaffUser.organization_id.label("staff_organization_id"),
            )
            .outerjoin(StaffUser, StaffUser.id == Session.staff_user_id)
            .where(Session.id_hash == id_hash, Session.revoked_at.is_(None))
        )
    ).one_or_none()
    if row is None:
        return None
    if row.candidate_id is not None:
        return SessionOwner(candidate_id=row.candidate_id)
    if row.staff_user_id is not None and row.staff_active:
        return SessionOwner(
            staff_user_id=row.staff_user_id, organization_id=row.staff_organization_id
        )
    return None


def _owned_by(owner: SessionOwner) -> ColumnElement[bool]:
    if owner.candidate_id is not None:
        return KeptForm.candidate_id == owner.candidate_id
    return KeptForm.staff_user_id == owner.staff_user_id


# Control characters (but tab and line breaks) never reach a form's model, nor here:
# PostgreSQL refuses a NUL in text.
_CONTROL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def _bounded(fields: dict[str, str]) -> dict[str, str] | None:
    fields = {name.translate(_CONTROL): value.translate(_CONTROL) for name, value in fields.items()}
    if len(fields) > MAX_FIELDS or sum(len(k) + len(v) for k, v in fields.items()) > (
        MAX_CHARACTERS
    ):
        return None
    return fields


async def keep(
    db: AsyncSession,
    *,
    owner: SessionOwner,
    kind: KeptFormKind,
    application_id: int,
    fields: dict[str, str],
    now: dt.datetime,
) -> bool:
    """Keep `fields` for `owner` about `application_id` (replacing what was kept for
    the same form before). Only the owner's own application (a candidate's) or one of
    their organization's (a staff member's); False, and nothing kept, otherwise or
    when the form is larger than any real one."""
    bounded = _bounded({name: value for name, value in fields.items() if value})
    if bounded is None or not bounded:
        return False
    scope = (
        Application.candidate_id == owner.candidate_id
        if owner.candidate_id is not None
        else Application.organization_id == owner.organization_id
    )
    known = await db.scalar(select(Application.id).where(Application.id == application_id, scope))
    if known is None:
        return False
    await prune(db, now=now)
    await db.execute(
        delete(KeptForm).where(
            _owned_by(owner), KeptForm.application_id == application_id, KeptForm.kind == kind
        )
    )
    db.add(
        KeptForm(
            candidate_id=owner.candidate_id,
            staff_user_id=owner.staff_user_id,
            application_id=application_id,
            kind=kind,
            fields=bounded,
            created_at=now,
            expires_at=now + KEEP_FOR,
        )
    )
    await db.flush()
    return True


async def take(
    db: AsyncSession,
    *,
    owner: SessionOwner,
    kind: KeptFormKind,
    application_id: int,
    now: dt.datetime,
) -> dict[str, str] | None:
    """What was kept for `owner` (the signed-in actor) about this application, deleted
    as it is handed back; None when nothing was, or it has expired."""
    found = await db.scalar(
        select(KeptForm)
        .where(
            _owned_by(owner),
            KeptForm.application_id == application_id,
            KeptForm.kind == kind,
            KeptForm.expires_at > now,
        )
        .order_by(KeptForm.id.desc())
        .limit(1)
    )
    if found is None:
        return None
    fields = dict(found.fields)
    await db.execute(
        delete(KeptForm).where(
            _owned_by(owner), KeptForm.application_id == application_id, KeptForm.kind == kind
        )
    )
    return fields


async def waiting(
    db: AsyncSession, *, owner: SessionOwner, kind: KeptFormKind, now: dt.datetime
) -> int | None:
    """The application of the newest form kept for `owner`, if any: where to send
    them when they sign in again."""
    return await db.scalar(
        select(KeptForm.application_id)
        .where(_owned_by(owner), KeptForm.kind == kind, KeptForm.expires_at > now)
        .order_by(KeptForm.id.desc())
        .limit(1)
    )


async def prune(db: AsyncSession, *, now: dt.datetime) -> None:
    """Delete every kept form past its time."""
    await db.execute(delete(KeptForm).where(KeptForm.expires_at <= now))
