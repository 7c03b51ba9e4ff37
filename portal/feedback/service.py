"""What a candidate sees of their feedback: only published versions, only visible items.

Queries select plain columns into small dataclasses: the page shows a few
fields of many rows, and the candidate page is the busiest in the product.
The feedback itself is built by `portal.feedback.view`, for every reader of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import RowMapping, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth import Actor
from portal.auth import Candidate as CandidateActor
from portal.candidates.models import Application, Candidate, Job
from portal.candidates.service import readable_applications
from portal.db import column_rows
from portal.feedback.models import Feedback
from portal.feedback.view import (
    STAGE_WORDS,
    FeedbackView,
    Version,
    build_feedback_view,
    feedback_view_statement,
)
from portal.threads.models import Thread
from portal.threads.service import HEAD_COLUMNS, ThreadHead, blocked_column, head_from_row


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


def _page_statement() -> Select[Any]:
    """The candidate's page for one application, from `readable_applications` of a
    candidate: the version and its visible items, the thread's head and whether
    the candidate is blocked, so that a page without a conversation needs no other
    query.

    Built once: building this statement and its cache key cost more CPU than the
    rest of the busiest request. So the candidate it is scoped to is one whose ids
    are bound parameters (``candidate_id``, ``organization_id``), and the scope is
    still `readable_applications`'s own."""
    candidate = CandidateActor(
        candidate_id=cast(int, bindparam("candidate_id")),
        organization_id=cast(int, bindparam("organization_id")),
        name="",
        session_id_hash=b"",
    )
    return (
        feedback_view_statement(
            actor=candidate,
            application_id=cast(int, bindparam("application_id")),
            version=Version.PUBLISHED,
        )
        .add_columns(*HEAD_COLUMNS, blocked_column(Candidate.id, Candidate.organization_id))
        .outerjoin(Thread, Thread.application_id == Application.id)
    )


FEEDBACK_PAGE = _page_statement()


def page_from_rows(rows: Sequence[RowMapping]) -> tuple[FeedbackView, ThreadHead] | None:
    """The page and its conversation's head from the rows of `FEEDBACK_PAGE` (or of a
    statement that adds columns to it); None when they found nothing published."""
    view = build_feedback_view(rows)
    if view is None:
        return None
    return view, head_from_row(rows[0])


def page_parameters(actor: CandidateActor, application_id: int) -> dict[str, int]:
    """The bound parameters of `FEEDBACK_PAGE` for one of `actor`'s applications."""
    return {
        "candidate_id": actor.candidate_id,
        "organization_id": actor.organization_id,
        "application_id": application_id,
    }


async def load_feedback_page(
    db: AsyncSession, *, actor: CandidateActor, application_id: int
) -> tuple[FeedbackView, ThreadHead] | None:
    """The candidate's page for one of their applications (see `_page_statement`)
    with what is known of its conversation; None if it is not theirs or nothing
    is published."""
    rows = await column_rows(db, FEEDBACK_PAGE, page_parameters(actor, application_id))
    return page_from_rows(rows)
