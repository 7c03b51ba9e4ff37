"""Engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
from sqlalchemy import ClauseElement, DateTime, Executable, MetaData, TypeDecorator, event
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.compiler import SQLCompiler

from portal.settings import Settings

# Stable constraint names, so that migrations generated on SQLite and on
# PostgreSQL agree and constraints can be dropped by name later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware UTC in Python.

    SQLite keeps no zone, so values are normalised to UTC on the way in and
    tagged UTC on the way out; on PostgreSQL this is ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        stamp: dt.datetime = value
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=dt.UTC)
        return stamp.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime()}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def async_url(url: str) -> URL:
    """Accept the usual synchronous URL spellings and pick the async driver."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database {backend!r}: use SQLite or PostgreSQL")


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while the worker writes; foreign keys are off by
    # default in SQLite; the busy timeout makes writers wait instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(
    settings: Settings, *, pool_size: int | None = None, autocommit: bool = False
) -> AsyncEngine:
    """The engine; with `autocommit`, one for single-statement reads that need no
    BEGIN/COMMIT round trips (the candidate's feedback page)."""
    url = async_url(settings.database_url)
    options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **options)
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        return engine
    # No overflow: connections opened above the pool size are closed again at once,
    # so under load they churn; requests wait for a pooled one instead.
    size = pool_size or settings.db_pool_size
    return create_async_engine(url, pool_size=size, max_overflow=0, pool_pre_ping=False, **options)


@dataclass(frozen=True)
class _DriverStatement:
    sql: str
    names: tuple[str, ...]  # the bound parameters, in the order of $1, $2, ...
    defaults: dict[str, Any]  # values fixed in the statement (literals SQLAlchemy binds)


class Reader:
    """Single-statement reads (and the odd single-statement write) in autocommit,
    for the busiest pages: each statement is its own transaction, with no
    BEGIN/COMMIT round trips.

    On PostgreSQL the statement, built with SQLAlchemy Core and compiled once,
    runs straight on an asyncpg pool: SQLAlchemy's per-execution work (pool
    checkout events, execution context, result wrapping) costs more CPU than
    the query itself on the candidate's feedback page (see bench/). Rows come
    back as asyncpg records, indexable like SQLAlchemy rows; no type processing
    is applied, so the statement must use only types that the driver returns as
    SQLAlchemy would (timestamptz as aware UTC datetimes, JSON decoded, plain
    numbers, strings, booleans and bytes). tests/test_reader.py checks this
    against SQLAlchemy's own execution. On SQLite it runs through an autocommit
    SQLAlchemy engine.
    """

    def __init__(self, settings: Settings) -> None:
        url = async_url(settings.database_url)
        self._engine: AsyncEngine | None = None
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._pool_size = settings.db_pool_size
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._statements: dict[int, tuple[Executable, _DriverStatement]] = {}
        if url.get_backend_name() == "sqlite":
            self._engine = create_engine(settings, autocommit=True)

    async def fetch(
        self, statement: Executable, params: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]]:
        """All rows of `statement` with `params` bound by name."""
        if self._engine is not None:
            async with self._engine.connect() as connection:
                return (await connection.execute(statement, dict(params))).all()
        sql, args = self._bind(statement, params)
        pool = self._pool or await self._open_pool()
        async with pool.acquire() as connection:
            rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
        return rows

    async def execute(self, statement: Executable, params: Mapping[str, Any]) -> None:
        """Run a statement that returns no rows (an UPDATE, say) on its own."""
        if self._engine is not None:
            async with self._engine.connect() as connection:
                await connection.execute(statement, dict(params))
            return
        sql, args = self._bind(statement, params)
        pool = self._pool or await self._open_pool()
        async with pool.acquire() as connection:
            await connection.execute(sql, *args)

    def _bind(self, statement: Executable, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The statement's SQL for asyncpg and its arguments in positional order."""
        # Statements are module-level constants: keyed by identity, compiled once.
        found = self._statements.get(id(statement))
        if found is not None and found[0] is statement:
            driver = found[1]
        else:
            driver = self._compile(statement)
        defaults = driver.defaults
        return driver.sql, [params[n] if n in params else defaults[n] for n in driver.names]

    def _compile(self, statement: Executable) -> _DriverStatement:
        assert isinstance(statement, ClauseElement)
        compiled = statement.compile(dialect=_ASYNCPG_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        if compiled.positiontup is None:
            raise ValueError("statement compiled without positional parameters")
        driver = _DriverStatement(
            sql=str(compiled),
            names=tuple(compiled.positiontup),
            defaults={k: v for k, v in compiled.params.items() if v is not None},
        )
        self._statements[id(statement)] = (statement, driver)
        return driver

    async def _open_pool(self) -> asyncpg.Pool:
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=1,
                    max_size=self._pool_size,
                    init=_init_connection,
                    reset=_reset_connection,
                )
        return self._pool

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


_ASYNCPG_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


async def _init_connection(connection: asyncpg.Connection) -> None:
    # What SQLAlchemy's asyncpg dialect does too: JSON columns arrive decoded.
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def _reset_connection(connection: asyncpg.Connection) -> None:
    # The reader runs single autocommit statements and never changes session state
    # (no SET, LISTEN, advisory locks or cursors), so asyncpg's default reset, a
    # round trip to run RESET ALL and friends after every use, has nothing to undo.
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction: committed if the block succeeds, rolled back if it raises."""
    async with sessions() as session, session.begin():
        yield session
