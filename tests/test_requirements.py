"""Deleting a job's requirement never breaks or strips the feedback that uses it."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.candidates.models import Application, Job, Requirement
from portal.candidates.service import RequirementInUse, delete_requirement
from portal.db import unit_of_work
from portal.feedback.models import Feedback, FeedbackItem, FeedbackState, ItemKind
from tests.factories import World, make_world, sign_in

Sessions = async_sessionmaker[AsyncSession]


async def _requirement(sessions: Sessions, world: World, name: str) -> int:
    async with unit_of_work(sessions) as db:
        found = await db.scalar(
            select(Requirement.id)
            .join(Application, Application.job_id == Requirement.job_id)
            .where(Application.id == world.application_id, Requirement.name == name)
        )
    assert found is not None
    return found


async def _remove_assessments(sessions: Sessions, requirement_id: int) -> None:
    async with unit_of_work(sessions) as db:
        await db.execute(
            delete(FeedbackItem).where(
                FeedbackItem.requirement_id == requirement_id,
                FeedbackItem.kind == ItemKind.ASSESSMENT,
            )
        )


async def test_a_requirement_in_published_feedback_is_kept_with_a_reason(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    requirement_id = await _requirement(sessions, world, "SQL")
    await sign_in(client, sessions, world)
    before = (await client.get(f"/feedback/{world.application_id}")).text

    with pytest.raises(RequirementInUse, match="“SQL” is part of feedback already published"):
        async with unit_of_work(sessions) as db:
            await delete_requirement(db, requirement_id=requirement_id)

    after = await client.get(f"/feedback/{world.application_id}")
    assert after.status_code == 200
    assert after.text == before


async def test_the_database_itself_refuses_to_strip_published_feedback(
    sessions: Sessions,
) -> None:
    world = await make_world(sessions)
    requirement_id = await _requirement(sessions, world, "Statistics")
    # Only the published growth area mentions it now; once, the delete silently unlinked it.
    await _remove_assessments(sessions, requirement_id)
    with pytest.raises(IntegrityError):
        async with unit_of_work(sessions) as db:
            await db.execute(delete(Requirement).where(Requirement.id == requirement_id))
    async with unit_of_work(sessions) as db:
        assert await db.get(Requirement, requirement_id) is not None
        growth = await db.scalar(select(FeedbackItem).where(FeedbackItem.kind == "growth_area"))
        assert growth is not None and growth.requirement_id == requirement_id


async def test_a_draft_assessment_must_be_removed_first(sessions: Sessions) -> None:
    world = await make_world(sessions, published=False)
    requirement_id = await _requirement(sessions, world, "SQL")
    with pytest.raises(RequirementInUse, match="assessed in draft feedback \\(1 draft\\)"):
        async with unit_of_work(sessions) as db:
            await delete_requirement(db, requirement_id=requirement_id)


async def test_draft_strengths_are_unlinked_and_the_requirement_goes(sessions: Sessions) -> None:
    world = await make_world(sessions, published=False)
    requirement_id = await _requirement(sessions, world, "SQL")
    await _remove_assessments(sessions, requirement_id)
    async with unit_of_work(sessions) as db:
        assert await delete_requirement(db, requirement_id=requirement_id) is True
    async with unit_of_work(sessions) as db:
        assert await db.get(Requirement, requirement_id) is None
        strength = await db.scalar(
            select(FeedbackItem).where(FeedbackItem.body == "Clear, well-commented queries.")
        )
        assert strength is not None and strength.requirement_id is None


async def test_an_unused_requirement_is_deleted(sessions: Sessions) -> None:
    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        job_id = await db.scalar(
            select(Application.job_id).where(Application.id == world.application_id)
        )
        spare = Requirement(job_id=job_id, position=9, name="Spare", description="")
        db.add(spare)
        await db.flush()
        spare_id = spare.id
    async with unit_of_work(sessions) as db:
        assert await delete_requirement(db, requirement_id=spare_id) is True
        assert await delete_requirement(db, requirement_id=spare_id) is False


async def test_deleting_a_job_still_takes_its_feedback_with_it(sessions: Sessions) -> None:
    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        job_id = await db.scalar(
            select(Application.job_id).where(Application.id == world.application_id)
        )
        await db.execute(
            update(Feedback)
            .where(Feedback.application_id == world.application_id)
            .values(state=FeedbackState.PUBLISHED)
        )
        await db.execute(delete(Job).where(Job.id == job_id))
    async with unit_of_work(sessions) as db:
        assert (await db.scalars(select(FeedbackItem))).all() == []
        assert (await db.scalars(select(Requirement))).all() == []
