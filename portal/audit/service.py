"""Recording audit events."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit.models import AuditEvent
from portal.db import utcnow


def record(
    db: AsyncSession,
    *,
    action: str,
    actor_kind: str,
    actor_id: int | None = None,
    organization_id: int | None = None,
    subject_type: str | None = None,
    subject_id: int | None = None,
    ip_hash: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    db.add(
        AuditEvent(
            action=action,
            actor_kind=actor_kind,
            actor_id=actor_id,
            organization_id=organization_id,
            subject_type=subject_type,
            subject_id=subject_id,
            ip_hash=ip_hash,
            details=details or {},
            created_at=utcnow(),
        )
    )
