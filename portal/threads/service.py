"""The rules of a conversation: who may read a thread, asking, and what a candidate sees.

One thread per application. A candidate's message puts it in the organization's
queue (`waiting`) with a due date (the reply promise, in working days); a reply
answers it; the candidate may follow up until staff close it. Staff actions live
in `portal.threads.moderation`, the queue's reads in `portal.threads.queue`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, exists, false, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.candidates.models import Application
from portal.candidates.service import readable_applications
from portal.db import NamedRow
from portal.feedback.models import Feedback, FeedbackState
from portal.orgs.models import Organization
from portal.security.actors import Actor, ApiKey, Candidate, Staff
from portal.settings import Settings
from portal.threads.abuse import assess_message
from portal.threads.models import (
    AuthorKind,
    CandidateBlock,
    Message,
    MessageState,
    Thread,
    ThreadState,
)
from portal.threads.notifications import notify_new_question
from portal.threads.text import render_message
from portal.threads.working_days import reply_due
from portal.webhooks import service as webhooks


class Blocked(Exception):
    """The candidate may not post to this organization any more."""


class ThreadClosed(Exception):
    """The conversation is closed: nothing more can be added to it."""


def readable_threads(actor: Actor) -> Select[Thread]:
    """A candidate's own threads; a staff member's organization's; nothing for anyone
    else. Every look-up of a thread starts here."""
    statement = select(Thread)
    if isinstance(actor, Candidate):
        return statement.where(Thread.candidate_id == actor.candidate_id)
    if isinstance(actor, Staff) or (isinstance(actor, ApiKey) and "threads:read" in actor.scopes):
        return statement.where(Thread.organization_id == actor.organization_id)
    return statement.where(false())


# --- what the candidate's page shows --------------------------------------------


@dataclass(frozen=True)
class ThreadHead:
    """What the feedback page's own statement says about the conversation: enough to
    show the form alone (no thread) without another query."""

    thread_id: int | None
    state: str | None
    due_on: dt.date | None
    closed_reason: str | None
    last_staff_message_at: dt.datetime | None
    candidate_read_at: dt.datetime | None
    blocked: bool

    @property
    def unread(self) -> bool:
        seen = self.candidate_read_at
        return self.last_staff_message_at is not None and (
            seen is None or seen < self.last_staff_message_at
        )


NO_THREAD = ThreadHead(None, None, None, None, None, None, False)

# Added to the feedback page's statement (portal.feedback.service), which already
# has the application and the candidate in its FROM: one unique-index look-up each.
HEAD_COLUMNS = (
    Thread.id.label("thread_id"),
    Thread.state.label("thread_state"),
    Thread.due_on.label("thread_due_on"),
    Thread.closed_reason.label("thread_closed_reason"),
    Thread.last_staff_message_at.label("thread_last_staff_message_at"),
    Thread.candidate_read_at.label("thread_candidate_read_at"),
)


def blocked_column(candidate_id: Any, organization_id: Any) -> Any:
    return (
        exists()
        .where(
            CandidateBlock.candidate_id == candidate_id,
            CandidateBlock.organization_id == organization_id,
        )
        .label("candidate_blocked")
    )


def head_of(thread: Thread, *, blocked: bool = False) -> ThreadHead:
    return ThreadHead(
        thread_id=thread.id,
        state=thread.state,
        due_on=thread.due_on,
        closed_reason=thread.closed_reason,
        last_staff_message_at=thread.last_staff_message_at,
        candidate_read_at=thread.candidate_read_at,
        blocked=blocked,
    )


def head_from_row(row: NamedRow) -> ThreadHead:
    blocked = bool(row["candidate_blocked"])
    if row["thread_id"] is None:
        return ThreadHead(None, None, None, None, None, None, blocked) if blocked else NO_THREAD
    return ThreadHead(
        thread_id=row["thread_id"],
        state=row["thread_state"],
        due_on=row["thread_due_on"],
        closed_reason=row["thread_closed_reason"],
        last_staff_message_at=row["thread_last_staff_message_at"],
        candidate_read_at=row["thread_candidate_read_at"],
        blocked=blocked,
    )


@dataclass(frozen=True)
class ShownMessage:
    id: int
    from_candidate: bool
    author_name: str
    html: Any  # Markup, or None when the message was withheld
    at: dt.datetime
    withheld: bool
    closing: bool


@dataclass(frozen=True)
class CandidateThread:
    head: ThreadHead
    messages: tuple[ShownMessage, ...]

    @property
    def closed(self) -> bool:
        return self.head.state == ThreadState.CLOSED

    @property
    def waiting(self) -> bool:
        return self.head.state == ThreadState.WAITING

    @property
    def can_post(self) -> bool:
        return not self.closed and not self.head.blocked


# The candidate's view of their thread: sent messages only (a reply waiting for
# approval is not theirs to see yet); hidden ones as a notice without their text.
CANDIDATE_MESSAGES = (
    select(
        Message.id,
        Message.author_kind,
        Message.body,
        Message.markdown,
        Message.created_at,
        Message.sent_at,
        Message.hidden_at,
        Message.closing,
    )
    .where(Message.thread_id == bindparam("thread_id"), Message.state == MessageState.SENT)
    .order_by(Message.id)
)
MARK_READ = (
    update(Thread)
    .where(Thread.id == bindparam("thread_id"))
    .values(candidate_read_at=bindparam("now"))
    # A plain UPDATE: reading is not an action on the thread, so no version change.
)


async def load_candidate_thread(
    db: AsyncSession, *, head: ThreadHead, organization: str, now: dt.datetime
) -> CandidateThread:
    """The messages of the thread the feedback page's statement found (one indexed
    query, none without a thread), marking staff messages read."""
    if head.thread_id is None:
        return CandidateThread(head, ())
    rows = (await db.execute(CANDIDATE_MESSAGES, {"thread_id": head.thread_id})).mappings().all()
    if head.unread:
        await db.execute(MARK_READ, {"thread_id": head.thread_id, "now": now})
    return CandidateThread(head, tuple(_shown(row, organization) for row in rows))


async def preview_thread(
    db: AsyncSession, *, actor: Actor, application_id: int, organization: str
) -> CandidateThread:
    """The conversation as the candidate of an application `actor` may read sees it on
    their page, for a recruiter's preview. Marks nothing read: the candidate has not."""
    row = (
        (
            await db.execute(
                readable_applications(actor)
                .with_only_columns(
                    *HEAD_COLUMNS,
                    blocked_column(Application.candidate_id, Application.organization_id),
                )
                .select_from(Application)
                .outerjoin(Thread, Thread.application_id == Application.id)
                .where(Application.id == application_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return CandidateThread(NO_THREAD, ())
    head = head_from_row(row)
    if head.thread_id is None:
        return CandidateThread(head, ())
    rows = (await db.execute(CANDIDATE_MESSAGES, {"thread_id": head.thread_id})).mappings().all()
    return CandidateThread(head, tuple(_shown(message, organization) for message in rows))


def _shown(row: NamedRow, organization: str) -> ShownMessage:
    from_candidate = row["author_kind"] == AuthorKind.CANDIDATE
    withheld = row["hidden_at"] is not None
    return ShownMessage(
        id=row["id"],
        from_candidate=from_candidate,
        author_name="You" if from_candidate else organization,
        html=None if withheld else render_message(row["body"], markdown=row["markdown"]),
        at=row["sent_at"] or row["created_at"],
        withheld=withheld,
        closing=row["closing"],
    )


# --- asking ----------------------------------------------------------------------


async def ask(
    db: AsyncSession,
    *,
    actor: Candidate,
    application_id: int,
    body: str,
    now: dt.datetime,
    settings: Settings,
    ip_hash: str | None = None,
) -> Thread | None:
    """Post the candidate's question (or follow-up) about one of their applications
    with published feedback; None when there is no such application for them.

    Raises `Blocked` or `ThreadClosed`. The message is assessed for abuse here and
    flagged for a person; it is never refused for its content. Audited as
    ``thread.question_asked``. A message that puts the conversation in the queue
    (a first question, or a follow-up after an answer) is emailed to the colleagues
    who look after it and asked to hear at once (`portal.threads.notifications`).
    """
    published = (
        select(Feedback.id)
        .where(Feedback.application_id == Application.id, Feedback.state == FeedbackState.PUBLISHED)
        .exists()
    )
    row = (
        await db.execute(
            readable_applications(actor)
            .with_only_columns(Application.id, Application.organization_id, Application.job_id)
            .where(Application.id == application_id, published)
        )
    ).one_or_none()
    if row is None:
        return None
    organization_id = row.organization_id
    blocked = await db.scalar(
        select(CandidateBlock.id).where(
            CandidateBlock.organization_id == organization_id,
            CandidateBlock.candidate_id == actor.candidate_id,
        )
    )
    if blocked is not None:
        raise Blocked()
    locked = select(Thread).where(Thread.application_id == application_id).with_for_update()
    thread = await db.scalar(locked)
    if thread is None:
        # Two first questions at once (a double click) make one thread.
        insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
        await db.execute(
            insert(Thread)
            .values(
                organization_id=organization_id,
                application_id=application_id,
                candidate_id=actor.candidate_id,
                job_id=row.job_id,
                state=ThreadState.WAITING,
                created_at=now,
                last_message_at=now,
                updated_at=now,
                flagged=False,
                flag_reasons="",
                pending_approval=False,
            )
            .on_conflict_do_nothing(index_elements=[Thread.application_id])
        )
        thread = (await db.scalars(locked)).one()
    elif thread.state == ThreadState.CLOSED:
        raise ThreadClosed()
    # Off the event loop: cheap, except the first call of a process loads the model.
    assessment = await asyncio.to_thread(assess_message, body)
    starts_wait = thread.state != ThreadState.WAITING or thread.waiting_since is None
    if starts_wait:
        promise = await db.scalar(
            select(Organization.reply_promise_days).where(Organization.id == organization_id)
        )
        thread.state = ThreadState.WAITING
        thread.waiting_since = now
        thread.due_on = reply_due(now, promise or 5)
    thread.last_message_at = now
    thread.updated_at = now
    if assessment.flagged:
        thread.flagged = True
        thread.flag_reasons = _merge_reasons(thread.flag_reasons, assessment.reasons)
    await db.flush()
    message = Message(
        thread_id=thread.id,
        author_kind=AuthorKind.CANDIDATE,
        body=body,
        state=MessageState.SENT,
        created_at=now,
        sent_at=now,
        flagged=assessment.flagged,
        flag_reasons=", ".join(assessment.reasons),
    )
    db.add(message)
    await db.flush()
    audit.record(
        db,
        action="thread.question_asked",
        actor_kind="candidate",
        actor_id=actor.candidate_id,
        organization_id=organization_id,
        subject_type="thread",
        subject_id=thread.id,
        ip_hash=ip_hash,
        details={"message_id": message.id, "flagged": assessment.flagged},
    )
    await webhooks.emit(
        db,
        organization_id=organization_id,
        event_type="question.asked",
        data={"application_id": application_id, "thread_id": thread.id, "message_id": message.id},
        now=now,
    )
    if starts_wait:
        await notify_new_question(
            db, thread_id=thread.id, message_id=message.id, settings=settings, now=now
        )
    return thread


def _merge_reasons(current: str, new: list[str]) -> str:
    reasons = [r for r in current.split(", ") if r]
    reasons += [r for r in new if r not in reasons]
    return ", ".join(reasons)[:100]
