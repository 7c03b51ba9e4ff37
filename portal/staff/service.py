"""Staff accounts: signing in, and what a staff member may read of them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, false, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from portal.auth import Actor, Staff
from portal.orgs.models import Organization
from portal.staff.models import StaffUser
from portal.staff.passwords import hash_password, needs_rehash, verify_password


def readable_staff(actor: Actor) -> Select[StaffUser]:
    """Staff see their own organization's accounts; nobody else sees any."""
    statement = select(StaffUser)
    if isinstance(actor, Staff):
        return statement.where(StaffUser.organization_id == actor.organization_id)
    return statement.where(false())


@dataclass(frozen=True)
class SignInAttempt:
    """The outcome of a sign-in attempt. `reason` is for the audit log only: the
    person sees the same answer whatever it is."""

    staff_id: int | None
    organization_id: int | None
    reason: str  # "ok", "unknown", "wrong_password", "inactive"

    @property
    def succeeded(self) -> bool:
        return self.reason == "ok"


async def authenticate(db: AsyncSession, *, email: str, password: str) -> SignInAttempt:
    """Check an address and password. One password check happens whatever the
    outcome (against a dummy hash for an unknown address), in a worker thread."""
    accounts = (
        await db.execute(
            select(
                StaffUser.id, StaffUser.organization_id, StaffUser.password_hash, StaffUser.active
            )
            .where(StaffUser.email == email)
            .order_by(StaffUser.id)
        )
    ).all()
    if not accounts:
        await run_in_threadpool(verify_password, None, password)
        return SignInAttempt(None, None, "unknown")
    # The same address may have an account in more than one organization: the
    # password says which.
    for staff_id, organization_id, stored_hash, active in accounts:
        if await run_in_threadpool(verify_password, stored_hash, password):
            if not active:
                return SignInAttempt(staff_id, organization_id, "inactive")
            if stored_hash is not None and needs_rehash(stored_hash):
                await db.execute(
                    update(StaffUser)
                    .where(StaffUser.id == staff_id)
                    .values(password_hash=await run_in_threadpool(hash_password, password))
                )
            return SignInAttempt(staff_id, organization_id, "ok")
    staff_id, organization_id, _, _ = accounts[0]
    return SignInAttempt(staff_id, organization_id, "wrong_password")


@dataclass(frozen=True)
class StaffHome:
    name: str
    email: str
    role: str
    organization_name: str
    organization_slug: str


async def staff_home(db: AsyncSession, *, actor: Staff) -> StaffHome | None:
    """Who is signed in and their organization."""
    row = (
        await db.execute(
            readable_staff(actor)
            .with_only_columns(
                StaffUser.name,
                StaffUser.email,
                StaffUser.role,
                Organization.display_name,
                Organization.slug,
            )
            .join(Organization, Organization.id == StaffUser.organization_id)
            .where(StaffUser.id == actor.staff_id)
        )
    ).one_or_none()
    return StaffHome(*row) if row else None
