"""What staff do to a thread (DESIGN §5 "Queue"): reply, approve or return a reply,
say no reply is needed, hide a message, close and reopen, assign, note, block.

Every action names the thread version the person saw: a stale one raises
`portal.concurrency.Conflict` and changes nothing. The thread row is locked
(`FOR UPDATE` on PostgreSQL; SQLite runs one writer at a time and the version
check in the UPDATE catches the loser), so of two replies at the same moment
exactly one is saved and emailed. Every action is audited with who and when.

When the organization requires approval, every text a recruiter writes for the
candidate waits for a second recruiter: a reply, a "no reply needed" note and
a close reason alike. The note and the reason are closing messages
(`Message.closing`) that wait as `pending_approval` like a reply and are
approved or returned the same way; until then the candidate sees nothing of
them (a thread closed meanwhile shows only that it is closed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal import concurrency
from portal.access.models import LinkPurpose
from portal.access.service import issue_landing_link, link_url
from portal.audit import service as audit
from portal.candidates.models import Candidate, Job
from portal.mail import service as mail
from portal.orgs.models import Organization
from portal.security.actors import Staff
from portal.settings import Settings
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
from portal.threads.text import plain_message
from portal.webhooks import service as webhooks


class ThreadNotFound(LookupError):
    """No such thread (or message) for this actor: a 404."""


class NotAllowed(Exception):
    """The action does not apply to the thread as it is; the message says why."""


@dataclass(frozen=True)
class Act:
    """Who acts, when and from where: every action takes one."""

    actor: Staff
    now: dt.datetime
    ip_hash: str | None = None


async def _thread(db: AsyncSession, act: Act, thread_id: int, version: int) -> Thread:
    thread = await db.scalar(
        readable_threads(act.actor)
        .where(Thread.id == thread_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if thread is None:
        raise ThreadNotFound(thread_id)
    concurrency.expect_version(thread, version)
    return thread


async def _message(db: AsyncSession, thread: Thread, message_id: int) -> Message:
    message = await db.scalar(
        select(Message).where(Message.id == message_id, Message.thread_id == thread.id)
    )
    if message is None:
        raise ThreadNotFound(message_id)
    return message


def _audit(db: AsyncSession, act: Act, thread: Thread, action: str, **details: Any) -> None:
    audit.record(
        db,
        action=action,
        actor_kind="staff",
        actor_id=act.actor.staff_id,
        organization_id=thread.organization_id,
        subject_type="thread",
        subject_id=thread.id,
        ip_hash=act.ip_hash,
        details=details,
    )


def _leave_queue(thread: Thread, state: ThreadState, now: dt.datetime) -> None:
    thread.state = state
    thread.waiting_since = None
    thread.due_on = None
    thread.flagged = False
    thread.flag_reasons = ""
    thread.updated_at = now


async def _needs_approval(db: AsyncSession, thread: Thread) -> bool:
    """Whether the organization wants a second recruiter to approve what the candidate reads."""
    return bool(
        await db.scalar(
            select(Organization.replies_need_approval).where(
                Organization.id == thread.organization_id
            )
        )
    )


async def _return_pending(db: AsyncSession, thread: Thread, comment: str) -> None:
    """Send back whatever waits for approval: the thread changed under it."""
    if not thread.pending_approval:
        return
    pending = await db.scalars(
        select(Message).where(
            Message.thread_id == thread.id, Message.state == MessageState.PENDING_APPROVAL
        )
    )
    for message in pending:
        message.state = MessageState.RETURNED
        message.review_comment = comment
    thread.pending_approval = False


def _staff_message(thread: Thread, act: Act, body: str, **values: Any) -> Message:
    return Message(
        thread_id=thread.id,
        author_kind=AuthorKind.STAFF,
        author_staff_id=act.actor.staff_id,
        body=body,
        created_at=act.now,
        **values,
    )


async def _send(
    db: AsyncSession, act: Act, thread: Thread, message: Message, settings: Settings
) -> None:
    """The reply reaches the candidate: the thread is answered and one email queued,
    carrying the reply itself (as plain text) and a one-time link that signs the
    candidate in and lands on the conversation."""
    message.state = MessageState.SENT
    message.sent_at = act.now
    _leave_queue(thread, ThreadState.ANSWERED, act.now)
    thread.pending_approval = False
    thread.last_message_at = act.now
    thread.last_staff_message_at = act.now
    # The version check comes first: a reply that lost the race queues nothing.
    await concurrency.flush(db)
    row = (
        await db.execute(
            select(Candidate.email, Candidate.name, Job.title, Organization.invitation_days)
            .select_from(Candidate)
            .join(Organization, Organization.id == Candidate.organization_id)
            .join(Job, Job.id == thread.job_id)
            .where(Candidate.id == thread.candidate_id)
        )
    ).one()
    await webhooks.emit(
        db,
        organization_id=thread.organization_id,
        event_type="question.answered",
        data={
            "application_id": thread.application_id,
            "thread_id": thread.id,
            "message_id": message.id,
        },
        now=act.now,
    )
    token = await issue_landing_link(
        db,
        application_id=thread.application_id,
        purpose=LinkPurpose.REPLY,
        organization_id=thread.organization_id,
        now=act.now,
        staff_id=act.actor.staff_id,
    )
    await mail.enqueue_email(
        db,
        settings=settings,
        to_address=row.email,
        template="reply",
        organization_id=thread.organization_id,
        # One email per reply, however often this runs.
        idempotency_key=f"thread-reply:{message.id}",
        context={
            "name": row.name,
            "job_title": row.title,
            # Autoescaped in the HTML part; Markdown is shown as written, never as HTML.
            "reply": plain_message(message.body),
            "link_days": row.invitation_days,
        },
        link=link_url(settings, token),
        now=act.now,
    )


async def reply(
    db: AsyncSession,
    act: Act,
    *,
    thread_id: int,
    version: int,
    body: str,
    markdown: bool,
    settings: Settings,
) -> str:
    """Reply to the candidate; with the organization's approval rule, the reply
    waits for a second recruiter. Answers "sent" or "pending"."""
    thread = await _thread(db, act, thread_id, version)
    if thread.state == ThreadState.CLOSED:
        raise NotAllowed("This conversation is closed. Reopen it to reply.")
    if thread.pending_approval:
        raise NotAllowed("A reply is already waiting for approval: approve or return it first.")
    needs_approval = await _needs_approval(db, thread)
    message = _staff_message(
        thread,
        act,
        body,
        markdown=markdown,
        state=MessageState.PENDING_APPROVAL if needs_approval else MessageState.SENT,
    )
    db.add(message)
    if needs_approval:
        thread.pending_approval = True
        thread.updated_at = act.now
        await concurrency.flush(db)
        _audit(db, act, thread, "thread.reply_submitted", message_id=message.id)
        return "pending"
    await concurrency.flush(db)
    await _send(db, act, thread, message, settings)
    _audit(db, act, thread, "thread.replied", message_id=message.id)
    return "sent"


async def approve(
    db: AsyncSession,
    act: Act,
    *,
    thread_id: int,
    message_id: int,
    version: int,
    comment: str,
    settings: Settings,
) -> str | None:
    """A colleague's approval: a reply is sent (and emailed), a closing note shown.
    Answers "closing_approved" for a closing note."""
    thread = await _thread(db, act, thread_id, version)
    message = await _message(db, thread, message_id)
    if message.state != MessageState.PENDING_APPROVAL:
        raise NotAllowed("This reply is not waiting for approval any more.")
    if message.author_staff_id == act.actor.staff_id:
        raise NotAllowed("You wrote this reply: a colleague must approve it.")
    message.reviewed_by_staff_id = act.actor.staff_id
    message.review_comment = comment or None
    if message.closing:
        _show_closing_note(thread, message, act.now)
        await concurrency.flush(db)
        _audit(db, act, thread, "thread.closing_note_approved", message_id=message.id)
        return "closing_approved"
    await _send(db, act, thread, message, settings)
    _audit(db, act, thread, "thread.reply_approved", message_id=message.id)
    return None


async def return_reply(
    db: AsyncSession, act: Act, *, thread_id: int, message_id: int, version: int, comment: str
) -> None:
    thread = await _thread(db, act, thread_id, version)
    message = await _message(db, thread, message_id)
    if message.state != MessageState.PENDING_APPROVAL:
        raise NotAllowed("This reply is not waiting for approval any more.")
    if not comment:
        raise NotAllowed("Say what to change, so the author can fix it.")
    message.state = MessageState.RETURNED
    message.reviewed_by_staff_id = act.actor.staff_id
    message.review_comment = comment
    thread.pending_approval = False
    thread.updated_at = act.now
    await concurrency.flush(db)
    _audit(db, act, thread, "thread.reply_returned", message_id=message.id, comment=comment)


def _show_closing_note(thread: Thread, message: Message, now: dt.datetime) -> None:
    """An approved closing note reaches the candidate (no email: nothing was asked of
    them). A "no reply needed" note takes the thread out of the queue, as it does
    without the approval rule; the reason of a closed thread appears as the
    conversation's last message."""
    message.state = MessageState.SENT
    message.sent_at = now
    thread.pending_approval = False
    if thread.state == ThreadState.CLOSED or thread.last_message_at > message.created_at:
        # Closed meanwhile, or the candidate wrote again while the note waited for
        # approval: their new message still waits for an answer.
        thread.updated_at = now
    else:
        _leave_queue(thread, ThreadState.OPEN, now)
    thread.last_message_at = now
    thread.last_staff_message_at = now


