"""The insights' pre-aggregated figures, refreshed by the `insights.refresh` job, so
the dashboard reads a few rows per job and month however many applications there
are; and each published version's feedback-check tally, recorded when published."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow


class InsightMonth(Base):
    """One job's applications decided in one month (UTC), and what became of them."""

    __tablename__ = "insight_months"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(primary_key=True)  # its first day
    decided: Mapped[int] = mapped_column(default=0)
    told: Mapped[int] = mapped_column(default=0)  # an invitation went
    opened: Mapped[int] = mapped_column(default=0)  # an invitation link was used
    asked: Mapped[int] = mapped_column(default=0)  # the candidate asked a question
    answered: Mapped[int] = mapped_column(default=0)  # and staff replied
    answered_in_promise: Mapped[int] = mapped_column(default=0)
    pool_joins: Mapped[int] = mapped_column(default=0)
    # Hours from decision to invitation, and from question to first reply: counts
    # by whole hour ({"26": 3}), so medians and percentiles add up across months.
    send_hours: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    reply_hours: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # Requirements assessed "not yet met" in the published feedback: name -> count.
    unmet: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


class InsightFindings(Base):
    """One writer's published versions in one month (UTC) and what the feedback check
    found in them: the coaching table, summed from `check_tallies` by the refresh."""

    __tablename__ = "insight_findings"
    __table_args__ = (Index("ix_insight_findings_organization_month", "organization_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    # None: versions without a writer (imported, or their account deleted).
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    month: Mapped[dt.date]
    published: Mapped[int] = mapped_column(default=0)
    risky: Mapped[int] = mapped_column(default=0)
    vague: Mapped[int] = mapped_column(default=0)
    tone: Mapped[int] = mapped_column(default=0)
    rules: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


class InsightRefresh(Base):
    """When an organization's figures were last worked out."""

    __tablename__ = "insight_refreshes"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    refreshed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CheckTally(Base):
    """What the feedback check found in a version when it was published, by severity,
    and who wrote it: the coaching table (shown to admins and to the writer)."""

    __tablename__ = "check_tallies"
    __table_args__ = (
        Index("ix_check_tallies_organization_published", "organization_id", "published_at"),
    )

    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    published_at: Mapped[dt.datetime]
    risky: Mapped[int] = mapped_column(default=0)
    vague: Mapped[int] = mapped_column(default=0)
    tone: Mapped[int] = mapped_column(default=0)


class CheckTallyRule(Base):
    """How often one rule of the check fired in a published version (the coaching
    table's "most common"), summed by the database rather than read row by row."""

    __tablename__ = "check_tally_rules"

    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("check_tallies.feedback_id", ondelete="CASCADE"), primary_key=True
    )
    rule: Mapped[str] = mapped_column(String(60), primary_key=True)
    findings: Mapped[int] = mapped_column(default=1)
