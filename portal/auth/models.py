"""What a person typed when their session had ended: kept for them, and only them,
until they sign in again (`portal.auth.kept`)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow


class KeptFormKind(enum.StrEnum):
    QUESTION = "question"  # a candidate's question or follow-up about an application
    FEEDBACK_DRAFT = "feedback_draft"  # a recruiter's feedback editor, every field


class KeptForm(Base):
    """A form posted after its writer's session ended, kept for the same candidate or
    staff member (the ended session's owner, read on the server: never from the
    request) about one application, until `expires_at`."""

    __tablename__ = "kept_forms"
    __table_args__ = (
        CheckConstraint("(candidate_id IS NULL) <> (staff_user_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int | None] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[KeptFormKind] = enum_column(KeptFormKind)
    # The posted fields as typed (field name to text), never the CSRF token.
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
