"""Test helpers for the talent pool: feedback that offers it, members, sent mail."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.db import unit_of_work, utcnow
from portal.feedback.models import Feedback
from portal.jobs.models import BackgroundJob
from portal.orgs.consent import current_consent_text
from portal.orgs.models import Organization
from portal.pool.models import PoolMembership
from portal.pool.panel import add_months
from portal.pool.tokens import LinkPurpose, member_token
from portal.settings import Settings
from tests.factories import CSRF_FIELD, World

Sessions = async_sessionmaker[AsyncSession]
STATEMENT = (
    "We keep your name, email address and feedback to tell you about roles.\n\n"
    "Leave whenever you like."
)


async def offer_pool(sessions: Sessions, world: World, *, text: str = STATEMENT) -> None:
    """The world's feedback offers the pool, and its organization has a statement."""
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Feedback)
            .where(Feedback.application_id == world.application_id)
            .values(pool_invitation_offered=True)
        )
        await db.execute(
            update(Organization)
            .where(Organization.id == world.organization_id)
            .values(consent_text=text)
        )


JOIN = {
    "role_families": ["data", "engineering"],
    "locations": "Berlin, Remote in the EU",
    "remote": "either",
    "which_roles": "any",
    "contact_frequency": "quarterly",
    "duration_months": "12",
    "consent": "yes",
    "consent_version": "1",
}


async def page_token(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    match = CSRF_FIELD.search(page.text)
    assert match, page.text
    return match.group(1)


async def join(
    client: httpx.AsyncClient, world: World, *, htmx: bool = False, **changes: Any
) -> httpx.Response:
    token = await page_token(client, f"/feedback/{world.application_id}")
    data: dict[str, Any] = {**JOIN, **changes, "csrftoken": token}
    headers = {"hx-request": "true"} if htmx else {}
    return await client.post(f"/feedback/{world.application_id}/pool", data=data, headers=headers)


async def add_member(
    sessions: Sessions,
    world: World,
    *,
    joined_at: dt.datetime | None = None,
    months: int = 12,
    role_families: str = "data",
    locations: str = "Berlin",
    remote: str = "either",
    contact_frequency: str = "quarterly",
    only_chosen_roles: bool = False,
    last_contacted_at: dt.datetime | None = None,
) -> int:
    """An active member made directly in the database (for staff-side tests)."""
    joined = joined_at or utcnow() - dt.timedelta(days=3)
    async with unit_of_work(sessions) as db:
        text = await current_consent_text(db, organization_id=world.organization_id)
        membership = PoolMembership(
            organization_id=world.organization_id,
            candidate_id=world.candidate_id,
            source_application_id=world.application_id,
            consent_text_id=text.id,
            state="active",
            role_families=role_families,
            locations=locations,
            remote=remote,
            only_chosen_roles=only_chosen_roles,
            contact_frequency=contact_frequency,
            duration_months=months,
            joined_at=joined,
            expires_at=add_months(joined, months),
            last_contacted_at=last_contacted_at,
        )
        db.add(membership)
        await db.flush()
        return membership.id


async def memberships(sessions: Sessions, world: World) -> list[PoolMembership]:
    async with sessions() as db:
        return list(
            (
                await db.scalars(
                    select(PoolMembership)
                    .where(PoolMembership.candidate_id == world.candidate_id)
                    .order_by(PoolMembership.id)
                )
            ).all()
        )


async def queued_mail(sessions: Sessions, template: str | None = None) -> list[dict[str, Any]]:
    async with sessions() as db:
        rows = (
            await db.scalars(
                select(BackgroundJob.payload)
                .where(BackgroundJob.kind == "mail.send")
                .order_by(BackgroundJob.id)
            )
        ).all()
    return [row for row in rows if template is None or row["template"] == template]


def leave_path(settings: Settings, membership_id: int) -> str:
    return f"/pool/leave/{member_token(settings, membership_id, LinkPurpose.LEAVE)}"


def renew_path(settings: Settings, membership_id: int) -> str:
    return f"/pool/renew/{member_token(settings, membership_id, LinkPurpose.RENEW)}"


LINK = re.compile(r"http://testserver(/pool/(?:leave|renew)/[^\s\"<>]+)")
