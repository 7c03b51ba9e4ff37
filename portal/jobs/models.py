"""The one table of background work: every kind of job, email included."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow


class JobState(enum.StrEnum):
    PENDING = "pending"  # waiting for run_at, or running under a lease
    DONE = "done"  # finished; kept only for kinds that keep a record (email)
    FAILED = "failed"  # gave up; `portal mail retry` and friends put it back


class BackgroundJob(Base):
    __tablename__ = "background_jobs"
    __table_args__ = (
        Index("ix_background_jobs_state_run_at", "state", "run_at"),
        Index("ix_background_jobs_kind_state", "kind", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[JobState] = enum_column(JobState, default=JobState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    run_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # A worker's claim: until `locked_until`, the row belongs to the worker whose
    # claim is `lease_id`; the worker renews it while it works.
    locked_until: Mapped[dt.datetime | None]
    lease_id: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    # The same event never queues two jobs: the key names the event. NULLs never clash.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
