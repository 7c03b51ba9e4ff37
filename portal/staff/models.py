"""Staff accounts: recruiters and admins of one organization."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_check, utcnow


class StaffRole(enum.StrEnum):
    ADMIN = "admin"  # a recruiter who also runs the organization's settings and staff
    RECRUITER = "recruiter"


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (
        UniqueConstraint("organization_id", "email"),
        UniqueConstraint("oidc_issuer", "oidc_subject"),
        enum_check("role", StaffRole),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default=StaffRole.RECRUITER)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
