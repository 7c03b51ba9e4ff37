"""What a candidate sees of their feedback: only published versions, only visible items.

Queries select plain columns into small dataclasses: the page shows a few
fields of many rows, and the candidate page is the busiest in the product.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.candidates.models import Application, Job, Requirement
from portal.feedback.models import Feedback, FeedbackItem
from portal.orgs.models import Organization

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


def _latest_published_version() -> object:
    return (
        select(func.max(Feedback.version))
        .where(Feedback.application_id == Application.id, Feedback.state == "published")
        .correlate(Application)
        .scalar_subquery()
    )


async def list_applications(db: AsyncSession, *, candidate_id: int) -> list[ApplicationSummary]:
    has_feedback = (
        select(Feedback.id)
        .where(Feedback.application_id == Application.id, Feedback.state == "published")
        .correlate(Application)
        .exists()
    )
    rows = await db.execute(
        select(Application.id, Job.title, Application.decided_at, Application.stage, has_feedback)
        .join(Job, Job.id == Application.job_id)
        .where(Application.candidate_id == candidate_id)
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


async def load_feedback_page(
    db: AsyncSession, *, candidate_id: int, application_id: int, candidate_name: str
) -> FeedbackPage | None:
    """The candidate's view of one application, or None if it is not theirs or not published."""
    others = (
        select(func.count(Application.id))
        .where(Application.candidate_id == candidate_id)
        .scalar_subquery()
    )
    row = (
        await db.execute(
            select(
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
            )
            .select_from(Application)
            .join(Job, Job.id == Application.job_id)
            .join(Organization, Organization.id == Job.organization_id)
            .join(Feedback, Feedback.application_id == Application.id)
            .where(
                Application.id == application_id,
                # Scoped to the signed-in candidate: anyone else's id finds nothing.
                Application.candidate_id == candidate_id,
                Feedback.state == "published",
                Feedback.version == _latest_published_version(),
            )
        )
    ).one_or_none()
    if row is None:
        return None
    feedback_id = row[0]
    page = FeedbackPage(
        application_id=application_id,
        branding=Branding(row[1], row[2], row[3]),
        candidate_name=candidate_name,
        job_title=row[4],
        team=row[5],
        location=row[6],
        stage=row[7],
        decided_at=row[8],
        decision_summary=row[9],
        personal_note=row[10],
        reapply_after_months=row[11],
        suggested_roles=list(row[12] or []),
        pool_invitation_offered=row[13],
        has_other_applications=row[14] > 1,
    )
    items = await db.execute(
        select(
            FeedbackItem.kind,
            FeedbackItem.rating,
            FeedbackItem.body,
            FeedbackItem.suggestion,
            Requirement.name,
            Requirement.description,
        )
        .outerjoin(Requirement, Requirement.id == FeedbackItem.requirement_id)
        .where(FeedbackItem.feedback_id == feedback_id, FeedbackItem.visible.is_(True))
        .order_by(FeedbackItem.kind, FeedbackItem.position, FeedbackItem.id)
    )
    for kind, rating, body, suggestion, req_name, req_description in items:
        if kind == "assessment":
            page.assessments.append(
                Assessment(req_name or "", req_description or "", rating or "", body)
            )
        elif kind == "strength":
            page.strengths.append(Strength(body, req_name))
        else:
            page.growth_areas.append(GrowthArea(body, suggestion, req_name))
    return page
