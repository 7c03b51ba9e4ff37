"""Threads: a candidate's questions about one application, the replies, and moderation."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow


class ThreadState(enum.StrEnum):
    WAITING = "waiting"  # the candidate's last message waits for staff: in the queue
    ANSWERED = "answered"  # staff replied; the candidate may follow up
    OPEN = "open"  # open, nothing waiting for staff (no reply needed, or reopened)
    CLOSED = "closed"  # the candidate can no longer post; they see why


class AuthorKind(enum.StrEnum):
    CANDIDATE = "candidate"
    STAFF = "staff"


class MessageState(enum.StrEnum):
    SENT = "sent"  # visible to the candidate (unless hidden)
    PENDING_APPROVAL = "pending_approval"  # a reply waiting for a second recruiter
    RETURNED = "returned"  # a reply sent back by the approver, with a comment


class Thread(Base):
    """One per application: every question and reply about it, in one conversation."""

    __tablename__ = "threads"
    __table_args__ = (
        UniqueConstraint("application_id"),
        # Organization, candidate and job are copied from the application (the queue
        # filters on them without a join); the database refuses a copy that disagrees.
        ForeignKeyConstraint(
            ["application_id", "organization_id", "candidate_id", "job_id"],
            [
                "applications.id",
                "applications.organization_id",
                "applications.candidate_id",
                "applications.job_id",
            ],
            ondelete="CASCADE",
        ),
        # The queue: an organization's waiting threads, flagged first, oldest first.
        Index("ix_threads_queue", "organization_id", "state", "flagged", "waiting_since", "id"),
        # The navigation's counts (each capped, see portal.threads.queue) and the other
        # states' lists, latest first.
        Index("ix_threads_due", "organization_id", "state", "due_on"),
        Index("ix_threads_pending", "organization_id", "state", "pending_approval"),
        Index("ix_threads_recent", "organization_id", "state", "last_message_at", "id"),
        Index("ix_threads_assignee", "organization_id", "assignee_staff_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Copied from the application when the thread starts, like candidate and job.
    organization_id: Mapped[int]
    application_id: Mapped[int]
    candidate_id: Mapped[int] = mapped_column(index=True)
    job_id: Mapped[int] = mapped_column(index=True)
    state: Mapped[ThreadState] = enum_column(ThreadState, default=ThreadState.WAITING)
    assignee_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # When the candidate's oldest unanswered message arrived (NULL when none waits).
    waiting_since: Mapped[dt.datetime | None]
    # The day a reply is promised by (the organization's reply promise in working days).
    due_on: Mapped[dt.date | None]
    last_message_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_staff_message_at: Mapped[dt.datetime | None]
    candidate_read_at: Mapped[dt.datetime | None]
    # A message of the thread was flagged and has not been hidden: shown first.
    flagged: Mapped[bool] = mapped_column(default=False)
    flag_reasons: Mapped[str] = mapped_column(String(100), default="")
    # A reply waits for a second recruiter's approval.
    pending_approval: Mapped[bool] = mapped_column(default=False)
    closed_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[dt.datetime | None]
    # Changed by every staff action, so that each one moves the version on.
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Every action carries the version it was made on (portal.concurrency).
    version: Mapped[int] = mapped_column(server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Message(Base):
    __tablename__ = "thread_messages"
    __table_args__ = (Index("ix_thread_messages_thread_id_id", "thread_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    author_kind: Mapped[AuthorKind] = enum_column(AuthorKind)
    # The staff member who wrote it (NULL for the candidate's, or a deleted account).
    author_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)
    # Staff replies may be written in Markdown; candidates' messages are plain text.
    markdown: Mapped[bool] = mapped_column(default=False)
    state: Mapped[MessageState] = enum_column(MessageState, default=MessageState.SENT)
    # Marks a staff message that closed the conversation or said no reply was needed.
    closing: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    flagged: Mapped[bool] = mapped_column(default=False)
    flag_reasons: Mapped[str] = mapped_column(String(100), default="")
    hidden_at: Mapped[dt.datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    hidden_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    reviewed_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    review_comment: Mapped[str | None] = mapped_column(String(2000))


class InternalNote(Base):
    """A note on a thread that only staff see."""

    __tablename__ = "thread_notes"
    __table_args__ = (Index("ix_thread_notes_thread_id_id", "thread_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    author_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SavedAnswer(Base):
    """A reply an organization's admins keep for recruiters to start from."""

    __tablename__ = "saved_answers"
    __table_args__ = (UniqueConstraint("organization_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CandidateBlock(Base):
    """A candidate who may post no further messages to the organization (reversible:
    unblocking deletes the row; the audit trail keeps both)."""

    __tablename__ = "candidate_blocks"
    __table_args__ = (
        UniqueConstraint("organization_id", "candidate_id"),
        CheckConstraint("length(reason) > 0", name="reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(500))
    blocked_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
