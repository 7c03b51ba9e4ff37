"""`Idempotency-Key` for the API's POST and PATCH requests (IETF draft
"The Idempotency-Key HTTP Header Field").

The first request with a key inserts a row (`IdempotentRequest`) and commits it
before the work starts: the unique (key, API key) pair is the lock, so two
processes given the same key at once cannot both run it. The work's answer is
stored on that row in the work's own transaction (or, for an error, after the
work was rolled back), and a retry with the same key and the same request gets
it back. Rows are kept 24 hours (`KEPT_FOR`); the housekeeping job deletes older
ones (`portal.jobs.housekeeping`). A row left running by a process that died is
taken over after `ABANDONED_AFTER`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.api.models import IDEMPOTENCY_KEPT_FOR, IdempotentRequest
from portal.db import read_session, unit_of_work

KEPT_FOR = IDEMPOTENCY_KEPT_FOR
ABANDONED_AFTER = dt.timedelta(minutes=5)
KEY_MAX = 255
# Printable ASCII, spaces only inside (HTTP trims a header value's ends).
KEY_PATTERN = r"^[!-~]([ -~]*[!-~])?$"
KEY_SHAPE = re.compile(KEY_PATTERN)


@dataclass(frozen=True)
class Started:
    """This request holds the key: run it, then `complete` (or `abandon`) the row."""

    row_id: int


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: Any
    headers: dict[str, str]


class Running:
    """The first request with this key is still running (409)."""


class Mismatch:
    """The key was used for another request (422)."""


Begun = Started | Replay | Running | Mismatch


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def key_problem(key: str | None) -> str:
    """What is wrong with an `Idempotency-Key` header's value, or ""."""
    if key is None:
        return "POST and PATCH requests need an Idempotency-Key header (a unique string)."
    # The draft's value is a Structured Field string: quoted; accepted bare as well.
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if len(key) > KEY_MAX or not KEY_SHAPE.match(key):
        return f"The Idempotency-Key must be 1 to {KEY_MAX} printable ASCII characters."
    return ""


def normalized(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == '"' else key


async def begin(
    sessions: async_sessionmaker[AsyncSession],
    *,
    api_key_id: int,
    key: str,
    fingerprint: str,
    now: dt.datetime,
) -> Begun:
    """Take the key for this request, or say why not (a stored answer to replay, the
    first request still running, another request's key). Commits on its own, each
    statement by itself (`sessions` may be the autocommit reads' factory): one
    `INSERT … ON CONFLICT DO NOTHING` takes the key, so a retry costs no error."""
    for _attempt in range(3):
        async with read_session(sessions) as db:
            dialect = db.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            taken = await db.scalar(
                insert(IdempotentRequest)
                .values(
                    api_key_id=api_key_id,
                    idempotency_key=key,
                    fingerprint=fingerprint,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["api_key_id", "idempotency_key"])
                .returning(IdempotentRequest.id)
            )
        if taken is not None:
            return Started(taken)
        async with read_session(sessions) as db:
            found = await db.scalar(
                select(IdempotentRequest).where(
                    IdempotentRequest.api_key_id == api_key_id,
                    IdempotentRequest.idempotency_key == key,
                )
            )
            if found is None:
                continue  # deleted meanwhile: try again
            expired = found.created_at < now - KEPT_FOR
            abandoned = found.status_code is None and found.created_at < now - ABANDONED_AFTER
            if expired or abandoned:
                # Forgotten (or its process died): this request takes the key over.
                await db.execute(delete(IdempotentRequest).where(IdempotentRequest.id == found.id))
                continue
            if found.fingerprint != fingerprint:
                return Mismatch()
            if found.status_code is None:
                return Running()
            return Replay(found.status_code, found.body, dict(found.headers or {}))
    return Running()


async def complete(
    db: AsyncSession,
    *,
    row_id: int,
    status_code: int,
    body: Any,
    headers: dict[str, str],
    now: dt.datetime,
) -> None:
    """Store the answer (in the caller's transaction, with the work it answers)."""
    await db.execute(
        update(IdempotentRequest)
        .where(IdempotentRequest.id == row_id)
        .values(status_code=status_code, body=body, headers=headers, completed_at=now)
    )


async def abandon(sessions: async_sessionmaker[AsyncSession], *, row_id: int) -> None:
    """Let the key go (the request failed unexpectedly): a retry runs it again."""
    async with unit_of_work(sessions) as db:
        await db.execute(delete(IdempotentRequest).where(IdempotentRequest.id == row_id))
