"""State-like columns are typed with their enums in Python, and declared once.

`portal.db.enum_column` gives a column that reads back as members of its enum
(stored as the plain values, in the same VARCHAR as before) and the CHECK that
keeps the database to those values; `tests/test_enums.py` checks the database's
copy of each CHECK.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import CheckConstraint, String, cast, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.candidates.models import Application, Stage
from portal.db import EnumText, unit_of_work
from portal.feedback.models import Feedback, FeedbackItem, FeedbackState, ItemKind, Rating
from portal.models import Base
from portal.security.actors import StaffRole
from portal.staff.models import StaffUser
from tests.factories import make_staff, make_world

pytestmark = pytest.mark.anyio

Sessions = async_sessionmaker[AsyncSession]


def _enum_columns() -> list[tuple[str, str, EnumText[Any]]]:
    return [
        (table.name, column.name, column.type)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EnumText)
    ]


def test_every_enum_column_carries_the_check_of_its_own_enum() -> None:
    columns = _enum_columns()
    assert len(columns) >= 16
    for table_name, column_name, type_ in columns:
        table = Base.metadata.tables[table_name]
        checks = [
            constraint
            for constraint in table.constraints
            if isinstance(constraint, CheckConstraint)
            and constraint.info.get("column") == column_name
        ]
        assert len(checks) == 1, f"{table_name}.{column_name} has no CHECK of its own"
        assert checks[0].info["enum"] is type_.enum_type
        assert checks[0].info["nullable"] == bool(table.columns[column_name].nullable)


def test_every_enum_check_belongs_to_a_column_typed_with_that_enum() -> None:
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, CheckConstraint) and "enum" in constraint.info:
                type_ = table.columns[constraint.info["column"]].type
                assert isinstance(type_, EnumText), (
                    f"{table.name}.{constraint.info['column']}: declare it with enum_column"
                )
                assert type_.enum_type is constraint.info["enum"]


async def test_state_columns_read_back_as_members_of_their_enums(sessions: Sessions) -> None:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id, role="admin")
    async with sessions() as db:
        feedback = await db.scalar(
            select(Feedback).where(Feedback.application_id == world.application_id)
        )
        assert feedback is not None
        assert type(feedback.state) is FeedbackState
        assert feedback.state is FeedbackState.PUBLISHED
        items = (
            await db.execute(
                select(FeedbackItem.kind, FeedbackItem.rating)
                .where(FeedbackItem.feedback_id == feedback.id)
                .order_by(FeedbackItem.id)
            )
        ).all()
        assert [(row.kind, row.rating) for row in items][:3] == [
            (ItemKind.ASSESSMENT, Rating.MET),
            (ItemKind.ASSESSMENT, Rating.NOT_YET_MET),
            (ItemKind.STRENGTH, None),
        ]
        assert all(type(row.kind) is ItemKind for row in items)
        stage = await db.scalar(
            select(Application.stage).where(Application.id == world.application_id)
        )
        assert stage is Stage.INTERVIEW
        role = await db.scalar(
            select(StaffUser.role).where(StaffUser.organization_id == world.organization_id)
        )
        assert role is StaffRole.ADMIN


async def test_members_and_their_values_are_stored_alike(sessions: Sessions) -> None:
    world = await make_world(sessions, published=False)
    async with unit_of_work(sessions) as db:
        feedback = await db.scalar(
            select(Feedback).where(Feedback.application_id == world.application_id)
        )
        assert feedback is not None
        feedback.state = FeedbackState.PUBLISHED
    async with sessions() as db:
        published = await db.scalar(
            select(Feedback.id).where(
                Feedback.application_id == world.application_id,
                Feedback.state == "published",
            )
        )
        assert published == feedback.id
        raw = await db.scalar(
            select(cast(Feedback.state, String(20))).where(Feedback.id == feedback.id)
        )
        assert raw == "published"
