"""Organizations: the employers (or agencies) that own everything else."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, String, Text, false, true
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow
from portal.formats import DEFAULT_TIME_ZONE


class Organization(Base):
    __tablename__ = "organizations"
    __table_args__ = (
        CheckConstraint("reply_promise_days BETWEEN 1 AND 60", name="reply_promise_days"),
        CheckConstraint("invitation_days BETWEEN 1 AND 90", name="invitation_days"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    accent_colour: Mapped[str] = mapped_column(String(7), default="#1f5f8b")
    logo_path: Mapped[str | None] = mapped_column(String(300))
    reply_promise_days: Mapped[int] = mapped_column(default=5)
    invitation_days: Mapped[int] = mapped_column(default=14)
    consent_text: Mapped[str] = mapped_column(Text, default="")
    consent_text_version: Mapped[int] = mapped_column(default=1)
    consent_durations_months: Mapped[list[int]] = mapped_column(JSON, default=lambda: [6, 12, 24])
    # Whether feedback pages that offer a pool invitation show the talent-pool panel.
    offers_pool: Mapped[bool] = mapped_column(default=True, server_default=true())
    replies_need_approval: Mapped[bool] = mapped_column(default=False)
    # Sender of this organization's email; empty means the installation's default.
    mail_from_address: Mapped[str | None] = mapped_column(String(320))
    mail_from_name: Mapped[str | None] = mapped_column(String(200))
    # In the footer of the candidates' pages: where the privacy notice is, and whom to
    # write to (empty: not shown).
    privacy_url: Mapped[str | None] = mapped_column(String(500))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    # The tz database name staff read times in, unless they chose their own.
    time_zone: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_TIME_ZONE, server_default=DEFAULT_TIME_ZONE
    )
    # Retention (portal.privacy.retention): candidates' content is erased this many
    # months after their last decision, and the legal hold kept this many months more.
    retention_months: Mapped[int] = mapped_column(default=6, server_default="6")
    legal_hold_months: Mapped[int] = mapped_column(default=12, server_default="12")
    # A language model (portal.llm), off unless an admin names one: the `llm` library's
    # model id, and which of its two uses are on. Nothing is sent anywhere otherwise.
    language_model: Mapped[str] = mapped_column(String(100), default="", server_default="")
    model_rephrases: Mapped[bool] = mapped_column(default=False, server_default=false())
    model_second_opinion: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Admins edit settings: every update checks and bumps this (portal.concurrency).
    version: Mapped[int] = mapped_column(server_default="1")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
