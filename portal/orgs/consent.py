"""The organization's talent-pool consent statement, kept as numbered versions: what
each member agreed to stays on record when an admin changes the statement."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from portal import concurrency
from portal.audit import service as audit
from portal.orgs.models import Organization
from portal.pool.models import PoolConsentText


async def current_consent_text(db: AsyncSession, *, organization_id: int) -> PoolConsentText:
    """The organization's current statement as a recorded version (recorded now if
    the organization's row holds a version nobody has joined on yet)."""
    org = await db.get(Organization, organization_id)
    if org is None:
        raise LookupError(organization_id)
    found = await db.scalar(
        select(PoolConsentText).where(
            PoolConsentText.organization_id == organization_id,
            PoolConsentText.version == org.consent_text_version,
        )
    )
    if found is not None:
        return found
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await db.execute(
        insert(PoolConsentText)
        .values(
            organization_id=organization_id,
            version=org.consent_text_version,
            text=org.consent_text,
            created_at=org.created_at,
        )
        .on_conflict_do_nothing(index_elements=["organization_id", "version"])
    )
    recorded = await db.scalar(
        select(PoolConsentText).where(
            PoolConsentText.organization_id == organization_id,
            PoolConsentText.version == org.consent_text_version,
        )
    )
    assert recorded is not None
    return recorded


async def record_consent_text(
    db: AsyncSession,
    *,
    org: Organization,
    text: str,
    staff_user_id: int | None,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> PoolConsentText:
    """Make `text` the organization's statement, as a new version. Members keep
    the version they agreed to; new members (and renewals) agree to this one."""
    await current_consent_text(db, organization_id=org.id)  # the old one stays on record
    version = org.consent_text_version + 1
    row = PoolConsentText(
        organization_id=org.id,
        version=version,
        text=text,
        created_at=now,
        created_by_staff_id=staff_user_id,
    )
    db.add(row)
    org.consent_text = text
    org.consent_text_version = version
    await concurrency.flush(db)  # a stale organization row is a Conflict
    audit.record(
        db,
        action="pool.consent_text_changed",
        actor_kind="staff",
        actor_id=staff_user_id,
        organization_id=org.id,
        subject_type="pool_consent_text",
        subject_id=row.id,
        ip_hash=ip_hash,
        details={"version": version},
    )
    return row
