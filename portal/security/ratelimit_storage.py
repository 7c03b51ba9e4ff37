"""Rate-limit counters in PostgreSQL, shared by every app process: a storage for
the `limits` library, registered under its `async+postgresql://` scheme.

`limits` ships storages for process memory, Redis, Memcached and MongoDB. An
installation that runs on PostgreSQL already has a database every process
shares, so by default the counters live there (`rate_limit_hits`), and nothing
else needs to run. Each hit is one row; a key's hits are counted and added under
a transaction-scoped advisory lock on the key, so two processes counting the same
key at once take turns, and the limit holds exactly whichever process answers.

Keys are stored as their SHA-256: a key names an email address or a client
address, which the table has no need to keep. Rows past their window are deleted
when their key is next counted, and all of them by the worker's hourly
`jobs.prune` (`delete_expired_hits`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from typing import Any, cast

import sqlalchemy.exc
from limits.aio.storage import MovingWindowSupport, Storage
from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    LargeBinary,
    Table,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, DatabaseUnavailable, async_url, utcnow


class RateLimitHit(Base):
    """One counted request of a rate limit's key, until its window has passed."""

    __tablename__ = "rate_limit_hits"
    # A key's hits are looked up by key and age.
    __table_args__ = (Index("ix_rate_limit_hits_key_hash_hit_at", "key_hash", "hit_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    # SHA-256 of the limit's key (the limit's name and what it counts: an address).
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    hit_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


_HITS = cast(Table, RateLimitHit.__table__)
_LOCK = text("SELECT pg_advisory_xact_lock(:lock)")


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _lock_id(key_hash: bytes) -> int:
    # A signed 64-bit advisory lock id from the key's hash.
    return int.from_bytes(key_hash[:8], "big", signed=True)


class PostgresStorage(Storage, MovingWindowSupport):
    """A `limits` storage in the portal's PostgreSQL schema (`rate_limit_hits`).

    `PostgresStorage(engine=...)` shares an engine (the app's own, so rate limits
    cost no extra connections); `limits.storage.storage_from_string(
    "async+postgresql://user@host/db")` opens a small engine of its own."""

    STORAGE_SCHEME = ["async+postgresql"]  # noqa: RUF012 - read by limits' registry

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        *,
        engine: AsyncEngine | None = None,
        **options: Any,
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        if engine is None:
            if uri is None:
                raise ValueError("PostgresStorage needs a URI or an engine")
            plain = uri.removeprefix("async+")
            engine = create_async_engine(async_url(plain), pool_size=2, max_overflow=0)
        self.engine = engine

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return (sqlalchemy.exc.SQLAlchemyError, DatabaseUnavailable, OSError)

    async def _locked(self, connection: AsyncConnection, key: str) -> bytes:
        key_hash = _hash(key)
        await connection.execute(_LOCK, {"lock": _lock_id(key_hash)})
        await connection.execute(
            delete(_HITS).where(_HITS.c.key_hash == key_hash, _HITS.c.expires_at <= utcnow())
        )
        return key_hash

    async def _count_since(
        self, connection: AsyncConnection, key_hash: bytes, since: dt.datetime
    ) -> tuple[int, dt.datetime | None]:
        row = (
            await connection.execute(
                select(func.count(), func.min(_HITS.c.hit_at)).where(
                    _HITS.c.key_hash == key_hash, _HITS.c.hit_at > since
                )
            )
        ).one()
        return int(row[0]), row[1]

    async def _add(
        self,
        connection: AsyncConnection,
        key_hash: bytes,
        amount: int,
        now: dt.datetime,
        expires: dt.datetime,
    ) -> None:
        await connection.execute(
            insert(_HITS),
            [{"key_hash": key_hash, "hit_at": now, "expires_at": expires}] * amount,
        )

    # The moving window: what `portal.security.ratelimit.RateLimiter` uses.

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        async with self.engine.begin() as connection:
            key_hash = await self._locked(connection, key)
            now = utcnow()
            window = dt.timedelta(seconds=expiry)
            count, _ = await self._count_since(connection, key_hash, now - window)
            if count + amount > limit:
                return False
            await self._add(connection, key_hash, amount, now, now + window)
            return True

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        async with self.engine.connect() as connection:
            now = utcnow()
            count, oldest = await self._count_since(
                connection, _hash(key), now - dt.timedelta(seconds=expiry)
            )
        return ((oldest or now).timestamp(), count)

    # The fixed window (`limits`' other strategies), on the same rows: a window
    # starts with its first hit and ends `expiry` seconds later.

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        async with self.engine.begin() as connection:
            key_hash = await self._locked(connection, key)
            now = utcnow()
            ends = await connection.scalar(
                select(func.max(_HITS.c.expires_at)).where(_HITS.c.key_hash == key_hash)
            )
            await self._add(
                connection, key_hash, amount, now, ends or now + dt.timedelta(seconds=expiry)
            )
            count = await connection.scalar(
                select(func.count()).where(_HITS.c.key_hash == key_hash)
            )
            return int(count or 0)

    async def get(self, key: str) -> int:
        async with self.engine.connect() as connection:
            count = await connection.scalar(
                select(func.count()).where(
                    _HITS.c.key_hash == _hash(key), _HITS.c.expires_at > utcnow()
                )
            )
        return int(count or 0)

    async def get_expiry(self, key: str) -> float:
        async with self.engine.connect() as connection:
            ends = await connection.scalar(
                select(func.max(_HITS.c.expires_at)).where(
                    _HITS.c.key_hash == _hash(key), _HITS.c.expires_at > utcnow()
                )
            )
        return ends.timestamp() if ends is not None else time.time()

    async def check(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(select(1))
        except (sqlalchemy.exc.SQLAlchemyError, DatabaseUnavailable, OSError):
            return False
        return True

    async def reset(self) -> int | None:
        async with self.engine.begin() as connection:
            result = await connection.execute(delete(_HITS))
        return int(result.rowcount)

    async def clear(self, key: str) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(delete(_HITS).where(_HITS.c.key_hash == _hash(key)))


async def delete_expired_hits(db: AsyncSession, now: dt.datetime) -> None:
    """Forget every hit whose window has passed (keys never counted again keep theirs
    until this runs)."""
    await db.execute(delete(RateLimitHit).where(RateLimitHit.expires_at <= now))
