"""Locking a staff address out of password sign-in, per client.

Failed password checks are counted per address *and* client (both as keyed
hashes, in `staff_sign_in_failures`). Five failures within 15 minutes lock that
address for that client for 15 minutes: the password is no longer checked from
there. Another client is not affected, so a stranger's guesses never keep the
account's owner out; a successful sign-in forgets that client's failures. An
address that matches no account is counted the same way, so a lock tells a
stranger nothing. The per-client rate limit (`staff_signin_ip`) still stops one
client trying many addresses.

An organization's admins see the current locks of their colleagues' addresses
and may clear one (`portal.staff.people`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from portal.security.tokens import keyed_hash
from portal.staff.models import StaffSignInFailure

FAILURES_ALLOWED = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
LOCK_LENGTH = dt.timedelta(minutes=15)
# How much of a client's keyed hash the admin page shows: enough to tell clients apart.
CLIENT_SHOWN = 8
# Rows older than this no longer count for anything (see `forget_old_failures`).
KEPT_FOR = FAILURE_WINDOW + LOCK_LENGTH


def address_hash(secret_key: str, email: str) -> str:
    """The stored form of a sign-in address (as the sign-in form normalises it)."""
    return keyed_hash(secret_key, f"staff sign-in address:{email}")


def _key(address: str, ip_hash: str) -> tuple[ColumnElement[bool], ...]:
    return (StaffSignInFailure.address_hash == address, StaffSignInFailure.ip_hash == ip_hash)


async def is_locked(db: AsyncSession, *, address: str, ip_hash: str, now: dt.datetime) -> bool:
    locked_until = await db.scalar(
        select(StaffSignInFailure.locked_until).where(*_key(address, ip_hash))
    )
    return locked_until is not None and locked_until > now


async def record_failure(db: AsyncSession, *, address: str, ip_hash: str, now: dt.datetime) -> bool:
    """Count one failed password check; True when it locks the address for this client."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    await db.execute(
        insert(StaffSignInFailure)
        .values(
            address_hash=address,
            ip_hash=ip_hash,
            failures=0,
            first_failed_at=now,
            last_failed_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=[StaffSignInFailure.address_hash, StaffSignInFailure.ip_hash]
        )
    )
    # Locked, so that failures from several processes at once all count.
    row = (
        await db.scalars(
            select(StaffSignInFailure)
            .where(*_key(address, ip_hash))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()
    lock_ended = row.locked_until is not None and row.locked_until <= now
    if lock_ended or row.first_failed_at <= now - FAILURE_WINDOW:
        row.failures, row.first_failed_at, row.locked_at, row.locked_until = 0, now, None, None
    row.failures += 1
    row.last_failed_at = now
    locks = row.failures >= FAILURES_ALLOWED and row.locked_until is None
    if locks:
        row.locked_at, row.locked_until = now, now + LOCK_LENGTH
    await db.flush()
    return locks


async def forget_failures(db: AsyncSession, *, address: str, ip_hash: str) -> None:
    """After a successful sign-in: this client's failures for the address no longer count."""
    await db.execute(delete(StaffSignInFailure).where(*_key(address, ip_hash)))


async def forget_old_failures(db: AsyncSession, *, now: dt.datetime) -> None:
    """Drop rows that count for nothing any more (their window and any lock are over)."""
    await db.execute(
        delete(StaffSignInFailure).where(StaffSignInFailure.last_failed_at < now - KEPT_FOR)
    )
