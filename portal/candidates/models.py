"""Jobs with their requirements, candidates and their applications."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_check, utcnow


class Stage(enum.StrEnum):
    """How far an application got, in order."""

    APPLIED = "applied"
    SCREEN = "screen"
    INTERVIEW = "interview"
    FINAL = "final"


class ApplicationStatus(enum.StrEnum):
    OPEN = "open"
    REJECTED = "rejected"


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Requirement(Base):
    __tablename__ = "requirements"
    __table_args__ = (UniqueConstraint("job_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")


class Candidate(Base):
    __tablename__ = "candidates"
    __table_args__ = (UniqueConstraint("organization_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    # Stored lower-cased, so that look-ups by address are exact matches.
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200))
    preferred_language: Mapped[str] = mapped_column(String(16), default="en")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        enum_check("stage", Stage),
        enum_check("status", ApplicationStatus),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(20), default=Stage.APPLIED)
    status: Mapped[str] = mapped_column(String(20), default=ApplicationStatus.REJECTED)
    decided_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
