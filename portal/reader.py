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

Rows come back as asyncpg records, read by column name like SQLAlchemy's
``row._mapping``; no type
processing is applied, so statements must use types the driver returns as
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
from sqlalchemy import ClauseElement, Executable
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.compiler import SQLCompiler

from portal.db import NamedRow, async_url, create_engine
from portal.settings import Settings

_ASYNCPG_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


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
class _DriverStatement:
    sql: str
    names: tuple[str, ...]  # the bound parameters, in the order of $1, $2, ...
    defaults: dict[str, Any]  # values fixed in the statement (literals SQLAlchemy binds)


class Reader:
    def __init__(self, settings: Settings) -> None:
        url = async_url(settings.database_url)
        self._engine: AsyncEngine | None = None
        self._connections: ConnectionQueue | None = None
        self._statements: dict[int, tuple[Executable, _DriverStatement]] = {}
        if url.get_backend_name() == "sqlite":
            self._engine = create_engine(settings, autocommit=True)
        else:
            self._connections = ConnectionQueue(
                connect_args(settings.database_url), size=settings.db_pool_size
            )

    async def fetch(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[NamedRow]:
        """All rows of `statement` with `params` bound by name, read by column name."""
        if self._connections is None:
            assert self._engine is not None
            async with self._engine.connect() as connection:
                return (await connection.execute(statement, dict(params))).mappings().all()
        sql, args = self._bind(statement, params)
        async with self._connections.connection() as connection:
            rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
        return rows

    async def execute(self, statement: Executable, params: Mapping[str, Any]) -> None:
        """Run a statement that returns no rows (an UPDATE, say) on its own."""
        if self._connections is None:
            assert self._engine is not None
            async with self._engine.connect() as connection:
                await connection.execute(statement, dict(params))
            return
        sql, args = self._bind(statement, params)
        async with self._connections.connection() as connection:
            await connection.execute(sql, *args)

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
        if self._connections is not None:
            await self._connections.close()

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


class ConnectionQueue:
    """At most `size` asyncpg connections, opened when first needed, each lent to
    one task at a time; tasks that find none free are served in arrival order."""

    def __init__(self, connect_args: Mapping[str, Any], *, size: int) -> None:
        self._connect_args = dict(connect_args)
        self._size = size
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

    async def _acquire(self) -> asyncpg.Connection:
        while True:
            if self._closed:
                raise RuntimeError("the reader is closed")
            if self._idle:
                return self._idle.pop()
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
            if connection is not None:
                return connection
            if self._opened < self._size:
                return await self._open()

    async def _open(self) -> asyncpg.Connection:
        self._opened += 1
        try:
            connection: asyncpg.Connection = await asyncpg.connect(**self._connect_args)
            # As SQLAlchemy's asyncpg dialect does: JSON columns arrive decoded.
            for name in ("json", "jsonb"):
                await connection.set_type_codec(
                    name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
                )
        except BaseException:
            self._opened -= 1
            self._wake_next(None)
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