async def no_reply_needed(
    db: AsyncSession, act: Act, *, thread_id: int, version: int, body: str
) -> str:
    """Take the thread out of the queue with a courteous closing note to the
    candidate (no email: nothing was asked of them); they may still follow up.
    With the approval rule, the note waits for a colleague and the thread stays
    in the queue until then. Answers "no_reply" or "no_reply_pending"."""
    thread = await _thread(db, act, thread_id, version)
    if thread.state == ThreadState.CLOSED:
        raise NotAllowed("This conversation is closed already.")
    if thread.pending_approval:
        raise NotAllowed("A reply is waiting for approval: approve or return it first.")
    if await _needs_approval(db, thread):
        message = _staff_message(
            thread, act, body, state=MessageState.PENDING_APPROVAL, closing=True
        )
        db.add(message)
        thread.pending_approval = True
        thread.updated_at = act.now
        await concurrency.flush(db)
        _audit(db, act, thread, "thread.no_reply_submitted", message_id=message.id)
        return "no_reply_pending"
    message = _staff_message(
        thread, act, body, state=MessageState.SENT, sent_at=act.now, closing=True
    )
    db.add(message)
    _leave_queue(thread, ThreadState.OPEN, act.now)
    thread.last_message_at = act.now
    thread.last_staff_message_at = act.now
    await concurrency.flush(db)
    _audit(db, act, thread, "thread.no_reply_needed", message_id=message.id)
    return "no_reply"


