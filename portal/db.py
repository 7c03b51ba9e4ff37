"""Engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

import sqlalchemy.exc
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Executable,
    MetaData,
    String,
    Table,
    TypeDecorator,
    event,
    literal,
    select,
)
from sqlalchemy.engine import URL, Dialect, RowMapping, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, MappedColumn, mapped_column

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


class DatabaseUnavailable(Exception):
    """The database could not be reached or did not answer in time: the request
    answers 503, "try again shortly"."""


# SQLSTATEs that say the server cannot serve us now, whatever the statement: class 08
# (connection exceptions), too many connections, and a server shutting down or
# starting up (57P01-57P03).
_UNAVAILABLE_STATES = ("08", "53300", "57P01", "57P02", "57P03")
# While connecting, also: "database is not currently accepting connections" (55000,
# which a statement may raise for a bug of ours, so only then).
_UNAVAILABLE_STATES_CONNECTING = (*_UNAVAILABLE_STATES, "55000")
# SQLite's file cannot be opened (SQLITE_CANTOPEN), or stayed locked past the busy
# timeout (SQLITE_BUSY).
_UNAVAILABLE_SQLITE_CODES = frozenset({14, 5})

# What the app's exception handlers send to `portal.web.database_error`, which asks
# `is_database_unavailable` whether to answer 503 (or leave it to the 500 handler).
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    DatabaseUnavailable,
    TimeoutError,
    sqlalchemy.exc.TimeoutError,
    sqlalchemy.exc.DBAPIError,
)


def is_database_unavailable(exc: BaseException | None, *, connecting: bool = False) -> bool:
    """Whether `exc` says the database is out of reach or silent, rather than that a
    statement was wrong: `DatabaseUnavailable`, a pool or statement timeout, a
    connection lost, a server that refuses connections for now (by SQLSTATE, from
    asyncpg or through SQLAlchemy), a SQLite file that cannot be opened or stays
    locked. With `connecting` (raised while opening a connection), also any OSError
    (refused, unreachable, unknown host) and a database not accepting connections.

    The one place that decides; the engine (`create_engine`) turns a failure to
    connect into `DatabaseUnavailable` with it, the app's 503 page asks it about the
    rest."""
    if isinstance(exc, DatabaseUnavailable | TimeoutError | sqlalchemy.exc.TimeoutError):
        return True
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        return exc.connection_invalidated or is_database_unavailable(
            exc.orig, connecting=connecting
        )
    if connecting and isinstance(exc, OSError):
        return True
    state = getattr(exc, "sqlstate", None)
    if isinstance(state, str):
        return state.startswith(
            _UNAVAILABLE_STATES_CONNECTING if connecting else _UNAVAILABLE_STATES
        )
    return getattr(exc, "sqlite_errorcode", None) in _UNAVAILABLE_SQLITE_CODES


def _connect_or_unavailable(
    dialect: Dialect, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    """Open a driver connection; a database that cannot be reached raises
    `DatabaseUnavailable` (SQLAlchemy passes OSErrors on unwrapped, and wraps the rest
    like any statement's error)."""
    try:
        return dialect.connect(*cargs, **cparams)
    except Exception as error:
        if is_database_unavailable(error, connecting=True):
            raise DatabaseUnavailable("the database could not be reached") from error
        raise


class NamedRow(Protocol):
    """A result row read by column name: SQLAlchemy's ``row._mapping``."""

    def __getitem__(self, key: str, /) -> Any: ...

    def keys(self) -> Iterable[str]: ...


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
        if stamp.tzinfo is dt.UTC:  # as asyncpg returns timestamptz: nothing to do
            return stamp
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=dt.UTC)
        return stamp.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime()}


# Ids are `Integer` columns (int4 on PostgreSQL): an id from a URL above this
# names no row, and sent to the database it would be an error, not a miss.
MAX_ID = 2**31 - 1


