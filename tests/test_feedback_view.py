"""One builder for every reader of the feedback: the candidate's page, a
recruiter's preview of a draft, a given version (a PDF, an API client)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.auth import ANONYMOUS, Staff, StaffRole
from portal.auth import Candidate as CandidateActor
from portal.db import unit_of_work
from portal.feedback.models import Feedback, FeedbackItem
from portal.feedback.service import load_feedback_page
from portal.feedback.view import FeedbackView, Version, load_feedback_view
from portal.settings import Settings
from tests.factories import World, make_world

Sessions = async_sessionmaker[AsyncSession]


def _recruiter_of(organization_id: int) -> Staff:
    return Staff(0, organization_id, StaffRole.RECRUITER, "Rita", b"")


def _candidate_of(world: World) -> CandidateActor:
    return CandidateActor(world.candidate_id, world.organization_id, "Ana", b"")


async def _add_draft(sessions: Sessions, world: World, *, version: int = 2) -> None:
    """A draft next version with one visible and one internal item."""
    async with unit_of_work(sessions) as db:
        draft = Feedback(
            application_id=world.application_id,
            version=version,
            state="draft",
            decision_summary="Draft: we are still writing this.",
            suggested_roles=["Analytics Engineer"],
        )
        db.add(draft)
        await db.flush()
        db.add_all(
            [
                FeedbackItem(
                    feedback_id=draft.id, kind="strength", body="Draft strength", position=0
                ),
                FeedbackItem(
                    feedback_id=draft.id,
                    kind="growth_area",
                    body="INTERNAL draft remark",
                    suggestion="none",
                    visible=False,
                ),
            ]
        )


async def _view(
    sessions: Sessions,
    world: World,
    version: Version | int = Version.PUBLISHED,
    *,
    organization_id: int | None = None,
) -> FeedbackView | None:
    async with sessions() as db:
        return await load_feedback_view(
            db,
            actor=_recruiter_of(organization_id or world.organization_id),
            application_id=world.application_id,
            version=version,
        )


async def test_the_published_view_is_what_the_candidate_page_shows(
    app: Starlette, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions, email="ana@example.com", name="Ana Lima")
    await make_world(sessions, email="ana@example.com", job_title="Data Engineer")
    await _add_draft(sessions, world)
    async with sessions() as db:
        found = await load_feedback_page(
            db, actor=_candidate_of(world), application_id=world.application_id
        )
    view = await _view(sessions, world)
    assert found is not None and view is not None
    assert found[0] == view
    assert view.version == 1 and view.state == "published" and not view.is_draft
    assert view.candidate_name == "Ana Lima" and view.first_name == "Ana"
    assert view.has_other_applications
    assert [a.requirement for a in view.assessments] == ["SQL", "Statistics"]
    assert [a.rating_words for a in view.assessments] == ["Met", "Not yet met"]
    assert [s.text for s in view.strengths] == ["Clear, well-commented queries."]
    assert view.growth_areas[0].suggestion.startswith("Work through")
    assert view.suggested_roles == ("Junior Analyst",)
    assert view.branding.display_name == "Acme Corp"
    # A frozen tree: templates walk it, nobody changes it under them.
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.job_title = "changed"  # type: ignore[misc]


async def test_a_draft_preview_shows_what_the_candidate_would_see(sessions: Sessions) -> None:
    world = await make_world(sessions)
    await _add_draft(sessions, world)
    preview = await _view(sessions, world, Version.LATEST)
    assert preview is not None
    assert preview.version == 2 and preview.is_draft
    assert preview.decision_summary == "Draft: we are still writing this."
    assert [s.text for s in preview.strengths] == ["Draft strength"]
    assert preview.growth_areas == ()  # the internal item stays out of the preview too
    assert preview.suggested_roles == ("Analytics Engineer",)
    # The candidate still sees the published version.
    published = await _view(sessions, world)
    assert published is not None and published.version == 1


async def test_latest_is_the_published_version_when_there_is_no_draft(
    sessions: Sessions,
) -> None:
    world = await make_world(sessions)
    latest = await _view(sessions, world, Version.LATEST)
    assert latest is not None and latest.version == 1 and not latest.is_draft


async def test_a_given_version_and_a_missing_one(sessions: Sessions) -> None:
    world = await make_world(sessions)
    await _add_draft(sessions, world)
    first = await _view(sessions, world, 1)
    second = await _view(sessions, world, 2)
    assert first is not None and first.decision_summary.startswith("Thank you for interviewing")
    assert second is not None and second.is_draft
    for internal in (first, second):
        assert "INTERNAL" not in repr(internal)
    assert await _view(sessions, world, 3) is None


async def test_nothing_published_has_no_published_view(sessions: Sessions) -> None:
    world = await make_world(sessions, published=False)
    assert await _view(sessions, world) is None
    draft = await _view(sessions, world, Version.LATEST)
    assert draft is not None and draft.is_draft


async def test_an_application_outside_the_scope_is_not_found(sessions: Sessions) -> None:
    mine = await make_world(sessions)
    theirs = await make_world(sessions, slug="globex", email="eve@example.com", name="Eve")
    # Staff of acme ask for globex's application, by every version choice.
    for version in (Version.PUBLISHED, Version.LATEST, 1):
        assert await _view(sessions, theirs, version, organization_id=mine.organization_id) is None
    assert await _view(sessions, theirs, organization_id=theirs.organization_id) is not None


async def test_a_candidate_reads_only_the_published_version_whatever_is_asked(
    sessions: Sessions,
) -> None:
    world = await make_world(sessions)
    await _add_draft(sessions, world)
    async with sessions() as db:
        for version in (Version.LATEST, 2, Version.PUBLISHED):
            view = await load_feedback_view(
                db, actor=_candidate_of(world), application_id=world.application_id, version=version
            )
            assert view is not None and view.version == 1 and not view.is_draft


async def test_someone_else_reads_nothing(sessions: Sessions) -> None:
    world = await make_world(sessions)
    stranger = CandidateActor(world.candidate_id + 1000, world.organization_id, "Eve", b"")
    async with sessions() as db:
        for actor in (ANONYMOUS, stranger):
            view = await load_feedback_view(db, actor=actor, application_id=world.application_id)
            assert view is None
        page = await load_feedback_page(db, actor=stranger, application_id=world.application_id)
        assert page is None


async def test_an_unknown_application_is_not_found(sessions: Sessions) -> None:
    world = await make_world(sessions)
    async with sessions() as db:
        assert (
            await load_feedback_view(
                db,
                actor=_recruiter_of(world.organization_id),
                application_id=world.application_id + 1000,
            )
            is None
        )
