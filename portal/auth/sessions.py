"""Turning a session row into an actor: the one place that decides whether a
session still counts (idle and absolute limits, revocation, staff deactivation)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from portal.auth.actors import ANONYMOUS, Actor, Candidate, Staff
from portal.candidates.models import Candidate as CandidateRow
from portal.security.models import Session
from portal.settings import Settings
from portal.staff.models import StaffUser

# Writing last_seen_at on every request would turn every page view into a
# write; once a minute is precise enough for a 30-minute idle timeout.
TOUCH_INTERVAL = dt.timedelta(seconds=60)

# What a statement selects, first, to check a candidate's session and know whose it
# is (the feedback page's single statement starts with these).
CANDIDATE_SESSION_COLUMNS = (
    Session.last_seen_at,
    Session.expires_at,
    Session.revoked_at,
    CandidateRow.id,
    CandidateRow.organization_id,
    CandidateRow.name,
)
_STAFF_COLUMNS = (
    StaffUser.id,
    StaffUser.organization_id,
    StaffUser.role,
    StaffUser.name,
    StaffUser.active,
)

# Any session, candidate's or staff member's: one row, one round trip.
# Parameter: id_hash.
SESSION_ACTOR = (
    select(*CANDIDATE_SESSION_COLUMNS, *_STAFF_COLUMNS)
    .select_from(Session)
    .outerjoin(CandidateRow, CandidateRow.id == Session.candidate_id)
    .outerjoin(StaffUser, StaffUser.id == Session.staff_user_id)
)


def check_session_row(
    row: Sequence[Any],
    *,
    id_hash: bytes,
    now: dt.datetime,
    settings: Settings,
    with_staff: bool = False,
) -> tuple[Actor, bool]:
    """From a row that starts with CANDIDATE_SESSION_COLUMNS (followed by the staff
    columns when `with_staff`, as SESSION_ACTOR selects): who is signed in,
    Anonymous if the session is past its idle or absolute limit, revoked, or its
    staff account deactivated; and whether to record activity (run TOUCH_SESSION)
    on this request."""
    last_seen_at, expires_at, revoked_at, candidate_id, organization_id, name = row[:6]
    idle_limit = dt.timedelta(minutes=settings.session_idle_minutes)
    if revoked_at is not None or now >= expires_at or now - last_seen_at >= idle_limit:
        return ANONYMOUS, False
    actor: Actor
    if candidate_id is not None:
        actor = Candidate(candidate_id, organization_id, name, id_hash)
    elif with_staff and row[6] is not None:
        staff_id, staff_org, role, staff_name, active = row[6:11]
        if not active:
            return ANONYMOUS, False
        actor = Staff(staff_id, staff_org, role, staff_name, id_hash)
    else:
        return ANONYMOUS, False
    return actor, now - last_seen_at >= TOUCH_INTERVAL
