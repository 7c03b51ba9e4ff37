"""What a language model proposed for a feedback draft, and what the recruiter did with it.

A rephrasing is kept from the moment a valid answer arrives (the prompt sent and the
model's raw answer, exactly), so that the version a recruiter approves carries what
the model was asked and what it said. Rejected proposals stay, marked, until the
application's feedback goes (with the application, or the candidate's erasure).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow


class RephrasingState(enum.StrEnum):
    PROPOSED = "proposed"  # shown to the recruiter, nothing saved from it yet
    APPROVED = "approved"  # saved as a new draft version (`feedback_id`)
    REJECTED = "rejected"


class Rephrasing(Base):
    __tablename__ = "feedback_rephrasings"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    # The version whose texts were sent; approving needs it to be the newest still.
    based_on_version: Mapped[int]
    # The draft version saved from it, once approved.
    feedback_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[RephrasingState] = enum_column(RephrasingState, default=RephrasingState.PROPOSED)
    model: Mapped[str] = mapped_column(String(100))
    # Candidate text: what was sent (system instructions and the prompt) and what came
    # back, word for word.
    system: Mapped[str] = mapped_column(Text)
    prompt: Mapped[str] = mapped_column(Text)
    output: Mapped[str] = mapped_column(Text)
    created_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[dt.datetime | None]
