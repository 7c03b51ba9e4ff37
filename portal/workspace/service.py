"""The recruiter's workspace: the applications list, one application, its links.

Every statement starts from `readable_applications(actor)`: a recruiter reads
their own organization's applications and nothing else (another's is a 404).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from portal.access.models import AccessLink, LinkPurpose
from portal.access.service import send_invitation
from portal.audit import service as audit
from portal.candidates.models import Application, Candidate, Job, Stage
from portal.candidates.models import Requirement as RequirementRow
from portal.candidates.service import job_titles, readable_applications
from portal.db import EnumText
from portal.feedback.models import Feedback, FeedbackOverride, FeedbackState
from portal.feedback.view import STAFF_STAGE_WORDS
from portal.security.actors import Staff
from portal.settings import Settings
from portal.staff.models import StaffUser as StaffName
from portal.threads.queue import colleagues
from portal.timing.models import SendState
from portal.timing.service import first_email_waiting
from portal.timing.untold import told, untold_days
from portal.workspace.drafting import Requirement
from portal.workspace.forms import ApplicationFilter, FeedbackFilter, Sort

PER_PAGE = 25
STAGE_NAMES = {"applied": "Applied", "screen": "Screen", "interview": "Interview", "final": "Final"}


class ApplicationNotFound(LookupError):
    """Not an application of the recruiter's organization (a 404)."""


def _newest_state() -> ColumnElement[FeedbackFilter]:
    """The state of an application's newest feedback version, or "none" (as the
    list's filter names them: a state of the column's enum would refuse "none")."""
    newest = (
        select(Feedback.state)
        .where(Feedback.application_id == Application.id)
        .order_by(Feedback.version.desc())
        .limit(1)
        .correlate(Application)
        .scalar_subquery()
    )
    return func.coalesce(newest, literal(FeedbackFilter.NONE.value), type_=EnumText(FeedbackFilter))


def _ever_published() -> ColumnElement[bool]:
    return (
        select(Feedback.id)
        .where(Feedback.application_id == Application.id, Feedback.state == FeedbackState.PUBLISHED)
        .correlate(Application)
        .exists()
    )


@dataclass(frozen=True)
class ListedApplication:
    id: int
    candidate_name: str
    candidate_email: str
    job_title: str
    stage: Stage
    decided_at: dt.datetime | None
    feedback_state: FeedbackFilter  # of the newest version: none, draft, published
    ever_published: bool
    assignee_name: str | None
    told: bool  # an invitation went to the candidate

    @property
    def stage_name(self) -> str:
        return STAGE_NAMES[self.stage]

    def untold_days(self, now: dt.datetime) -> int | None:
        """The "decided but not told" clock: whole days since the decision, while
        no invitation has gone."""
        return None if self.told else untold_days(self.decided_at, now)


@dataclass(frozen=True)
class ApplicationList:
    applications: list[ListedApplication]
    total: int  # matching the search and filters
    counts: dict[str, int]  # matching all but the feedback filter, by feedback state
    page: int
    pages: int
    jobs: list[tuple[int, str]]  # the organization's jobs, to filter by
    everything: int  # the organization's applications, whatever the filters
    colleagues: list[tuple[int, str]]  # active staff, to filter by and assign to


def _searched(statement: Select[Any], filters: ApplicationFilter, actor: Staff) -> Select[Any]:
    if filters.q:
        words = filters.q.split()
        for word in words[:8]:
            statement = statement.where(
                or_(
                    Candidate.name.icontains(word, autoescape=True),
                    Candidate.email.icontains(word, autoescape=True),
                    Job.title.icontains(word, autoescape=True),
                )
            )
    if filters.job is not None:
        statement = statement.where(Application.job_id == filters.job)
    if filters.stage is not None:
        statement = statement.where(Application.stage == filters.stage)
    if filters.assignee == "me":
        statement = statement.where(Application.assignee_staff_id == actor.staff_id)
    elif filters.assignee == "none":
        statement = statement.where(Application.assignee_staff_id.is_(None))
    elif filters.assignee is not None:
        statement = statement.where(Application.assignee_staff_id == filters.assignee)
    return statement


def _filtered(actor: Staff, filters: ApplicationFilter) -> Select[Any]:
    """The actor's applications (with candidate and job) matching every filter but
    the feedback state's."""
    return _searched(
        readable_applications(actor)
        .join(Candidate, Candidate.id == Application.candidate_id)
        .join(Job, Job.id == Application.job_id),
        filters,
        actor,
    )


def matching_ids(actor: Staff, filters: ApplicationFilter) -> Select[Any]:
    """The ids of every application the list shows for `filters`, on every page, in
    the list's order."""
    statement = _filtered(actor, filters)
    if filters.feedback is not None:
        statement = statement.where(_newest_state() == filters.feedback.value)
    return statement.with_only_columns(Application.id).order_by(*_ORDER[filters.sort])


