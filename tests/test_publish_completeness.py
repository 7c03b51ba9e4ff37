"""Publishing incomplete feedback (no requirement assessed, or neither strengths nor growth
areas): a warning that lists what is missing, and a second, explicit press to publish
anyway; bulk publishing leaves such drafts out."""

from __future__ import annotations

import httpx
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.db import unit_of_work
from portal.feedback.check import Draft, DraftItem
from portal.feedback.completeness import Missing, missing_parts
from portal.feedback.models import Feedback, FeedbackItem, FeedbackState
from portal.jobs.models import BackgroundJob
from tests.factories import CSRF_FIELD, World, make_staff, make_world, staff_sign_in
from tests.html import Page, text
from tests.test_bulk_actions import _bulk, _confirm, _form_data, _ids

Sessions = async_sessionmaker[AsyncSession]


async def _recruiter(client: httpx.AsyncClient, sessions: Sessions, world: World) -> None:
    await make_staff(
        sessions, organization_id=world.organization_id, email="sam@acme.example", name="Sam"
    )
    assert (await staff_sign_in(client, email="sam@acme.example")).status_code == 303


async def _items_of(sessions: Sessions, world: World, *kinds: str) -> None:
    """Remove the draft's items of `kinds`."""
    async with unit_of_work(sessions) as db:
        feedback_ids = select(Feedback.id).where(Feedback.application_id == world.application_id)
        await db.execute(
            delete(FeedbackItem).where(
                FeedbackItem.feedback_id.in_(feedback_ids), FeedbackItem.kind.in_(kinds)
            )
        )


async def _state(sessions: Sessions, world: World) -> str:
    async with sessions() as db:
        state = await db.scalar(
            select(Feedback.state).where(Feedback.application_id == world.application_id)
        )
    return str(state)


async def _press_publish(client: httpx.AsyncClient, world: World) -> httpx.Response:
    """The preview's "Publish" form, as a browser without JavaScript sends it."""
    preview = await client.get(f"/staff/applications/{world.application_id}/preview")
    assert preview.status_code == 200
    form = f'form[action="/staff/applications/{world.application_id}/publish"]'
    return await client.post(
        f"/staff/applications/{world.application_id}/publish", data=_form_data(preview.text, form)
    )


def test_missing_parts_count_only_what_the_candidate_reads() -> None:
    rated = DraftItem(kind="assessment", body="Clear.", rating="met", requirement=1)
    strength = DraftItem(kind="strength", body="Precise SQL.")
    assert missing_parts(Draft(items=[rated, strength])) == ()
    assert missing_parts(Draft(items=[strength])) == (Missing.ASSESSMENT,)
    assert missing_parts(Draft(items=[rated])) == (Missing.STRENGTH_OR_GROWTH_AREA,)
    unrated = DraftItem(kind="assessment", body="", rating=None, requirement=1)
    internal = DraftItem(kind="growth_area", body="Stats.", suggestion="A course.", visible=False)
    assert missing_parts(Draft(items=[unrated, internal])) == (
        Missing.ASSESSMENT,
        Missing.STRENGTH_OR_GROWTH_AREA,
    )


async def test_incomplete_feedback_warns_then_publishes_on_confirmation(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    await _items_of(sessions, world, "assessment", "strength", "growth_area")
    await _recruiter(client, sessions, world)

    warned = await _press_publish(client, world)
    assert warned.status_code == 422
    page = Page(warned.text)
    warning = page.one("#completeness")
    assert warning.get("autofocus") is not None  # without JavaScript too, focus lands on it
    words = text(warning)
    assert "This feedback is incomplete" in words
    assert "No requirement is assessed" in words
    assert "no strengths and no growth areas" in words
    # Nothing published, nobody emailed, nothing audited as published.
    assert await _state(sessions, world) == FeedbackState.DRAFT
    async with sessions() as db:
        assert (await db.scalars(select(BackgroundJob.id))).all() == []

    # The second press carries the confirmation.
    confirm = _form_data(warned.text, "#completeness form")
    assert confirm["confirm_incomplete"] == ["on"]
    published = await client.post(
        f"/staff/applications/{world.application_id}/publish", data=confirm
    )
    assert published.status_code == 303
    assert await _state(sessions, world) == FeedbackState.PUBLISHED
    async with sessions() as db:
        event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "feedback.published"))
    assert event is not None and event.details["confirmed_incomplete"] == [
        "assessment",
        "strength_or_growth_area",
    ]


async def test_complete_feedback_publishes_at_the_first_press(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    await _items_of(sessions, world, "strength")  # growth areas and assessments remain
    await _recruiter(client, sessions, world)
    assert (await _press_publish(client, world)).status_code == 303
    assert await _state(sessions, world) == FeedbackState.PUBLISHED


async def test_a_forged_confirmation_still_needs_the_csrf_token(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    await _items_of(sessions, world, "assessment")
    await _recruiter(client, sessions, world)
    forged = await client.post(
        f"/staff/applications/{world.application_id}/publish",
        data={"version": "1", "confirm_incomplete": "on"},
    )
    assert forged.status_code == 403
    assert await _state(sessions, world) == FeedbackState.DRAFT


async def test_another_organizations_incomplete_draft_is_not_found(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    ours = await make_world(sessions, published=False)
    theirs = await make_world(sessions, slug="globex", email="eve@example.com", published=False)
    await _items_of(sessions, theirs, "assessment")
    await _recruiter(client, sessions, ours)
    token = CSRF_FIELD.search((await client.get("/staff/applications")).text)
    assert token
    response = await client.post(
        f"/staff/applications/{theirs.application_id}/publish",
        data={"csrftoken": token.group(1), "version": "1", "confirm_incomplete": "on"},
    )
    assert response.status_code == 404
    assert await _state(sessions, theirs) == FeedbackState.DRAFT


async def test_bulk_publishing_skips_incomplete_drafts(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    complete = await make_world(sessions, published=False)
    hollow = await make_world(
        sessions, email="bo@example.com", name="Bo Marsh", job_title="Job Bo", published=False
    )
    await _items_of(sessions, hollow, "strength", "growth_area")
    await _recruiter(client, sessions, complete)

    confirmation = await _bulk(client, {"action": "publish", "application": _ids(complete, hollow)})
    page = Page(confirmation.text)
    assert text(page.one("h1")) == "Publish 1 draft?"
    skipped = text(page.one("ul.skipped"))
    assert "Bo Marsh" in skipped and "incomplete" in skipped
    assert f'href="/staff/applications/{hollow.application_id}/preview"' in confirmation.text

    result = await _confirm(client, confirmation)
    assert text(Page(result.text).one("h1")) == "Published 1. Skipped 1."
    assert "incomplete" in text(Page(result.text).one("ul.skipped"))
    assert await _state(sessions, complete) == FeedbackState.PUBLISHED
    assert await _state(sessions, hollow) == FeedbackState.DRAFT


async def test_bulk_publishing_skips_a_draft_that_became_incomplete_after_confirming(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    await _recruiter(client, sessions, world)
    confirmation = await _bulk(client, {"action": "publish", "application": _ids(world)})
    assert text(Page(confirmation.text).one("h1")) == "Publish 1 draft?"
    # The same version, edited in place (as an import or a script could): still checked.
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(FeedbackItem)
            .where(FeedbackItem.kind.in_(["strength", "growth_area"]))
            .values(visible=False)
        )
    result = await _confirm(client, confirmation)
    assert "incomplete" in text(Page(result.text).one("ul.skipped"))
    assert await _state(sessions, world) == FeedbackState.DRAFT