async def hide_message(
    db: AsyncSession, act: Act, *, thread_id: int, message_id: int, version: int, reason: str
) -> None:
    """Withdraw a message from every thread view; its text stays in the audit trail."""
    thread = await _thread(db, act, thread_id, version)
    message = await _message(db, thread, message_id)
    if message.hidden_at is not None:
        raise NotAllowed("This message is hidden already.")
    if message.state != MessageState.SENT:
        raise NotAllowed("Only sent messages can be hidden; return a pending reply instead.")
    message.hidden_at = act.now
    message.hidden_reason = reason
    message.hidden_by_staff_id = act.actor.staff_id
    # Still flagged only if another visible flagged message from the candidate waits.
    others = await db.scalars(
        select(Message.flag_reasons).where(
            Message.thread_id == thread.id,
            Message.id != message.id,
            Message.flagged.is_(True),
            Message.hidden_at.is_(None),
            Message.author_kind == AuthorKind.CANDIDATE,
            Message.created_at >= (thread.waiting_since or act.now),
        )
    )
    reasons = [r for found in others for r in found.split(", ") if r]
    thread.flagged = bool(reasons)
    thread.flag_reasons = ", ".join(dict.fromkeys(reasons))
    thread.updated_at = act.now
    await concurrency.flush(db)
    _audit(
        db,
        act,
        thread,
        "thread.message_hidden",
        message_id=message.id,
        reason=reason,
        author_kind=message.author_kind,
        body=message.body,
    )


async def close(db: AsyncSession, act: Act, *, thread_id: int, version: int, reason: str) -> str:
    """Close the thread at once: the candidate can post nothing more and sees it is
    closed, and why. With the approval rule, the reason waits for a colleague as a
    closing note; until it is approved the candidate sees only that the thread is
    closed. Answers "closed" or "closed_pending"."""
    thread = await _thread(db, act, thread_id, version)
    if thread.state == ThreadState.CLOSED:
        raise NotAllowed("This conversation is closed already.")
    await _return_pending(db, thread, "The conversation was closed before this reply was approved.")
    _leave_queue(thread, ThreadState.CLOSED, act.now)
    thread.closed_at = act.now
    if await _needs_approval(db, thread):
        thread.closed_reason = None
        message = _staff_message(
            thread, act, reason, state=MessageState.PENDING_APPROVAL, closing=True
        )
        db.add(message)
        thread.pending_approval = True
        await concurrency.flush(db)
        _audit(db, act, thread, "thread.closed", reason=reason, reason_message_id=message.id)
        return "closed_pending"
    thread.closed_reason = reason
    await concurrency.flush(db)
    _audit(db, act, thread, "thread.closed", reason=reason)
    return "closed"


async def reopen(db: AsyncSession, act: Act, *, thread_id: int, version: int) -> None:
    thread = await _thread(db, act, thread_id, version)
    if thread.state != ThreadState.CLOSED:
        raise NotAllowed("This conversation is open already.")
    # A close reason still waiting for approval no longer applies.
    await _return_pending(
        db, thread, "The conversation was reopened before this closing note was approved."
    )
    thread.state = ThreadState.OPEN
    thread.closed_reason = None
    thread.closed_at = None
    thread.updated_at = act.now
    await concurrency.flush(db)
    _audit(db, act, thread, "thread.reopened")


