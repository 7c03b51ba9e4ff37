"""Optimistic concurrency: a stale write raises `Conflict` instead of overwriting.

A record that two people may edit at once carries a version column, declared
to SQLAlchemy as the mapper's `version_id_col`: every ORM update then says
`WHERE version = :loaded` and bumps it, so a write that lost a race changes
nothing. A form carries the version the person saw; `expect_version` compares
it before any change, and `flush` turns the lost race into the same `Conflict`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError


class Conflict(Exception):
    """Someone else changed the record since the person loaded it.

    `current` holds the record's values now (attribute name to value) and
    `version` its version, when they are known, so a page can show what changed;
    after a lost race they are read again in a fresh transaction (`conflict_with`).
    """

    def __init__(self, *, current: dict[str, Any] | None = None, version: int | None = None):
        super().__init__("the record was changed by someone else")
        self.current = current
        self.version = version


def version_of(record: Any) -> int:
    mapper = inspect(type(record))
    column = mapper.version_id_col
    if column is None:
        raise TypeError(f"{type(record).__name__} has no version column")
    version: int = getattr(record, mapper.get_property_by_column(column).key)
    return version


def snapshot(record: Any) -> dict[str, Any]:
    """The record's column values, by attribute name."""
    return {
        column.key: getattr(record, column.key) for column in inspect(type(record)).column_attrs
    }


def conflict_with(record: Any) -> Conflict:
    """The `Conflict` to report against `record` as it is now."""
    return Conflict(current=snapshot(record), version=version_of(record))


def expect_version(record: Any, seen: int) -> None:
    """Raise `Conflict` unless `record` is still at the version the person saw."""
    if version_of(record) != seen:
        raise conflict_with(record)


async def flush(db: AsyncSession) -> None:
    """Flush, turning a versioned update that matched no row into `Conflict`."""
    try:
        await db.flush()
    except StaleDataError as exc:
        raise Conflict() from exc
