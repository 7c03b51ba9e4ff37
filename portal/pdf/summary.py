"""What the candidate's PDF summary shows beyond the feedback page's own view: the
questions the organization has answered and the candidate's talent-pool status.

The PDF template (`templates/pdf/summary.html`) shows both sections when the view
it is given carries them; `SummaryView` is the feedback view with both filled in,
so the renderer's cache key (a hash of every field) changes when either does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth import Actor
from portal.feedback.view import FeedbackView
from portal.formats import long_date
from portal.pool.models import PoolState
from portal.pool.panel import Membership, application_panel
from portal.threads.models import AuthorKind, Thread
from portal.threads.service import CANDIDATE_MESSAGES, readable_threads


@dataclass(frozen=True)
class AnsweredQuestion:
    question: str
    answer: str
    answered_at: dt.datetime | None


@dataclass(frozen=True)
class SummaryView(FeedbackView):
    answered_questions: tuple[AnsweredQuestion, ...] = ()
    pool_status: str = ""
    # When the candidate's talent-pool consent ends, while they are a member.
    pool_member_until: dt.datetime | None = None
    # The closing line's link to "Was this helpful?" on the feedback page (portal.survey).
    survey_url: str = ""


async def answered_questions(
    db: AsyncSession, *, actor: Actor, application_id: int
) -> tuple[AnsweredQuestion, ...]:
    """Each question of the application's thread (one `actor` may read) with the
    replies sent to it, in order; questions still waiting, withheld messages and
    replies awaiting approval are left out (the same messages the candidate sees on
    the page, as plain text)."""
    thread_id = await db.scalar(
        readable_threads(actor)
        .with_only_columns(Thread.id)
        .where(Thread.application_id == application_id)
    )
    if thread_id is None:
        return ()
    rows = (await db.execute(CANDIDATE_MESSAGES, {"thread_id": thread_id})).mappings().all()
    exchanges: list[tuple[list[str], list[str], dt.datetime | None]] = []
    for row in rows:
        if row["hidden_at"] is not None:
            continue
        body = row["body"].strip()
        if row["author_kind"] == AuthorKind.CANDIDATE:
            if not exchanges or exchanges[-1][1]:
                exchanges.append(([], [], None))
            exchanges[-1][0].append(body)
        elif exchanges:
            questions, answers, _ = exchanges[-1]
            exchanges[-1] = (questions, [*answers, body], row["sent_at"] or row["created_at"])
    return tuple(
        AnsweredQuestion("\n\n".join(questions), "\n\n".join(answers), at)
        for questions, answers, at in exchanges
        if answers
    )


def pool_status(membership: Membership | None, organization: str) -> str:
    """One sentence on the candidate's place in the organization's talent pool."""
    if membership is None:
        return ""
    if membership.state == PoolState.ACTIVE:
        return (
            f"You joined the {organization} talent pool on {long_date(membership.joined_at)}; "
            f"your consent runs until {long_date(membership.expires_at)}, and you can leave "
            "at any time from your feedback page."
        )
    if membership.state == PoolState.LEFT and membership.left_at is not None:
        return f"You left the {organization} talent pool on {long_date(membership.left_at)}."
    ended = long_date(membership.expires_at)
    return f"Your place in the {organization} talent pool ended on {ended}."


async def summary_view(
    db: AsyncSession, page: FeedbackView, *, actor: Actor, survey_url: str = ""
) -> FeedbackView:
    """What the PDF shows, for the candidate and for staff alike: the feedback view
    (read by `actor`), with the answered questions of the application's thread and,
    when the feedback offers the pool, the candidate's place in it. Only what
    `actor` may read is read."""
    questions = await answered_questions(db, actor=actor, application_id=page.application_id)
    membership = None
    if page.pool_invitation_offered:
        panel = await application_panel(db, actor=actor, application_id=page.application_id)
        membership = panel.membership if panel else None
    status = pool_status(membership, page.branding.display_name)
    if not questions and not status and not survey_url:
        return page
    until = membership.expires_at if membership and membership.active else None
    return with_extras(page, questions, status, pool_member_until=until, survey_url=survey_url)


def with_extras(
    page: FeedbackView,
    questions: tuple[AnsweredQuestion, ...],
    status: str,
    *,
    pool_member_until: dt.datetime | None = None,
    survey_url: str = "",
) -> SummaryView:
    """The feedback view with the answered questions and the pool status filled in."""
    fields = {f.name: getattr(page, f.name) for f in dataclasses.fields(FeedbackView)}
    return SummaryView(
        **fields,
        answered_questions=questions,
        pool_status=status,
        pool_member_until=pool_member_until,
        survey_url=survey_url,
    )
