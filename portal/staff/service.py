"""Staff accounts: signing in, and what a staff member may read of them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, false, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from portal.audit import service as audit
from portal.auth.signin import SignIn, begin_session
from portal.orgs.models import Organization
from portal.security.actors import Actor, Staff, StaffRole
from portal.settings import Settings
from portal.staff import lockout
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
    # "ok", "unknown", "wrong_password", "inactive", "unknown_identity"; and, when the
    # password was not checked at all, "locked" (this address from this client) or
    # "rate_limited" (this client).
    reason: str

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
    for account in accounts:
        stored_hash = account.password_hash
        if await run_in_threadpool(verify_password, stored_hash, password):
            if not account.active:
                return SignInAttempt(account.id, account.organization_id, "inactive")
            if stored_hash is not None and needs_rehash(stored_hash):
                await db.execute(
                    update(StaffUser)
                    .where(StaffUser.id == account.id)
                    .values(password_hash=await run_in_threadpool(hash_password, password))
                )
            return SignInAttempt(account.id, account.organization_id, "ok")
    first = accounts[0]
    return SignInAttempt(first.id, first.organization_id, "wrong_password")


@dataclass(frozen=True)
class StaffHome:
    name: str
    email: str
    role: StaffRole
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
                Organization.display_name.label("organization_name"),
                Organization.slug.label("organization_slug"),
            )
            .join(Organization, Organization.id == StaffUser.organization_id)
            .where(StaffUser.id == actor.staff_id)
        )
    ).one_or_none()
    return StaffHome(**row._mapping) if row else None


async def authenticate_identity(db: AsyncSession, *, issuer: str, subject: str) -> SignInAttempt:
    """The staff account a single sign-on identity (issuer + subject) is linked to.
    Never creates one: an identity is linked only by accepting an invitation."""
    account = (
        await db.execute(
            select(StaffUser.id, StaffUser.organization_id, StaffUser.active).where(
                StaffUser.oidc_issuer == issuer, StaffUser.oidc_subject == subject
            )
        )
    ).one_or_none()
    if account is None:
        return SignInAttempt(None, None, "unknown_identity")
    return SignInAttempt(
        account.id, account.organization_id, "ok" if account.active else "inactive"
    )


async def conclude_sign_in(
    db: AsyncSession,
    *,
    attempt: SignInAttempt,
    previous_session: bytes | None,
    settings: Settings,
    now: dt.datetime,
    ip_hash: str,
    details: dict[str, str] | None = None,
) -> str | None:
    """Audit a sign-in attempt and, when it succeeded, start the staff member's
    session in place of the browser's previous one: the new session cookie's
    value, or None when it failed."""
    if attempt.succeeded:
        assert attempt.staff_id is not None and attempt.organization_id is not None
        return await begin_session(
            db,
            SignIn.staff(attempt.staff_id, attempt.organization_id, details=details),
            previous=previous_session,
            ip_hash=ip_hash,
            settings=settings,
            now=now,
        )
    audit.record(
        db,
        action="staff.sign_in_failed",
        actor_kind="anonymous",
        organization_id=attempt.organization_id,
        subject_type="staff_user" if attempt.staff_id else None,
        subject_id=attempt.staff_id,
        ip_hash=ip_hash,
        details={**(details or {}), "reason": attempt.reason},
    )
    return None


@dataclass(frozen=True)
class PasswordSignIn:
    cookie: str | None  # the new session's cookie value, when it succeeded
    # Why the password was not checked at all: "locked" or "rate_limited" (see
    # `SignInAttempt.reason`); None when it was.
    refused: str | None = None
    staff_id: int | None = None  # who signed in, when it succeeded


async def sign_in_with_password(
    db: AsyncSession,
    *,
    email: str,
    password: str,
    ip_hash: str,
    client_within_limit: bool,
    previous_session: bytes | None,
    settings: Settings,
    now: dt.datetime,
) -> PasswordSignIn:
    """Sign in with an address and a password, unless this client is over its rate
    limit or locked out of this address (`portal.staff.lockout`); every outcome is
    audited, and failures counted per address and client. Known and unknown
    addresses go the same way."""
    address = lockout.address_hash(settings.secret_key.get_secret_value(), email)
    if not client_within_limit or await lockout.is_locked(
        db, address=address, ip_hash=ip_hash, now=now
    ):
        account = (
            await db.execute(
                select(StaffUser.id, StaffUser.organization_id)
                .where(StaffUser.email == email)
                .order_by(StaffUser.id)
                .limit(1)
            )
        ).one_or_none()
        reason = "locked" if client_within_limit else "rate_limited"
        attempt = SignInAttempt(
            account.id if account else None,
            account.organization_id if account else None,
            reason,
        )
        await conclude_sign_in(
            db, attempt=attempt, previous_session=None, settings=settings, now=now, ip_hash=ip_hash
        )
        return PasswordSignIn(None, refused=reason)
    attempt = await authenticate(db, email=email, password=password)
    details = None
    if attempt.succeeded:
        await lockout.forget_failures(db, address=address, ip_hash=ip_hash)
    elif await lockout.record_failure(db, address=address, ip_hash=ip_hash, now=now):
        details = {"locked_until": f"{now + lockout.LOCK_LENGTH:%Y-%m-%d %H:%M:%S} UTC"}
    cookie = await conclude_sign_in(
        db,
        attempt=attempt,
        previous_session=previous_session,
        settings=settings,
        now=now,
        ip_hash=ip_hash,
        details=details,
    )
    return PasswordSignIn(cookie, staff_id=attempt.staff_id if cookie else None)
