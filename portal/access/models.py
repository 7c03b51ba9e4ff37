"""Emailed links that let a candidate in: invitations and sign-in links."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, ForeignKeyConstraint, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow


class LinkPurpose(enum.StrEnum):
    INVITATION = "invitation"  # to one application's feedback, from the rejection email
    SIGN_IN = "sign_in"  # asked for at /signin
    # Like an invitation (one application, the invitation lifetime), but landing on
    # one part of the feedback page: a reply's conversation, the talent-pool panel.
    REPLY = "reply"  # in the email that carries a recruiter's reply
    POOL = "pool"  # in talent-pool email, to change the member's preferences


# Where a link lands on its application's feedback page (the page's own anchors).
LANDING: dict[LinkPurpose, str] = {LinkPurpose.REPLY: "conversation", LinkPurpose.POOL: "pool"}


class AccessLink(Base):
    __tablename__ = "access_links"
    __table_args__ = (
        # An invitation's application is the link's candidate's: the database refuses
        # a link to another candidate's application.
        ForeignKeyConstraint(
            ["application_id", "candidate_id"],
            ["applications.id", "applications.candidate_id"],
            ondelete="CASCADE",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidates.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[int | None]
    purpose: Mapped[LinkPurpose] = enum_column(LinkPurpose)
    # Only the SHA-256 of the token is kept: a database leak yields no usable link.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
