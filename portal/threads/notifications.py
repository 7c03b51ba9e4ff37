"""Telling staff about candidates' questions by email: one email per new question,
and a daily digest of the questions waiting (DESIGN §5 "Queue").

Who looks after a question, the first that applies (only active accounts count):

1. the colleague the conversation is assigned to on the thread page;
2. the application's assignee (the applications list's "assigned to");
3. the author of the application's published feedback (its newest version);
4. the recruiters who handled the job: the authors of published feedback on any
   application for the same job;
5. the organization's admins.

Each staff member chooses on their profile (`StaffUser.question_emails`):
`immediately` (an email for each new question they look after, and a daily
digest when some are overdue), `daily` (the digest only: every question they look
after that waits, overdue ones first) or `never`. Nothing is sent about a blocked
candidate's conversation or a closed one, and nothing to a deactivated account.

Every email goes through the outbox with an idempotency key: one email per
question and person (`staff.question:<message>:<staff>`), one digest per person
and day in their own time zone (`staff.digest:<staff>:<date>`), however often the
periodic job (portal/threads/jobs.py) runs.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.candidates.models import Application, Candidate, Job
from portal.feedback.models import Feedback, FeedbackState
from portal.formats import zone_info
from portal.mail import service as mail
from portal.orgs.models import Organization
from portal.security.actors import StaffRole
from portal.settings import Settings
from portal.staff.models import QuestionEmails, StaffUser
from portal.threads.models import CandidateBlock, Thread, ThreadState
from portal.urls import absolute_url

# The digest goes out with the first run of the periodic job after this hour of
# the recipient's day (in their time zone, or their organization's).
DIGEST_HOUR = 8
# A digest lists at most this many conversations; the queue has the rest.
DIGEST_LIMIT = 50


@dataclass(frozen=True)
class Colleague:
    staff_id: int
    name: str
    email: str
    role: StaffRole
    question_emails: QuestionEmails
    time_zone: str


@dataclass(frozen=True)
class Waiting:
    """A conversation waiting for staff, as the emails describe it."""

    thread_id: int
    organization_id: int
    application_id: int
    job_id: int
    thread_assignee: int | None
    application_assignee: int | None
    candidate_name: str
    job_title: str
    due_on: dt.date | None
    flagged: bool


def _day(value: dt.date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


def _not_blocked() -> ColumnElement[bool]:
    return ~exists().where(
        CandidateBlock.candidate_id == Thread.candidate_id,
        CandidateBlock.organization_id == Thread.organization_id,
    )


WAITING_COLUMNS = (
    Thread.id.label("thread_id"),
    Thread.organization_id,
    Thread.application_id,
    Thread.job_id,
    Thread.assignee_staff_id.label("thread_assignee"),
    Application.assignee_staff_id.label("application_assignee"),
    Candidate.name.label("candidate_name"),
    Job.title.label("job_title"),
    Thread.due_on,
    Thread.flagged,
)


def _waiting_statement() -> Select[Any]:
    statement = cast(Select[Any], select(*WAITING_COLUMNS))
    return (
        statement.join(Application, Application.id == Thread.application_id)
        .join(Candidate, Candidate.id == Thread.candidate_id)
        .join(Job, Job.id == Thread.job_id)
        .where(Thread.state == ThreadState.WAITING, _not_blocked())
    )


async def _colleagues(db: AsyncSession, organization_id: int) -> dict[int, Colleague]:
    rows = await db.execute(
        select(
            StaffUser.id,
            StaffUser.name,
            StaffUser.email,
            StaffUser.role,
            StaffUser.question_emails,
            Organization.time_zone.label("organization_time_zone"),
            StaffUser.time_zone,
        )
        .join(Organization, Organization.id == StaffUser.organization_id)
        .where(StaffUser.organization_id == organization_id, StaffUser.active.is_(True))
        .order_by(StaffUser.id)
    )
    return {
        row.id: Colleague(
            staff_id=row.id,
            name=row.name,
            email=row.email,
            role=row.role,
            question_emails=row.question_emails,
            time_zone=row.time_zone or row.organization_time_zone,
        )
        for row in rows
    }


async def _responsible(
    db: AsyncSession, waiting: Sequence[Waiting], colleagues: dict[int, Colleague]
) -> dict[int, list[Colleague]]:
    """Who looks after each waiting conversation (see the module's docstring), by thread id."""
    if not waiting:
        return {}
    application_ids = {w.application_id for w in waiting}
    job_ids = {w.job_id for w in waiting}
    published = (
        select(
            Application.id.label("application_id"),
            Application.job_id,
            Feedback.created_by_staff_id,
        )
        .join(Feedback, Feedback.application_id == Application.id)
        .where(
            Feedback.state == FeedbackState.PUBLISHED,
            Feedback.created_by_staff_id.is_not(None),
            Application.job_id.in_(job_ids),
        )
        .order_by(Feedback.version.desc(), Feedback.id.desc())
    )
    author: dict[int, list[int]] = defaultdict(list)
    handlers: dict[int, list[int]] = defaultdict(list)
    for row in await db.execute(published):
        if row.application_id in application_ids:
            author[row.application_id].append(row.created_by_staff_id)
        if row.created_by_staff_id not in handlers[row.job_id]:
            handlers[row.job_id].append(row.created_by_staff_id)
    admins = [c for c in colleagues.values() if c.role == StaffRole.ADMIN]

    def first_active(ids: Iterable[int | None]) -> list[Colleague]:
        found = [colleagues[i] for i in ids if i is not None and i in colleagues]
        return found[:1]

    found: dict[int, list[Colleague]] = {}
    for w in waiting:
        chosen = (
            first_active([w.thread_assignee])
            or first_active([w.application_assignee])
            or first_active(author.get(w.application_id, []))
            or [colleagues[i] for i in handlers.get(w.job_id, []) if i in colleagues]
            or admins
        )
        found[w.thread_id] = chosen
    return found


def _links(settings: Settings) -> dict[str, str]:
    return {
        "queue_url": absolute_url(settings, "staff.queue"),
        "profile_url": absolute_url(settings, "staff.profile"),
    }


async def notify_new_question(
    db: AsyncSession, *, thread_id: int, message_id: int, settings: Settings, now: dt.datetime
) -> int:
    """Email the colleagues who look after the conversation and asked to hear at once
    that a question waits; how many emails were queued."""
    row = (await db.execute(_waiting_statement().where(Thread.id == thread_id))).one_or_none()
    if row is None:  # closed, answered meanwhile, or the candidate is blocked
        return 0
    waiting = Waiting(**row._mapping)
    organization_id = waiting.organization_id
    colleagues = await _colleagues(db, organization_id)
    responsible = (await _responsible(db, [waiting], colleagues))[thread_id]
    queued = 0
    for person in responsible:
        if person.question_emails != QuestionEmails.IMMEDIATELY:
            continue
        queued += await mail.enqueue_email(
            db,
            settings=settings,
            to_address=person.email,
            template="staff_question",
            organization_id=organization_id,
            idempotency_key=f"staff.question:{message_id}:{person.staff_id}",
            context={
                "name": person.name,
                "candidate_name": waiting.candidate_name,
                "job_title": waiting.job_title,
                "due_on": _day(waiting.due_on),
                "flagged": waiting.flagged,
                "thread_url": absolute_url(settings, "staff.thread", thread_id=thread_id),
                **_links(settings),
            },
            now=now,
        )
    return queued


@dataclass(frozen=True)
class DigestEntry:
    candidate_name: str
    job_title: str
    due_on: str
    overdue: bool
    flagged: bool
    thread_url: str


async def send_digests(db: AsyncSession, *, settings: Settings, now: dt.datetime) -> int:
    """Queue today's digest for every colleague whose day has reached DIGEST_HOUR and
    who has something in it; how many were queued (a digest already queued for the
    person's day is not queued again)."""
    today = now.date()  # overdue as the queue counts it
    organizations = (
        await db.scalars(
            select(Thread.organization_id)
            .where(Thread.state == ThreadState.WAITING, _not_blocked())
            .distinct()
            .order_by(Thread.organization_id)
        )
    ).all()
    queued = 0
    for organization_id in organizations:
        colleagues = await _colleagues(db, organization_id)
        wanting = {
            c.staff_id: c for c in colleagues.values() if c.question_emails != QuestionEmails.NEVER
        }
        if not wanting:
            continue
        rows = await db.execute(
            _waiting_statement()
            .where(Thread.organization_id == organization_id)
            .order_by(Thread.due_on, Thread.waiting_since, Thread.id)
        )
        waiting = [Waiting(**row._mapping) for row in rows]
        responsible = await _responsible(db, waiting, colleagues)
        per_person: dict[int, list[Waiting]] = defaultdict(list)
        for w in waiting:
            for person in responsible[w.thread_id]:
                per_person[person.staff_id].append(w)
        for staff_id, threads in per_person.items():
            wants = wanting.get(staff_id)
            if wants is None:
                continue
            queued += await _digest(
                db, wants, threads, organization_id, settings=settings, now=now, today=today
            )
    return queued


async def _digest(
    db: AsyncSession,
    person: Colleague,
    threads: list[Waiting],
    organization_id: int,
    *,
    settings: Settings,
    now: dt.datetime,
    today: dt.date,
) -> int:
    local = now.astimezone(zone_info(person.time_zone))
    if local.hour < DIGEST_HOUR:
        return 0
    overdue = [w for w in threads if w.due_on is not None and w.due_on < today]
    if person.question_emails == QuestionEmails.IMMEDIATELY:
        shown = overdue  # they heard of each question as it came
    else:
        shown = overdue + [w for w in threads if w not in overdue]
    if not shown:
        return 0
    entries = [
        DigestEntry(
            candidate_name=w.candidate_name,
            job_title=w.job_title,
            due_on=_day(w.due_on),
            overdue=w in overdue,
            flagged=w.flagged,
            thread_url=absolute_url(settings, "staff.thread", thread_id=w.thread_id),
        )
        for w in shown[:DIGEST_LIMIT]
    ]
    return int(
        await mail.enqueue_email(
            db,
            settings=settings,
            to_address=person.email,
            template="staff_digest",
            organization_id=organization_id,
            idempotency_key=f"staff.digest:{person.staff_id}:{local.date().isoformat()}",
            context={
                "name": person.name,
                "entries": entries,
                "overdue_count": len(overdue),
                "count": len(shown),
                "more": max(0, len(shown) - DIGEST_LIMIT),
                "daily": person.question_emails == QuestionEmails.DAILY,
                **_links(settings),
            },
            now=now,
        )
    )
