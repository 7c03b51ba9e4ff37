"""Jobs with their requirements, candidates and their applications."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow


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
    # (id, organization_id) is unique because id is: it exists so that applications
    # can refer to a job *of their organization* (a composite foreign key). An index
    # rather than a constraint, so that SQLite need not rebuild the table to add it.
    __table_args__ = (
        Index("uq_jobs_id_organization_id", "id", "organization_id", unique=True),
        # The ATS's own id of the job (the API creates and updates jobs by it).
        Index("uq_jobs_organization_id_external_id", "organization_id", "external_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    # The job's advertisement on the organization's careers site (https), if any.
    posting_url: Mapped[str | None] = mapped_column(String(500))
    external_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # An archived job keeps its applications and feedback but is no longer offered
    # for new rejections (portal.candidates.service.job_titles).
    archived_at: Mapped[dt.datetime | None]
    # Recruiters edit jobs: every update checks and bumps this (portal.concurrency).
    version: Mapped[int] = mapped_column(server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Requirement(Base):
    __tablename__ = "requirements"
    __table_args__ = (UniqueConstraint("job_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    # A requirement that feedback uses is retired rather than deleted when it is
    # removed from the job: gone from the job's list and from new drafts, kept for
    # the feedback that names it (portal.postings.requirements.remove_requirement).
    retired_at: Mapped[dt.datetime | None]


class Candidate(Base):
    __tablename__ = "candidates"
    __table_args__ = (
        UniqueConstraint("organization_id", "email"),
        # See Job: the target of applications' composite foreign key.
        Index("uq_candidates_id_organization_id", "id", "organization_id", unique=True),
    )

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
        # The candidate and the job belong to the application's organization: the
        # database itself refuses an application that mixes two organizations.
        ForeignKeyConstraint(
            ["candidate_id", "organization_id"],
            ["candidates.id", "candidates.organization_id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["job_id", "organization_id"], ["jobs.id", "jobs.organization_id"], ondelete="CASCADE"
        ),
        # Targets of the composite foreign keys of threads and access links, which copy
        # these columns (unique because id is; indexes, as for Job).
        Index(
            "uq_applications_id_organization_id_candidate_id_job_id",
            "id",
            "organization_id",
            "candidate_id",
            "job_id",
            unique=True,
        ),
        Index("uq_applications_id_candidate_id", "id", "candidate_id", unique=True),
        # The assignee is a colleague of the application's organization. Checked at
        # commit: deleting a staff account first clears its assignments (the plain
        # foreign key's ON DELETE SET NULL), which a composite key could not do
        # without clearing organization_id too.
        ForeignKeyConstraint(
            ["assignee_staff_id", "organization_id"],
            ["staff_users.id", "staff_users.organization_id"],
            name="fk_applications_assignee_organization_staff_users",
            deferrable=True,
            initially="DEFERRED",
        ),
        # The list's "assigned to" filter, and clearing a deleted account's assignments.
        Index("ix_applications_assignee", "assignee_staff_id", "organization_id"),
        # The ATS's own id of the application (the API creates and updates by it).
        Index(
            "uq_applications_organization_id_external_id",
            "organization_id",
            "external_id",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(index=True)
    candidate_id: Mapped[int] = mapped_column(index=True)
    job_id: Mapped[int] = mapped_column(index=True)
    stage: Mapped[Stage] = enum_column(Stage, default=Stage.APPLIED)
    status: Mapped[ApplicationStatus] = enum_column(
        ApplicationStatus, default=ApplicationStatus.REJECTED
    )
    decided_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The recruiter who looks after it (set from the applications list), or nobody.
    assignee_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    external_id: Mapped[str | None] = mapped_column(String(200))
