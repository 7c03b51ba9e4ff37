"""What the links in pool emails do, without a session: the token names the membership,
and the purpose it was made for (leave or renew) is the only thing it can do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.candidates.models import Candidate
from portal.orgs.branding import BRANDING_COLUMNS, Branding, branding_from
from portal.orgs.consent import current_consent_text
from portal.orgs.models import Organization
from portal.pool.models import (
    ConsentActor,
    ConsentEventKind,
    PoolConsentText,
    PoolMembership,
    PoolState,
)
from portal.pool.panel import MEMBERSHIP_COLUMNS, Membership, add_months, membership_from_row
from portal.pool.service import (
    StatementChanged,
    leave_membership,
    record_change,
)
from portal.pool.tokens import LinkPurpose, membership_id_from_token
from portal.settings import Settings


@dataclass(frozen=True)
class LinkedMembership:
    """A membership found by the token of an emailed link, with what its pages show."""

    membership: Membership
    # The organization as its candidates see it on every page of theirs: the name, and
    # the footer's privacy notice and contact address.
    branding: Branding
    candidate_name: str
    # The application whose feedback page they joined from, for a link back to it.
    source_application_id: int | None

    @property
    def organization(self) -> str:
        return self.branding.display_name


async def find_by_token(
    db: AsyncSession, *, settings: Settings, token: str, purpose: LinkPurpose
) -> LinkedMembership | None:
    membership_id = membership_id_from_token(settings, token, purpose)
    if membership_id is None:
        return None
    row = (
        (
            await db.execute(
                select(
                    *MEMBERSHIP_COLUMNS,
                    *BRANDING_COLUMNS,
                    Candidate.name.label("candidate_name"),
                    PoolMembership.source_application_id,
                )
                .join(PoolConsentText, PoolConsentText.id == PoolMembership.consent_text_id)
                .join(Organization, Organization.id == PoolMembership.organization_id)
                .join(Candidate, Candidate.id == PoolMembership.candidate_id)
                .where(PoolMembership.id == membership_id)
            )
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        return None
    view = membership_from_row(row)
    assert view is not None
    return LinkedMembership(
        membership=view,
        branding=branding_from(row),
        candidate_name=row["candidate_name"],
        source_application_id=row["source_application_id"],
    )


async def leave_by_token(
    db: AsyncSession, *, settings: Settings, token: str, now: dt.datetime, ip_hash: str | None
) -> bool | None:
    """Withdraw the membership the token names: True if this ended it, False if it
    had already ended (repeating is harmless), None if the token is not a genuine
    leave token."""
    membership_id = membership_id_from_token(settings, token, LinkPurpose.LEAVE)
    if membership_id is None:
        return None
    membership = await db.get(PoolMembership, membership_id, with_for_update=True)
    if membership is None:
        return None
    if membership.state != PoolState.ACTIVE:
        return False
    await leave_membership(db, membership, via=ConsentActor.EMAIL_LINK, now=now, ip_hash=ip_hash)
    return True


async def renew_by_token(
    db: AsyncSession,
    *,
    settings: Settings,
    token: str,
    consent_version: int,
    now: dt.datetime,
    ip_hash: str | None,
) -> PoolMembership | None:
    """Renew the active membership the token names for its duration from now, on
    the statement shown (StatementChanged if that is no longer the current one).
    None when the token is not a genuine renewal token or the membership has ended."""
    membership_id = membership_id_from_token(settings, token, LinkPurpose.RENEW)
    if membership_id is None:
        return None
    membership = await db.get(PoolMembership, membership_id, with_for_update=True)
    if membership is None or membership.state != PoolState.ACTIVE or membership.expires_at <= now:
        return None
    text = await current_consent_text(db, organization_id=membership.organization_id)
    if text.version != consent_version:
        raise StatementChanged(text.version)
    membership.consent_text_id = text.id
    membership.expires_at = add_months(now, membership.duration_months)
    membership.renewal_requested_at = None
    await db.flush()
    record_change(
        db,
        membership,
        kind=ConsentEventKind.RENEWED,
        actor=ConsentActor.EMAIL_LINK,
        actor_id=membership.candidate_id,
        now=now,
        ip_hash=ip_hash,
        extra={"consent_version": text.version},
    )
    return membership


async def organization_of(db: AsyncSession, linked: LinkedMembership) -> int:
    organization_id = await db.scalar(
        select(PoolMembership.organization_id).where(PoolMembership.id == linked.membership.id)
    )
    assert organization_id is not None
    return organization_id
