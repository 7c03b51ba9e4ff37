"""The recruiters' side of the pool: finding active members, one member's record,
and the rows of an export. Every query starts from `readable_memberships`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.candidates.models import Application, Candidate, Job, Requirement
from portal.candidates.service import readable_applications
from portal.feedback.models import Feedback, FeedbackItem, ItemKind
from portal.feedback.view import FeedbackView, Version, load_feedback_view, version_condition
from portal.pool.forms import PoolFilter, PreferenceWords
from portal.pool.models import (
    ConsentActor,
    ConsentEventKind,
    ContactFrequency,
    PoolConsentEvent,
    PoolConsentText,
    PoolContact,
    PoolMembership,
    RemotePreference,
)
from portal.pool.service import readable_memberships
from portal.security.actors import Actor, Staff
from portal.staff.models import StaffUser

PER_PAGE = 25
EXPORT_LIMIT = 10_000
# How long after an invitation a member who chose a limit may be contacted again.
CONTACT_GAP = {
    ContactFrequency.MONTHLY: dt.timedelta(days=30),
    ContactFrequency.QUARTERLY: dt.timedelta(days=91),
}


def next_contact_at(frequency: str, last_contacted_at: dt.datetime | None) -> dt.datetime | None:
    """When a member may next be invited (None: whenever a role matches)."""
    gap = CONTACT_GAP.get(ContactFrequency(frequency))
    if gap is None or last_contacted_at is None:
        return None
    return last_contacted_at + gap


@dataclass(frozen=True)
class MemberRow(PreferenceWords):
    membership_id: int
    name: str
    email: str
    role_families: tuple[str, ...]
    locations: tuple[str, ...]
    remote: str
    only_chosen_roles: bool
    contact_frequency: str
    joined_at: dt.datetime
    expires_at: dt.datetime
    last_contacted_at: dt.datetime | None
    consent_version: int

    @property
    def next_contact_at(self) -> dt.datetime | None:
        return next_contact_at(self.contact_frequency, self.last_contacted_at)


# Labelled as MemberRow's fields: rows are read by name.
ROW_COLUMNS: tuple[Any, ...] = (
    PoolMembership.id.label("membership_id"),
    Candidate.name,
    Candidate.email,
    PoolMembership.role_families,
    PoolMembership.locations,
    PoolMembership.remote,
    PoolMembership.only_chosen_roles,
    PoolMembership.contact_frequency,
    PoolMembership.joined_at,
    PoolMembership.expires_at,
    PoolMembership.last_contacted_at,
    PoolConsentText.version.label("consent_version"),
)


def _row(row: Any) -> MemberRow:
    return MemberRow(
        membership_id=row.membership_id,
        name=row.name,
        email=row.email,
        role_families=tuple(code for code in row.role_families.split(",") if code),
        locations=tuple(line for line in row.locations.split("\n") if line),
        remote=row.remote,
        only_chosen_roles=bool(row.only_chosen_roles),
        contact_frequency=row.contact_frequency,
        joined_at=row.joined_at,
        expires_at=row.expires_at,
        last_contacted_at=row.last_contacted_at,
        consent_version=row.consent_version,
    )


def _members(actor: Actor, now: dt.datetime) -> Select[Any]:
    statement: Select[Any] = (
        readable_memberships(actor, now=now)
        .with_only_columns(*ROW_COLUMNS)
        .join(Candidate, Candidate.id == PoolMembership.candidate_id)
        .join(PoolConsentText, PoolConsentText.id == PoolMembership.consent_text_id)
    )
    return statement


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)


def _filtered(actor: Actor, filters: PoolFilter, now: dt.datetime) -> Select[Any]:
    statement = _members(actor, now)
    if filters.role_family:
        statement = statement.where(
            (literal(",") + PoolMembership.role_families + literal(",")).contains(
                f",{filters.role_family},", autoescape=True
            )
        )
    if filters.location:
        statement = statement.where(
            func.lower(PoolMembership.locations).contains(filters.location.lower(), autoescape=True)
        )
    if filters.remote == "yes":
        statement = statement.where(
            PoolMembership.remote.in_([RemotePreference.REMOTE, RemotePreference.EITHER])
        )
    elif filters.remote == "no":
        statement = statement.where(
            PoolMembership.remote.in_([RemotePreference.ON_SITE, RemotePreference.EITHER])
        )
    if filters.skill:
        statement = statement.where(_has_strength(filters.skill.lower()))
    if filters.job is not None:
        statement = statement.where(
            exists().where(
                Application.candidate_id == PoolMembership.candidate_id,
                Application.job_id == filters.job,
            )
        )
    if filters.joined_from is not None:
        statement = statement.where(PoolMembership.joined_at >= _midnight(filters.joined_from))
    if filters.joined_to is not None:
        statement = statement.where(
            PoolMembership.joined_at < _midnight(filters.joined_to + dt.timedelta(days=1))
        )
    return statement


def _has_strength(words: str) -> Any:
    """Whether a strength in the member's published feedback (its newest published
    version, visible items only: what the candidate reads) mentions `words`, in its
    text or in the requirement it is tied to."""
    return exists(
        select(FeedbackItem.id)
        .select_from(Application)
        .join(
            Feedback,
            and_(Feedback.application_id == Application.id, version_condition(Version.PUBLISHED)),
        )
        .join(FeedbackItem, FeedbackItem.feedback_id == Feedback.id)
        .outerjoin(Requirement, Requirement.id == FeedbackItem.requirement_id)
        .where(
            Application.candidate_id == PoolMembership.candidate_id,
            FeedbackItem.kind == ItemKind.STRENGTH,
            FeedbackItem.visible.is_(True),
            or_(
                func.lower(FeedbackItem.body).contains(words, autoescape=True),
                func.lower(Requirement.name).contains(words, autoescape=True),
            ),
        )
        .correlate(PoolMembership)
    )


@dataclass(frozen=True)
class PoolPage:
    members: list[MemberRow]
    total: int
    page: int
    pages: int
    jobs: list[tuple[int, str]]  # the organization's jobs, to filter by


async def organization_jobs(db: AsyncSession, *, actor: Actor) -> list[tuple[int, str]]:
    organization_id = actor.organization_id if isinstance(actor, Staff) else -1
    rows = await db.execute(
        select(Job.id, Job.title)
        .where(Job.organization_id == organization_id)
        .order_by(Job.title, Job.id)
    )
    return [(row.id, row.title) for row in rows]


async def search(
    db: AsyncSession,
    *,
    actor: Actor,
    filters: PoolFilter,
    now: dt.datetime,
    per_page: int = PER_PAGE,
) -> PoolPage:
    """One page of active members matching the filters, newest members first."""
    statement = _filtered(actor, filters, now)
    total = (
        await db.scalar(statement.with_only_columns(func.count(PoolMembership.id)).order_by(None))
        or 0
    )
    pages = max(1, -(-total // per_page))
    page = min(filters.page, pages)
    rows = await db.execute(
        statement.order_by(PoolMembership.joined_at.desc(), PoolMembership.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return PoolPage(
        members=[_row(row) for row in rows],
        total=total,
        page=page,
        pages=pages,
        jobs=await organization_jobs(db, actor=actor),
    )


async def export_rows(
    db: AsyncSession, *, actor: Actor, filters: PoolFilter, now: dt.datetime
) -> list[MemberRow]:
    """Every member matching the filters (up to EXPORT_LIMIT), newest first."""
    rows = await db.execute(
        _filtered(actor, filters, now)
        .order_by(PoolMembership.joined_at.desc(), PoolMembership.id.desc())
        .limit(EXPORT_LIMIT)
    )
    return [_row(row) for row in rows]


async def members_by_id(
    db: AsyncSession, *, actor: Actor, membership_ids: list[int], now: dt.datetime
) -> list[MemberRow]:
    """The active members among `membership_ids` (others' and ended ones are left out)."""
    if not membership_ids:
        return []
    rows = await db.execute(
        _members(actor, now)
        .where(PoolMembership.id.in_(membership_ids))
        .order_by(Candidate.name, PoolMembership.id)
    )
    return [_row(row) for row in rows]


# --- one member ---------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentChange:
    kind: ConsentEventKind
    at: dt.datetime
    via: ConsentActor
    consent_version: int
    details: dict[str, Any]

    @property
    def what(self) -> str:
        """The change in words: a change of duration says from what to what."""
        if self.kind != ConsentEventKind.CHANGED:
            return str(self.kind).capitalize()
        if self.details.get("changed") != "duration":
            return "Changed preferences"
        before, after = (
            self.details.get("previous_duration_months"),
            self.details.get("duration_months"),
        )
        return f"Changed how long they stay: from {before} to {after} months"

    @property
    def consent_until(self) -> dt.datetime | None:
        """When the consent ends after this change (as recorded with it; nothing for
        the changes that end it)."""
        if self.kind in (ConsentEventKind.LEFT, ConsentEventKind.EXPIRED):
            return None
        stamp = self.details.get("expires_at")
        return dt.datetime.fromisoformat(stamp) if isinstance(stamp, str) else None


@dataclass(frozen=True)
class Contact:
    job_title: str | None
    contacted_at: dt.datetime
    sent_by: str | None


@dataclass(frozen=True)
class MemberDetail:
    member: MemberRow
    consent_text: str
    consent_text_created_at: dt.datetime
    history: list[ConsentChange]
    contacts: list[Contact]
    feedback: list[FeedbackView]


async def member_detail(
    db: AsyncSession, *, actor: Actor, membership_id: int, now: dt.datetime
) -> MemberDetail | None:
    """A member's page: preferences, consent record (the statement they agreed to,
    every change), invitations sent, and their published feedback. None when the
    membership is not an active one of the actor's organization."""
    found = (
        await db.execute(
            _members(actor, now)
            .add_columns(
                PoolConsentText.text.label("consent_text"),
                PoolConsentText.created_at.label("consent_text_created_at"),
                PoolMembership.candidate_id,
            )
            .where(PoolMembership.id == membership_id)
        )
    ).one_or_none()
    if found is None:
        return None
    member = _row(found)
    history = [
        ConsentChange(**row._mapping)
        for row in await db.execute(
            select(
                PoolConsentEvent.kind,
                PoolConsentEvent.at,
                PoolConsentEvent.actor_kind.label("via"),
                PoolConsentText.version.label("consent_version"),
                PoolConsentEvent.details,
            )
            .join(PoolConsentText, PoolConsentText.id == PoolConsentEvent.consent_text_id)
            .where(PoolConsentEvent.membership_id == membership_id)
            .order_by(PoolConsentEvent.at, PoolConsentEvent.id)
        )
    ]
    contacts = [
        Contact(**row._mapping)
        for row in await db.execute(
            select(
                Job.title.label("job_title"),
                PoolContact.contacted_at,
                StaffUser.name.label("sent_by"),
            )
            .outerjoin(Job, Job.id == PoolContact.job_id)
            .outerjoin(StaffUser, StaffUser.id == PoolContact.staff_user_id)
            .where(PoolContact.membership_id == membership_id)
            .order_by(PoolContact.contacted_at.desc(), PoolContact.id.desc())
        )
    ]
    application_ids = (
        await db.scalars(
            readable_applications(actor)
            .with_only_columns(Application.id)
            .where(Application.candidate_id == found.candidate_id)
            .order_by(Application.decided_at.desc().nulls_last(), Application.id.desc())
        )
    ).all()
    feedback = []
    for application_id in application_ids:
        view = await load_feedback_view(db, actor=actor, application_id=application_id)
        if view is not None:
            feedback.append(view)
    return MemberDetail(
        member=member,
        consent_text=found.consent_text,
        consent_text_created_at=found.consent_text_created_at,
        history=history,
        contacts=contacts,
        feedback=feedback,
    )


async def consent_versions(
    db: AsyncSession, *, actor: Actor
) -> list[tuple[int, dt.datetime, str | None]]:
    """Every version of the organization's statement, newest first, with who wrote it."""
    organization_id = actor.organization_id if isinstance(actor, Staff) else -1
    rows = await db.execute(
        select(PoolConsentText.version, PoolConsentText.created_at, StaffUser.name)
        .outerjoin(StaffUser, StaffUser.id == PoolConsentText.created_by_staff_id)
        .where(PoolConsentText.organization_id == organization_id)
        .order_by(PoolConsentText.version.desc())
    )
    return [(row.version, row.created_at, row.name) for row in rows]