def enum_check(
    column: str, values: type[enum.StrEnum], *, nullable: bool = False
) -> CheckConstraint:
    """The CHECK that keeps `column` to the values of `values`, named after the column.

    `enum_column` adds it to every enum-typed column, so the enum in Python and the
    constraint in the database are written once and cannot drift; the enum is kept
    in the constraint's `info` for the test that checks the database's copy.
    """
    listed = ", ".join(f"'{member.value}'" for member in values)
    condition = f"{column} IN ({listed})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(
        condition, name=column, info={"enum": values, "column": column, "nullable": nullable}
    )


E = TypeVar("E", bound=enum.StrEnum)


class EnumText(TypeDecorator[E]):
    """A member of a `StrEnum` in Python, its value in a `VARCHAR(length)` in the
    database (SQLAlchemy's `Enum` type would be a native type on PostgreSQL, or bring
    its own CHECK).

    Members go in as their values; so do plain strings, unchecked: a value outside the
    enum is for the CHECK (`enum_check`) to refuse, as it always was. Values come out
    as members."""

    impl = String
    cache_ok = True

    def __init__(self, enum_type: type[E], length: int = 20) -> None:
        super().__init__(length)
        self.enum_type = enum_type
        self.length = length
        # Members by value: a look-up per value read, several times cheaper than
        # calling the enum (a page's rows carry dozens of enum values).
        self.members: dict[str, E] = {member.value: member for member in enum_type}

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        if value is None:
            return None
        member = self.members.get(value)
        return self.enum_type(value) if member is None else member  # else: ValueError


def enum_column(values: type[E], *, length: int = 20, **options: Any) -> MappedColumn[Any]:
    """A column holding a member of `values` (`Mapped[ThreadState]`), as `EnumText`,
    with the CHECK that keeps the database to the same values (`enum_check`, nullable
    when the column is). One declaration gives both, so they cannot drift. `options`
    are `mapped_column`'s."""
    declared = mapped_column(EnumText(values, length), **options)
    event.listen(declared.column, "after_parent_attach", _add_enum_check)
    return declared


def _add_enum_check(column: Column[Any], table: Table) -> None:
    # Declarative has named the column and read its nullability from the annotation
    # before it builds the table and attaches the column to it.
    assert isinstance(column.type, EnumText)
    table.append_constraint(
        enum_check(column.name, column.type.enum_type, nullable=bool(column.nullable))
    )


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


def _sqlite_driver_stays_out(dbapi_connection: Any, _record: Any) -> None:
    # sqlite3's own transaction handling ("legacy" mode, which aiosqlite keeps) sends
    # BEGIN before a write but not before a SAVEPOINT: a SAVEPOINT as a transaction's
    # first write opens a transaction of its own, and rolling it back ends the
    # request's ("Can't operate on closed transaction"). So, as in SQLAlchemy's
    # recipe (its SQLite docs, "Enabling Non-Legacy SQLite Transactional Modes"),
    # the driver emits no BEGIN and `_sqlite_begin_before_write` does.
    dbapi_connection.isolation_level = None


def _sqlite_new_transaction(connection: Any) -> None:
    connection.info[_SQLITE_BEGUN] = False


# Statements that only read: they run outside a transaction until the first write,
# as they did under the driver, so each sees what is committed when it runs.
_SQLITE_READS = frozenset({"SELECT", "PRAGMA", "EXPLAIN"})
_SQLITE_BEGUN = "portal.sqlite_begun"


def _sqlite_begin_before_write(connection: Any, cursor: Any, statement: str, *_args: Any) -> None:
    """BEGIN IMMEDIATE before the transaction's first write or SAVEPOINT.

    The recipe's BEGIN at the start of every transaction would change what
    transactions see: one that reads, then writes after another committed, would
    fail at once with "database is locked" (its snapshot is stale) where it now
    waits for the other writer and then finds its change (a version conflict, a
    unique row). Beginning where the driver did keeps that; IMMEDIATE takes the write
    lock at once (waiting up to the busy timeout), so a SAVEPOINT's reads never
    work on a snapshot that another writer can overtake."""
    if connection.info.get(_SQLITE_BEGUN, True):
        return
    words = statement.split(None, 1)
    if words and words[0].upper() in _SQLITE_READS:
        return
    cursor.execute("BEGIN IMMEDIATE")
    connection.info[_SQLITE_BEGUN] = True


