"""The survey under the feedback: its wording (versioned), and the answers, kept apart
from who gave them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow


class SurveyWording(Base):
    """One version of an organization's survey questions; the newest is asked. No row:
    the default wording (version 0)."""

    __tablename__ = "survey_wordings"
    __table_args__ = (UniqueConstraint("organization_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    version: Mapped[int]
    helpfulness: Mapped[str] = mapped_column(String(300))
    fairness: Mapped[str] = mapped_column(String(300))
    comment: Mapped[str] = mapped_column(String(300))
    created_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SurveyAnswer(Base):
    """One application's answer, without the application: staff read only the
    organization, the job, the month and what was said. `answer_key`, a keyed hash
    of the application's id (`portal.survey.service.answer_key`), lets the candidate
    change their answer; nothing staff can read leads from it back to them."""

    __tablename__ = "survey_answers"
    __table_args__ = (
        CheckConstraint("helpfulness BETWEEN 1 AND 5", name="helpfulness"),
        CheckConstraint("fairness BETWEEN 1 AND 5", name="fairness"),
        Index("ix_survey_answers_organization_period_job", "organization_id", "period", "job_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    # The first day of the month of the answer (of its last change): no finer time is
    # kept, so the moment of a candidate's visit does not point to their answer.
    period: Mapped[dt.date]
    helpfulness: Mapped[int]
    fairness: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    wording_version: Mapped[int] = mapped_column(default=0)
    answer_key: Mapped[str] = mapped_column(String(100), unique=True)
