"""What a candidate sees of one version of their feedback, built in one place.

`build_feedback_view` turns rows selected with `VIEW_COLUMNS` and `ITEM_COLUMNS`
(one row per visible item, read by column name) into a frozen `FeedbackView`
that templates walk: the candidate's page, a recruiter's preview of a draft,
a PDF, an API client. Every caller selects through `view_joins`, so internal
items (``visible = false``) never reach any of them: a preview shows what the
candidate *would* see.

Which version: `Version.PUBLISHED` (the newest published one, what the
candidate sees), `Version.LATEST` (the newest in any state: the draft being
written, else the published one) or a version number.

A published version's items name their requirement as the candidate read it
(the copy kept when it was published: `drafts.keep_requirements_as_published`),
so later changes to the job's requirements never show in it; a draft's items
name it as the job has it now.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from portal.candidates.models import (
    Application,
    ApplicationStatus,
    Candidate,
    Job,
    Requirement,
    Stage,
)
from portal.candidates.service import readable_applications
from portal.db import NamedRow
from portal.feedback.models import Feedback, FeedbackItem, FeedbackState, ItemKind, Rating
from portal.forms import web_link
from portal.orgs.branding import BRANDING_COLUMNS, Branding, branding_from
from portal.orgs.models import Organization
from portal.security.actors import Actor
from portal.security.actors import Candidate as CandidateActor
from portal.staff.models import StaffUser

# How far an application went, in two voices: to the candidate (their page, their
# list, the PDF) and about the candidate (every staff page). A staff page never
# says "you" to the recruiter about the candidate's progress.
STAGE_WORDS: dict[str, str] = {
    Stage.APPLIED: "We reviewed your application",
    Stage.SCREEN: "You reached the screening call",
    Stage.INTERVIEW: "You reached the interviews",
    Stage.FINAL: "You reached the final interview",
}
STAFF_STAGE_WORDS: dict[str, str] = {
    Stage.APPLIED: "Application reviewed",
    Stage.SCREEN: "Reached the screening call",
    Stage.INTERVIEW: "Reached the interviews",
    Stage.FINAL: "Reached the final interview",
}
RATING_WORDS: dict[str, str] = {
    Rating.MET: "Met",
    Rating.PARTLY_MET: "Partly met",
    Rating.NOT_YET_MET: "Not yet met",
}
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


class Version(enum.Enum):
    """Which version of an application's feedback to show (or a version number)."""

    PUBLISHED = "published"  # the newest published version: what the candidate sees
    LATEST = "latest"  # the newest version in any state: a draft's preview


@dataclass(frozen=True)
class Assessment:
    requirement: str
    description: str
    rating: Rating
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
    suggestion_url: str | None = None

    @property
    def suggestion_link(self) -> str | None:
        return web_link(self.suggestion_url)


@dataclass(frozen=True)
class RoleLink:
    title: str
    url: str | None  # where to read about it, when known


