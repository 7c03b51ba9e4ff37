"""Feedback already published keeps the requirements as the candidate read them:
renaming, rewording, reordering or removing a job's requirement changes no published
page and no PDF; drafts follow the job's requirements as they are now."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.auth import Staff, StaffRole
from portal.candidates.models import Requirement
from portal.db import unit_of_work, utcnow
from portal.feedback import drafts
from portal.feedback.check import Draft, DraftItem
from portal.feedback.models import FeedbackItem
from portal.feedback.view import FeedbackView, Version, load_feedback_view
from portal.settings import Settings
from tests.factories import World, make_staff, make_world, sign_in
from tests.jobs_support import add_requirement, desk, job_of, requirement_id
from tests.test_import import csv_bytes, row, run
from tests.test_pdf import text_of

Sessions = async_sessionmaker[AsyncSession]
CSRF = re.compile(r'name="csrftoken" value="[^"]*"')


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Renders run niced: on a busy test machine they may take far longer than in service.
    return settings.model_copy(update={"pdf_timeout_seconds": 120.0})


def _recruiter(world: World) -> Staff:
    return Staff(0, world.organization_id, StaffRole.RECRUITER, "Rita", b"")


async def _published(sessions: Sessions, world: World) -> FeedbackView:
    async with unit_of_work(sessions) as db:
        view = await load_feedback_view(
            db, actor=_recruiter(world), application_id=world.application_id
        )
    assert view is not None
    return view


async def _rework_the_job(
    client: httpx.AsyncClient, sessions: Sessions, world: World, first: str = "SQL"
) -> None:
    """Everything a recruiter may do to the job's requirements, through the pages:
    rename and reword one, reorder, remove one (retired: feedback uses it), add one."""
    d = await desk(client, sessions, world=world)
    job_id = await job_of(sessions, world)
    sql = await requirement_id(sessions, job_id, first)
    stats = await requirement_id(sessions, job_id, "Statistics")
    base = f"/staff/jobs/{job_id}/requirements"
    for response in (
        await d.post(f"{base}/{sql}", name="SQL and dbt", description="Models data in dbt"),
        await d.post(f"{base}/{stats}/move", direction="up"),
        await d.post(f"{base}/{stats}/remove"),
    ):
        assert response.status_code == 303, response.text
    await add_requirement(d, job_id, "Python", "Writes tested pandas code")


async def test_edits_after_publishing_leave_the_candidates_page_and_pdf_unchanged(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    tmp_path: Path,
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    page_url = f"/feedback/{world.application_id}"
    before = await client.get(page_url)
    assert "Writes queries" in before.text and "A/B tests" in before.text
    pdf_before = text_of((await client.get(f"{page_url}/summary.pdf")).content, tmp_path)
    view_before = await _published(sessions, world)

    await _rework_the_job(other_client, sessions, world)

    after = await client.get(page_url)
    assert after.status_code == 200
    # The same page, byte for byte, but for the form tokens of this request.
    assert CSRF.sub("", after.text) == CSRF.sub("", before.text)
    assert "SQL and dbt" not in after.text and "Python" not in after.text
    pdf_after = text_of((await client.get(f"{page_url}/summary.pdf")).content, tmp_path)
    assert pdf_after == pdf_before
    assert "Writes queries" in pdf_after and "Statistics" in pdf_after
    assert await _published(sessions, world) == view_before

    # The staff's views of the published version agree: its page and its PDF.
    staff_pdf = await other_client.get(f"/staff/applications/{world.application_id}/summary.pdf")
    assert text_of(staff_pdf.content, tmp_path) == pdf_before


async def test_a_draft_follows_the_job_as_it_is_and_publishing_it_keeps_that(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    staff_id = await make_staff(sessions, organization_id=world.organization_id)
    actor = Staff(staff_id, world.organization_id, StaffRole.RECRUITER, "Sam", b"")
    job_id = await job_of(sessions, world)
    draft = Draft(
        decision_summary="Thank you for interviewing with us. The role needs SQL modelling "
        "every day, which your answers did not yet show.",
        personal_note="Thank you for your time.",
        items=(
            DraftItem(kind="assessment", body="Precise window functions.", rating="met",
                      requirement="SQL"),
            DraftItem(kind="strength", body="Clear queries.", requirement="SQL"),
        ),
    )  # fmt: skip
    async with unit_of_work(sessions) as db:
        saved = await drafts.save_draft(
            db,
            actor=actor,
            application_id=world.application_id,
            draft=draft,
            author_staff_id=staff_id,
            based_on=None,
            now=utcnow(),
        )
    # A draft has no copy of its requirements: it shows them as they are.
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Requirement)
            .where(Requirement.job_id == job_id, Requirement.name == "SQL")
            .values(name="SQL (renamed)", description="Renamed before publishing")
        )
        latest = await load_feedback_view(
            db, actor=actor, application_id=world.application_id, version=Version.LATEST
        )
        items = await db.scalars(
            select(FeedbackItem.requirement_name).where(FeedbackItem.requirement_id.is_not(None))
        )
    assert latest is not None
    assert [a.requirement for a in latest.assessments] == ["SQL (renamed)"]
    assert [s.requirement for s in latest.strengths] == ["SQL (renamed)"]
    # The published version 1 (from the factory) keeps what its candidate read.
    published = await _published(sessions, world)
    assert [a.requirement for a in published.assessments] == ["SQL", "Statistics"]
    assert set(items.all()) == {None, "SQL", "Statistics"}

    async with unit_of_work(sessions) as db:
        await drafts.publish_version(
            db,
            actor=actor,
            application_id=world.application_id,
            version=saved.version,
            staff_id=staff_id,
            settings=Settings(base_url="http://testserver"),
            now=utcnow(),
        )
    await _rework_the_job(other_client, sessions, world, first="SQL (renamed)")
    await sign_in(client, sessions, world)
    page = html.unescape((await client.get(f"/feedback/{world.application_id}")).text)
    assert "SQL (renamed)" in page and "Renamed before publishing" in page
    assert "SQL and dbt" not in page
    # A new draft starts from the job as it is now.
    editor = await other_client.get(f"/staff/applications/{world.application_id}/feedback")
    assert "SQL and dbt" in editor.text and "Python" in editor.text
    assert "Renamed before publishing" not in editor.text


async def test_imported_and_published_feedback_keeps_its_requirements_too(
    sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions, published=False)
    result = await run(sessions, settings, world, csv_bytes([row()]), publish=True)
    assert result.written
    async with unit_of_work(sessions) as db:
        named = (
            await db.execute(
                select(FeedbackItem.requirement_name, FeedbackItem.requirement_description)
                .where(FeedbackItem.requirement_id.is_not(None))
                .order_by(FeedbackItem.id)
            )
        ).all()
    # The factory's draft has none; the imported, published version has each one's.
    assert set(named) == {(None, None), ("SQL", "Writes queries"), ("Statistics", "A/B tests")}


async def test_a_removed_requirement_is_no_longer_one_to_import_or_save_a_draft_with(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions, published=False)
    d = await desk(client, sessions, world=world)
    job_id = await job_of(sessions, world)
    stats = await requirement_id(sessions, job_id, "Statistics")
    assert (await d.post(f"/staff/jobs/{job_id}/requirements/{stats}/remove")).status_code == 303
    template = await d.get(f"/staff/import/jobs/{job_id}/template.csv")
    assert "rating: SQL" in template.text and "Statistics" not in template.text
    result = await run(sessions, settings, world, csv_bytes([row()]))
    assert not result.written
    assert any("Statistics" in p.message + p.column for p in result.checked.problems), [
        (p.column, p.message) for p in result.checked.problems
    ]
    async with unit_of_work(sessions) as db:
        with pytest.raises(drafts.UnknownRequirement):
            await drafts.save_draft(
                db,
                actor=_recruiter(world),
                application_id=world.application_id,
                draft=Draft(items=(DraftItem(kind="strength", body="x", requirement=stats),)),
                author_staff_id=None,
                based_on=None,
                now=utcnow(),
            )
