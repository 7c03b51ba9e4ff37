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
    """One ATS's webhook secret for one organization (set by an admin), and the
    credentials of its API. Kept as they are: checking a signature needs the secret."""

    __tablename__ = "ats_connections"
    __table_args__ = (UniqueConstraint("organization_id", "ats"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    ats: Mapped[Ats] = enum_column(Ats)
    secret: Mapped[str] = mapped_column(String(200))
    # The system's API credentials (Greenhouse: `CLIENT_ID:CLIENT_SECRET` of a Harvest v3
    # OAuth client; Lever, Ashby: an API key), kept as they are to be used; None: the
    # API is not asked (portal.ats.clients).
    api_credentials: Mapped[str | None] = mapped_column(String(500))
    api_credentials_set_at: Mapped[dt.datetime | None]
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
    PROCESSED = "processed"  # made (or updated) an application with a draft, or erased
    IGNORED = "ignored"  # an event that asks for nothing (not a rejection; no one here)
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


class AtsCandidate(Base):
    """The ATS's own id of the person an application came from, written when an event
    makes (or updates) the application. An application's candidate is found by email
    address, so this is the only record of which ATS candidate is which of ours: it is
    how an ATS's anonymization (Greenhouse's `candidate_anonymized`, which names the
    candidate by its id alone) finds every application of that person here. Goes with
    the application."""

    __tablename__ = "ats_candidates"
    __table_args__ = (
        UniqueConstraint("application_id", "ats", "external_id"),
        Index("ix_ats_candidates_ats_external_id", "ats", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    ats: Mapped[Ats] = enum_column(Ats)
    external_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
