"""The enums that name states and the CHECK constraints in the database agree.

Alembic does not compare CHECK constraints, so `test_migrations` cannot see a
state added to an enum but not to the database. These tests ask the database
itself: they read each enum's constraint as the migrations left it and evaluate
it for every member of the enum and for a value outside it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import CheckConstraint, Table, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.db import unit_of_work
from portal.feedback.models import Feedback, FeedbackState
from portal.models import Base
from tests.factories import make_world

# Marked here, not only by conftest after collection, so that anyio sees the parameters.
pytestmark = pytest.mark.anyio

OUTSIDE = "not-a-state"


def _enum_checks() -> list[tuple[Table, CheckConstraint]]:
    # In a fixed order: `table.constraints` is a set, and pytest-xdist's workers must
    # collect the same tests in the same order.
    return sorted(
        (
            (table, constraint)
            for table in Base.metadata.sorted_tables
            for constraint in table.constraints
            if isinstance(constraint, CheckConstraint) and "enum" in constraint.info
        ),
        key=lambda pair: (pair[0].name, pair[1].info["column"]),
    )


def _parenthesised(sql: str, start: int) -> str:
    """The text inside the parenthesis that opens at `start`."""
    depth = 0
    for index in range(start, len(sql)):
        depth += {"(": 1, ")": -1}.get(sql[index], 0)
        if depth == 0:
            return sql[start + 1 : index]
    raise AssertionError(f"unbalanced parentheses in {sql!r}")


async def _stored_condition(connection: AsyncConnection, table: str, name: str) -> str:
    """The constraint's condition as the database holds it."""
    if connection.dialect.name == "postgresql":
        definition = await connection.scalar(
            text(
                "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = :t AND c.conname = :n"
            ),
            {"t": table, "n": name},
        )
        assert definition, f"{name} is missing from the database"
        return str(definition).removeprefix("CHECK ")
    sql = await connection.scalar(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": table}
    )
    match = re.search(rf"CONSTRAINT {name} CHECK \s*\(", str(sql))
    assert match, f"{name} is missing from the database"
    return _parenthesised(str(sql), match.end() - 1)


async def _accepts(connection: AsyncConnection, condition: str, column: str, value: str) -> bool:
    # A CHECK refuses a row only when its condition is false (NULL passes).
    result = await connection.scalar(
        # The condition is the database's own schema text, not input.
        text(f"SELECT {condition} FROM (SELECT CAST(:value AS VARCHAR(40)) AS {column}) AS p"),  # noqa: S608
        {"value": value},
    )
    return result is None or bool(result)


def test_every_state_column_has_an_enum_check() -> None:
    checked = {(table.name, constraint.info["column"]) for table, constraint in _enum_checks()}
    assert {
        ("access_links", "purpose"),
        ("applications", "stage"),
        ("applications", "status"),
        ("background_jobs", "state"),
        ("feedback", "state"),
        ("feedback_items", "kind"),
        ("feedback_items", "rating"),
        ("staff_users", "role"),
    } <= checked


def test_no_value_list_is_written_by_hand() -> None:
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint) and " IN (" in str(constraint.sqltext):
                assert "enum" in constraint.info, (
                    f"{table.name}.{constraint.name} lists values by hand; build it with "
                    "portal.db.enum_check from an enum"
                )


@pytest.mark.parametrize(
    ("table", "constraint"),
    _enum_checks(),
    ids=[f"{t.name}.{c.info['column']}" for t, c in _enum_checks()],
)
async def test_the_database_accepts_exactly_the_enum(
    app: Starlette, table: Table, constraint: CheckConstraint
) -> None:
    column: str = constraint.info["column"]
    members: Any = constraint.info["enum"]
    async with app.state.portal.engine.connect() as connection:
        condition = await _stored_condition(connection, table.name, str(constraint.name))
        for member in members:
            assert await _accepts(connection, condition, column, member.value), (
                f"the database refuses {table.name}.{column} = {member.value!r}, which "
                f"{members.__name__} allows: write a migration"
            )
        assert not await _accepts(connection, condition, column, OUTSIDE), (
            f"the database accepts {table.name}.{column} = {OUTSIDE!r}"
        )


async def test_a_state_outside_the_enum_is_refused_on_write(
    app: Starlette, sessions: async_sessionmaker[AsyncSession]
) -> None:
    world = await make_world(sessions)
    with pytest.raises(IntegrityError):
        async with unit_of_work(sessions) as db:
            await db.execute(
                update(Feedback)
                .where(Feedback.application_id == world.application_id)
                .values(state="archived")
            )
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Feedback)
            .where(Feedback.application_id == world.application_id)
            .values(state=FeedbackState.DRAFT)
        )
