"""The feedback editor: every save a new version, conflicting edits, the feedback check
inline and live, preview as the candidate, publishing and a second recruiter's override."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.candidates.models import Requirement
from portal.db import unit_of_work, utcnow
from portal.feedback.check import Draft, DraftItem
from portal.feedback.drafts import SavedVersion, UnknownRequirement, load_draft, save_draft
from portal.feedback.models import Feedback, FeedbackOverride
from portal.jobs.models import BackgroundJob
from portal.jobs.worker import Worker
from portal.security.actors import Staff, StaffRole
from portal.settings import Settings
from tests.factories import (
    CSRF_FIELD,
    World,
    make_staff,
    make_world,
    open_link,
    staff_sign_in,
)

Sessions = async_sessionmaker[AsyncSession]
RISKY = "We felt you would be a better culture fit elsewhere."
SAFE = "Your experiment designs did not yet include a power calculation."


async def _recruiter(
    client: httpx.AsyncClient, sessions: Sessions, world: World, email: str = "sam@acme.example"
) -> int:
    staff_id = await make_staff(
        sessions, organization_id=world.organization_id, email=email, name=email.split("@")[0]
    )
    assert (await staff_sign_in(client, email=email)).status_code == 303
    return staff_id


async def _requirements(sessions: Sessions, world: World) -> list[int]:
    async with sessions() as db:
        job_id = await db.scalar(select(Requirement.job_id).order_by(Requirement.id.desc()))
        return list(
            (
                await db.scalars(
                    select(Requirement.id)
                    .where(Requirement.job_id == job_id)
                    .order_by(Requirement.position)
                )
            ).all()
        )


def _form(page: httpx.Response) -> dict[str, str]:
    """The editor's fields as the browser would send them (text, hidden, selects, ticks)."""
    html = page.text
    fields: dict[str, str] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html):
        fields[name] = value
    for name, body in re.findall(
        r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S
    ):
        fields[name] = _unescape(body)
    for name, options in re.findall(
        r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', html, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        fields[name] = chosen.group(1) if chosen else ""
    for name, value in re.findall(
        r'<input type="text" id="[^"]+" name="([^"]+)" value="([^"]*)"', html
    ):
        fields[name] = _unescape(value)
    for name in re.findall(
        r'<input type="checkbox" id="[^"]+" name="([^"]+)" value="on" checked>', html
    ):
        fields[name] = "on"
    return fields


def _unescape(text: str) -> str:
    return html.unescape(text)


async def _open_editor(client: httpx.AsyncClient, world: World) -> dict[str, str]:
    page = await client.get(f"/staff/applications/{world.application_id}/feedback")
    assert page.status_code == 200, page.text
    return _form(page)


async def _editing(client: httpx.AsyncClient, sessions: Sessions) -> tuple[World, dict[str, str]]:
    """An application with draft feedback, a recruiter signed in on `client`, and the
    editor's fields as it opens."""
    world = await make_world(sessions, published=False)
    await _recruiter(client, sessions, world)
    return world, await _open_editor(client, world)


async def _post(
    client: httpx.AsyncClient, world: World, fields: dict[str, str], **extra: Any
) -> httpx.Response:
    return await client.post(
        f"/staff/applications/{world.application_id}/feedback", data=fields, **extra
    )


async def _versions(sessions: Sessions, world: World) -> list[tuple[int, str, int | None]]:
    async with sessions() as db:
        rows = await db.execute(
            select(Feedback.version, Feedback.state, Feedback.created_by_staff_id)
            .where(Feedback.application_id == world.application_id)
            .order_by(Feedback.version)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_every_save_is_a_new_version(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions, published=False)
    staff_id = await _recruiter(client, sessions, world)
    fields = await _open_editor(client, world)
    assert fields["version"] == "1"
    assert fields["decision_summary"].startswith("Thank you for interviewing")
    # The internal strength is in the editor, unticked.
    assert "INTERNAL: hiring manager wanted more seniority." in fields.values()

    fields["decision_summary"] = SAFE + " Thank you for your time."
    # Redirects are paths on this site, whatever Host the request names.
    saved = await _post(client, world, fields, headers={"host": "evil.example"})
    assert saved.status_code == 303
    assert saved.headers["location"] == (
        f"/staff/applications/{world.application_id}/feedback?done=saved"
    )
    assert await _versions(sessions, world) == [(1, "draft", None), (2, "draft", staff_id)]

    again = await _open_editor(client, world)
    assert again["version"] == "2"
    assert again["decision_summary"] == SAFE + " Thank you for your time."
    # Saving what is already saved adds nothing.
    unchanged = await _post(client, world, again)
    assert unchanged.headers["location"].endswith("done=unchanged")
    assert len(await _versions(sessions, world)) == 2
    async with sessions() as db:
        first = await db.scalar(select(Feedback).where(Feedback.version == 1))
        assert first is not None and first.decision_summary.startswith("Thank you for interviewing")
        saved_events = (
            await db.scalars(select(AuditEvent).where(AuditEvent.action == "feedback.saved"))
        ).all()
    assert [event.details for event in saved_events] == [{"version": 2}]


async def test_rows_are_added_and_removed_without_javascript(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, fields = await _editing(client, sessions)
    assert "strengths-1-body" in fields  # the visible strength and the internal one
    added = await _post(client, world, {**fields, "action": "add-strengths"})
    assert added.status_code == 200
    fields = _form(added)
    assert fields["strengths-2-body"] == ""
    fields["strengths-2-body"] = "Calm under pressure in the live exercise."
    removed = await _post(client, world, {**fields, "action": "remove-strengths-1"})
    fields = _form(removed)
    assert fields["strengths-1-body"] == "Calm under pressure in the live exercise."
    assert "strengths-2-body" not in fields
    assert await _post(client, world, fields) is not None
    async with sessions() as db:
        stored = await load_draft(
            db,
            actor=_anyone(world),
            application_id=world.application_id,
        )
    assert stored is not None and stored.version == 2
    assert [i.body for i in stored.draft.items if i.kind == "strength"] == [
        "Clear, well-commented queries.",
        "Calm under pressure in the live exercise.",
    ]


def _anyone(world: World) -> Staff:
    return Staff(
        staff_id=0,
        organization_id=world.organization_id,
        role=StaffRole.RECRUITER,
        name="",
        session_id_hash=b"",
    )


async def test_htmx_adds_a_row_in_place(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world, fields = await _editing(client, sessions)
    added = await _post(
        client, world, {**fields, "action": "add-growth_areas"}, headers={"hx-request": "true"}
    )
    assert added.text.lstrip().startswith('<div id="editor">')
    assert 'name="growth_areas-1-body"' in added.text


async def test_conflicting_edits_get_the_conflict_page_with_the_text_kept(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    await _recruiter(client, sessions, world)
    await _recruiter(other_client, sessions, world, email="kim@acme.example")
    mine = await _open_editor(client, world)
    theirs = await _open_editor(other_client, world)

    theirs["decision_summary"] = "Kim's words, saved first."
    assert (await _post(other_client, world, theirs)).status_code == 303
    mine["decision_summary"] = "My own <b>careful</b> words."
    conflict = await _post(client, world, mine)
    assert conflict.status_code == 409
    assert "Someone else changed this while you were writing" in conflict.text
    assert "My own &lt;b&gt;careful&lt;/b&gt; words." in conflict.text
    assert "Kim&#39;s words, saved first." in conflict.text
    assert "Decision summary" in conflict.text
    assert await _versions(sessions, world) == [
        (1, "draft", None),
        (2, "draft", (await _versions(sessions, world))[1][2]),
    ]
    # "Save mine instead" posts the kept text over the newest version.
    kept = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', conflict.text))
    kept = {name: _unescape(value) for name, value in kept.items()}
    assert kept["version"] == "2"
    overwrite = await _post(client, world, kept)
    assert overwrite.status_code == 303
    versions = await _versions(sessions, world)
    assert len(versions) == 3
    async with sessions() as db:
        newest = await db.scalar(select(Feedback).where(Feedback.version == 3))
    assert newest is not None and newest.decision_summary == "My own <b>careful</b> words."


async def test_bad_input_is_explained_and_kept(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, fields = await _editing(client, sessions)
    fields["personal_note"] = "<script>alert(1)</script>" + "x" * 2_000
    fields["reapply_after_months"] = "ninety"
    rejected = await _post(client, world, fields)
    assert rejected.status_code == 422
    assert "Keep it to 2,000 characters or fewer (this has 2,025)." in rejected.text
    assert "Enter a number of months from 0 to 60" in rejected.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rejected.text
    assert "<script>alert(1)</script>" not in rejected.text
    # Evidence without a rating, a suggestion without a growth area.
    fields = await _open_editor(client, world)
    fields["assessments-0-rating"] = ""
    fields["growth_areas-0-body"] = ""
    rejected = await _post(client, world, fields)
    assert rejected.status_code == 422
    assert "Choose a rating for this evidence, or clear the evidence." in rejected.text
    assert "Describe the growth area this suggestion is for." in rejected.text
    assert "Work through &#39;Trustworthy Online Controlled Experiments&#39;." in rejected.text
    assert len(await _versions(sessions, world)) == 1
    too_big = await _post(client, world, {**fields, "personal_note": "x" * 10_000_000})
    assert too_big.status_code == 413
    no_token = await client.post(
        f"/staff/applications/{world.application_id}/feedback", data={"version": "1"}
    )
    assert no_token.status_code == 403


async def test_links_for_suggestions_and_roles_are_kept_and_reach_the_candidate(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, fields = await _editing(client, sessions)
    assert fields["growth_areas-0-suggestion_url"] == ""
    fields["growth_areas-0-suggestion_url"] = "https://example.com/experiments?course=1&a=b"
    fields["suggested_roles"] = "Junior Analyst https://jobs.example.com/1\nReporting Analyst"
    assert (await _post(client, world, fields)).status_code == 303
    async with sessions() as db:
        stored = await load_draft(
            db,
            actor=_anyone(world),
            application_id=world.application_id,
        )
    assert stored is not None and stored.version == 2
    growth = [item for item in stored.draft.items if item.kind == "growth_area"]
    assert growth[0].suggestion_url == "https://example.com/experiments?course=1&a=b"
    assert stored.draft.suggested_roles == ("Junior Analyst", "Reporting Analyst")
    assert stored.draft.suggested_role_urls == (("Junior Analyst", "https://jobs.example.com/1"),)

    # The editor shows them as typed, and saving them again adds no version.
    again = await _open_editor(client, world)
    assert again["growth_areas-0-suggestion_url"] == "https://example.com/experiments?course=1&a=b"
    assert (
        again["suggested_roles"] == "Junior Analyst https://jobs.example.com/1\nReporting Analyst"
    )
    unchanged = await _post(client, world, again)
    assert unchanged.headers["location"].endswith("done=unchanged")

    preview = await client.get(f"/staff/applications/{world.application_id}/preview")
    assert 'href="https://example.com/experiments?course=1&amp;a=b"' in preview.text
    assert '<a href="https://jobs.example.com/1" rel="noopener noreferrer">Junior Analyst</a>' in (
        preview.text
    )

    # Not a web address, or an address with no role: said, and kept.
    again["growth_areas-0-suggestion_url"] = "javascript:alert(1)"
    again["suggested_roles"] = "https://jobs.example.com/2"
    rejected = await _post(client, world, again)
    assert rejected.status_code == 422
    assert "Enter a web address that starts with https://" in rejected.text
    assert "Line 1: write the role&#39;s title before its address." in rejected.text
    assert 'value="javascript:alert(1)"' in rejected.text
    assert len(await _versions(sessions, world)) == 2


async def test_the_check_highlights_the_words_and_says_what_to_write(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, fields = await _editing(client, sessions)
    fields["decision_summary"] = "<i>Sadly</i> " + RISKY
    checked = await _post(client, world, {**fields, "action": "check"})
    assert checked.status_code == 200
    assert (
        "&lt;i&gt;Sadly&lt;/i&gt; We felt you would be a better <mark>culture fit</mark> elsewhere."
        in checked.text
    )
    assert "name the behaviour and the requirement it relates to" in checked.text
    assert 'id="check-decision_summary"' in checked.text
    assert "1 risky (blocks publishing)" in checked.text
    assert len(await _versions(sessions, world)) == 1  # checking saves nothing

    # Live, as the recruiter types: the panel, and each field's findings out of band.
    live = await client.post(
        f"/staff/applications/{world.application_id}/feedback/check",
        data=fields,
        headers={"hx-request": "true"},
    )
    assert live.status_code == 200
    assert live.text.lstrip().startswith('<section class="card check-panel" id="findings"')
    editor = await client.get(f"/staff/applications/{world.application_id}/feedback")
    assert 'hx-trigger="keyup changed delay:500ms from:#editor-form' in editor.text
    assert 'hx-target="#findings"' in editor.text
    assert '<div class="field-check" id="check-decision_summary" hx-swap-oob="true">' in live.text
    assert "<mark>culture fit</mark>" in live.text
    assert '<div class="field-check" id="check-personal_note" hx-swap-oob="true">' in live.text
    fields["decision_summary"] = SAFE
    fixed = await client.post(
        f"/staff/applications/{world.application_id}/feedback/check",
        data=fields,
        headers={"hx-request": "true"},
    )
    assert "<mark>" not in fixed.text.split('id="check-decision_summary"')[1].split("</div>")[0]


async def _publish(
    client: httpx.AsyncClient, world: World, version: int, reason: str = ""
) -> httpx.Response:
    editor = await client.get(f"/staff/applications/{world.application_id}/feedback")
    token = CSRF_FIELD.search(editor.text)
    assert token
    data = {"csrftoken": token.group(1), "version": str(version)}
    if reason:
        data["reason"] = reason
    return await client.post(f"/staff/applications/{world.application_id}/publish", data=data)


async def test_preview_is_the_candidates_page_with_a_banner(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, fields = await _editing(client, sessions)
    fields["decision_summary"] = "<script>alert(1)</script> Thank you for your time."
    assert (await _post(client, world, {**fields, "action": "preview"})).status_code == 303
    page = await client.get(f"/staff/applications/{world.application_id}/preview")
    assert page.status_code == 200
    assert "Preview: what Dana Scully will see" in page.text
    assert "Version 2 is a draft" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Thank you for your time." in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "Thank you, Dana" in page.text  # the candidate's own heading
    assert "Your window-function answer was precise." in page.text
    assert "INTERNAL" not in page.text  # internal items never reach the page
    assert "?version=latest" in page.text
    assert 'action="/signout"' not in page.text


async def test_publishing_shows_it_to_the_candidate_through_the_emailed_link(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    world, fields = await _editing(client, sessions)
    fields["decision_summary"] = SAFE
    await _post(client, world, fields)
    published = await _publish(client, world, 2)
    assert published.status_code == 303
    assert published.headers["location"].endswith("?done=published")
    assert (await _versions(sessions, world))[-1][1] == "published"
    async with sessions() as db:
        emails = (
            await db.scalars(select(BackgroundJob).where(BackgroundJob.kind == "mail.send"))
        ).all()
        actions = set((await db.scalars(select(AuditEvent.action))).all())
    assert len(emails) == 1 and emails[0].payload["to"] == "dana@example.com"
    assert {"feedback.published", "link.issued"} <= actions
    # The worker sends it; the candidate opens the link and reads the new words.
    await Worker(settings=settings, sessions=sessions).run_once()
    link = _link_in_mail(settings.mail_dir)
    opened = await open_link(other_client, link)
    assert opened.status_code == 303
    page = await other_client.get(opened.headers["location"])
    assert SAFE in page.text
    # Publishing again changes nothing.
    again = await _publish(client, world, 2)
    assert again.status_code == 303
    async with sessions() as db:
        assert (
            len(
                (
                    await db.scalars(
                        select(BackgroundJob.id).where(BackgroundJob.kind == "mail.send")
                    )
                ).all()
            )
            == 1
        )


def _link_in_mail(mail_dir: str) -> str:
    texts = [path.read_text() for path in sorted(Path(mail_dir).glob("*.eml"))]
    assert texts, "no email was written"
    match = re.search(r"http://testserver(/l/[A-Za-z0-9_-]+)", texts[-1])
    assert match
    return match.group(1)


async def test_risky_feedback_needs_a_second_recruiter_to_publish(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    author = await _recruiter(client, sessions, world)
    reviewer = await _recruiter(other_client, sessions, world, email="kim@acme.example")
    fields = await _open_editor(client, world)
    fields["decision_summary"] = RISKY
    await _post(client, world, fields)

    preview = await client.get(f"/staff/applications/{world.application_id}/preview")
    assert "Publishing is blocked while the check finds risky wording" in preview.text
    assert "<mark>culture fit</mark>" in preview.text
    refused = await _publish(client, world, 2)
    assert refused.status_code == 422
    assert "cannot be published as it is" in refused.text
    own = await _publish(client, world, 2, reason="I am sure.")
    assert own.status_code == 403
    assert "You saved this version" in own.text

    theirs = await other_client.get(f"/staff/applications/{world.application_id}/preview")
    assert "Publish despite the risky findings" in theirs.text
    no_reason = await _publish(other_client, world, 2)
    assert no_reason.status_code == 422
    overridden = await _publish(
        other_client, world, 2, reason="Quoting the candidate's own words about fit."
    )
    assert overridden.status_code == 303
    assert [state for _, state, _ in await _versions(sessions, world)] == ["draft", "published"]
    async with sessions() as db:
        override = await db.scalar(select(FeedbackOverride))
        event = await db.scalar(
            select(AuditEvent).where(AuditEvent.action == "feedback.check_overridden")
        )
    assert override is not None and override.staff_user_id == reviewer
    assert override.reason == "Quoting the candidate's own words about fit."
    assert override.findings == [
        {"rule": "risky.culture_fit", "field": "decision_summary", "words": "culture fit"}
    ]
    assert event is not None and event.actor_id == reviewer and event.actor_id != author
    page = await client.get(f"/staff/applications/{world.application_id}")
    assert "Check overridden by kim" in page.text


async def test_a_stale_publish_is_refused(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world, fields = await _editing(client, sessions)
    fields["decision_summary"] = SAFE
    await _post(client, world, fields)
    stale = await _publish(client, world, 1)
    assert stale.status_code == 409
    assert "A newer version was saved" in stale.text


async def test_save_draft_resolves_requirements_by_name_and_refuses_unknown_ones(
    sessions: Sessions,
) -> None:
    world = await make_world(sessions, published=False)
    actor = _anyone(world)
    draft = Draft(
        decision_summary="Thank you.",
        items=(
            DraftItem(kind="assessment", body="Precise.", rating="met", requirement="sql"),
            DraftItem(kind="strength", body="Clear.", requirement="Statistics"),
        ),
    )

    async def save(draft: Draft) -> SavedVersion:
        async with unit_of_work(sessions) as db:
            return await save_draft(
                db,
                actor=actor,
                application_id=world.application_id,
                draft=draft,
                author_staff_id=None,
                based_on=None,
                now=utcnow(),
            )

    saved = await save(draft)
    again = await save(draft)
    assert (saved.version, saved.created) == (2, True)
    assert (again.version, again.created) == (2, False)
    unknown = Draft(items=(DraftItem(kind="strength", body="x", requirement="Cooking"),))
    with pytest.raises(UnknownRequirement) as refused:
        await save(unknown)
    assert refused.value.requirement == "Cooking"


async def test_another_organizations_recruiter_finds_nothing(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    other = await make_world(sessions, slug="globex", email="bo@example.com")
    await _recruiter(client, sessions, other, email="g@globex.example")
    token = CSRF_FIELD.search((await client.get("/staff/applications")).text)
    assert token
    base = f"/staff/applications/{world.application_id}"
    for path in ("/feedback", "/preview", "/summary.pdf"):
        assert (await client.get(base + path)).status_code == 404, path
    for path in ("/feedback", "/feedback/check", "/publish"):
        response = await client.post(
            base + path, data={"csrftoken": token.group(1), "version": "1", "reason": "x"}
        )
        assert response.status_code == 404, path
    assert len(await _versions(sessions, world)) == 1


async def test_a_language_the_job_requires_passes_the_check_in_the_editor_and_at_publishing(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, fields = await _editing(client, sessions)
    fields["decision_summary"] = "Your fluent German will help with our DACH customers."
    flagged = await _post(client, world, {**fields, "action": "check"})
    assert "<mark>German</mark>" in flagged.text
    assert "1 risky (blocks publishing)" in flagged.text

    # The job asks for German: the check reads the job's requirements.
    first = (await _requirements(sessions, world))[0]
    async with unit_of_work(sessions) as db:
        requirement = await db.get(Requirement, first)
        assert requirement is not None
        requirement.description = "Fluent German, for our DACH customers"
    checked = await _post(client, world, {**fields, "action": "check"})
    assert checked.status_code == 200
    assert "<mark>German</mark>" not in checked.text
    assert "risky (blocks publishing)" not in checked.text
    saved = await _post(client, world, fields)
    assert saved.status_code == 303
    preview = await client.get(f"/staff/applications/{world.application_id}/preview")
    assert "Publishing is blocked" not in preview.text
    assert (await _publish(client, world, 2)).status_code == 303
    assert [state for _, state, _ in await _versions(sessions, world)] == ["draft", "published"]
