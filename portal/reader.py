"""Single-statement reads for the busiest pages, in autocommit.

Each statement is its own transaction: no BEGIN/COMMIT round trips. On SQLite
it runs through an autocommit SQLAlchemy engine. On PostgreSQL the statement,
still built with SQLAlchemy Core, is compiled once and runs straight on asyncpg
connections, because on the candidate's feedback page SQLAlchemy's
per-execution work (pool checkout events, execution context, result wrapping)
cost more CPU than the query itself, and asyncpg's own pool cost a quarter of
the page's throughput (measured with bench/run.py):

- its release runs a reset (RESET ALL and friends) on the server after every
  use, a round trip for state these statements never change; and
- a connection released while others wait goes to whichever task asks next,
  so under load some requests wait many turns (p99 several times the median).

`ConnectionQueue` below keeps only what these reads need: a fixed number of
connections handed to waiters in arrival order. A connection whose statement
failed or was cancelled is closed, not reused.

When the database goes away, every idle connection is dead at once: a
statement that finds its connection lost closes the idle ones too and runs
once more on a fresh connection (statements run here are reads, or writes
safe to repeat, such as recording a session's activity). Waiting for a
connection and running a statement are both bounded
(`PORTAL_DB_ACQUIRE_TIMEOUT_SECONDS`, `PORTAL_DB_STATEMENT_TIMEOUT_SECONDS`):
past them, or when the database cannot be reached, `DatabaseUnavailable` is
raised and the page answers 503 rather than hanging.

Rows come back as asyncpg records, read by column name like SQLAlchemy's
``row._mapping``; no type processing is applied, so statements must use types the driver returns as
SQLAlchemy would (timestamptz as aware UTC datetimes, JSON decoded, numbers,
strings, booleans, bytes). tests/test_reader.py checks this against
SQLAlchemy's own execution.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import ClauseElement, Executable, literal, select
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.compiler import SQLCompiler

from portal.db import (
    DatabaseUnavailable,
    NamedRow,
    async_url,
    create_engine,
    is_database_unavailable,
)
from portal.settings import Settings

_ASYNCPG_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]

# Statements compiled and kept, most recently used last. The busiest pages use a
# few module-level statements; statements built per request share entries by
# their SQLAlchemy cache key, so the cache stays this size whatever happens.
STATEMENT_CACHE_SIZE = 64

# Errors that mean the connection, not the statement, failed: the server went
# away, restarted, or cannot be reached. (TimeoutError, an OSError, is caught
# before these.)
_CONNECTION_LOST: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.InterfaceError,  # "connection is closed" and the like
    asyncpg.PostgresConnectionError,  # class 08, ConnectionDoesNotExistError among them
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
)

PING = select(literal(1).label("ready"))


def connect_args(database_url: str) -> dict[str, Any]:
    """asyncpg.connect() arguments for a PostgreSQL URL, read as the engine reads it
    (host, port, credentials, and query options such as ``?ssl=require``)."""
    _, options = _ASYNCPG_DIALECT.create_connect_args(async_url(database_url))  # type: ignore[no-untyped-call]
    # Options SQLAlchemy's dialect handles itself rather than passing to asyncpg.
    cache_size = options.pop("prepared_statement_cache_size", None)
    if cache_size is not None:
        options["statement_cache_size"] = cache_size
    options.pop("prepared_statement_name_func", None)
    options.pop("async_fallback", None)
    return dict(options)


@dataclass(frozen=True)
class _Compiled:
    compiled: SQLCompiler
    sql: str
    names: tuple[str, ...]  # the bound parameters, in the order of $1, $2, ...


@dataclass(frozen=True)
class _DriverStatement:
    sql: str
    names: tuple[str, ...]
    defaults: dict[str, Any]  # values fixed in this statement (literals SQLAlchemy binds)


class StatementCache:
    """Statements compiled for asyncpg, at most `size` of them (least recently used
    out first).

    Looked up by identity first: a cache key costs tens of microseconds to hash
    for the feedback page's statement, more than the rest of the lookup. A new
    statement object equal to a cached one (same SQLAlchemy cache key, literal
    values aside) reuses its compiled SQL with its own values.
    """

    def __init__(self, size: int = STATEMENT_CACHE_SIZE) -> None:
        self.size = size
        # id(statement) -> (statement, its driver form); the statement is held, so
        # its id cannot be reused by another object while the entry lives.
        self._by_identity: collections.OrderedDict[int, tuple[Executable, _DriverStatement]] = (
            collections.OrderedDict()
        )
        self._by_key: collections.OrderedDict[tuple[Any, ...], _Compiled] = (
            collections.OrderedDict()
        )
        self.compilations = 0

    def __len__(self) -> int:
        return max(len(self._by_identity), len(self._by_key))

    def get(self, statement: Executable) -> _DriverStatement:
        found = self._by_identity.get(id(statement))
        if found is not None and found[0] is statement:
            self._by_identity.move_to_end(id(statement))
            return found[1]
        assert isinstance(statement, ClauseElement)
        cache_key = statement._generate_cache_key()
        if cache_key is None:
            raise ValueError("the reader runs only statements SQLAlchemy can cache")
        compiled = self._by_key.get(cache_key.key)
        if compiled is None:
            compiled = self._compile(statement, cache_key)
            self._by_key[cache_key.key] = compiled
            if len(self._by_key) > self.size:
                self._by_key.popitem(last=False)
        else:
            self._by_key.move_to_end(cache_key.key)
        values = compiled.compiled.construct_params(
            extracted_parameters=cache_key.bindparams, _check=False
        )
        driver = _DriverStatement(
            sql=compiled.sql,
            names=compiled.names,
            defaults={k: v for k, v in values.items() if v is not None},
        )
        self._by_identity[id(statement)] = (statement, driver)
        if len(self._by_identity) > self.size:
            self._by_identity.popitem(last=False)
        return driver

    def _compile(self, statement: ClauseElement, cache_key: Any) -> _Compiled:
        compiled = statement.compile(dialect=_ASYNCPG_DIALECT, cache_key=cache_key)
        assert isinstance(compiled, SQLCompiler)
        if compiled.positiontup is None:
            raise ValueError("statement compiled without positional parameters")
        self.compilations += 1
        return _Compiled(compiled=compiled, sql=str(compiled), names=tuple(compiled.positiontup))


class Reader:
    def __init__(self, settings: Settings) -> None:
        url = async_url(settings.database_url)
        self._engine: AsyncEngine | None = None
        self._connections: ConnectionQueue | None = None
        self.statements = StatementCache()
        self._statement_timeout = settings.db_statement_timeout_seconds
        if url.get_backend_name() == "sqlite":
            self._engine = create_engine(settings, autocommit=True)
        else:
            self._connections = ConnectionQueue(
                connect_args(settings.database_url),
                size=settings.db_pool_size,
                acquire_timeout=settings.db_acquire_timeout_seconds,
            )

    async def fetch(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[NamedRow]:
        """All rows of `statement` with `params` bound by name, read by column name."""
        if self._connections is None:
            assert self._engine is not None
            async with self._engine.connect() as connection:
                return (await connection.execute(statement, dict(params))).mappings().all()
        sql, args = self._bind(statement, params)
        rows: list[asyncpg.Record] = await self._run("fetch", sql, args)
        return rows

    async def execute(self, statement: Executable, params: Mapping[str, Any]) -> None:
        """Run a statement that returns no rows (an UPDATE, say) on its own. It may
        run twice if the connection is lost as it runs: use it only for writes
        that are safe to repeat."""
        if self._connections is None:
            assert self._engine is not None
            async with self._engine.connect() as connection:
                await connection.execute(statement, dict(params))
            return
        sql, args = self._bind(statement, params)
        await self._run("execute", sql, args)

    async def ping(self) -> None:
        """Return once the database answers a trivial statement; raise
        `DatabaseUnavailable` if it cannot (bound the wait with `asyncio.timeout`)."""
        try:
            await self.fetch(PING, {})
        except DatabaseUnavailable:
            raise
        except Exception as error:
            raise DatabaseUnavailable("the database could not be reached") from error

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
        if self._connections is not None:
            await self._connections.close()

    async def _run(self, method: str, sql: str, args: list[Any]) -> Any:
        assert self._connections is not None
        timeout = self._statement_timeout
        for attempt in (1, 2):
            try:
                async with self._connections.connection() as connection:
                    return await getattr(connection, method)(sql, *args, timeout=timeout)
            except (TimeoutError, asyncpg.QueryCanceledError):
                raise DatabaseUnavailable("the database did not answer in time") from None
            except _CONNECTION_LOST as error:
                # The connections opened before this one are most likely dead too.
                self._connections.close_idle()
                if attempt == 2:
                    raise DatabaseUnavailable("the database could not be reached") from error
        raise AssertionError("unreachable")

    def _bind(self, statement: Executable, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The statement's SQL for asyncpg and its arguments in positional order."""
        driver = self.statements.get(statement)
        defaults = driver.defaults
        return driver.sql, [params[n] if n in params else defaults[n] for n in driver.names]


