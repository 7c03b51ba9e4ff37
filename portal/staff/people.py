"""Administering an organization's staff: invitations, roles, deactivation, and
clearing a colleague's sign-in lock.

Only an organization's admins may do any of it, and only to their own
organization's accounts: anyone else finds nothing (`PersonNotFound`, a 404).
An invitation is an emailed, single-use link (only its SHA-256 stored) with
which the colleague sets a password or links their single sign-on identity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import service as audit
from portal.mail import service as mail
from portal.orgs.models import Organization
from portal.security.actors import Actor, Staff, StaffRole, admin_only
from portal.security.sessions import revoke_staff_sessions
from portal.security.tokens import new_token, token_digest
from portal.settings import Settings
from portal.staff import lockout
from portal.staff.models import StaffInvitation, StaffSignInFailure, StaffUser
from portal.staff.service import readable_staff
from portal.urls import absolute_url

INVITATION_LIFETIME = dt.timedelta(days=7)


class PersonNotFound(LookupError):
    """No such account in the admin's organization (or the actor is no admin)."""


class AlreadyStaff(ValueError):
    """The organization already has an account with that address."""


class LastAdmin(ValueError):
    """The change would leave the organization without an active admin."""


class LockNotFound(LookupError):
    """No such sign-in lock on a colleague's address in the admin's organization."""


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    email: str
    role: StaffRole
    active: bool
    has_password: bool
    has_sso: bool
    invitation_expires_at: dt.datetime | None  # of the pending invitation, if any
    created_at: dt.datetime
    title: str | None = None  # signed under the notes they write to candidates

    @property
    def status(self) -> str:
        if not self.active:
            return "deactivated"
        if not (self.has_password or self.has_sso):
            return "invited"
        return "active"


def invitation_url(settings: Settings, token: str) -> str:
    return absolute_url(settings, "staff.invitation", token=token)


async def list_people(db: AsyncSession, *, actor: Actor, now: dt.datetime) -> list[Person]:
    """Everyone in the admin's organization, by name, with any pending invitation."""
    return await _people(db, actor=admin_only(actor, refuse=PersonNotFound()), now=now)


async def find_person(
    db: AsyncSession, *, actor: Actor, staff_user_id: int, now: dt.datetime
) -> Person:
    found = await _people(
        db, actor=admin_only(actor, refuse=PersonNotFound()), now=now, staff_user_id=staff_user_id
    )
    if not found:
        raise PersonNotFound
    return found[0]


async def _people(
    db: AsyncSession, *, actor: Staff, now: dt.datetime, staff_user_id: int | None = None
) -> list[Person]:
    pending = (
        select(func.max(StaffInvitation.expires_at))
        .where(
            StaffInvitation.staff_user_id == StaffUser.id,
            StaffInvitation.used_at.is_(None),
            StaffInvitation.revoked_at.is_(None),
            StaffInvitation.expires_at > now,
        )
        .scalar_subquery()
    )
    statement = readable_staff(actor).with_only_columns(
        StaffUser.id,
        StaffUser.name,
        StaffUser.email,
        StaffUser.role,
        StaffUser.active,
        StaffUser.password_hash.is_not(None).label("has_password"),
        StaffUser.oidc_subject.is_not(None).label("has_sso"),
        pending.label("invitation_expires_at"),
        StaffUser.created_at,
        StaffUser.title,
    )
    if staff_user_id is not None:
        statement = statement.where(StaffUser.id == staff_user_id)
    rows = (await db.execute(statement.order_by(StaffUser.name, StaffUser.id))).all()
    return [Person(**row._mapping) for row in rows]


