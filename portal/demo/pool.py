"""Demo talent-pool members, so that the staff pool pages have people on them.

Each is a candidate of the demo content whose feedback offers the pool, as if they
had joined from their feedback page some days ago. Candidates whose feedback offers
the pool but who are not listed here (Priya Raman, Wei Zhang, Leila Haddad, Rafael
Ortiz) can join in the demo themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.candidates.models import Application, Candidate
from portal.orgs.consent import current_consent_text
from portal.pool.models import (
    ConsentActor,
    ConsentEventKind,
    ContactFrequency,
    PoolConsentEvent,
    PoolMembership,
    PoolState,
    RemotePreference,
)
from portal.pool.panel import add_months


@dataclass(frozen=True)
class DemoMember:
    email: str
    role_families: str
    locations: str
    remote: str
    contact_frequency: str
    months: int
    joined_days_ago: int
    contacted_days_ago: int | None = None


DEMO_POOL: dict[str, tuple[DemoMember, ...]] = {
    "northwind": (
        DemoMember(
            "amara.okafor@example.com", "data", "Lagos\nLondon", "either", "quarterly", 12, 20
        ),
        # Consent ends within the renewal notice: the pool job asks her to renew.
        DemoMember(
            "hana.kobayashi@example.com", "data,engineering", "Tokyo", "remote", "monthly", 6, 160,
            contacted_days_ago=12,
        ),
    ),
    "harbourline": (
        DemoMember(
            "tomasz.nowak@example.com", "operations", "Rotterdam\nAntwerp", "on_site", "quarterly",
            24, 45, contacted_days_ago=30,
        ),
    ),
}  # fmt: skip


async def seed_pool(db: AsyncSession, *, organization_id: int, slug: str, now: dt.datetime) -> None:
    """The organization's demo members, with their consent history."""
    text = await current_consent_text(db, organization_id=organization_id)
    for member in DEMO_POOL.get(slug, ()):
        found = (
            await db.execute(
                select(Candidate.id.label("candidate_id"), Application.id.label("application_id"))
                .join(Application, Application.candidate_id == Candidate.id)
                .where(
                    Candidate.organization_id == organization_id, Candidate.email == member.email
                )
                .order_by(Application.id)
                .limit(1)
            )
        ).one()
        joined = now - dt.timedelta(days=member.joined_days_ago)
        contacted = (
            None
            if member.contacted_days_ago is None
            else now - dt.timedelta(days=member.contacted_days_ago)
        )
        membership = PoolMembership(
            organization_id=organization_id,
            candidate_id=found.candidate_id,
            source_application_id=found.application_id,
            consent_text_id=text.id,
            state=PoolState.ACTIVE,
            role_families=member.role_families,
            locations=member.locations,
            remote=RemotePreference(member.remote),
            contact_frequency=ContactFrequency(member.contact_frequency),
            duration_months=member.months,
            joined_at=joined,
            expires_at=add_months(joined, member.months),
            last_contacted_at=contacted,
        )
        db.add(membership)
        await db.flush()
        db.add(
            PoolConsentEvent(
                membership_id=membership.id,
                kind=ConsentEventKind.JOINED,
                consent_text_id=text.id,
                actor_kind=ConsentActor.CANDIDATE,
                at=joined,
                details={"consent_version": text.version},
            )
        )
    await db.flush()
