"""Changing an organization's settings."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal import concurrency
from portal.audit import service as audit
from portal.db import utcnow
from portal.orgs.consent import record_consent_text
from portal.orgs.forms import OrganizationSettingsForm
from portal.orgs.models import Organization

# Columns where NULL means "the installation's default"; the form sends them empty.
_EMPTY_MEANS_DEFAULT = ("mail_from_name", "privacy_url", "contact_email")


async def current_settings(db: AsyncSession, *, organization_id: int) -> Organization:
    return (
        await db.execute(select(Organization).where(Organization.id == organization_id))
    ).scalar_one()


def form_values(org: Organization) -> dict[str, str]:
    """The settings as the form shows them (what `OrganizationSettingsForm` reads back)."""
    return {
        name: "" if getattr(org, name) is None else str(getattr(org, name))
        for name in OrganizationSettingsForm.model_fields
    }


async def update_settings(
    db: AsyncSession,
    *,
    organization_id: int,
    changes: OrganizationSettingsForm,
    staff_user_id: int | None,
    ip_hash: str | None = None,
) -> Organization | None:
    """Apply the admin's changes, or raise `Conflict` if someone saved in between.

    None when there is no such organization.
    """
    org = await db.get(Organization, organization_id, populate_existing=True)
    if org is None:
        return None
    concurrency.expect_version(org, changes.version)
    wanted = changes.model_dump(exclude={"version"})
    for name in _EMPTY_MEANS_DEFAULT:
        wanted[name] = wanted[name] or None
    changed = {name: value for name, value in wanted.items() if getattr(org, name) != value}
    new_statement = changed.pop("consent_text", None)
    for name, value in changed.items():
        setattr(org, name, value)
    if new_statement is not None:
        # Never silently: a changed statement is a new version, which members agree
        # to only by joining or renewing (it flushes everything, once).
        await record_consent_text(
            db,
            org=org,
            text=new_statement,
            staff_user_id=staff_user_id,
            now=utcnow(),
            ip_hash=ip_hash,
        )
        changed["consent_text"] = new_statement
    else:
        await concurrency.flush(db)
    audit.record(
        db,
        action="organization.settings_changed",
        actor_kind="staff",
        actor_id=staff_user_id,
        organization_id=org.id,
        subject_type="organization",
        subject_id=org.id,
        ip_hash=ip_hash,
        details={"fields": sorted(changed)},
    )
    return org


async def update_question_settings(
    db: AsyncSession,
    *,
    organization_id: int,
    reply_promise_days: int,
    replies_need_approval: bool,
    version: int,
    staff_user_id: int,
    ip_hash: str | None = None,
) -> Organization:
    """The reply promise and the approval rule for replies; raises `Conflict` if the
    settings changed since the admin loaded them."""
    org = await db.get(Organization, organization_id, populate_existing=True)
    if org is None:
        raise LookupError(organization_id)
    concurrency.expect_version(org, version)
    wanted = {
        "reply_promise_days": reply_promise_days,
        "replies_need_approval": replies_need_approval,
    }
    changed = {name: value for name, value in wanted.items() if getattr(org, name) != value}
    for name, value in changed.items():
        setattr(org, name, value)
    await concurrency.flush(db)
    audit.record(
        db,
        action="organization.settings_changed",
        actor_kind="staff",
        actor_id=staff_user_id,
        organization_id=org.id,
        subject_type="organization",
        subject_id=org.id,
        ip_hash=ip_hash,
        details={"fields": sorted(changed)},
    )
    return org
