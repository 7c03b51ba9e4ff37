"""An organization as its candidates see it: name, colour and footer links, on every
page of theirs (the feedback page, sign-in, error pages) and in their email."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.db import NamedRow
from portal.forms import web_link
from portal.orgs.models import Organization


@dataclass(frozen=True)
class Branding:
    """An organization as its candidates see it, on every page of theirs."""

    display_name: str
    slug: str
    accent_colour: str
    privacy_url: str | None = None  # the footer's link to the privacy notice
    contact_email: str | None = None  # the footer's contact

    @property
    def privacy_link(self) -> str | None:
        return web_link(self.privacy_url)


# An organization's branding, read by `branding_from` (here, and wherever a page
# shows an organization's name and colour).
BRANDING_COLUMNS = (
    Organization.display_name.label("organization_name"),
    Organization.slug.label("organization_slug"),
    Organization.accent_colour.label("accent_colour"),
    Organization.privacy_url.label("privacy_url"),
    Organization.contact_email.label("contact_email"),
)


def branding_from(row: NamedRow) -> Branding:
    return Branding(
        display_name=row["organization_name"],
        slug=row["organization_slug"],
        accent_colour=row["accent_colour"],
        privacy_url=row["privacy_url"],
        contact_email=row["contact_email"],
    )


async def organization_branding(db: AsyncSession, *, organization_id: int) -> Branding:
    """An organization's branding, for a page of a signed-in candidate of it."""
    row = (
        await db.execute(select(*BRANDING_COLUMNS).where(Organization.id == organization_id))
    ).one()
    return branding_from(row._mapping)


_BRANDING_BY_ID = select(*BRANDING_COLUMNS).where(Organization.id == bindparam("organization_id"))
_BRANDING_BY_SLUG = select(*BRANDING_COLUMNS).where(Organization.slug == bindparam("slug"))


async def read_branding(
    db: AsyncSession, *, organization_id: int | None = None, slug: str | None = None
) -> Branding | None:
    """An organization's branding by id or by slug (for pages anyone may land on:
    sign-in, error pages). None if there is none."""
    if organization_id is not None:
        result = await db.execute(_BRANDING_BY_ID, {"organization_id": organization_id})
    else:
        result = await db.execute(_BRANDING_BY_SLUG, {"slug": slug})
    row = result.mappings().first()
    return branding_from(row) if row is not None else None