async def invite(
    db: AsyncSession,
    *,
    actor: Actor,
    settings: Settings,
    name: str,
    email: str,
    role: StaffRole,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> int:
    """Create the colleague's account (no way to sign in yet) and email them an
    invitation. Returns the new account's id."""
    admin = admin_only(actor, refuse=PersonNotFound())
    taken = await db.scalar(
        select(
            exists().where(
                StaffUser.organization_id == admin.organization_id, StaffUser.email == email
            )
        )
    )
    if taken:
        raise AlreadyStaff(email)
    person = StaffUser(
        organization_id=admin.organization_id,
        email=email,
        name=name,
        role=role,
        password_hash=None,
        active=True,
        created_at=now,
    )
    db.add(person)
    await db.flush()
    audit.by_staff(
        db,
        admin,
        action="staff.invited",
        subject_type="staff_user",
        subject_id=person.id,
        ip_hash=ip_hash,
        details={"role": str(role)},
    )
    await _send_invitation(db, admin=admin, settings=settings, person_id=person.id, now=now)
    return person.id


async def reinvite(
    db: AsyncSession,
    *,
    actor: Actor,
    settings: Settings,
    staff_user_id: int,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> None:
    """A fresh invitation (the older ones stop working), e.g. after one expired."""
    admin = admin_only(actor, refuse=PersonNotFound())
    person = await find_person(db, actor=admin, staff_user_id=staff_user_id, now=now)
    if not person.active:
        raise PersonNotFound  # reactivate first: the page offers no invitation for them
    audit.by_staff(
        db,
        admin,
        action="staff.reinvited",
        subject_type="staff_user",
        subject_id=person.id,
        ip_hash=ip_hash,
    )
    await _send_invitation(db, admin=admin, settings=settings, person_id=person.id, now=now)


@dataclass(frozen=True)
class SentInvitation:
    url: str  # the link itself: shown only to whoever created the account
    expires_at: dt.datetime


async def _send_invitation(
    db: AsyncSession, *, admin: Staff, settings: Settings, person_id: int, now: dt.datetime
) -> None:
    await _email_invitation(
        db,
        settings=settings,
        organization_id=admin.organization_id,
        person_id=person_id,
        invited_by=admin.name,
        created_by_staff_id=admin.staff_id,
        now=now,
    )


async def _email_invitation(
    db: AsyncSession,
    *,
    settings: Settings,
    organization_id: int,
    person_id: int,
    invited_by: str | None,
    created_by_staff_id: int | None,
    now: dt.datetime,
) -> SentInvitation:
    """A new invitation for the account (older ones stop working), emailed through
    the outbox. `invited_by` None: the organization's first admin, whom nobody in it
    invited."""
    await _revoke_invitations(db, staff_user_id=person_id, now=now)
    token = new_token()
    expires_at = now + INVITATION_LIFETIME
    db.add(
        StaffInvitation(
            staff_user_id=person_id,
            token_hash=token_digest(token),
            created_by_staff_id=created_by_staff_id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    invited = (
        await db.execute(select(StaffUser.name, StaffUser.email).where(StaffUser.id == person_id))
    ).one()
    url = invitation_url(settings, token)
    await mail.enqueue_email(
        db,
        settings=settings,
        to_address=invited.email,
        template="staff_invitation",
        organization_id=organization_id,
        idempotency_key=f"staff_invitation:{token_digest(token).hex()}",
        context={
            "name": invited.name,
            "invited_by": invited_by or "",
            "first_admin": invited_by is None,
            "expires_on": f"{expires_at:%Y-%m-%d %H:%M} UTC",
            "single_sign_on": bool(settings.oidc_issuer),
        },
        link=url,
        now=now,
    )
    return SentInvitation(url=url, expires_at=expires_at)


async def invite_first_admin(
    db: AsyncSession,
    *,
    organization_id: int,
    settings: Settings,
    name: str,
    email: str,
    now: dt.datetime,
    source: Mapping[str, Any],
) -> SentInvitation:
    """The first admin of a new organization, created by the installation's operator
    (`source` says how, e.g. the command line): an admin account with no way to sign
    in yet, and an emailed invitation to set a password or link single sign-on.
    The caller may show the returned link to the operator; nobody else sees it."""
    person = StaffUser(
        organization_id=organization_id,
        email=email,
        name=name,
        role=StaffRole.ADMIN,
        password_hash=None,
        active=True,
        created_at=now,
    )
    db.add(person)
    await db.flush()
    audit.record(
        db,
        action="staff.invited",
        actor_kind="system",
        organization_id=organization_id,
        subject_type="staff_user",
        subject_id=person.id,
        details={**source, "role": str(StaffRole.ADMIN)},
    )
    return await _email_invitation(
        db,
        settings=settings,
        organization_id=organization_id,
        person_id=person.id,
        invited_by=None,
        created_by_staff_id=None,
        now=now,
    )


class AlreadySignsIn(ValueError):
    """The account has a password or a linked single sign-on identity already."""


async def invite_admin_again(
    db: AsyncSession,
    *,
    organization_id: int,
    settings: Settings,
    email: str,
    name: str,
    now: dt.datetime,
    source: Mapping[str, Any],
) -> tuple[SentInvitation, bool]:
    """For the installation's operator (`source`): a fresh invitation for an admin of
    the organization who has not signed in yet (the first one's expired or was lost;
    older links stop working), or, when no account has the address, a new admin
    invited as the first one was. Answers the invitation and whether the account is
    new. Raises `AlreadySignsIn` for an account that can sign in already, and
    `PersonNotFound` for a deactivated one or one that is not an admin (their
    organization's admins manage them)."""
    person = (
        await db.execute(
            select(
                StaffUser.id,
                StaffUser.role,
                StaffUser.active,
                StaffUser.password_hash,
                StaffUser.oidc_subject,
            ).where(StaffUser.organization_id == organization_id, StaffUser.email == email)
        )
    ).one_or_none()
    if person is None:
        sent = await invite_first_admin(
            db,
            organization_id=organization_id,
            settings=settings,
            name=name,
            email=email,
            now=now,
            source=source,
        )
        return sent, True
    if person.password_hash is not None or person.oidc_subject is not None:
        raise AlreadySignsIn(email)
    if not person.active or person.role != StaffRole.ADMIN:
        raise PersonNotFound(email)
    audit.record(
        db,
        action="staff.reinvited",
        actor_kind="system",
        organization_id=organization_id,
        subject_type="staff_user",
        subject_id=person.id,
        details=dict(source),
    )
    sent = await _email_invitation(
        db,
        settings=settings,
        organization_id=organization_id,
        person_id=person.id,
        invited_by=None,
        created_by_staff_id=None,
        now=now,
    )
    return sent, False


async def _revoke_invitations(db: AsyncSession, *, staff_user_id: int, now: dt.datetime) -> None:
    await db.execute(
        update(StaffInvitation)
        .where(
            StaffInvitation.staff_user_id == staff_user_id,
            StaffInvitation.used_at.is_(None),
            StaffInvitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


async def _lock_admins(db: AsyncSession, organization_id: int) -> int:
    """Lock the organization's row (PostgreSQL; SQLite has one writer at a time) so
    two admins demoting each other at once cannot both succeed; then count the
    active admins."""
    await db.execute(
        select(Organization.id).where(Organization.id == organization_id).with_for_update()
    )
    return (
        await db.scalar(
            select(func.count(StaffUser.id)).where(
                StaffUser.organization_id == organization_id,
                StaffUser.role == StaffRole.ADMIN,
                StaffUser.active.is_(True),
            )
        )
        or 0
    )


async def change_role(
    db: AsyncSession,
    *,
    actor: Actor,
    staff_user_id: int,
    role: StaffRole,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> bool:
    """Give a colleague a role; False when they had it already."""
    admin = admin_only(actor, refuse=PersonNotFound())
    active_admins = await _lock_admins(db, admin.organization_id)
    person = await find_person(db, actor=admin, staff_user_id=staff_user_id, now=now)
    if person.role == role:
        return False
    if person.role == StaffRole.ADMIN and person.active and active_admins <= 1:
        raise LastAdmin
    await db.execute(update(StaffUser).where(StaffUser.id == person.id).values(role=role))
    audit.by_staff(
        db,
        admin,
        action="staff.role_changed",
        subject_type="staff_user",
        subject_id=person.id,
        ip_hash=ip_hash,
        details={"from": person.role, "to": str(role)},
    )
    return True


async def set_title(
    db: AsyncSession,
    *,
    actor: Actor,
    staff_user_id: int,
    title: str,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> bool:
    """Set a colleague's job title (empty: none); False when it was that already."""
    admin = admin_only(actor, refuse=PersonNotFound())
    person = await find_person(db, actor=admin, staff_user_id=staff_user_id, now=now)
    wanted = title or None
    if person.title == wanted:
        return False
    await db.execute(update(StaffUser).where(StaffUser.id == person.id).values(title=wanted))
    audit.by_staff(
        db,
        admin,
        action="staff.title_changed",
        subject_type="staff_user",
        subject_id=person.id,
        ip_hash=ip_hash,
        details={"from": person.title or "", "to": wanted or ""},
    )
    return True


async def set_active(
    db: AsyncSession,
    *,
    actor: Actor,
    staff_user_id: int,
    active: bool,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> bool:
    """Deactivate (every session of theirs ends now, pending invitations stop
    working) or reactivate a colleague; False when nothing changed."""
    admin = admin_only(actor, refuse=PersonNotFound())
    active_admins = await _lock_admins(db, admin.organization_id)
    person = await find_person(db, actor=admin, staff_user_id=staff_user_id, now=now)
    if person.active == active:
        return False
    if not active and person.role == StaffRole.ADMIN and active_admins <= 1:
        raise LastAdmin
    await db.execute(update(StaffUser).where(StaffUser.id == person.id).values(active=active))
    if not active:
        await revoke_staff_sessions(db, staff_user_id=person.id, now=now)
        await _revoke_invitations(db, staff_user_id=person.id, now=now)
    audit.by_staff(
        db,
        admin,
        action="staff.reactivated" if active else "staff.deactivated",
        subject_type="staff_user",
        subject_id=person.id,
        ip_hash=ip_hash,
    )
    return True


# --- sign-in locks (portal.staff.lockout) ---------------------------------------


@dataclass(frozen=True)
class SignInLock:
    id: int
    staff_user_id: int
    name: str
    email: str
    client: str  # the start of the client's keyed hash
    locked_at: dt.datetime
    locked_until: dt.datetime
    failures: int


async def current_locks(
    db: AsyncSession, *, actor: Actor, secret_key: str, now: dt.datetime
) -> list[SignInLock]:
    """The current locks on the addresses of the admin's organization's accounts,
    oldest first."""
    admin = admin_only(actor, refuse=PersonNotFound())
    accounts = (
        await db.execute(
            readable_staff(admin).with_only_columns(StaffUser.id, StaffUser.name, StaffUser.email)
        )
    ).all()
    # Keyed hashes cannot be computed in SQL: the organization's few addresses are
    # hashed here and looked up.
    by_address = {lockout.address_hash(secret_key, account.email): account for account in accounts}
    if not by_address:
        return []
    rows = (
        await db.scalars(
            select(StaffSignInFailure)
            .where(
                StaffSignInFailure.address_hash.in_(by_address),
                StaffSignInFailure.locked_until > now,
            )
            .order_by(StaffSignInFailure.locked_at, StaffSignInFailure.id)
        )
    ).all()
    locks = []
    for row in rows:
        assert row.locked_at is not None and row.locked_until is not None
        account = by_address[row.address_hash]
        locks.append(
            SignInLock(
                id=row.id,
                staff_user_id=account.id,
                name=account.name,
                email=account.email,
                client=row.ip_hash[: lockout.CLIENT_SHOWN],
                locked_at=row.locked_at,
                locked_until=row.locked_until,
                failures=row.failures,
            )
        )
    return locks


async def clear_lock(
    db: AsyncSession,
    *,
    actor: Actor,
    staff_user_id: int,
    lock_id: int,
    secret_key: str,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> None:
    """Let a colleague sign in again from the client a lock names (audited). Raises
    `PersonNotFound` or `LockNotFound` for anything outside the admin's organization."""
    admin = admin_only(actor, refuse=PersonNotFound())
    person = await find_person(db, actor=admin, staff_user_id=staff_user_id, now=now)
    row = await db.scalar(
        select(StaffSignInFailure).where(
            StaffSignInFailure.id == lock_id,
            StaffSignInFailure.address_hash == lockout.address_hash(secret_key, person.email),
        )
    )
    if row is None:
        raise LockNotFound(lock_id)
    await db.execute(delete(StaffSignInFailure).where(StaffSignInFailure.id == row.id))
    audit.by_staff(
        db,
        admin,
        action="staff.sign_in_lock_cleared",
        subject_type="staff_user",
        subject_id=person.id,
        ip_hash=ip_hash,
        details={"client": row.ip_hash[: lockout.CLIENT_SHOWN], "failures": row.failures},
    )
