"""Removing a job's requirement never breaks or strips the feedback that uses it: one
that feedback uses is retired, one that nothing uses is deleted."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.candidates.models import Application, Job, Requirement
from portal.db import unit_of_work, utcnow
from portal.feedback.models import Feedback, FeedbackItem, FeedbackState, ItemKind
from portal.postings.requirements import Removal, remove_requirement
from portal.postings.service import JobNotFound
from portal.security.actors import Staff, StaffRole
from tests.factories import World, make_world, sign_in

Sessions = async_sessionmaker[AsyncSession]


def _staff(world: World) -> Staff:
    return Staff(0, world.organization_id, StaffRole.RECRUITER, "Rita", b"")


async def _job_and_requirement(sessions: Sessions, world: World, name: str) -> tuple[int, int]:
    async with unit_of_work(sessions) as db:
        found = (
            await db.execute(
                select(Requirement.job_id, Requirement.id)
                .join(Application, Application.job_id == Requirement.job_id)
                .where(Application.id == world.application_id, Requirement.name == name)
            )
        ).one()
    return found.job_id, found.id


async def _remove(sessions: Sessions, world: World, name: str) -> Removal:
    job_id, requirement_id = await _job_and_requirement(sessions, world, name)
    async with unit_of_work(sessions) as db:
        removed = await remove_requirement(
            db,
            actor=_staff(world),
            job_id=job_id,
            requirement_id=requirement_id,
            now=utcnow(),
            ip_hash=None,
        )
    return removed.how


async def test_a_requirement_in_published_feedback_is_retired_and_the_page_unchanged(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    _, requirement_id = await _job_and_requirement(sessions, world, "SQL")
    await sign_in(client, sessions, world)
    before = (await client.get(f"/feedback/{world.application_id}")).text

    assert await _remove(sessions, world, "SQL") == Removal.RETIRED

    after = await client.get(f"/feedback/{world.application_id}")
    assert after.status_code == 200
    assert after.text == before
    async with unit_of_work(sessions) as db:
        kept = await db.get_one(Requirement, requirement_id)
        assert kept.retired_at is not None


async def test_a_requirement_a_draft_uses_is_retired_and_the_draft_keeps_it(
    sessions: Sessions,
) -> None:
    world = await make_world(sessions, published=False)
    _, requirement_id = await _job_and_requirement(sessions, world, "SQL")
    assert await _remove(sessions, world, "SQL") == Removal.RETIRED
    async with unit_of_work(sessions) as db:
        linked = await db.scalars(
            select(FeedbackItem.kind).where(FeedbackItem.requirement_id == requirement_id)
        )
        assert sorted(linked.all()) == [ItemKind.ASSESSMENT, ItemKind.STRENGTH]


async def test_an_unused_requirement_is_deleted_and_a_retired_one_is_not_found_again(
    sessions: Sessions,
) -> None:
    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        job_id = await db.scalar(
            select(Application.job_id).where(Application.id == world.application_id)
        )
        db.add(Requirement(job_id=job_id, position=9, name="Spare", description=""))
    assert await _remove(sessions, world, "Spare") == Removal.DELETED
    async with unit_of_work(sessions) as db:
        assert await db.scalar(select(Requirement).where(Requirement.name == "Spare")) is None
    assert await _remove(sessions, world, "SQL") == Removal.RETIRED
    with pytest.raises(JobNotFound):
        await _remove(sessions, world, "SQL")


async def test_another_organizations_requirement_is_not_found(sessions: Sessions) -> None:
    world = await make_world(sessions)
    other = await make_world(sessions, slug="globex", email="bo@example.com")
    job_id, requirement_id = await _job_and_requirement(sessions, world, "SQL")
    async with unit_of_work(sessions) as db:
        with pytest.raises(JobNotFound):
            await remove_requirement(
                db,
                actor=_staff(other),
                job_id=job_id,
                requirement_id=requirement_id,
                now=utcnow(),
                ip_hash=None,
            )


async def test_the_database_itself_refuses_to_strip_published_feedback(
    sessions: Sessions,
) -> None:
    world = await make_world(sessions)
    _, requirement_id = await _job_and_requirement(sessions, world, "Statistics")
    # Only the published growth area mentions it now; once, the delete silently unlinked it.
    async with unit_of_work(sessions) as db:
        await db.execute(
            delete(FeedbackItem).where(
                FeedbackItem.requirement_id == requirement_id,
                FeedbackItem.kind == ItemKind.ASSESSMENT,
            )
        )
    with pytest.raises(IntegrityError):
        async with unit_of_work(sessions) as db:
            await db.execute(delete(Requirement).where(Requirement.id == requirement_id))
    async with unit_of_work(sessions) as db:
        assert await db.get(Requirement, requirement_id) is not None
        growth = await db.scalar(select(FeedbackItem).where(FeedbackItem.kind == "growth_area"))
        assert growth is not None and growth.requirement_id == requirement_id


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
