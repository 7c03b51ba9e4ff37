"""Feedback on an application: versioned, structured around the job's requirements."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow


class FeedbackState(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class ItemKind(enum.StrEnum):
    ASSESSMENT = "assessment"  # of one requirement, with a rating
    STRENGTH = "strength"
    GROWTH_AREA = "growth_area"


class Rating(enum.StrEnum):
    MET = "met"
    PARTLY_MET = "partly_met"
    NOT_YET_MET = "not_yet_met"


class Feedback(Base):
    """One version of the feedback on an application.

    Editing published feedback creates a new version; the candidate sees the
    newest published one.
    """

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("application_id", "version"),
        CheckConstraint(
            "reapply_after_months IS NULL OR reapply_after_months BETWEEN 0 AND 60",
            name="reapply_after_months",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(default=1)
    state: Mapped[FeedbackState] = enum_column(FeedbackState, default=FeedbackState.DRAFT)
    decision_summary: Mapped[str] = mapped_column(Text, default="")
    personal_note: Mapped[str] = mapped_column(Text, default="")
    reapply_after_months: Mapped[int | None]
    suggested_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Where to read about a suggested role: {role: https URL}, for those that have one.
    suggested_role_urls: Mapped[dict[str, str] | None] = mapped_column(JSON)
    pool_invitation_offered: Mapped[bool] = mapped_column(default=False)
    created_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None]
    # SHA-256 of the content as imported from a CSV (portal.imports): a re-import of
    # the same row finds it and creates no new version. Empty for other versions.
    content_hash: Mapped[str | None] = mapped_column(String(64))


class FeedbackItem(Base):
    """A part of the feedback: an assessment of one requirement, a strength or a growth area.

    One table for the three kinds keeps the candidate page to one query; the
    check constraints keep each kind's columns honest.
    """

    __tablename__ = "feedback_items"
    __table_args__ = (
        CheckConstraint(
            f"(kind = '{ItemKind.ASSESSMENT}') = (rating IS NOT NULL)",
            name="rating_only_on_assessment",
        ),
        CheckConstraint(
            f"kind <> '{ItemKind.ASSESSMENT}' OR requirement_id IS NOT NULL",
            name="assessment_has_requirement",
        ),
        Index("ix_feedback_items_feedback_id_kind_position", "feedback_id", "kind", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"))
    kind: Mapped[ItemKind] = enum_column(ItemKind)
    position: Mapped[int] = mapped_column(default=0)
    # No ON DELETE action: a requirement that feedback uses cannot be deleted, so
    # an assessment never loses the requirement it rates (portal.candidates.service).
    # Checked at commit, so that deleting a whole job, which removes its feedback
    # through other cascades in the same statement, still works on PostgreSQL.
    requirement_id: Mapped[int | None] = mapped_column(
        ForeignKey("requirements.id", deferrable=True, initially="DEFERRED")
    )
    # The requirement as the candidate read it, copied when the version is published
    # (portal.feedback.drafts.keep_requirements_as_published): renaming, describing
    # anew, reordering or removing the job's requirement never changes published
    # feedback. NULL on drafts, which follow the job's requirements as they are.
    requirement_name: Mapped[str | None] = mapped_column(String(100))
    requirement_description: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[Rating | None] = enum_column(Rating)
    body: Mapped[str] = mapped_column(Text)
    suggestion: Mapped[str] = mapped_column(Text, default="")
    # A resource the suggestion points to (a course, a book's page), when there is one.
    suggestion_url: Mapped[str | None] = mapped_column(String(500))
    visible: Mapped[bool] = mapped_column(default=True)


class FeedbackOverride(Base):
    """A second recruiter's written decision to publish a version despite risky findings.

    Kept with the version it let through, so that what was published, who
    allowed it and why can always be shown (the audit trail records it too).
    """

    __tablename__ = "feedback_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), unique=True
    )
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(Text)
    # The risky findings overridden: [{"rule", "field", "words"}].
    findings: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