_ORDER: dict[Sort, tuple[ColumnElement[Any], ...]] = {
    Sort.NEWEST: (Application.decided_at.desc().nulls_last(), Application.id.desc()),
    Sort.OLDEST: (Application.decided_at.asc().nulls_last(), Application.id.asc()),
    Sort.NAME: (Candidate.name.asc(), Application.id.asc()),
    Sort.JOB: (Job.title.asc(), Candidate.name.asc(), Application.id.asc()),
}


async def list_applications(
    db: AsyncSession, *, actor: Staff, filters: ApplicationFilter, per_page: int = PER_PAGE
) -> ApplicationList:
    """One page of the organization's applications, searched, filtered and sorted,
    with the counts the page shows."""
    state = _newest_state().label("feedback_state")
    base = _filtered(actor, filters)
    counted = (
        await db.execute(
            base.with_only_columns(
                state, func.count(Application.id).label("applications")
            ).group_by(state)
        )
    ).all()
    counts = {value.value: 0 for value in FeedbackFilter}
    counts.update({row.feedback_state: row.applications for row in counted})
    matching = base
    if filters.feedback is not None:
        matching = matching.where(_newest_state() == filters.feedback.value)
        total = counts[filters.feedback.value]
    else:
        total = sum(counts.values())
    pages = max(1, -(-total // per_page))
    page = min(filters.page, pages)
    assignee = aliased(StaffName)
    rows = await db.execute(
        matching.with_only_columns(
            Application.id,
            Candidate.name.label("candidate_name"),
            Candidate.email.label("candidate_email"),
            Job.title.label("job_title"),
            Application.stage,
            Application.decided_at,
            state,
            _ever_published().label("ever_published"),
            assignee.name.label("assignee_name"),
            told().label("told"),
        )
        .outerjoin(assignee, assignee.id == Application.assignee_staff_id)
        .order_by(*_ORDER[filters.sort])
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    jobs = await job_titles(db, actor=actor)
    everything = await db.scalar(
        readable_applications(actor).with_only_columns(func.count(Application.id))
    )
    return ApplicationList(
        applications=[ListedApplication(**row._mapping) for row in rows],
        total=total,
        counts=counts,
        page=page,
        pages=pages,
        jobs=jobs,
        everything=everything or 0,
        colleagues=await colleagues(db, actor),
    )


# --- one application ------------------------------------------------------------------


@dataclass(frozen=True)
class VersionRow:
    version: int
    state: FeedbackState
    created_at: dt.datetime
    author: str | None
    author_id: int | None
    published_at: dt.datetime | None
    override_by: str | None
    override_reason: str | None


@dataclass(frozen=True)
class LinkRow:
    id: int
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    sent_by: str | None

    def status(self, now: dt.datetime) -> str:
        if self.revoked_at:
            return "revoked"
        if self.used_at:
            return "used"
        return "expired" if self.expires_at <= now else "active"


@dataclass(frozen=True)
class ApplicationDetail:
    id: int
    candidate_id: int
    candidate_name: str
    candidate_email: str
    job_id: int
    job_title: str
    team: str
    location: str
    stage: Stage
    decided_at: dt.datetime | None
    assignee_name: str | None
    requirements: list[Requirement]
    versions: list[VersionRow]  # newest first
    links: list[LinkRow]  # newest first

    @property
    def stage_words(self) -> str:
        """How far it went, about the candidate: staff read this, not the candidate."""
        return STAFF_STAGE_WORDS[self.stage]

    @property
    def newest(self) -> VersionRow | None:
        return self.versions[0] if self.versions else None

    @property
    def published(self) -> VersionRow | None:
        return next((v for v in self.versions if v.state == FeedbackState.PUBLISHED), None)


async def application_detail(
    db: AsyncSession, *, actor: Staff, application_id: int
) -> ApplicationDetail:
    assignee = aliased(StaffName)
    row = (
        await db.execute(
            readable_applications(actor)
            .with_only_columns(
                Application.id,
                Application.candidate_id,
                Candidate.name.label("candidate_name"),
                Candidate.email.label("candidate_email"),
                Job.id.label("job_id"),
                Job.title.label("job_title"),
                Job.team,
                Job.location,
                Application.stage,
                Application.decided_at,
                assignee.name.label("assignee_name"),
            )
            .join(Candidate, Candidate.id == Application.candidate_id)
            .join(Job, Job.id == Application.job_id)
            .outerjoin(assignee, assignee.id == Application.assignee_staff_id)
            .where(Application.id == application_id)
        )
    ).one_or_none()
    if row is None:
        raise ApplicationNotFound(application_id)
    requirements = (
        await db.execute(
            select(RequirementRow.id, RequirementRow.name, RequirementRow.description)
            # A retired requirement is no longer the job's: new drafts leave it out.
            .where(RequirementRow.job_id == row.job_id, RequirementRow.retired_at.is_(None))
            .order_by(RequirementRow.position)
        )
    ).all()
    author = aliased(StaffName)
    overrider = aliased(StaffName)
    versions = (
        await db.execute(
            select(
                Feedback.version,
                Feedback.state,
                Feedback.created_at,
                author.name.label("author"),
                Feedback.created_by_staff_id.label("author_id"),
                Feedback.published_at,
                overrider.name.label("override_by"),
                FeedbackOverride.reason.label("override_reason"),
            )
            .outerjoin(author, author.id == Feedback.created_by_staff_id)
            .outerjoin(FeedbackOverride, FeedbackOverride.feedback_id == Feedback.id)
            .outerjoin(overrider, overrider.id == FeedbackOverride.staff_user_id)
            .where(Feedback.application_id == application_id)
            .order_by(Feedback.version.desc())
        )
    ).all()
    sender = aliased(StaffName)
    links = (
        await db.execute(
            select(
                AccessLink.id,
                AccessLink.created_at,
                AccessLink.expires_at,
                AccessLink.used_at,
                AccessLink.revoked_at,
                sender.name.label("sent_by"),
            )
            .outerjoin(sender, sender.id == AccessLink.created_by_staff_id)
            .where(
                AccessLink.application_id == application_id,
                AccessLink.purpose == LinkPurpose.INVITATION,
            )
            .order_by(AccessLink.created_at.desc(), AccessLink.id.desc())
        )
    ).all()
    return ApplicationDetail(
        **row._mapping,
        requirements=[Requirement(**r._mapping) for r in requirements],
        versions=[VersionRow(**v._mapping) for v in versions],
        links=[LinkRow(**link._mapping) for link in links],
    )


# --- links ----------------------------------------------------------------------------


class NoPublishedFeedback(Exception):
    """An invitation leads to published feedback: there is none to send yet."""


class FirstEmailWaiting(Exception):
    """The first invitation has not gone yet: it waits for the call before sending, or
    for the send window ("send now", with a reason, overrides that)."""

    def __init__(self, state: SendState) -> None:
        super().__init__(state)
        self.state = state


async def resend_invitation(
    db: AsyncSession,
    *,
    actor: Staff,
    application_id: int,
    settings: Settings,
    now: dt.datetime,
    ip_hash: str,
) -> None:
    """A fresh invitation link, emailed to the candidate; older links keep working
    until they expire or are revoked. Audited (``link.issued`` by the staff member)."""
    exists = await db.scalar(
        readable_applications(actor)
        .with_only_columns(Application.id)
        .where(Application.id == application_id)
    )
    if exists is None:
        raise ApplicationNotFound(application_id)
    published = await db.scalar(
        select(Feedback.id)
        .where(Feedback.application_id == application_id, Feedback.state == FeedbackState.PUBLISHED)
        .limit(1)
    )
    if published is None:
        raise NoPublishedFeedback()
    waiting = await first_email_waiting(db, application_id=application_id)
    if waiting is not None:
        raise FirstEmailWaiting(waiting)
    await send_invitation(
        db,
        application_id=application_id,
        settings=settings,
        now=now,
        created_by_staff_id=actor.staff_id,
        ip_hash=ip_hash,
    )


async def find_link(
    db: AsyncSession, *, actor: Staff, application_id: int, link_id: int
) -> LinkRow | None:
    """One invitation link of an application in the actor's scope."""
    row = (
        await db.execute(
            select(
                AccessLink.id,
                AccessLink.created_at,
                AccessLink.expires_at,
                AccessLink.used_at,
                AccessLink.revoked_at,
                literal(None).label("sent_by"),
            ).where(*_link_in_scope(actor, application_id, link_id))
        )
    ).one_or_none()
    return LinkRow(**row._mapping) if row else None


def _link_in_scope(actor: Staff, application_id: int, link_id: int) -> list[ColumnElement[bool]]:
    scope = readable_applications(actor).with_only_columns(Application.id)
    return [
        AccessLink.id == link_id,
        AccessLink.application_id == application_id,
        AccessLink.application_id.in_(scope),
        AccessLink.purpose == LinkPurpose.INVITATION,
    ]


async def revoke_link(
    db: AsyncSession,
    *,
    actor: Staff,
    application_id: int,
    link_id: int,
    now: dt.datetime,
    ip_hash: str,
) -> bool:
    """Stop an unused invitation link from working. False when there is no such link
    (or it was used or revoked already). Audited as ``link.revoked``."""
    revoked = (
        await db.execute(
            update(AccessLink)
            .where(
                *_link_in_scope(actor, application_id, link_id),
                AccessLink.used_at.is_(None),
                AccessLink.revoked_at.is_(None),
            )
            .values(revoked_at=now)
            .returning(AccessLink.id)
        )
    ).one_or_none()
    if revoked is None:
        return False
    audit.by_staff(
        db,
        actor,
        action="link.revoked",
        subject_type="access_link",
        subject_id=link_id,
        ip_hash=ip_hash,
        details={"application_id": application_id},
    )
    return True
