"""A staff member's own profile: their name, job title, time zone, and when they hear
about candidates' questions by email."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.orgs.models import Organization
from portal.security.actors import Staff
from portal.staff.forms import ProfileForm
from portal.staff.models import QuestionEmails, StaffUser
from portal.staff.service import readable_staff


class ProfileNotFound(LookupError):
    """The account was deleted a moment ago."""


@dataclass(frozen=True)
class Profile:
    name: str
    title: str | None
    email: str
    time_zone: str | None  # their own choice; None: their organization's
    organization_time_zone: str
    question_emails: QuestionEmails

    def form_values(self) -> dict[str, str]:
        """The profile as its form shows it (what `ProfileForm` reads back)."""
        return {
            "name": self.name,
            "title": self.title or "",
            "seen_title": self.title or "",
            "time_zone": self.time_zone or "",
            "question_emails": str(self.question_emails),
        }


async def my_profile(db: AsyncSession, *, actor: Staff) -> Profile:
    row = (
        await db.execute(
            readable_staff(actor)
            .with_only_columns(
                StaffUser.name,
                StaffUser.title,
                StaffUser.email,
                StaffUser.time_zone,
                Organization.time_zone.label("organization_time_zone"),
                StaffUser.question_emails,
            )
            .join(Organization, Organization.id == StaffUser.organization_id)
            .where(StaffUser.id == actor.staff_id)
        )
    ).one_or_none()
    if row is None:
        raise ProfileNotFound(actor.staff_id)
    return Profile(**row._mapping)


async def update_profile(
    db: AsyncSession, *, actor: Staff, form: ProfileForm, ip_hash: str | None = None
) -> list[str]:
    """Save what the staff member changed (audited as ``staff.profile_changed``);
    the names of the fields that changed, none when nothing did."""
    current = await my_profile(db, actor=actor)
    wanted: dict[str, Any] = {"name": form.name, "time_zone": form.time_zone or None}
    if form.title != form.seen_title:  # left as shown: an admin's newer title stays
        wanted["title"] = form.title or None
    if form.question_emails is not None:
        wanted["question_emails"] = form.question_emails
    before = {
        "name": current.name,
        "title": current.title,
        "time_zone": current.time_zone,
        "question_emails": current.question_emails,
    }
    changed = {name: value for name, value in wanted.items() if before[name] != value}
    if not changed:
        return []
    await db.execute(
        update(StaffUser)
        .where(StaffUser.id == actor.staff_id, StaffUser.organization_id == actor.organization_id)
        .values(**changed)
    )
    audit.by_staff(
        db,
        actor,
        action="staff.profile_changed",
        subject_type="staff_user",
        subject_id=actor.staff_id,
        ip_hash=ip_hash,
        details={
            "fields": sorted(changed),
            "from": {name: before[name] or "" for name in sorted(changed)},
            "to": {name: value or "" for name, value in sorted(changed.items())},
        },
    )
    return sorted(changed)