def create_engine(
    settings: Settings,
    *,
    pool_size: int | None = None,
    timeouts: bool = True,
) -> AsyncEngine:
    """The engine, the one way to the database.

    On SQLite the engine begins each transaction itself (at its first write), so
    that SAVEPOINTs (`begin_nested`) nest inside it.

    On PostgreSQL, with `timeouts` (all but migrations), waiting for a pooled
    connection or for a new one is bounded by `db_acquire_timeout_seconds` and
    each statement by `db_statement_timeout_seconds`, so a database that stops
    answering fails requests instead of hanging them.

    Connections that died with the server (a restart, a failover) are replaced
    by SQLAlchemy's optimistic disconnect handling: the first statement that
    finds its connection lost invalidates it and every connection the pool
    opened before it, so later checkouts connect afresh; that request answers
    503 ("try again"). Not `pool_pre_ping`: with asyncpg it costs every checkout
    three round trips (BEGIN, a ping, ROLLBACK)."""
    url = async_url(settings.database_url)
    options: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        event.listen(engine.sync_engine, "do_connect", _connect_or_unavailable)
        event.listen(engine.sync_engine, "connect", _sqlite_driver_stays_out)
        event.listen(engine.sync_engine, "begin", _sqlite_new_transaction)
        event.listen(engine.sync_engine, "before_cursor_execute", _sqlite_begin_before_write)
        return engine
    # No overflow: connections opened above the pool size are closed again at once,
    # so under load they churn; requests wait for a pooled one instead.
    size = pool_size or settings.db_pool_size
    if timeouts:
        options["pool_timeout"] = settings.db_acquire_timeout_seconds
        options["connect_args"] = {
            "timeout": settings.db_acquire_timeout_seconds,
            # Client-side, so that it also ends a wait on a server that went silent.
            "command_timeout": settings.db_statement_timeout_seconds,
        }
    engine = create_async_engine(
        url, pool_size=size, max_overflow=0, pool_pre_ping=False, **options
    )
    event.listen(engine.sync_engine, "do_connect", _connect_or_unavailable)
    return engine


async def ping_database(engine: AsyncEngine) -> None:
    """Return once the database answers a trivial statement through the engine;
    raise `DatabaseUnavailable` if it cannot (bound the wait with `asyncio.timeout`).

    A pooled connection found dead (the server restarted) invalidates the pool, so
    the ping is tried once more on a fresh connection before the answer is no."""
    for attempt in (1, 2):
        try:
            async with engine.connect() as connection:
                await connection.execute(_PING)
            return
        except DatabaseUnavailable:
            raise
        except (sqlalchemy.exc.SQLAlchemyError, OSError) as error:
            retry = (
                attempt == 1
                and isinstance(error, sqlalchemy.exc.DBAPIError)
                and error.connection_invalidated
            )
            if not retry:
                raise DatabaseUnavailable("the database could not be reached") from error


_PING = select(literal(1))


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction: committed if the block succeeds, rolled back if it raises."""
    async with sessions() as session, session.begin():
        yield session


async def column_rows(
    db: AsyncSession, statement: Executable, params: dict[str, Any]
) -> Sequence[RowMapping]:
    """The rows, by column name, of a statement that selects columns (no ORM
    entities), run on the session's own connection: the same SQL, types and
    transaction, without the ORM's result machinery (loading options, identity
    map), which on the busiest page cost more CPU than the statement itself."""
    connection = await db.connection()
    return (await connection.execute(statement, params)).mappings().all()


def reads_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine for work that only reads, or writes with single statements each
    safe on its own (recording a session's activity). On PostgreSQL each statement
    runs by itself (DBAPI autocommit, SQLAlchemy's documented engine-wide isolation
    level, on the same pool), without the BEGIN and COMMIT round trips of a unit of
    work, which on the busiest page cost more than its queries. On SQLite, whose
    transactions cost no round trip (and whose BEGIN handling here needs one), the
    engine itself: an ordinary transaction, committed at the end."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


@asynccontextmanager
async def read_session(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session from `session_factory(reads_engine(engine))`: see `reads_engine`."""
    async with sessions() as session:
        yield session
        await session.commit()