async def assign(
    db: AsyncSession, act: Act, *, thread_id: int, version: int, assignee: int | None
) -> None:
    thread = await _thread(db, act, thread_id, version)
    if assignee is not None:
        colleague = await db.scalar(
            select(StaffUser.id).where(
                StaffUser.id == assignee,
                StaffUser.organization_id == thread.organization_id,
                StaffUser.active.is_(True),
            )
        )
        if colleague is None:
            raise NotAllowed("Choose an active colleague of your organization.")
    previous = thread.assignee_staff_id
    thread.assignee_staff_id = assignee
    thread.updated_at = act.now
    await concurrency.flush(db)
    _audit(db, act, thread, "thread.assigned", previous=previous, assignee=assignee)


async def add_note(db: AsyncSession, act: Act, *, thread_id: int, version: int, body: str) -> None:
    thread = await _thread(db, act, thread_id, version)
    note = InternalNote(
        thread_id=thread.id, author_staff_id=act.actor.staff_id, body=body, created_at=act.now
    )
    db.add(note)
    thread.updated_at = act.now
    await concurrency.flush(db)
    _audit(db, act, thread, "thread.note_added", note_id=note.id)


async def block(db: AsyncSession, act: Act, *, thread_id: int, version: int, reason: str) -> None:
    """The thread's candidate may post nothing more to the organization."""
    thread = await _thread(db, act, thread_id, version)
    already = await db.scalar(
        select(
            exists().where(
                CandidateBlock.organization_id == thread.organization_id,
                CandidateBlock.candidate_id == thread.candidate_id,
            )
        )
    )
    if already:
        raise NotAllowed("This candidate is blocked already.")
    db.add(
        CandidateBlock(
            organization_id=thread.organization_id,
            candidate_id=thread.candidate_id,
            reason=reason,
            blocked_by_staff_id=act.actor.staff_id,
            created_at=act.now,
        )
    )
    thread.updated_at = act.now
    await concurrency.flush(db)
    _audit(db, act, thread, "candidate.blocked", candidate_id=thread.candidate_id, reason=reason)


async def unblock(db: AsyncSession, act: Act, *, thread_id: int, version: int) -> None:
    thread = await _thread(db, act, thread_id, version)
    removed = await db.execute(
        delete(CandidateBlock).where(
            CandidateBlock.organization_id == thread.organization_id,
            CandidateBlock.candidate_id == thread.candidate_id,
        )
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise NotAllowed("This candidate is not blocked.")
    thread.updated_at = act.now
    await concurrency.flush(db)
    _audit(db, act, thread, "candidate.unblocked", candidate_id=thread.candidate_id)


# --- saved answers (admins manage them; every recruiter starts replies from them) ---


class DuplicateTitle(Exception):
    pass


def readable_saved_answers(actor: Staff) -> Any:
    return select(SavedAnswer).where(SavedAnswer.organization_id == actor.organization_id)


async def save_answer(
    db: AsyncSession, act: Act, *, answer_id: int | None, title: str, body: str
) -> SavedAnswer:
    """Create (answer_id None) or change a saved answer; raises ThreadNotFound for
    another organization's, DuplicateTitle when the title is taken."""
    taken = await db.scalar(
        readable_saved_answers(act.actor)
        .with_only_columns(SavedAnswer.id)
        .where(SavedAnswer.title == title)
    )
    if taken is not None and taken != answer_id:
        raise DuplicateTitle()
    if answer_id is None:
        answer = SavedAnswer(
            organization_id=act.actor.organization_id,
            title=title,
            body=body,
            created_at=act.now,
            updated_at=act.now,
        )
        db.add(answer)
        action = "saved_answer.created"
    else:
        found = await db.scalar(
            readable_saved_answers(act.actor).where(SavedAnswer.id == answer_id)
        )
        if found is None:
            raise ThreadNotFound(answer_id)
        answer = found
        answer.title, answer.body, answer.updated_at = title, body, act.now
        action = "saved_answer.changed"
    await db.flush()
    audit.by_staff(
        db,
        act.actor,
        action=action,
        subject_type="saved_answer",
        subject_id=answer.id,
        ip_hash=act.ip_hash,
        details={"title": title},
    )
    return answer


async def delete_answer(db: AsyncSession, act: Act, *, answer_id: int) -> None:
    answer = await db.scalar(readable_saved_answers(act.actor).where(SavedAnswer.id == answer_id))
    if answer is None:
        raise ThreadNotFound(answer_id)
    await db.delete(answer)
    await db.flush()
    audit.by_staff(
        db,
        act.actor,
        action="saved_answer.deleted",
        subject_type="saved_answer",
        subject_id=answer_id,
        ip_hash=act.ip_hash,
        details={"title": answer.title},
    )
