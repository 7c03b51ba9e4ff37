"""The benchmark database: (re)create it, seed it with COPY, open a candidate session."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Callable

import asyncpg
from sqlalchemy.engine import make_url

from bench.dataset import SEED_VERSION, Dataset

# Databases the benchmark must never drop or fill.
PROTECTED = frozenset({"postgres", "test", "template0", "template1"})
ADMIN_DATABASES = ("postgres", "test")  # connected to only to CREATE/DROP the bench database


class BenchDatabaseError(RuntimeError):
    pass


def asyncpg_dsn(database_url: str, database: str | None = None) -> str:
    """A plain libpq-style DSN for asyncpg from any SQLAlchemy PostgreSQL URL."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise BenchDatabaseError(f"the benchmark needs PostgreSQL, not {database_url!r}")
    url = url.set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


def database_name(database_url: str) -> str:
    name = make_url(database_url).database
    if not name:
        raise BenchDatabaseError(f"no database name in {database_url!r}")
    if name in PROTECTED or name.startswith("template"):
        raise BenchDatabaseError(f"refusing to use {name!r} as the benchmark database")
    return name


def marker(applications: int, head: str) -> str:
    return f"afterword-bench seed v{SEED_VERSION} applications={applications} head={head}"


async def _admin_connection(database_url: str) -> asyncpg.Connection:
    errors = []
    for admin in ADMIN_DATABASES:
        try:
            return await asyncpg.connect(asyncpg_dsn(database_url, admin))
        except (OSError, asyncpg.PostgresError) as exc:
            errors.append(f"{admin}: {exc}")
    raise BenchDatabaseError("cannot connect to PostgreSQL: " + "; ".join(errors))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def seeded_marker(database_url: str) -> str | None:
    """The marker comment of the bench database, or None if it does not exist."""
    name = database_name(database_url)
    admin = await _admin_connection(database_url)
    try:
        found: str | None = await admin.fetchval(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') "
            "FROM pg_database WHERE datname = $1",
            name,
        )
        return found
    finally:
        await admin.close()


async def row_counts(database_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        counts: dict[str, int] = {}
        for table in ("organizations", "jobs", "candidates", "applications", "feedback"):
            counts[table] = await connection.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
        counts["feedback_items"] = await connection.fetchval("SELECT count(*) FROM feedback_items")
        return counts
    finally:
        await connection.close()


async def recreate_database(database_url: str) -> None:
    name = database_name(database_url)
    admin = await _admin_connection(database_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {_ident(name)}")
    finally:
        await admin.close()


async def set_marker(database_url: str, text: str) -> None:
    name = database_name(database_url)
    admin = await _admin_connection(database_url)
    try:
        quoted = "'" + text.replace("'", "''") + "'"
        await admin.execute(f"COMMENT ON DATABASE {_ident(name)} IS {quoted}")
    finally:
        await admin.close()


async def seed(database_url: str, dataset: Dataset, log: Callable[[str], None]) -> None:
    """COPY the whole data set into the freshly migrated (empty) database."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        async with connection.transaction():
            for table, columns, rows in dataset.tables():
                started = time.perf_counter()
                result = await connection.copy_records_to_table(
                    table, records=rows, columns=list(columns)
                )
                log(f"  {table:<15} {result:>22}  {time.perf_counter() - started:6.1f} s")
            for table, _columns, _rows in dataset.tables():
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
        started = time.perf_counter()
        await connection.execute("VACUUM (ANALYZE)")
        log(f"  vacuum analyze {time.perf_counter() - started:29.1f} s")
    finally:
        await connection.close()


async def open_candidate_session(database_url: str, candidate_id: int) -> str:
    """A fresh session for the candidate, as sign-in would create; returns the cookie value."""
    token = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        async with connection.transaction():
            await connection.execute("DELETE FROM sessions WHERE candidate_id = $1", candidate_id)
            await connection.execute(
                "INSERT INTO sessions (id_hash, candidate_id, staff_user_id, created_at, "
                "last_seen_at, expires_at, revoked_at) VALUES ($1, $2, NULL, $3, $3, $4, NULL)",
                hashlib.sha256(token.encode()).digest(),
                candidate_id,
                now,
                now + dt.timedelta(hours=12),
            )
    finally:
        await connection.close()
    return token


async def server_version(database_url: str) -> str:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        version: str = await connection.fetchval("SHOW server_version")
        return version
    finally:
        await connection.close()
