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
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from portal.candidates.models import Application, Candidate, Job, Requirement
from portal.db import NamedRow
from portal.feedback.models import Feedback, FeedbackItem
from portal.orgs.models import Organization

STAGE_WORDS = {
    "applied": "We reviewed your application",
    "screen": "You reached the screening call",
    "interview": "You reached the interviews",
    "final": "You reached the final interview",
}
RATING_WORDS = {"met": "Met", "partly_met": "Partly met", "not_yet_met": "Not yet met"}


class Version(enum.Enum):
    """Which version of an application's feedback to show (or a version number)."""

    PUBLISHED = "published"  # the newest published version: what the candidate sees
    LATEST = "latest"  # the newest version in any state: a draft's preview


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


@dataclass(frozen=True)
class FeedbackView:
    """One version of the feedback on one application, as the candidate sees it."""

    application_id: int
    version: int
    state: str  # "draft" or "published"
    published_at: dt.datetime | None
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
    suggested_roles: tuple[str, ...]
    pool_invitation_offered: bool
    has_other_applications: bool
    assessments: tuple[Assessment, ...] = ()
    strengths: tuple[Strength, ...] = ()
    growth_areas: tuple[GrowthArea, ...] = ()

    @property
    def stage_words(self) -> str:
        return STAGE_WORDS[self.stage]

    @property
    def first_name(self) -> str:
        return self.candidate_name.split(" ", 1)[0]

    @property
    def is_draft(self) -> bool:
        return self.state != "published"


_OtherApplication = aliased(Application)

# One value per view, repeated on each of its rows. Labelled, so that rows are
# read by name and no two columns share one.
VIEW_COLUMNS = (
    Application.id.label("application_id"),
    Feedback.version.label("feedback_version"),
    Feedback.state.label("feedback_state"),
    Feedback.published_at.label("published_at"),
    Organization.display_name.label("organization_name"),
    Organization.slug.label("organization_slug"),
    Organization.accent_colour.label("accent_colour"),
    Candidate.name.label("candidate_name"),
    Job.title.label("job_title"),
    Job.team.label("job_team"),
    Job.location.label("job_location"),
    Application.stage.label("stage"),
    Application.decided_at.label("decided_at"),
    Feedback.decision_summary.label("decision_summary"),
    Feedback.personal_note.label("personal_note"),
    Feedback.reapply_after_months.label("reapply_after_months"),
    Feedback.suggested_roles.label("suggested_roles"),
    Feedback.pool_invitation_offered.label("pool_invitation_offered"),
    select(func.count(_OtherApplication.id))
    .where(_OtherApplication.candidate_id == Candidate.id)
    .correlate(Candidate)
    .scalar_subquery()
    .label("applications_of_candidate"),
)
# One item per row (all None on the one row of a version without visible items).
ITEM_COLUMNS = (
    FeedbackItem.kind.label("item_kind"),
    FeedbackItem.rating.label("item_rating"),
    FeedbackItem.body.label("item_body"),
    FeedbackItem.suggestion.label("item_suggestion"),
    Requirement.name.label("requirement_name"),
    Requirement.description.label("requirement_description"),
)


def version_condition(version: Version | int) -> ColumnElement[bool]:
    """The condition on `Feedback` (joined to `Application`) that picks `version`."""
    if isinstance(version, Version):
        newest = select(func.max(Feedback.version)).where(Feedback.application_id == Application.id)
        if version is Version.PUBLISHED:
            newest = newest.where(Feedback.state == "published")
        condition = Feedback.version == newest.correlate(Application).scalar_subquery()
        if version is Version.PUBLISHED:
            condition = and_(Feedback.state == "published", condition)
        return condition
    return Feedback.version == version


def view_joins(statement: Select[Any], version: Version | int) -> Select[Any]:
    """`statement` (whose FROM already has `Application` and `Candidate`) with
    what a view needs joined on, visible items only, in the page's order.

    Outer joins, so a statement that starts from something else (a session)
    still answers a row when there is no such application or version; such a
    row has ``feedback_version`` NULL."""
    return (
        statement.outerjoin(Job, Job.id == Application.job_id)
        .outerjoin(Organization, Organization.id == Job.organization_id)
        .outerjoin(
            Feedback, and_(Feedback.application_id == Application.id, version_condition(version))
        )
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
        if kind == "assessment":
            assessments.append(
                Assessment(
                    requirement=row["requirement_name"] or "",
                    description=row["requirement_description"] or "",
                    rating=row["item_rating"],
                    evidence=row["item_body"],
                )
            )
        elif kind == "strength":
            strengths.append(Strength(text=row["item_body"], requirement=row["requirement_name"]))
        elif kind == "growth_area":
            growth_areas.append(
                GrowthArea(
                    text=row["item_body"],
                    suggestion=row["item_suggestion"],
                    requirement=row["requirement_name"],
                )
            )
    if first is None:
        return None
    return FeedbackView(
        application_id=first["application_id"],
        version=first["feedback_version"],
        state=first["feedback_state"],
        published_at=first["published_at"],
        branding=Branding(
            display_name=first["organization_name"],
            slug=first["organization_slug"],
            accent_colour=first["accent_colour"],
        ),
        candidate_name=first["candidate_name"],
        job_title=first["job_title"],
        team=first["job_team"],
        location=first["job_location"],
        stage=first["stage"],
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
    )


def feedback_view_statement(
    *, application_id: int, readable: Select[Any] | None, version: Version | int
) -> Select[Any]:
    """The statement `load_feedback_view` runs (see there for `readable`)."""
    statement = (
        select(*VIEW_COLUMNS, *ITEM_COLUMNS)
        .select_from(Application)
        .join(Candidate, Candidate.id == Application.candidate_id)
        .where(Application.id == application_id)
    )
    if readable is not None:
        # Whatever the scope selects, only its application ids matter here.
        # Not correlated: the scope is a statement of its own, not a condition on
        # this statement's row.
        scope = readable.with_only_columns(Application.id, maintain_column_froms=True)
        statement = statement.where(Application.id.in_(scope.correlate(None)))
    return view_joins(statement, version)


async def load_feedback_view(
    db: AsyncSession,
    *,
    application_id: int,
    readable: Select[Any] | None,
    version: Version | int = Version.PUBLISHED,
) -> FeedbackView | None:
    """One version of the feedback on one application as its candidate would see
    it, or None if there is no such application (in scope) or version.

    Scoping is the caller's: pass as `readable` the statement of the
    applications the actor may read (a ``select`` from `Application`, such as a
    domain's readable statement; only ``Application.id`` is taken from it), and
    an application outside it answers None, as a missing one does. Pass
    ``readable=None`` only when `application_id` itself came from such a
    statement (say, a list the actor was shown in this request); there is no
    default, so a caller cannot forget the scope by accident.
    """
    statement = feedback_view_statement(
        application_id=application_id, readable=readable, version=version
    )
    rows = (await db.execute(statement)).mappings().all()
    return build_feedback_view(rows)
