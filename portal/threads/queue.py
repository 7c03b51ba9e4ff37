"""Reading the queue and a thread for staff (DESIGN §5 "Queue").

The queue lists an organization's threads waiting for staff, flagged ones first,
then oldest first, with keyset pagination (a deep page costs what the first one
does) over the index `ix_threads_queue`. Counts for the navigation are capped
(`COUNT_CAP`), so they cost the same however long the queue grows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from portal.candidates.models import Candidate, Job
from portal.candidates.service import job_titles
from portal.forms import parse_number
from portal.orgs.models import Organization
from portal.security.actors import Staff
from portal.staff.models import StaffUser
from portal.threads.models import (
    AuthorKind,
    CandidateBlock,
    InternalNote,
    Message,
    MessageState,
    SavedAnswer,
    Thread,
    ThreadState,
)
from portal.threads.service import readable_threads
from portal.threads.text import render_message

PER_PAGE = 25
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# A cursor's time, in microseconds since EPOCH: no later than datetime allows.
MAX_MICROS = (dt.datetime.max.replace(tzinfo=dt.UTC) - EPOCH) // dt.timedelta(microseconds=1)
COUNT_CAP = 100

# The queue's filters: which threads a view shows. All but one are a thread's state;
# PENDING shows the waiting threads whose reply waits for approval.
PENDING = "pending"
STATES = {
    ThreadState.WAITING: "Waiting for a reply",
    PENDING: "Reply waiting for approval",
    ThreadState.ANSWERED: "Answered",
    ThreadState.OPEN: "Open, nothing to answer",
    ThreadState.CLOSED: "Closed",
}


@dataclass(frozen=True)
class QueueFilter:
    state: str = ThreadState.WAITING
    job: int | None = None
    # "me", "none", or a colleague's id as text; "" for anyone.
    assignee: str = ""
    overdue: bool = False
    flagged: bool = False
    # Where the page starts: the last entry of the page before, as flag_micros_id.
    after: str = ""

    @classmethod
    def from_query(cls, query: Any) -> QueueFilter:
        state = query.get("state", ThreadState.WAITING)
        job = query.get("job", "")
        assignee = query.get("assignee", "")
        if assignee not in ("", "me", "none") and parse_number(assignee) is None:
            assignee = ""
        return cls(
            state=state if state in STATES else ThreadState.WAITING,
            job=parse_number(job),
            assignee=assignee,
            overdue=query.get("overdue") == "1",
            flagged=query.get("flagged") == "1",
            after=query.get("after", "")[:60],
        )

    def query(self, **changes: Any) -> dict[str, str]:
        """The filter as query parameters (with `changes`), leaving out defaults."""
        values = {
            "state": self.state,
            "job": str(self.job or ""),
            "assignee": self.assignee,
            "overdue": "1" if self.overdue else "",
            "flagged": "1" if self.flagged else "",
            "after": "",
        }
        values.update({k: str(v) for k, v in changes.items()})
        return {
            k: v for k, v in values.items() if v and not (k == "state" and v == ThreadState.WAITING)
        }


@dataclass(frozen=True)
class QueueEntry:
    thread_id: int
    state: str
    candidate_name: str
    job_title: str
    waiting_since: dt.datetime | None
    due_on: dt.date | None
    last_message_at: dt.datetime
    candidate_read_at: dt.datetime | None
    flagged: bool
    flag_reasons: str
    pending_approval: bool
    assignee_name: str | None

    def overdue(self, today: dt.date) -> bool:
        return self.due_on is not None and self.due_on < today

    def due_today(self, today: dt.date) -> bool:
        return self.due_on == today


@dataclass(frozen=True)
class QueuePage:
    entries: list[QueueEntry]
    next_after: str | None
    jobs: list[tuple[int, str]]
    colleagues: list[tuple[int, str]]


@dataclass(frozen=True)
class QueueCounts:
    waiting: int
    overdue: int
    flagged: int
    pending: int

    def shown(self, number: int) -> str:
        return f"{COUNT_CAP - 1}+" if number >= COUNT_CAP else f"{number:,}"


_Assignee = aliased(StaffUser)

ENTRY_COLUMNS = (
    Thread.id.label("thread_id"),
    Thread.state,
    Candidate.name.label("candidate_name"),
    Job.title.label("job_title"),
    Thread.waiting_since,
    Thread.due_on,
    Thread.last_message_at,
    Thread.candidate_read_at,
    Thread.flagged,
    Thread.flag_reasons,
    Thread.pending_approval,
    _Assignee.name.label("assignee_name"),
)


def _filtered(actor: Staff, wanted: QueueFilter, today: dt.date) -> Select[Any]:
    # Scoped by readable_threads, whose WHERE is kept: the columns are the page's own.
    statement = cast(Select[Any], readable_threads(actor).with_only_columns(*ENTRY_COLUMNS))
    statement = (
        statement.join(Candidate, Candidate.id == Thread.candidate_id)
        .join(Job, Job.id == Thread.job_id)
        .outerjoin(_Assignee, _Assignee.id == Thread.assignee_staff_id)
    )
    if wanted.state == PENDING:
        statement = statement.where(
            Thread.state == ThreadState.WAITING, Thread.pending_approval.is_(True)
        )
    else:
        statement = statement.where(Thread.state == wanted.state)
    if wanted.job is not None:
        statement = statement.where(Thread.job_id == wanted.job)
    if wanted.assignee == "me":
        statement = statement.where(Thread.assignee_staff_id == actor.staff_id)
    elif wanted.assignee == "none":
        statement = statement.where(Thread.assignee_staff_id.is_(None))
    elif wanted.assignee:
        statement = statement.where(Thread.assignee_staff_id == int(wanted.assignee))
    if wanted.overdue:
        statement = statement.where(Thread.due_on < today)
    if wanted.flagged:
        statement = statement.where(Thread.flagged.is_(True))
    return statement


def _cursor(after: str) -> tuple[bool, dt.datetime, int] | None:
    """The position `after` names (see `_cursor_of`), or None for none (the first
    page) when it is not one of ours."""
    flag, _, rest = after.partition("_")
    stamp, _, ident = rest.partition("_")
    micros, thread_id = parse_number(stamp, low=0, high=MAX_MICROS), parse_number(ident)
    if micros is None or thread_id is None:
        return None
    return flag == "1", EPOCH + dt.timedelta(microseconds=micros), thread_id


def _cursor_of(entry: QueueEntry, waiting: bool) -> str:
    stamp = (entry.waiting_since if waiting else entry.last_message_at) or entry.last_message_at
    micros = int(stamp.timestamp() * 1_000_000)
    return f"{int(entry.flagged and waiting)}_{micros}_{entry.thread_id}"


async def queue_page(
    db: AsyncSession, *, actor: Staff, wanted: QueueFilter, today: dt.date
) -> QueuePage:
    statement = _filtered(actor, wanted, today)
    cursor = _cursor(wanted.after)
    waiting = wanted.state in (ThreadState.WAITING, PENDING)
    rows: list[Any] = []
    if waiting:
        # Flagged threads first, then the rest; each part oldest first. Two range
        # scans of the queue index rather than one sort of every waiting thread.
        for flag in (True, False):
            if cursor is not None and flag and not cursor[0]:
                continue
            part = statement.where(Thread.flagged.is_(flag))
            if cursor is not None and cursor[0] == flag:
                part = part.where(
                    tuple_(Thread.waiting_since, Thread.id)
                    > tuple_(literal(cursor[1]), literal(cursor[2]))
                )
            part = part.order_by(Thread.waiting_since, Thread.id).limit(PER_PAGE + 1 - len(rows))
            rows += (await db.execute(part)).all()
            if len(rows) > PER_PAGE:
                break
    else:
        if cursor is not None:
            statement = statement.where(
                tuple_(Thread.last_message_at, Thread.id)
                < tuple_(literal(cursor[1]), literal(cursor[2]))
            )
        statement = statement.order_by(Thread.last_message_at.desc(), Thread.id.desc())
        rows = list((await db.execute(statement.limit(PER_PAGE + 1))).all())
    entries = [QueueEntry(**row._mapping) for row in rows[:PER_PAGE]]
    next_after = _cursor_of(entries[-1], waiting) if len(rows) > PER_PAGE else None
    jobs = await job_titles(db, actor=actor)
    return QueuePage(entries, next_after, jobs, await colleagues(db, actor))


async def colleagues(db: AsyncSession, actor: Staff) -> list[tuple[int, str]]:
    rows = await db.execute(
        select(StaffUser.id, StaffUser.name)
        .where(StaffUser.organization_id == actor.organization_id, StaffUser.active.is_(True))
        .order_by(StaffUser.name, StaffUser.id)
    )
    return [(row.id, row.name) for row in rows]


def _capped(condition: ColumnElement[bool], actor: Staff) -> Any:
    inner = (
        select(literal(1))
        .select_from(Thread)
        .where(
            Thread.organization_id == actor.organization_id,
            Thread.state == ThreadState.WAITING,
            condition,
        )
        .limit(COUNT_CAP)
        .subquery()
    )
    return select(func.count()).select_from(inner).scalar_subquery()


async def queue_counts(db: AsyncSession, *, actor: Staff, today: dt.date) -> QueueCounts:
    """How many threads wait, are overdue, flagged, waiting for approval (at most
    COUNT_CAP each: one statement of bounded index scans)."""
    row = (
        await db.execute(
            select(
                _capped(literal(True), actor).label("waiting"),
                _capped(Thread.due_on < today, actor).label("overdue"),
                _capped(Thread.flagged.is_(True), actor).label("flagged"),
                _capped(Thread.pending_approval.is_(True), actor).label("pending"),
            )
        )
    ).one()
    return QueueCounts(**row._mapping)


# --- one thread ---------------------------------------------------------------------


@dataclass(frozen=True)
class StaffMessage:
    id: int
    from_candidate: bool
    author_staff_id: int | None
    author_name: str
    html: Any
    state: str
    closing: bool
    at: dt.datetime
    flagged: bool
    flag_reasons: str
    hidden: bool
    hidden_reason: str | None
    hidden_by: str | None
    review_comment: str | None
    reviewer: str | None
    body: str  # for "edit and send again" after a return; never shown once hidden

    @property
    def pending(self) -> bool:
        return self.state == MessageState.PENDING_APPROVAL

    @property
    def returned(self) -> bool:
        return self.state == MessageState.RETURNED


@dataclass(frozen=True)
class Note:
    author_name: str
    body: str
    at: dt.datetime


@dataclass(frozen=True)
class ThreadPage:
    thread_id: int
    version: int
    state: str
    application_id: int
    candidate_name: str
    job_title: str
    waiting_since: dt.datetime | None
    due_on: dt.date | None
    candidate_read_at: dt.datetime | None
    last_staff_message_at: dt.datetime | None
    flagged: bool
    flag_reasons: str
    pending_approval: bool
    closed_reason: str | None
    assignee_staff_id: int | None
    blocked: bool
    block_reason: str | None
    # The organization's approval rule: what a recruiter writes waits for a colleague.
    needs_approval: bool = False
    messages: list[StaffMessage] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    colleagues: list[tuple[int, str]] = field(default_factory=list)
    saved_answers: list[tuple[int, str]] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.state == ThreadState.CLOSED

    def overdue(self, today: dt.date) -> bool:
        return self.due_on is not None and self.due_on < today

    @property
    def read_latest(self) -> bool:
        seen, sent = self.candidate_read_at, self.last_staff_message_at
        return sent is not None and seen is not None and seen >= sent


_Author = aliased(StaffUser)
_Hider = aliased(StaffUser)
_Reviewer = aliased(StaffUser)


async def thread_page(db: AsyncSession, *, actor: Staff, thread_id: int) -> ThreadPage | None:
    """Everything the thread page shows, or None when the thread is not the actor's
    organization's."""
    head = (
        await db.execute(
            readable_threads(actor)
            .with_only_columns(
                Thread.id,
                Thread.version,
                Thread.state,
                Thread.application_id,
                Candidate.name.label("candidate_name"),
                Job.title.label("job_title"),
                Thread.waiting_since,
                Thread.due_on,
                Thread.candidate_read_at,
                Thread.last_staff_message_at,
                Thread.flagged,
                Thread.flag_reasons,
                Thread.pending_approval,
                Thread.closed_reason,
                Thread.assignee_staff_id,
                CandidateBlock.reason.label("block_reason"),
                Organization.replies_need_approval.label("needs_approval"),
            )
            .join(Candidate, Candidate.id == Thread.candidate_id)
            .join(Job, Job.id == Thread.job_id)
            .join(Organization, Organization.id == Thread.organization_id)
            .outerjoin(
                CandidateBlock,
                and_(
                    CandidateBlock.candidate_id == Thread.candidate_id,
                    CandidateBlock.organization_id == Thread.organization_id,
                ),
            )
            .where(Thread.id == thread_id)
        )
    ).one_or_none()
    if head is None:
        return None
    values = dict(head._mapping)
    thread_id, organization = values.pop("id"), actor.organization_id
    rows = await db.execute(
        select(
            Message.id,
            Message.author_kind,
            Message.author_staff_id,
            Message.body,
            Message.markdown,
            Message.state,
            Message.closing,
            Message.created_at,
            Message.sent_at,
            Message.flagged,
            Message.flag_reasons,
            Message.hidden_at,
            Message.hidden_reason,
            Message.review_comment,
            _Author.name.label("author_name"),
            _Hider.name.label("hider_name"),
            _Reviewer.name.label("reviewer_name"),
        )
        .outerjoin(_Author, _Author.id == Message.author_staff_id)
        .outerjoin(_Hider, _Hider.id == Message.hidden_by_staff_id)
        .outerjoin(_Reviewer, _Reviewer.id == Message.reviewed_by_staff_id)
        .where(Message.thread_id == thread_id)
        .order_by(Message.id)
    )
    messages = []
    for m in rows:
        from_candidate = m.author_kind == AuthorKind.CANDIDATE
        hidden = m.hidden_at is not None
        messages.append(
            StaffMessage(
                id=m.id,
                from_candidate=from_candidate,
                author_staff_id=m.author_staff_id,
                author_name=values["candidate_name"]
                if from_candidate
                else (m.author_name or "A former colleague"),
                html=None if hidden else render_message(m.body, markdown=m.markdown),
                state=m.state,
                closing=m.closing,
                at=m.sent_at or m.created_at,
                flagged=m.flagged,
                flag_reasons=m.flag_reasons,
                hidden=hidden,
                hidden_reason=m.hidden_reason,
                hidden_by=m.hider_name,
                review_comment=m.review_comment,
                reviewer=m.reviewer_name,
                body="" if hidden else m.body,
            )
        )
    notes = [
        Note(author_name=n.name or "A former colleague", body=n.body, at=n.created_at)
        for n in await db.execute(
            select(InternalNote.body, InternalNote.created_at, StaffUser.name)
            .outerjoin(StaffUser, StaffUser.id == InternalNote.author_staff_id)
            .where(InternalNote.thread_id == thread_id)
            .order_by(InternalNote.id)
        )
    ]
    answers = await db.execute(
        select(SavedAnswer.id, SavedAnswer.title)
        .where(SavedAnswer.organization_id == organization)
        .order_by(SavedAnswer.title)
    )
    block_reason = values.pop("block_reason")
    return ThreadPage(
        thread_id=thread_id,
        blocked=block_reason is not None,
        block_reason=block_reason,
        messages=messages,
        notes=notes,
        colleagues=await colleagues(db, actor),
        saved_answers=[(a.id, a.title) for a in answers],
        **values,
    )


async def saved_answer_body(db: AsyncSession, *, actor: Staff, answer_id: int) -> str | None:
    return await db.scalar(
        select(SavedAnswer.body).where(
            SavedAnswer.id == answer_id, SavedAnswer.organization_id == actor.organization_id
        )
    )
