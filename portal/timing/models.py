"""The send window's settings, and when each candidate is told about their feedback."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow
from portal.timing.window import DEFAULT_DAYS, DEFAULT_END, DEFAULT_START

DEFAULT_UNTOLD_DAYS = 5


class SendSettings(Base):
    """An organization's send window (in its time zone, `organizations.time_zone`),
    whether finalists get a call first, and when recruiters hear of candidates decided
    but not told. No row: the defaults (Monday to Thursday, 09:00 to 16:00)."""

    __tablename__ = "send_settings"
    __table_args__ = (
        CheckConstraint("start_minute >= 0 AND start_minute < end_minute", name="start_minute"),
        CheckConstraint("end_minute <= 1440", name="end_minute"),
        CheckConstraint("untold_days BETWEEN 1 AND 90", name="untold_days"),
    )

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    # ISO day numbers, Monday 1 to Sunday 7.
    days: Mapped[list[int]] = mapped_column(JSON, default=lambda: list(DEFAULT_DAYS))
    start_minute: Mapped[int] = mapped_column(default=DEFAULT_START)
    end_minute: Mapped[int] = mapped_column(default=DEFAULT_END)
    # ISO dates (2026-12-24) on which nothing is sent.
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)
    call_finalists_first: Mapped[bool] = mapped_column(default=False, server_default=false())
    untold_days: Mapped[int] = mapped_column(default=DEFAULT_UNTOLD_DAYS)
    version: Mapped[int] = mapped_column(server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class SendState(enum.StrEnum):
    WAITING_FOR_CALL = "waiting_for_call"  # a recruiter calls the finalist first
    SCHEDULED = "scheduled"  # the invitation goes at `send_at` (a `timing.send` job)
    SENT = "sent"  # the invitation email was queued


# The first invitation has not gone yet: it goes by itself (after the call, or in the window).
WAITING_STATES = frozenset({SendState.WAITING_FOR_CALL, SendState.SCHEDULED})


class FeedbackSend(Base):
    """When a candidate is first told about their published feedback: one row per
    application, made by the first publishing; publishing again sends nothing."""

    __tablename__ = "feedback_sends"
    __table_args__ = (Index("ix_feedback_sends_organization_state", "organization_id", "state"),)

    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    state: Mapped[SendState] = enum_column(SendState)
    # When it goes (scheduled), or went (sent).
    send_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    call_done_at: Mapped[dt.datetime | None]
    call_done_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    # "Send now" outside the window: who, and why (also in the audit trail).
    sent_now_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    sent_now_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
