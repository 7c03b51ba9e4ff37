"""The outbox of email, and the queue of other background work."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_check, utcnow


class EmailState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # out of attempts, or refused for good; kept with its last error


class JobState(enum.StrEnum):
    PENDING = "pending"  # done jobs are deleted
    FAILED = "failed"


class OutboxEmail(Base):
    __tablename__ = "outbox_emails"
    __table_args__ = (
        enum_check("state", EmailState),
        Index("ix_outbox_emails_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    to_address: Mapped[str] = mapped_column(String(320))
    from_address: Mapped[str] = mapped_column(String(320))
    from_name: Mapped[str] = mapped_column(String(200))
    # Extra headers, e.g. List-Unsubscribe on talent-pool mail.
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    template: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default=EmailState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # The same event never queues two emails: the key names the event.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]


class BackgroundJob(Base):
    """Work done outside the request, e.g. answering a sign-in request.

    Sign-in requests are answered here rather than in the request so that a
    known and an unknown address cost the request exactly the same.
    """

    __tablename__ = "background_jobs"
    __table_args__ = (
        enum_check("state", JobState),
        Index("ix_background_jobs_state_run_at", "state", "run_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default=JobState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    run_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
