"""Scorecards (from an ATS, the API, a CSV or the application page), how their
attributes map to a job's requirements, the organization's suggestion library, and
the record of each draft made from them (its sentences' sources, and later how many
of them were kept)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow


class ScorecardSource(enum.StrEnum):
    GREENHOUSE = "greenhouse"
    LEVER = "lever"
    ASHBY = "ashby"
    API = "api"
    CSV = "csv"
    FORM = "form"


class ScorecardRating(enum.StrEnum):
    """Greenhouse's scale, which Lever's and Ashby's are read into."""

    DEFINITELY_NOT = "definitely_not"
    NO = "no"
    MIXED = "mixed"
    YES = "yes"
    STRONG_YES = "strong_yes"
    NO_DECISION = "no_decision"


class EntryKind(enum.StrEnum):
    ATTRIBUTE = "attribute"  # a rated attribute, with the interviewer's note
    QUESTION = "question"  # a free-text question and its answer


class Scorecard(Base):
    """One interviewer's scorecard on one application. Staff-only as a whole: what a
    candidate may ever read of it is the candidate-safe notes a recruiter keeps in the
    feedback."""

    __tablename__ = "scorecards"
    __table_args__ = (UniqueConstraint("application_id", "source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[ScorecardSource] = enum_column(ScorecardSource)
    # The ATS's or the API client's own id (NULL for the form): the same card twice is one.
    external_id: Mapped[str | None] = mapped_column(String(100))
    interviewer: Mapped[str] = mapped_column(String(200), default="")
    step: Mapped[str] = mapped_column(String(200), default="")
    interviewed_on: Mapped[dt.date | None]
    overall_recommendation: Mapped[ScorecardRating | None] = enum_column(ScorecardRating)
    created_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ScorecardEntry(Base):
    """An attribute (name, rating, note) or a question (question, answer) of a scorecard.
    `private` text never reaches a draft or anything a candidate reads."""

    __tablename__ = "scorecard_entries"
    __table_args__ = (
        Index("ix_scorecard_entries_scorecard_id_position", "scorecard_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecards.id", ondelete="CASCADE"))
    kind: Mapped[EntryKind] = enum_column(EntryKind)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(300))  # the attribute, or the question
    rating: Mapped[ScorecardRating | None] = enum_column(ScorecardRating)
    text: Mapped[str] = mapped_column(Text, default="")  # the note, or the answer
    private: Mapped[bool] = mapped_column(default=False)


class AttributeMapping(Base):
    """A job's scorecard attribute (by name, any source) and the requirement it rates;
    NULL: it rates none. An attribute without a row rates the requirement of its name."""

    __tablename__ = "scorecard_attribute_maps"
    __table_args__ = (UniqueConstraint("job_id", "attribute"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    attribute: Mapped[str] = mapped_column(String(300))
    requirement_id: Mapped[int | None] = mapped_column(
        ForeignKey("requirements.id", ondelete="CASCADE")
    )


class GrowthSuggestion(Base):
    """The organization's suggestion for growing in a requirement, by the requirement's
    name (any job's requirement of that name): what a drafted growth area suggests."""

    __tablename__ = "growth_suggestions"
    __table_args__ = (UniqueConstraint("organization_id", "requirement_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    requirement_key: Mapped[str] = mapped_column(String(100))  # the name, case-folded
    requirement_name: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DraftedFeedback(Base):
    """A feedback version drafted from scorecards: where each drafted sentence came from
    (for the recruiter only), and, once a version is published, how many of them it
    kept as drafted, edited or deleted."""

    __tablename__ = "drafted_feedback"
    __table_args__ = (UniqueConstraint("application_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    version: Mapped[int]
    # [{"field", "text", "scorecard_id", "interviewer", "step", "attribute", "from"}]
    sentences: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # What the recruiter should know: requirements not assessed, suggestions missing.
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_version: Mapped[int | None]
    kept: Mapped[int | None]
    edited: Mapped[int | None]
    deleted: Mapped[int | None]


class DraftingRunState(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"


class DraftingRun(Base):
    """Drafting many applications at once (one job in the jobs table, a chunk at a time):
    its progress and what it skipped, shown on the applications list."""

    __tablename__ = "drafting_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    application_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    state: Mapped[DraftingRunState] = enum_column(
        DraftingRunState, default=DraftingRunState.RUNNING
    )
    done: Mapped[int] = mapped_column(default=0)
    drafted: Mapped[int] = mapped_column(default=0)
    # [{"application_id", "reason"}]: published already, or no scorecards.
    skipped: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
