"""What a candidate sees of their feedback: only published versions, only visible items.

Queries select plain columns into small dataclasses: the page shows a few
fields of many rows, and the candidate page is the busiest in the product.
The feedback itself is built by `portal.feedback.view`, as for every reader.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth import CANDIDATE_SESSION_COLUMNS, Actor, check_session_row
from portal.auth import Candidate as CandidateActor
from portal.candidates.models import Application, Candidate, Job
from portal.candidates.service import readable_applications
from portal.feedback.models import Feedback
from portal.feedback.view import (
    BRANDING_COLUMNS,
    ITEM_COLUMNS,
    STAGE_WORDS,
    VIEW_COLUMNS,
    Branding,
    FeedbackView,
    Version,
    branding_from,
    build_feedback_view,
    view_joins,
)
from portal.orgs.models import Organization
from portal.reader import Reader
from portal.security.models import Session
from portal.security.sessions import TOUCH_SESSION
from portal.settings import Settings
from portal.threads.models import Thread
from portal.threads.service import (
    HEAD_COLUMNS,
    NO_THREAD,
    ThreadHead,
    blocked_column,
    head_from_row,
)


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
            Application.id.label("application_id"),
            Job.title.label("job_title"),
            Application.decided_at,
            Application.stage,
            has_feedback.label("has_feedback"),
        )
        .join(Job, Job.id == Application.job_id)
        .order_by(Application.decided_at.desc().nulls_last(), Application.id.desc())
    )
    return [ApplicationSummary(**row) for row in rows.mappings()]


async def branding(db: AsyncSession, *, organization_id: int) -> Branding:
    row = (
        await db.execute(select(*BRANDING_COLUMNS).where(Organization.id == organization_id))
    ).one()
    return branding_from(row._mapping)


_BRANDING_BY_ID = select(*BRANDING_COLUMNS).where(Organization.id == bindparam("organization_id"))
_BRANDING_BY_SLUG = select(*BRANDING_COLUMNS).where(Organization.slug == bindparam("slug"))


async def read_branding(
    reader: Reader, *, organization_id: int | None = None, slug: str | None = None
) -> Branding | None:
    """An organization's branding by id or by slug, in one autocommit statement (for
    pages outside a unit of work: sign-in, error pages). None if there is none."""
    if organization_id is not None:
        rows = await reader.fetch(_BRANDING_BY_ID, {"organization_id": organization_id})
    else:
        rows = await reader.fetch(_BRANDING_BY_SLUG, {"slug": slug})
    return branding_from(rows[0]) if rows else None


def _feedback_page_statement() -> Select[Any]:
    """Session, candidate, and the newest published version of one of their
    applications with its visible items (see `portal.feedback.view`).

    One statement (one row per item) because this is the busiest page of the
    product: every round trip and every statement SQLAlchemy prepares shows in
    its throughput (see bench/). Built once; only the bound values change, and
    it runs through `Reader`, on the driver directly on PostgreSQL. The session
    columns are checked by portal.auth's `check_session_row`; the rest is read
    by `build_feedback_view`, by name.
    """
    statement = (
        select(
            *CANDIDATE_SESSION_COLUMNS,
            *VIEW_COLUMNS,
            *ITEM_COLUMNS,
            # The conversation under the feedback (portal.threads): one unique-index
            # look-up each, so a page without a thread needs no other query.
            *HEAD_COLUMNS,
            blocked_column(Candidate.id, Candidate.organization_id),
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
        .outerjoin(Thread, Thread.application_id == Application.id)
        .where(Session.id_hash == bindparam("id_hash"))
    )
    return view_joins(statement, Version.PUBLISHED)


FEEDBACK_PAGE = _feedback_page_statement()


async def load_feedback_page(
    reader: Reader,
    *,
    id_hash: bytes,
    application_id: int,
    now: dt.datetime,
    settings: Settings,
) -> tuple[Actor | None, FeedbackView | None, ThreadHead]:
    """Who the session belongs to (None if there is no such session; checked by
    portal.auth's check_session_row) and, for a candidate, their page for one
    application (None if it is not theirs or nothing is published) with what
    the statement found of its conversation."""
    rows = await reader.fetch(FEEDBACK_PAGE, {"id_hash": id_hash, "application_id": application_id})
    if not rows:
        return None, None, NO_THREAD
    who, touch = check_session_row(rows[0], id_hash=id_hash, now=now, settings=settings)
    if touch:
        await reader.execute(TOUCH_SESSION, {"session_id_hash": id_hash, "now": now})
    if not isinstance(who, CandidateActor):
        return who, None, NO_THREAD
    view = build_feedback_view(rows)
    return who, view, NO_THREAD if view is None else head_from_row(rows[0])
