"""What a conversation is about, for the staff thread page: the application (candidate,
job, stage, assignee) and a short summary of the published feedback the candidate
read: the decision summary, each requirement's rating, the strengths and growth
areas in a line each. Only what the candidate sees is summarized; the editor shows
the rest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.candidates.models import Application, Candidate, Job, Requirement
from portal.candidates.service import readable_applications
from portal.feedback.models import Feedback, FeedbackItem, FeedbackState, ItemKind, Rating
from portal.security.actors import Staff
from portal.staff.models import StaffUser

RATING_WORDS = {
    Rating.MET: "Met",
    Rating.PARTLY_MET: "Partly met",
    Rating.NOT_YET_MET: "Not yet met",
}
# A strength or growth area in one line: its first words.
LINE_LENGTH = 90


@dataclass(frozen=True)
class Rated:
    requirement: str
    rating: str  # the rating's value, for the badge's class
    words: str


@dataclass(frozen=True)
class FeedbackSummary:
    version: int
    published_at: dt.datetime | None
    decision_summary: str
    ratings: list[Rated] = field(default_factory=list)
    strengths: list[str] = field(default_factory=list)
    growth_areas: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ApplicationContext:
    application_id: int
    candidate_name: str
    candidate_email: str
    job_title: str
    stage: str
    assignee: str | None
    feedback: FeedbackSummary | None
    newer_draft: bool

    @property
    def stage_name(self) -> str:
        return self.stage.capitalize()


def one_line(text: str, limit: int = LINE_LENGTH) -> str:
    """The first `limit` characters of `text` on one line, cut at a word."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0].rstrip(",;:.")
    return f"{cut}…"


async def application_context(
    db: AsyncSession, *, actor: Staff, application_id: int
) -> ApplicationContext | None:
    """The application of a thread in the actor's organization (None for another's)."""
    head = (
        await db.execute(
            readable_applications(actor)
            .with_only_columns(
                Application.id,
                Candidate.name.label("candidate_name"),
                Candidate.email.label("candidate_email"),
                Job.title.label("job_title"),
                Application.stage,
                StaffUser.name.label("assignee"),
            )
            .join(Candidate, Candidate.id == Application.candidate_id)
            .join(Job, Job.id == Application.job_id)
            .outerjoin(StaffUser, StaffUser.id == Application.assignee_staff_id)
            .where(Application.id == application_id)
        )
    ).one_or_none()
    if head is None:
        return None
    versions = (
        await db.execute(
            select(Feedback.id, Feedback.version, Feedback.state, Feedback.published_at)
            .where(Feedback.application_id == application_id)
            .order_by(Feedback.version.desc())
        )
    ).all()
    published = next((v for v in versions if v.state == FeedbackState.PUBLISHED), None)
    newer_draft = (
        bool(versions) and versions[0].state == FeedbackState.DRAFT and (published is not None)
    )
    summary = None
    if published is not None:
        summary = await _summary(db, published.id)
    return ApplicationContext(
        application_id=head.id,
        candidate_name=head.candidate_name,
        candidate_email=head.candidate_email,
        job_title=head.job_title,
        stage=str(head.stage),
        assignee=head.assignee,
        feedback=summary,
        newer_draft=newer_draft,
    )


async def _summary(db: AsyncSession, feedback_id: int) -> FeedbackSummary:
    feedback = (
        await db.execute(
            select(Feedback.version, Feedback.published_at, Feedback.decision_summary).where(
                Feedback.id == feedback_id
            )
        )
    ).one()
    items = await db.execute(
        select(FeedbackItem.kind, FeedbackItem.rating, FeedbackItem.body, Requirement.name)
        .outerjoin(Requirement, Requirement.id == FeedbackItem.requirement_id)
        .where(FeedbackItem.feedback_id == feedback_id, FeedbackItem.visible.is_(True))
        .order_by(FeedbackItem.kind, FeedbackItem.position, FeedbackItem.id)
    )
    ratings: list[Rated] = []
    strengths: list[str] = []
    growth: list[str] = []
    for item in items:
        if item.kind == ItemKind.ASSESSMENT and item.rating is not None:
            ratings.append(Rated(item.name or "", str(item.rating), RATING_WORDS[item.rating]))
            continue
        line = one_line(item.body)
        if item.name:
            line = f"{item.name}: {line}"
        (strengths if item.kind == ItemKind.STRENGTH else growth).append(line)
    return FeedbackSummary(
        version=feedback.version,
        published_at=feedback.published_at,
        decision_summary=one_line(feedback.decision_summary, 300),
        ratings=ratings,
        strengths=strengths,
        growth_areas=growth,
    )
