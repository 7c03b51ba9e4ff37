"""Candidates' data requests (export, erasure) and what erasure keeps: the legal hold."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow


class RequestKind(enum.StrEnum):
    EXPORT = "export"  # art. 15 and 20: a copy of everything held about them
    ERASURE = "erasure"  # art. 17


class RequestSource(enum.StrEnum):
    CANDIDATE = "candidate"  # from their "Your data" page
    STAFF = "staff"  # made by staff on the candidate's written request
    ATS = "ats"  # the employer's applicant tracking system anonymized the candidate


class ErasureCause(enum.StrEnum):
    CANDIDATE = "candidate"  # confirmed from the link emailed to them
    STAFF = "staff"  # staff, on a written request
    RETENTION = "retention"  # the organization's retention period ran out
    ATS = "ats"  # the applicant tracking system anonymized them (portal.privacy.anonymized)


class DataRequest(Base):
    """One request: who asked (the candidate, until they are erased), what, when it was
    asked and answered. The one-time link of an export or of an erasure's confirmation
    is kept as its SHA-256 only; an export's content waits sealed until it is taken."""

    __tablename__ = "data_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    # Cleared when the candidate is erased: the log keeps that a request was answered.
    candidate_id: Mapped[int | None] = mapped_column(
        ForeignKey("candidates.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[RequestKind] = enum_column(RequestKind)
    source: Mapped[RequestSource] = enum_column(RequestSource)
    # Who made it on the candidate's behalf, and what the written request was.
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    reason: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    answered_at: Mapped[dt.datetime | None]
    token_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    token_expires_at: Mapped[dt.datetime | None]
    token_used_at: Mapped[dt.datetime | None]
    # The export (JSON), sealed with a key derived from PORTAL_SECRET_KEY; dropped once
    # downloaded or expired.
    export_sealed: Mapped[str | None] = mapped_column(Text)


class LegalHold(Base):
    """What stays of an erased application, and only until `keep_until`: that it
    existed, for which job, when it was decided and when it was erased. No name, no
    address, no text."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None]
    erased_at: Mapped[dt.datetime]
    cause: Mapped[ErasureCause] = enum_column(ErasureCause)
    keep_until: Mapped[dt.datetime] = mapped_column(index=True)
