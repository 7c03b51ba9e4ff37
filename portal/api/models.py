"""The API's tables: its keys, and the answers it keeps for idempotent retries."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, utcnow


class ApiScope(enum.StrEnum):
    """What a key may do (docs/api.md)."""

    APPLICATIONS_WRITE = "applications:write"  # jobs and applications: create, change, publish
    APPLICATIONS_READ = "applications:read"  # jobs, applications and their feedback
    THREADS_READ = "threads:read"  # where candidates' questions stand
    POOL_READ = "pool:read"  # talent-pool members and their consent


class ApiKey(Base):
    """An organization's key for `/api/v1`. Only the SHA-256 of the key is kept (the
    key is 256 random bits, so a fast hash is enough: nothing to guess from it); its
    first characters (`prefix`) name it on the staff page."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # The scopes, space-separated (each an ApiScope value).
    scopes: Mapped[str] = mapped_column(String(200))
    created_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


# How long an answer to a request with an `Idempotency-Key` is kept for retries.
IDEMPOTENCY_KEPT_FOR = dt.timedelta(hours=24)


class IdempotentRequest(Base):
    """A POST or PATCH made with an `Idempotency-Key`: inserted before the request
    runs (the unique key is the lock across processes), completed with its answer,
    which a retry with the same key gets back. Kept 24 hours (`IDEMPOTENCY_KEPT_FOR`;
    the housekeeping job, `portal.jobs.housekeeping`, deletes older ones)."""

    __tablename__ = "api_idempotent_requests"
    __table_args__ = (
        UniqueConstraint("api_key_id", "idempotency_key"),
        Index("ix_api_idempotent_requests_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the method, the path and the body: the same key with another
    # request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # None while the first request still runs.
    status_code: Mapped[int | None]
    body: Mapped[Any | None] = mapped_column(JSON)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    completed_at: Mapped[dt.datetime | None]
