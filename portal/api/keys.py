"""API keys: issuing, listing, revoking, and finding the key a request carries.

A key is `aw_` followed by 43 URL-safe characters (256 random bits). Only its
SHA-256 is stored: the key is too random to guess from a fast hash, so no slow
password hash is needed on every request (which would make each API call cost
tens of milliseconds). Its first characters (`prefix`, 11 with `aw_`) are kept
to name it on the staff page and in the audit log. A revoked key stops working
at its next request: every request looks its key up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.api.models import ApiKey as ApiKeyRow
from portal.api.models import ApiScope
from portal.audit import service as audit
from portal.security.actors import ApiKey, Staff
from portal.staff.models import StaffUser

KEY_START = "aw_"
PREFIX_LENGTH = len(KEY_START) + 8
# How often `last_used_at` is written: once a minute per key at most, so that a
# busy client does not write the key's row on every request.
LAST_USED_EVERY = dt.timedelta(minutes=1)
ALL_SCOPES = tuple(scope.value for scope in ApiScope)


class KeyNotFound(LookupError):
    """No such key in the admin's organization (answered as a 404)."""


@dataclass(frozen=True)
class IssuedKey:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    key: str  # shown once, never stored


@dataclass(frozen=True)
class ListedKey:
    id: int
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: dt.datetime
    created_by: str | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


def key_hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    chosen = set(scopes)
    unknown = chosen - set(ALL_SCOPES)
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(sorted(unknown))}")
    if not chosen:
        raise ValueError("a key needs at least one scope")
    return tuple(scope for scope in ALL_SCOPES if scope in chosen)


async def issue_key(
    db: AsyncSession,
    *,
    organization_id: int,
    name: str,
    scopes: Iterable[str],
    staff: Staff | None,
    now: dt.datetime,
    ip_hash: str | None = None,
    source: dict[str, str] | None = None,
) -> IssuedKey:
    """A new key for the organization (`staff`, an admin of it, or None for the command
    line), audited as ``api_key.created``. The key itself is in the answer only."""
    chosen = _scopes(scopes)
    key = KEY_START + secrets.token_urlsafe(32)
    row = ApiKeyRow(
        organization_id=organization_id,
        name=name,
        prefix=key[:PREFIX_LENGTH],
        key_hash=key_hash(key),
        scopes=" ".join(chosen),
        created_by_staff_id=staff.staff_id if staff else None,
        created_at=now,
    )
    db.add(row)
    await db.flush()
    audit.record(
        db,
        action="api_key.created",
        actor_kind="staff" if staff else audit.COMMAND_LINE,
        actor_id=staff.staff_id if staff else None,
        organization_id=organization_id,
        subject_type="api_key",
        subject_id=row.id,
        ip_hash=ip_hash,
        details={"name": name, "prefix": row.prefix, "scopes": list(chosen), **(source or {})},
    )
    return IssuedKey(row.id, name, row.prefix, chosen, key)


async def list_keys(db: AsyncSession, *, organization_id: int) -> list[ListedKey]:
    """The organization's keys, newest first, revoked ones included (marked)."""
    rows = await db.execute(
        select(
            ApiKeyRow.id,
            ApiKeyRow.name,
            ApiKeyRow.prefix,
            ApiKeyRow.scopes,
            ApiKeyRow.created_at,
            StaffUser.name.label("created_by"),
            ApiKeyRow.last_used_at,
            ApiKeyRow.revoked_at,
        )
        .outerjoin(StaffUser, StaffUser.id == ApiKeyRow.created_by_staff_id)
        .where(ApiKeyRow.organization_id == organization_id)
        .order_by(ApiKeyRow.id.desc())
    )
    return [
        ListedKey(
            id=row.id,
            name=row.name,
            prefix=row.prefix,
            scopes=tuple(row.scopes.split()),
            created_at=row.created_at,
            created_by=row.created_by,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )
        for row in rows
    ]


async def find_key(db: AsyncSession, *, organization_id: int, key_id: int) -> ListedKey:
    for key in await list_keys(db, organization_id=organization_id):
        if key.id == key_id:
            return key
    raise KeyNotFound(key_id)


async def revoke_key(
    db: AsyncSession,
    *,
    organization_id: int,
    key_id: int,
    staff: Staff | None,
    now: dt.datetime,
    ip_hash: str | None = None,
    source: dict[str, str] | None = None,
) -> bool:
    """Revoke a key of the organization; False when it was revoked already. Audited as
    ``api_key.revoked``. Raises `KeyNotFound`."""
    row = await db.scalar(
        select(ApiKeyRow).where(
            ApiKeyRow.id == key_id, ApiKeyRow.organization_id == organization_id
        )
    )
    if row is None:
        raise KeyNotFound(key_id)
    if row.revoked_at is not None:
        return False
    row.revoked_at = now
    await db.flush()
    audit.record(
        db,
        action="api_key.revoked",
        actor_kind="staff" if staff else audit.COMMAND_LINE,
        actor_id=staff.staff_id if staff else None,
        organization_id=organization_id,
        subject_type="api_key",
        subject_id=row.id,
        ip_hash=ip_hash,
        details={"name": row.name, "prefix": row.prefix, **(source or {})},
    )
    return True


async def authenticate(db: AsyncSession, *, key: str, now: dt.datetime) -> ApiKey | None:
    """The API client a key stands for, or None for a key that is unknown, malformed
    or revoked (the caller says nothing about which). Notes the key's use."""
    if not key.startswith(KEY_START) or len(key) > 100:
        return None
    digest = key_hash(key)
    row = (
        await db.execute(
            select(
                ApiKeyRow.id,
                ApiKeyRow.organization_id,
                ApiKeyRow.scopes,
                ApiKeyRow.key_hash,
                ApiKeyRow.last_used_at,
            ).where(ApiKeyRow.key_hash == digest, ApiKeyRow.revoked_at.is_(None))
        )
    ).one_or_none()
    # The database found it by its hash; compared again in constant time regardless.
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        await db.execute(update(ApiKeyRow).where(ApiKeyRow.id == row.id).values(last_used_at=now))
    return ApiKey(
        key_id=row.id, organization_id=row.organization_id, scopes=frozenset(row.scopes.split())
    )