@dataclass(frozen=True)
class FeedbackView:
    """One version of the feedback on one application, as the candidate sees it."""

    application_id: int
    version: int
    state: FeedbackState
    published_at: dt.datetime | None
    branding: Branding
    candidate_name: str
    job_title: str
    team: str
    location: str
    stage: Stage
    decided_at: dt.datetime | None
    decision_summary: str
    personal_note: str
    reapply_after_months: int | None
    suggested_roles: tuple[str, ...]
    pool_invitation_offered: bool
    has_other_applications: bool
    assessments: tuple[Assessment, ...] = ()
    strengths: tuple[Strength, ...] = ()
    growth_areas: tuple[GrowthArea, ...] = ()
    status: ApplicationStatus = ApplicationStatus.REJECTED  # the application's
    # (role, URL) for the suggested roles that have a page to read.
    suggested_role_urls: tuple[tuple[str, str], ...] = ()
    # Who wrote this version, for the signature under their note.
    recruiter_name: str | None = None
    recruiter_title: str | None = None

    @property
    def stage_words(self) -> str:
        return STAGE_WORDS[self.stage]

    @property
    def staff_stage_words(self) -> str:
        """How far the application went, as staff pages say it ("Reached the interviews")."""
        return STAFF_STAGE_WORDS[self.stage]

    @property
    def outcome(self) -> str:
        """The decision, stated by the page rather than left to the recruiter's words."""
        if self.status == ApplicationStatus.REJECTED:
            return f"You were not offered the {self.job_title} role"
        return f"No decision has been made yet on your {self.job_title} application"

    @property
    def stage_reached(self) -> str:
        """How far the application went, to follow the outcome: "you reached the final
        interview"."""
        words = self.stage_words
        return words[0].lower() + words[1:]

    @property
    def rating_tally(self) -> tuple[str, ...]:
        """The requirement table in one line: ("2 met", "2 partly met", "1 not yet met")."""
        counts = {rating: 0 for rating in RATING_WORDS}
        for assessment in self.assessments:
            counts[assessment.rating] += 1
        return tuple(
            f"{count} {RATING_WORDS[rating].lower()}" for rating, count in counts.items() if count
        )

    @property
    def note_paragraphs(self) -> tuple[str, ...]:
        """The recruiter's note as paragraphs (split at blank lines)."""
        return tuple(p.strip() for p in _PARAGRAPH_BREAK.split(self.personal_note) if p.strip())

    @property
    def signature(self) -> str:
        """ "Full name, Title · Organization", or the organization alone when the author
        is not known."""
        organization = self.branding.display_name
        if not self.recruiter_name:
            return organization
        who = self.recruiter_name
        if self.recruiter_title:
            who = f"{who}, {self.recruiter_title}"
        return f"{who} · {organization}"

    @property
    def role_links(self) -> tuple[RoleLink, ...]:
        urls = dict(self.suggested_role_urls)
        return tuple(RoleLink(role, web_link(urls.get(role))) for role in self.suggested_roles)

    @property
    def first_name(self) -> str:
        return self.candidate_name.split(" ", 1)[0]

    @property
    def is_draft(self) -> bool:
        return self.state != FeedbackState.PUBLISHED


_OtherApplication = aliased(Application)

# One value per view, repeated on each of its rows. Labelled, so that rows are
# read by name and no two columns share one.
VIEW_COLUMNS = (
    Application.id.label("application_id"),
    Feedback.version.label("feedback_version"),
    Feedback.state.label("feedback_state"),
    Feedback.published_at.label("published_at"),
    *BRANDING_COLUMNS,
    Candidate.name.label("candidate_name"),
    Job.title.label("job_title"),
    Job.team.label("job_team"),
    Job.location.label("job_location"),
    Application.stage.label("stage"),
    Application.decided_at.label("decided_at"),
    Application.status.label("application_status"),
    Feedback.decision_summary.label("decision_summary"),
    Feedback.personal_note.label("personal_note"),
    Feedback.reapply_after_months.label("reapply_after_months"),
    Feedback.suggested_roles.label("suggested_roles"),
    Feedback.suggested_role_urls.label("suggested_role_urls"),
    Feedback.pool_invitation_offered.label("pool_invitation_offered"),
    select(func.count(_OtherApplication.id))
    .where(_OtherApplication.candidate_id == Candidate.id)
    .correlate(Candidate)
    .scalar_subquery()
    .label("applications_of_candidate"),
    StaffUser.name.label("recruiter_name"),
    StaffUser.title.label("recruiter_title"),
)
# One item per row (all None on the one row of a version without visible items).
ITEM_COLUMNS = (
    FeedbackItem.kind.label("item_kind"),
    FeedbackItem.rating.label("item_rating"),
    FeedbackItem.body.label("item_body"),
    FeedbackItem.suggestion.label("item_suggestion"),
    FeedbackItem.suggestion_url.label("item_suggestion_url"),
    # A published item's requirement as the candidate read it; a draft's as it is now.
    func.coalesce(FeedbackItem.requirement_name, Requirement.name).label("requirement_name"),
    func.coalesce(FeedbackItem.requirement_description, Requirement.description).label(
        "requirement_description"
    ),
)


def version_condition(version: Version | int) -> ColumnElement[bool]:
    """The condition on `Feedback` (joined to `Application`) that picks `version`."""
    if isinstance(version, Version):
        newest = select(func.max(Feedback.version)).where(Feedback.application_id == Application.id)
        if version is Version.PUBLISHED:
            newest = newest.where(Feedback.state == FeedbackState.PUBLISHED)
        condition = Feedback.version == newest.correlate(Application).scalar_subquery()
        if version is Version.PUBLISHED:
            condition = and_(Feedback.state == FeedbackState.PUBLISHED, condition)
        return condition
    return Feedback.version == version


