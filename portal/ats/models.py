"""What arrives from an applicant tracking system (ATS), and how it maps to Afterword."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow


class Ats(enum.StrEnum):
    GREENHOUSE = "greenhouse"
    LEVER = "lever"
    ASHBY = "ashby"


class AtsConnection(Base):
    """One ATS's webhook secret for one organization (set by an admin). Kept as it is:
    checking a signature needs it."""

    __tablename__ = "ats_connections"
    __table_args__ = (UniqueConstraint("organization_id", "ats"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    ats: Mapped[Ats] = enum_column(Ats)
    secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AtsJobMapping(Base):
    """An ATS's job as seen in its events, and the Afterword job it stands for (None
    while no one has chosen: its events wait)."""

    __tablename__ = "ats_job_mappings"
    __table_args__ = (UniqueConstraint("organization_id", "ats", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    ats: Mapped[Ats] = enum_column(Ats)
    external_id: Mapped[str] = mapped_column(String(100))
    external_name: Mapped[str] = mapped_column(String(300), default="")
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    # Scorecard attribute name -> requirement id (as text keys: JSON), chosen on the
    # mapping page; an attribute not listed goes to the requirement of the same name.
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AtsEventState(enum.StrEnum):
    RECEIVED = "received"  # stored, its job queued
    WAITING = "waiting"  # its ATS job is not mapped yet
    PROCESSED = "processed"  # made (or updated) an application with a draft
    IGNORED = "ignored"  # an event that asks for nothing (not a rejection)
    FAILED = "failed"  # could not be used; `message` says why


class AtsEvent(Base):
    """One webhook as received: the raw body, kept until it is processed and after
    (the record of what arrived). `replay_key` makes the same event count once."""

    __tablename__ = "ats_events"
    __table_args__ = (
        UniqueConstraint("organization_id", "ats", "replay_key"),
        Index("ix_ats_events_organization_id_state", "organization_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    ats: Mapped[Ats] = enum_column(Ats)
    replay_key: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[AtsEventState] = enum_column(AtsEventState, default=AtsEventState.RECEIVED)
    external_job_id: Mapped[str | None] = mapped_column(String(100))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="SET NULL")
    )
    message: Mapped[str] = mapped_column(String(500), default="")
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[dt.datetime | None]
