"""What a candidate sees of their feedback: only published versions, only visible items.

Queries select plain columns into small dataclasses: the page shows a few
fields of many rows, and the candidate page is the busiest in the product.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from portal.auth import CANDIDATE_SESSION_COLUMNS, Actor, check_session_row
from portal.auth import Candidate as CandidateActor
from portal.candidates.models import Application, Candidate, Job, Requirement
from portal.candidates.service import readable_applications
from portal.feedback.models import Feedback, FeedbackItem
from portal.orgs.models import Organization
from portal.reader import Reader
from portal.security.models import Session
from portal.security.sessions import TOUCH_SESSION
from portal.settings import Settings

STAGE_WORDS = {
    "applied": "We reviewed your application",
    "screen": "You reached the screening call",
    "interview": "You reached the interviews",
    "final": "You reached the final interview",
}
RATING_WORDS = {"met": "Met", "partly_met": "Partly met", "not_yet_met": "Not yet met"}


@dataclass(frozen=True)
class Branding:
    display_name: str
    slug: str
    accent_colour: str


@dataclass(frozen=True)
class Assessment:
    requirement: str
    description: str
    rating: str
    evidence: str

    @property
    def rating_words(self) -> str:
        return RATING_WORDS[self.rating]


@dataclass(frozen=True)
class Strength:
    text: str
    requirement: str | None


@dataclass(frozen=True)
class GrowthArea:
    text: str
    suggestion: str
    requirement: str | None


@dataclass
class FeedbackPage:
    application_id: int
    branding: Branding
    candidate_name: str
    job_title: str
    team: str
    location: str
    stage: str
    decided_at: dt.datetime | None
    decision_summary: str
    personal_note: str
    reapply_after_months: int | None
    suggested_roles: list[str]
    pool_invitation_offered: bool
    has_other_applications: bool
    assessments: list[Assessment] = field(default_factory=list)
    strengths: list[Strength] = field(default_factory=list)
    growth_areas: list[GrowthArea] = field(default_factory=list)

    @property
    def stage_words(self) -> str:
        return STAGE_WORDS[self.stage]

    @property
    def first_name(self) -> str:
        return self.candidate_name.split(" ", 1)[0]


@dataclass(frozen=True)
class ApplicationSummary:
    application_id: int
    job_title: str
    decided_at: dt.datetime | None
    stage: str
    has_feedback: bool

    @property
    def stage_words(self) -> str:
        return STAGE_WORDS[self.stage]


def readable_feedback(actor: Actor) -> Select[Feedback]:
    """The feedback `actor` may read: every query for feedback starts here.

    A candidate reads only published versions on their own applications; staff
    every version on their organization's applications; anyone else nothing."""
    statement = select(Feedback).where(
        Feedback.application_id.in_(readable_applications(actor).with_only_columns(Application.id))
    )
    if isinstance(actor, CandidateActor):
        statement = statement.where(Feedback.state == "published")
    return statement


async def list_applications(db: AsyncSession, *, actor: Actor) -> list[ApplicationSummary]:
    published = readable_feedback(actor).where(Feedback.state == "published")
    has_feedback = (
        published.with_only_columns(Feedback.id)
        .where(Feedback.application_id == Application.id)
        .correlate(Application)
        .exists()
    )
    rows = await db.execute(
        readable_applications(actor)
        .with_only_columns(
            Application.id, Job.title, Application.decided_at, Application.stage, has_feedback
        )
        .join(Job, Job.id == Application.job_id)
        .order_by(Application.decided_at.desc().nulls_last(), Application.id.desc())
    )
    return [ApplicationSummary(*row) for row in rows]


async def branding(db: AsyncSession, *, organization_id: int) -> Branding:
    row = (
        await db.execute(
            select(Organization.display_name, Organization.slug, Organization.accent_colour).where(
                Organization.id == organization_id
            )
        )
    ).one()
    return Branding(*row)