def view_joins(statement: Select[Any], version: Version | int) -> Select[Any]:
    """`statement` (whose FROM already has `Application` and `Candidate`) with
    what a view needs joined on, visible items only, in the page's order.

    Outer joins, so the application's row comes back even when it has no such
    version; that row has ``feedback_version`` NULL."""
    return (
        statement.outerjoin(Job, Job.id == Application.job_id)
        .outerjoin(Organization, Organization.id == Job.organization_id)
        .outerjoin(
            Feedback, and_(Feedback.application_id == Application.id, version_condition(version))
        )
        .outerjoin(StaffUser, StaffUser.id == Feedback.created_by_staff_id)
        .outerjoin(
            FeedbackItem,
            # Internal items never leave the database, whoever is asking.
            and_(FeedbackItem.feedback_id == Feedback.id, FeedbackItem.visible.is_(True)),
        )
        .outerjoin(Requirement, Requirement.id == FeedbackItem.requirement_id)
        .order_by(FeedbackItem.kind, FeedbackItem.position, FeedbackItem.id)
    )


def build_feedback_view(rows: Iterable[NamedRow]) -> FeedbackView | None:
    """The view from rows with `VIEW_COLUMNS` and `ITEM_COLUMNS` (one per item, in
    order); None when there are no rows or they found no such version."""
    assessments: list[Assessment] = []
    strengths: list[Strength] = []
    growth_areas: list[GrowthArea] = []
    first: NamedRow | None = None
    for row in rows:
        if first is None:
            if row["feedback_version"] is None:
                return None
            first = row
        kind = row["item_kind"]
        if kind == ItemKind.ASSESSMENT:
            assessments.append(
                Assessment(
                    requirement=row["requirement_name"] or "",
                    description=row["requirement_description"] or "",
                    rating=Rating(row["item_rating"]),
                    evidence=row["item_body"],
                )
            )
        elif kind == ItemKind.STRENGTH:
            strengths.append(Strength(text=row["item_body"], requirement=row["requirement_name"]))
        elif kind == ItemKind.GROWTH_AREA:
            growth_areas.append(
                GrowthArea(
                    text=row["item_body"],
                    suggestion=row["item_suggestion"],
                    requirement=row["requirement_name"],
                    suggestion_url=row["item_suggestion_url"],
                )
            )
    if first is None:
        return None
    return FeedbackView(
        application_id=first["application_id"],
        version=first["feedback_version"],
        state=FeedbackState(first["feedback_state"]),
        published_at=first["published_at"],
        branding=branding_from(first),
        candidate_name=first["candidate_name"],
        job_title=first["job_title"],
        team=first["job_team"],
        location=first["job_location"],
        stage=Stage(first["stage"]),
        decided_at=first["decided_at"],
        decision_summary=first["decision_summary"],
        personal_note=first["personal_note"],
        reapply_after_months=first["reapply_after_months"],
        suggested_roles=tuple(first["suggested_roles"] or ()),
        pool_invitation_offered=first["pool_invitation_offered"],
        has_other_applications=first["applications_of_candidate"] > 1,
        assessments=tuple(assessments),
        strengths=tuple(strengths),
        growth_areas=tuple(growth_areas),
        status=ApplicationStatus(first["application_status"]),
        suggested_role_urls=tuple(sorted((first["suggested_role_urls"] or {}).items())),
        recruiter_name=first["recruiter_name"],
        recruiter_title=first["recruiter_title"],
    )


def feedback_view_statement(
    *, actor: Actor, application_id: int, version: Version | int
) -> Select[Any]:
    """The statement `load_feedback_view` runs: from the applications `actor` may
    read (`readable_applications`), the one asked for, with what a view shows."""
    if isinstance(actor, CandidateActor):
        # A candidate reads only what was published to them, whatever is asked.
        version = Version.PUBLISHED
    statement = (
        readable_applications(actor)
        .with_only_columns(*VIEW_COLUMNS, *ITEM_COLUMNS, maintain_column_froms=True)
        .join(Candidate, Candidate.id == Application.candidate_id)
        .where(Application.id == application_id)
    )
    return view_joins(statement, version)


async def load_feedback_view(
    db: AsyncSession,
    *,
    actor: Actor,
    application_id: int,
    version: Version | int = Version.PUBLISHED,
) -> FeedbackView | None:
    """One version of the feedback on one application as its candidate would see
    it, or None if `actor` may not read that application (`readable_applications`)
    or there is no such application or version. A candidate gets only the
    published version."""
    statement = feedback_view_statement(actor=actor, application_id=application_id, version=version)
    rows = (await db.execute(statement)).mappings().all()
    return build_feedback_view(rows)
