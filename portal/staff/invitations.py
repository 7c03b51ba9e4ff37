"""Accepting a staff invitation: set a password, or link a single sign-on identity.

The token is the credential; only its SHA-256 is stored. Accepting is one
conditional UPDATE, so two tabs racing each other cannot both use it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from portal.auth.signin import SignIn
from portal.orgs.models import Organization
from portal.security.sessions import revoke_staff_sessions
from portal.security.tokens import token_digest
from portal.staff.models import StaffInvitation, StaffUser
from portal.staff.passwords import hash_password

MAX_TOKEN_LENGTH = 100


@dataclass(frozen=True)
class Invitation:
    id: int
    staff_user_id: int
    organization_id: int
    name: str
    email: str
    organization_name: str


class IdentityTaken(ValueError):
    """The single sign-on identity already belongs to another staff account."""


async def open_invitation(
    db: AsyncSession, *, token_hash: bytes | None, now: dt.datetime
) -> Invitation | None:
    """The invitation a token names, if it still works (unused, not revoked, not
    expired, and its account active)."""
    if token_hash is None:
        return None
    row = (
        await db.execute(
            select(
                StaffInvitation.id,
                StaffUser.id.label("staff_user_id"),
                StaffUser.organization_id,
                StaffUser.name,
                StaffUser.email,
                Organization.display_name.label("organization_name"),
            )
            .join(StaffUser, StaffUser.id == StaffInvitation.staff_user_id)
            .join(Organization, Organization.id == StaffUser.organization_id)
            .where(
                StaffInvitation.token_hash == token_hash,
                StaffInvitation.used_at.is_(None),
                StaffInvitation.revoked_at.is_(None),
                StaffInvitation.expires_at > now,
                StaffUser.active.is_(True),
            )
        )
    ).one_or_none()
    return Invitation(**row._mapping) if row else None


def invitation_hash(token: str) -> bytes | None:
    """The stored form of a token from a URL (None for one no link could carry)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token_digest(token)


async def _use(db: AsyncSession, invitation: Invitation, now: dt.datetime) -> bool:
    used = await db.execute(
        update(StaffInvitation)
        .where(StaffInvitation.id == invitation.id, StaffInvitation.used_at.is_(None))
        .values(used_at=now)
    )
    return bool(getattr(used, "rowcount", 0))


async def accept_with_password(
    db: AsyncSession,
    *,
    token_hash: bytes | None,
    password: str,
    now: dt.datetime,
) -> Invitation | None:
    """Set the account's password and spend the invitation; None if it no longer works.
    Every session of the account ends: whoever knew the old password is signed out.
    The new member is then signed in (`signed_in`), which records the acceptance."""
    invitation = await open_invitation(db, token_hash=token_hash, now=now)
    if invitation is None or not await _use(db, invitation, now):
        return None
    password_hash = await run_in_threadpool(hash_password, password)
    await db.execute(
        update(StaffUser)
        .where(StaffUser.id == invitation.staff_user_id)
        .values(password_hash=password_hash)
    )
    await revoke_staff_sessions(db, staff_user_id=invitation.staff_user_id, now=now)
    return invitation


async def accept_with_identity(
    db: AsyncSession,
    *,
    token_hash: bytes | None,
    issuer: str,
    subject: str,
    now: dt.datetime,
) -> Invitation | None:
    """Link the single sign-on identity (issuer + subject) to the invited account
    and spend the invitation; None if it no longer works. Every session of the
    account ends, as when a password is set; then the member is signed in."""
    invitation = await open_invitation(db, token_hash=token_hash, now=now)
    if invitation is None:
        return None
    taken = await db.scalar(
        select(
            exists().where(
                StaffUser.oidc_issuer == issuer,
                StaffUser.oidc_subject == subject,
                StaffUser.id != invitation.staff_user_id,
            )
        )
    )
    if taken:
        raise IdentityTaken(subject)
    if not await _use(db, invitation, now):
        return None
    await db.execute(
        update(StaffUser)
        .where(StaffUser.id == invitation.staff_user_id)
        .values(oidc_issuer=issuer, oidc_subject=subject)
    )
    await revoke_staff_sessions(db, staff_user_id=invitation.staff_user_id, now=now)
    return invitation


def signed_in(invitation: Invitation, method: str) -> SignIn:
    """The sign-in that follows accepting `invitation` by `method` ("password" or
    "single_sign_on"): recorded as the acceptance."""
    return SignIn.staff(
        invitation.staff_user_id,
        invitation.organization_id,
        action="staff.invitation_accepted",
        details={"method": method},
    )
