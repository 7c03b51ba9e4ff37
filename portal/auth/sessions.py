"""Turning a session row into an actor: the one place that decides whether a
session still counts (idle and absolute limits, revocation, staff deactivation)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from portal.candidates.models import Candidate as CandidateRow
from portal.db import NamedRow
from portal.orgs.models import Organization
from portal.security.actors import ANONYMOUS, Actor, Candidate, Staff, StaffRole
from portal.security.models import Session
from portal.settings import Settings
from portal.staff.models import StaffUser

# Writing last_seen_at on every request would turn every page view into a
# write; once a minute is precise enough for a 30-minute idle timeout.
TOUCH_INTERVAL = dt.timedelta(seconds=60)

# What SESSION_ACTOR selects to check a session and know whose it is. Labelled:
# rows are read by name.
_CANDIDATE_COLUMNS = (
    Session.last_seen_at.label("session_last_seen_at"),
    Session.expires_at.label("session_expires_at"),
    Session.revoked_at.label("session_revoked_at"),
    CandidateRow.id.label("session_candidate_id"),
    CandidateRow.organization_id.label("session_organization_id"),
    CandidateRow.name.label("session_candidate_name"),
)
_STAFF_COLUMNS = (
    StaffUser.id.label("session_staff_id"),
    StaffUser.organization_id.label("session_staff_organization_id"),
    StaffUser.role.label("session_staff_role"),
    StaffUser.name.label("session_staff_name"),
    StaffUser.active.label("session_staff_active"),
    func.coalesce(StaffUser.time_zone, Organization.time_zone).label("session_staff_time_zone"),
)

# Any session, candidate's or staff member's: one row, one round trip.
# Parameter: id_hash.
SESSION_ACTOR = (
    select(*_CANDIDATE_COLUMNS, *_STAFF_COLUMNS)
    .select_from(Session)
    .outerjoin(CandidateRow, CandidateRow.id == Session.candidate_id)
    .outerjoin(StaffUser, StaffUser.id == Session.staff_user_id)
    .outerjoin(Organization, Organization.id == StaffUser.organization_id)
)


def check_session_row(
    row: NamedRow,
    *,
    id_hash: bytes,
    now: dt.datetime,
    settings: Settings,
) -> tuple[Actor, bool]:
    """From a row of SESSION_ACTOR, read by name: who is signed in,
    Anonymous if the session is past its idle or absolute limit, revoked, or its
    staff account deactivated; and whether to record activity (run TOUCH_SESSION)
    on this request."""
    last_seen_at = row["session_last_seen_at"]
    idle_limit = dt.timedelta(minutes=settings.session_idle_minutes)
    if (
        row["session_revoked_at"] is not None
        or now >= row["session_expires_at"]
        or now - last_seen_at >= idle_limit
    ):
        return ANONYMOUS, False
    actor: Actor
    candidate_id = row["session_candidate_id"]
    if candidate_id is not None:
        actor = Candidate(
            candidate_id, row["session_organization_id"], row["session_candidate_name"], id_hash
        )
    elif row["session_staff_id"] is not None:
        if not row["session_staff_active"]:
            return ANONYMOUS, False
        actor = Staff(
            row["session_staff_id"],
            row["session_staff_organization_id"],
            StaffRole(row["session_staff_role"]),
            row["session_staff_name"],
            id_hash,
            time_zone=row["session_staff_time_zone"],
        )
    else:
        return ANONYMOUS, False
    return actor, now - last_seen_at >= TOUCH_INTERVAL
