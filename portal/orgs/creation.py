"""Creating an organization from nothing, and listing the installation's organizations.

Both are for the operator of the installation (`portal org create`, `portal org
list`), who stands above every organization: nothing here is scoped to an actor,
so no page may call it.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.orgs.forms import SLUG, SLUG_MAX, NewOrganizationForm
from portal.orgs.models import Organization
from portal.staff.models import StaffUser

# What a candidate agrees to when joining the talent pool, until an admin words it
# for their organization (Settings → talent pool).
DEFAULT_CONSENT_TEXT = (
    "By joining our talent pool you agree that we keep your name, email address, the "
    "feedback on your applications and your preferences, and contact you about roles that "
    "match them, for the period you choose. You can leave at any time with one click."
)


class SlugTaken(ValueError):
    """Another organization already has the slug."""

    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug


def slug_from_name(name: str) -> str:
    """A slug made from an organization's name ("Zoë's Café & Co." -> "zoes-cafe-co"):
    accents dropped, anything but ASCII letters and digits a hyphen, at most 63
    characters. Empty when the name has no ASCII letter or digit at all."""
    ascii_only = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    words = "".join(c if c.isalnum() else " " for c in ascii_only.replace("'", "").lower()).split()
    slug = "-".join(words)[:SLUG_MAX].strip("-")
    return slug if SLUG.match(slug) else ""


@dataclass(frozen=True)
class CreatedOrganization:
    id: int
    slug: str
    name: str


async def create_organization(
    db: AsyncSession,
    *,
    new: NewOrganizationForm,
    now: dt.datetime,
    source: Mapping[str, Any],
) -> CreatedOrganization:
    """Create the organization with the default settings (its name shown to
    candidates, the default accent colour, a 5-day reply promise, 14-day invitation
    links, a plain consent statement) and audit it as `source` (who asked, e.g. the
    command line). Raises `SlugTaken`, leaving nothing written.

    The slug's uniqueness is decided by the insert itself (ON CONFLICT DO NOTHING),
    so two creations racing for one slug end the same way as one that comes late:
    one wins, the other is told the slug is taken.
    """
    dialect = db.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    organization_id = await db.scalar(
        insert(Organization)
        .values(
            name=new.name,
            slug=new.slug,
            display_name=new.name,
            consent_text=DEFAULT_CONSENT_TEXT,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["slug"])
        .returning(Organization.id)
    )
    if organization_id is None:
        raise SlugTaken(new.slug)
    audit.record(
        db,
        action="organization.created",
        actor_kind="system",
        organization_id=organization_id,
        subject_type="organization",
        subject_id=organization_id,
        details={**source, "slug": new.slug, "name": new.name},
    )
    return CreatedOrganization(id=organization_id, slug=new.slug, name=new.name)


@dataclass(frozen=True)
class OrganizationSummary:
    id: int
    slug: str
    name: str
    staff_count: int  # active accounts, invited ones included
    created_at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "slug": self.slug,
            "name": self.name,
            "staff_count": self.staff_count,
            "created_at": _utc(self.created_at).isoformat(),
        }


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


async def list_organizations(db: AsyncSession) -> list[OrganizationSummary]:
    """Every organization of the installation, oldest first, with its active staff."""
    staff_count = (
        select(func.count(StaffUser.id))
        .where(StaffUser.organization_id == Organization.id, StaffUser.active.is_(True))
        .scalar_subquery()
    )
    rows = (
        await db.execute(
            select(
                Organization.id,
                Organization.slug,
                Organization.name,
                staff_count.label("staff_count"),
                Organization.created_at,
            ).order_by(Organization.created_at, Organization.id)
        )
    ).all()
    return [OrganizationSummary(**row._mapping) for row in rows]


async def organization_by_slug(db: AsyncSession, slug: str) -> CreatedOrganization | None:
    """The organization with this slug, for the operator's commands."""
    row = (
        await db.execute(
            select(Organization.id, Organization.slug, Organization.name).where(
                Organization.slug == slug
            )
        )
    ).one_or_none()
    return None if row is None else CreatedOrganization(row.id, row.slug, row.name)
