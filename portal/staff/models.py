"""Staff accounts: recruiters and admins of one organization."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow
from portal.security.actors import StaffRole


class QuestionEmails(enum.StrEnum):
    """When a staff member hears by email about candidates' questions they look after
    (portal.threads.notifications)."""

    IMMEDIATELY = "immediately"  # an email per new question, and the daily digest
    DAILY = "daily"  # only the daily digest: questions waiting, the overdue ones first
    NEVER = "never"  # no email; the queue shows everything


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (
        UniqueConstraint("organization_id", "email"),
        UniqueConstraint("oidc_issuer", "oidc_subject"),
        # (id, organization_id) is unique because id is: the target of the composite
        # foreign key that keeps an application's assignee in its organization (an
        # index, as for jobs and candidates, so that SQLite need not rebuild the table).
        Index("uq_staff_users_id_organization_id", "id", "organization_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    # Their job title, signed under the notes they write ("Senior Recruiter").
    title: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[StaffRole] = enum_column(StaffRole, default=StaffRole.RECRUITER)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The tz database name they read times in; empty: their organization's.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    question_emails: Mapped[QuestionEmails] = enum_column(
        QuestionEmails, default=QuestionEmails.IMMEDIATELY, server_default="immediately"
    )


class StaffInvitation(Base):
    """An emailed, single-use link with which an invited colleague sets a password
    or links their single sign-on identity. Only the token's SHA-256 is stored."""

    __tablename__ = "staff_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class StaffSignInFailure(Base):
    """Failed password sign-ins for one address from one client, while they count
    (`portal.staff.lockout`). A table rather than the rate limiter's storage: every
    app process sees the same counts, and an organization's admins can list and
    clear the locks. Both keys are keyed hashes; the address may match no account."""

    __tablename__ = "staff_sign_in_failures"
    __table_args__ = (UniqueConstraint("address_hash", "ip_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(32))
    ip_hash: Mapped[str] = mapped_column(String(32))
    failures: Mapped[int] = mapped_column(default=0)
    first_failed_at: Mapped[dt.datetime]  # the start of the counting window
    last_failed_at: Mapped[dt.datetime] = mapped_column(index=True)
    locked_at: Mapped[dt.datetime | None]
    locked_until: Mapped[dt.datetime | None]