def _feedback_page_statement() -> Select[*tuple[Any, ...]]:
    """Session, candidate, application, newest published feedback and its visible items.

    One statement (one row per item) because this is the busiest page of the
    product: every round trip and every statement SQLAlchemy prepares shows in
    its throughput (see bench/). Built once; only the bound values change, and
    it runs through `Reader`, on the driver directly on PostgreSQL.
    """
    latest = (
        select(func.max(Feedback.version))
        .where(Feedback.application_id == Application.id, Feedback.state == "published")
        .correlate(Application)
        .scalar_subquery()
    )
    others = (
        select(func.count(OtherApplication.id))
        .where(OtherApplication.candidate_id == Candidate.id)
        .correlate(Candidate)
        .scalar_subquery()
    )
    return (
        select(
            *CANDIDATE_SESSION_COLUMNS,
            Feedback.id,
            Organization.display_name,
            Organization.slug,
            Organization.accent_colour,
            Job.title,
            Job.team,
            Job.location,
            Application.stage,
            Application.decided_at,
            Feedback.decision_summary,
            Feedback.personal_note,
            Feedback.reapply_after_months,
            Feedback.suggested_roles,
            Feedback.pool_invitation_offered,
            others,
            FeedbackItem.kind,
            FeedbackItem.rating,
            FeedbackItem.body,
            FeedbackItem.suggestion,
            Requirement.name,
            Requirement.description,
        )
        .select_from(Session)
        .join(Candidate, Candidate.id == Session.candidate_id)
        # Scoped to the signed-in candidate, as readable_applications() scopes a
        # candidate (inlined: this page is one statement): anyone else's id finds
        # no application.
        .outerjoin(
            Application,
            and_(
                Application.id == bindparam("application_id"),
                Application.candidate_id == Candidate.id,
            ),
        )
        .outerjoin(Job, Job.id == Application.job_id)
        .outerjoin(Organization, Organization.id == Job.organization_id)
        .outerjoin(
            Feedback,
            and_(
                Feedback.application_id == Application.id,
                Feedback.state == "published",
                Feedback.version == latest,
            ),
        )
        .outerjoin(
            FeedbackItem,
            and_(FeedbackItem.feedback_id == Feedback.id, FeedbackItem.visible.is_(True)),
        )
        .outerjoin(Requirement, Requirement.id == FeedbackItem.requirement_id)
        .where(Session.id_hash == bindparam("id_hash"))
        .order_by(FeedbackItem.kind, FeedbackItem.position, FeedbackItem.id)
    )


OtherApplication = aliased(Application)
FEEDBACK_PAGE = _feedback_page_statement()


async def load_feedback_page(
    reader: Reader,
    *,
    id_hash: bytes,
    application_id: int,
    now: dt.datetime,
    settings: Settings,
) -> tuple[Actor | None, FeedbackPage | None]:
    """Who the session belongs to (None if there is no such session; checked by
    portal.auth's check_session_row) and, for a candidate, their page for one
    application (None if it is not theirs or nothing is published)."""
    rows = await reader.fetch(FEEDBACK_PAGE, {"id_hash": id_hash, "application_id": application_id})
    if not rows:
        return None, None
    first = rows[0]
    who, touch = check_session_row(first, id_hash=id_hash, now=now, settings=settings)
    if touch:
        await reader.execute(TOUCH_SESSION, {"session_id_hash": id_hash, "now": now})
    if not isinstance(who, CandidateActor) or first[6] is None:
        return who, None
    page = FeedbackPage(
        application_id=application_id,
        branding=Branding(first[7], first[8], first[9]),
        candidate_name=who.name,
        job_title=first[10],
        team=first[11],
        location=first[12],
        stage=first[13],
        decided_at=first[14],
        decision_summary=first[15],
        personal_note=first[16],
        reapply_after_months=first[17],
        suggested_roles=list(first[18] or []),
        pool_invitation_offered=first[19],
        has_other_applications=first[20] > 1,
    )
    for row in rows:
        kind, rating, body, suggestion, req_name, req_description = row[21:]
        if kind == "assessment":
            page.assessments.append(
                Assessment(req_name or "", req_description or "", rating or "", body)
            )
        elif kind == "strength":
            page.strengths.append(Strength(body, req_name))
        elif kind == "growth_area":
            page.growth_areas.append(GrowthArea(body, suggestion, req_name))
    return who, page