class ConnectionQueue:
    """At most `size` asyncpg connections, opened when first needed, each lent to
    one task at a time; tasks that find none free are served in arrival order,
    for at most `acquire_timeout` seconds (opening a connection included)."""

    def __init__(
        self, connect_args: Mapping[str, Any], *, size: int, acquire_timeout: float = 5.0
    ) -> None:
        self._connect_args = {"timeout": acquire_timeout, **connect_args}
        self._size = size
        self._acquire_timeout = acquire_timeout
        self._opened = 0  # connections open or being opened
        self._idle: list[asyncpg.Connection] = []  # the most recently used last
        # Each waiter gets a connection, or None: "one was closed, open another".
        self._waiters: collections.deque[asyncio.Future[asyncpg.Connection | None]] = (
            collections.deque()
        )
        self._closed = False

    @property
    def opened(self) -> int:
        return self._opened

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        connection = await self._acquire()
        try:
            yield connection
        except BaseException:
            # A failed or cancelled statement may leave the connection mid-protocol.
            self._discard(connection)
            raise
        self._release(connection)

    def close_idle(self) -> None:
        """Close every idle connection (after one was found lost): the next
        statement runs on a fresh one."""
        idle, self._idle = self._idle, []
        for connection in idle:
            self._discard(connection)

    async def _acquire(self) -> asyncpg.Connection:
        while self._idle and not self._closed:
            connection = self._idle.pop()
            if not connection.is_closed():
                return connection
            self._discard(connection)
        try:
            async with asyncio.timeout(self._acquire_timeout):
                return await self._wait_or_open()
        except TimeoutError:
            raise DatabaseUnavailable("no database connection in time") from None

    async def _wait_or_open(self) -> asyncpg.Connection:
        while True:
            if self._closed:
                raise RuntimeError("the reader is closed")
            if self._idle:
                connection = self._idle.pop()
                if not connection.is_closed():
                    return connection
                self._discard(connection)
                continue
            if self._opened < self._size and not self._waiters:
                return await self._open()
            waiter: asyncio.Future[asyncpg.Connection | None]
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                connection = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    # Cancelled just after being handed a connection: pass it on.
                    given = waiter.result()
                    if given is None:
                        self._wake_next(None)
                    else:
                        self._release(given)
                else:
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(waiter)
                raise
            if connection is not None and not connection.is_closed():
                return connection
            if connection is not None:
                self._discard(connection)
            if self._opened < self._size:
                return await self._open()

    async def _open(self) -> asyncpg.Connection:
        self._opened += 1
        connection: asyncpg.Connection | None = None
        try:
            connection = await asyncpg.connect(**self._connect_args)
            # As SQLAlchemy's asyncpg dialect does: JSON columns arrive decoded.
            for name in ("json", "jsonb"):
                await connection.set_type_codec(
                    name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
                )
        except BaseException as error:
            if connection is not None:
                connection.terminate()
            self._opened -= 1
            self._wake_next(None)
            if is_database_unavailable(error, connecting=True):
                raise DatabaseUnavailable("the database could not be reached") from error
            raise
        return connection

    def _release(self, connection: asyncpg.Connection) -> None:
        if self._closed or connection.is_closed():
            self._discard(connection)
        elif not self._wake_next(connection):
            self._idle.append(connection)

    def _discard(self, connection: asyncpg.Connection) -> None:
        connection.terminate()
        self._opened -= 1
        self._wake_next(None)

    def _wake_next(self, connection: asyncpg.Connection | None) -> bool:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return True
        return False

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            self._opened -= 1
            with contextlib.suppress(Exception):
                await connection.close(timeout=5)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the reader is closed"))
