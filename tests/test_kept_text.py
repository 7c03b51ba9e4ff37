"""Nothing typed is lost: a question or a feedback draft posted after the session
ended is kept for its writer, and only them, until they sign in again; the editor
saves by itself, never over a newer version."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal import job_kinds  # noqa: F401  (every job kind registered)
from portal.auth import kept
from portal.auth.models import KeptForm
from portal.candidates.models import Candidate
from portal.db import unit_of_work, utcnow
from portal.feedback.models import Feedback
from portal.jobs.registry import registry
from portal.security.models import Session
from portal.threads.models import Message
from tests.factories import (
    CSRF_FIELD,
    World,
    make_staff,
    make_world,
    open_link,
    sign_in,
    sign_in_link,
    staff_sign_in,
)
from tests.test_feedback_editor import _form, _open_editor

Sessions = async_sessionmaker[AsyncSession]
QUESTION = "Which statistics course would you suggest for my experiment designs?"


async def _end_sessions(sessions: Sessions) -> None:
    """Every session is 31 minutes idle: past the limit."""
    async with unit_of_work(sessions) as db:
        await db.execute(update(Session).values(last_seen_at=utcnow() - dt.timedelta(minutes=31)))


async def _token(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    match = CSRF_FIELD.search(page.text)
    assert match, page.text
    return match.group(1)


async def _ask_after_session_ended(
    client: httpx.AsyncClient, sessions: Sessions, world: World, *, htmx: bool
) -> httpx.Response:
    await sign_in(client, sessions, world)
    token = await _token(client, f"/feedback/{world.application_id}")
    await _end_sessions(sessions)
    return await client.post(
        f"/feedback/{world.application_id}/questions",
        data={"csrftoken": token, "body": QUESTION},
        headers={"hx-request": "true"} if htmx else {},
    )


async def _messages(sessions: Sessions) -> int:
    async with sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(Message)) or 0)


async def test_a_question_sent_after_the_session_ended_is_in_the_box_after_signing_in(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    refused = await _ask_after_session_ended(client, sessions, world, htmx=False)
    # Without JavaScript: the sign-in page, saying the question was kept.
    assert refused.status_code == 401
    assert "We kept what you typed." in refused.text
    assert "Get a sign-in link" in refused.text
    assert QUESTION not in refused.text  # not echoed into a page anyone could see
    assert await _messages(sessions) == 0

    # The emailed sign-in link leads back to the feedback, the question in its box.
    signed_in = await open_link(client, await sign_in_link(sessions, world))
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == f"/feedback/{world.application_id}?kept=1#ask"
    page = await client.get(signed_in.headers["location"])
    assert page.status_code == 200
    assert f">{QUESTION}</textarea>" in page.text
    assert "We kept the question you typed" in page.text
    # Handed back once, then gone.
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(KeptForm)) == 0
    again = await client.get(signed_in.headers["location"])
    assert QUESTION not in again.text


async def test_with_htmx_the_refusal_is_a_message_in_place_not_a_sign_in_page(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    refused = await _ask_after_session_ended(client, sessions, world, htmx=True)
    assert refused.status_code == 401
    assert refused.headers["hx-retarget"] == "#session-message"
    assert refused.headers["hx-reswap"] == "innerHTML"
    assert "<html" not in refused.text and "<form" not in refused.text
    assert "We kept what you typed." in refused.text
    assert 'href="/signin"' in refused.text
    async with sessions() as db:
        kept = (await db.scalars(select(KeptForm))).one()
    assert kept.candidate_id == world.candidate_id
    assert kept.application_id == world.application_id
    assert kept.fields == {"body": QUESTION}
    assert kept.expires_at - kept.created_at == dt.timedelta(hours=24)
    # The page has the area the message goes to, inside the question form.
    await open_link(client, await sign_in_link(sessions, world))
    page = await client.get(f"/feedback/{world.application_id}")
    assert page.text.count('id="session-message"') == 1
    assert page.text.index('id="session-message"') > page.text.index('id="ask"')


async def test_another_candidate_on_the_same_browser_does_not_see_the_kept_question(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await _ask_after_session_ended(client, sessions, world, htmx=False)
    other = await make_world(sessions, email="bo@example.com", name="Bo Other")
    signed_in = await open_link(client, await sign_in_link(sessions, other))
    assert signed_in.status_code == 303
    assert "kept" not in signed_in.headers["location"]
    # Even asking for it by address: it is bound to its writer.
    page = await client.get(f"/feedback/{other.application_id}?kept=1")
    assert QUESTION not in page.text
    mine = await client.get(f"/feedback/{world.application_id}?kept=1")
    assert mine.status_code == 404
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(KeptForm)) == 1


async def test_a_signed_out_or_forged_session_keeps_nothing(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    token = await _token(client, f"/feedback/{world.application_id}")
    async with unit_of_work(sessions) as db:
        await db.execute(update(Session).values(revoked_at=utcnow()))
    refused = await client.post(
        f"/feedback/{world.application_id}/questions",
        data={"csrftoken": token, "body": QUESTION},
    )
    assert refused.status_code == 401 and "We kept what you typed" not in refused.text
    client.cookies.set("afterword_session", "x" * 43)
    refused = await client.post(
        f"/feedback/{world.application_id}/questions",
        data={"csrftoken": token, "body": QUESTION},
    )
    assert refused.status_code == 401
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(KeptForm)) == 0


async def test_a_question_about_another_candidates_application_is_not_kept(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    other = await make_world(sessions, email="bo@example.com", name="Bo Other")
    await sign_in(client, sessions, world)
    token = await _token(client, f"/feedback/{world.application_id}")
    await _end_sessions(sessions)
    await client.post(
        f"/feedback/{other.application_id}/questions",
        data={"csrftoken": token, "body": QUESTION},
    )
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(KeptForm)) == 0


async def test_the_expired_session_post_still_needs_its_csrf_token(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    await _end_sessions(sessions)
    refused = await client.post(
        f"/feedback/{world.application_id}/questions", data={"body": QUESTION}
    )
    assert refused.status_code == 403
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(KeptForm)) == 0


# --- staff ---------------------------------------------------------------------------


DRAFT_NOTE = "Thank you for the care you put into the take-home exercise."


async def _recruiter_editing(
    client: httpx.AsyncClient, sessions: Sessions, email: str = "sam@acme.example"
) -> tuple[World, int, dict[str, str]]:
    world = await make_world(sessions, published=False)
    staff_id = await make_staff(sessions, organization_id=world.organization_id, email=email)
    assert (await staff_sign_in(client, email=email)).status_code == 303
    return world, staff_id, await _open_editor(client, world)


async def test_a_draft_saved_after_the_session_ended_comes_back_after_signing_in(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, _, fields = await _recruiter_editing(client, sessions)
    version = fields["version"]
    await _end_sessions(sessions)
    refused = await client.post(
        f"/staff/applications/{world.application_id}/feedback",
        data={**fields, "personal_note": DRAFT_NOTE, "action": "save"},
    )
    assert refused.status_code == 303
    assert refused.headers["location"] == "/staff/signin?kept=1"
    signin = await client.get(refused.headers["location"])
    assert "We kept what you typed." in signin.text

    back = await staff_sign_in(client)
    assert back.status_code == 303
    assert back.headers["location"] == f"/staff/applications/{world.application_id}/feedback"
    editor = await client.get(back.headers["location"])
    assert "We restored what you typed" in editor.text
    restored = _form(editor)
    assert restored["personal_note"] == DRAFT_NOTE
    assert restored["version"] == version  # saving it meets the usual conflict check
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(KeptForm)) == 0


async def test_with_htmx_the_editor_is_told_in_place_and_the_draft_kept(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, staff_id, fields = await _recruiter_editing(client, sessions)
    await _end_sessions(sessions)
    refused = await client.post(
        f"/staff/applications/{world.application_id}/feedback/autosave",
        data={**fields, "personal_note": DRAFT_NOTE},
        headers={"hx-request": "true", "x-csrftoken": client.cookies["afterword_csrf"]},
    )
    assert refused.status_code == 401
    assert refused.headers["hx-retarget"] == "#session-message"
    assert "hx-redirect" not in refused.headers
    assert "We kept what you typed." in refused.text
    assert 'href="/staff/signin?kept=1"' in refused.text
    async with sessions() as db:
        kept = (await db.scalars(select(KeptForm))).one()
    assert kept.staff_user_id == staff_id and kept.candidate_id is None
    assert kept.fields["personal_note"] == DRAFT_NOTE
    assert "csrftoken" not in kept.fields


async def test_another_staff_member_signing_in_does_not_get_the_kept_draft(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, _, fields = await _recruiter_editing(client, sessions)
    await _end_sessions(sessions)
    await client.post(
        f"/staff/applications/{world.application_id}/feedback",
        data={**fields, "personal_note": DRAFT_NOTE, "action": "save"},
    )
    await make_staff(sessions, organization_id=world.organization_id, email="kim@acme.example")
    back = await staff_sign_in(client, email="kim@acme.example")
    assert back.headers["location"] == "/staff/"
    editor = await client.get(f"/staff/applications/{world.application_id}/feedback")
    assert DRAFT_NOTE not in editor.text and "We restored" not in editor.text
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(KeptForm)) == 1


async def _autosave(
    client: httpx.AsyncClient, world: World, fields: dict[str, str]
) -> httpx.Response:
    return await client.post(
        f"/staff/applications/{world.application_id}/feedback/autosave",
        data=fields,
        headers={"hx-request": "true", "x-csrftoken": client.cookies["afterword_csrf"]},
    )


async def _version_count(sessions: Sessions, world: World) -> int:
    async with sessions() as db:
        return int(
            await db.scalar(
                select(func.count())
                .select_from(Feedback)
                .where(Feedback.application_id == world.application_id)
            )
            or 0
        )


async def test_autosave_makes_a_version_only_when_something_changed(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, _, fields = await _recruiter_editing(client, sessions)
    before = await _version_count(sessions, world)
    changed = await _autosave(client, world, {**fields, "personal_note": DRAFT_NOTE})
    assert changed.status_code == 200
    assert "Saved at " in changed.text
    new_version = str(int(fields["version"]) + 1)
    assert f'name="version" value="{new_version}" id="editor-version" hx-swap-oob="true"' in (
        changed.text
    )
    assert await _version_count(sessions, world) == before + 1
    # The next autosave, from the new version and with nothing new: nothing stored.
    again = await _autosave(
        client, world, {**fields, "personal_note": DRAFT_NOTE, "version": new_version}
    )
    assert again.status_code == 204
    assert await _version_count(sessions, world) == before + 1


async def test_autosave_never_overwrites_a_newer_version_saved_elsewhere(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, _, fields = await _recruiter_editing(client, sessions)
    await make_staff(sessions, organization_id=world.organization_id, email="kim@acme.example")
    assert (await staff_sign_in(other_client, email="kim@acme.example")).status_code == 303
    their_fields = await _open_editor(other_client, world)
    theirs = await other_client.post(
        f"/staff/applications/{world.application_id}/feedback",
        data={**their_fields, "personal_note": "Kim's note", "action": "save"},
    )
    assert theirs.status_code == 303
    count = await _version_count(sessions, world)
    mine = await _autosave(client, world, {**fields, "personal_note": DRAFT_NOTE})
    assert mine.status_code == 409
    assert "someone else saved a newer version" in mine.text
    assert await _version_count(sessions, world) == count


async def test_autosave_of_a_form_with_errors_saves_nothing_and_says_so(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, _, fields = await _recruiter_editing(client, sessions)
    count = await _version_count(sessions, world)
    refused = await _autosave(client, world, {**fields, "reapply_after_months": "ninety"})
    assert refused.status_code == 422
    assert "some fields need attention" in refused.text
    assert await _version_count(sessions, world) == count


async def test_the_editor_offers_autosave_with_a_live_region(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, _, _ = await _recruiter_editing(client, sessions)
    page = await client.get(f"/staff/applications/{world.application_id}/feedback")
    url = f"/staff/applications/{world.application_id}/feedback/autosave"
    assert f'hx-post="{url}"' in page.text
    assert 'id="autosave-status" class="hint autosave-status" role="status"' in page.text
    assert page.text.count('id="session-message"') == 1


async def test_kept_text_goes_with_its_candidate(sessions: Sessions) -> None:
    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        db.add(
            KeptForm(
                candidate_id=world.candidate_id,
                application_id=world.application_id,
                kind="question",
                fields={"body": QUESTION},
                expires_at=utcnow() + dt.timedelta(hours=1),
            )
        )
    async with unit_of_work(sessions) as db:
        await db.delete(await db.get(Candidate, world.candidate_id))
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(KeptForm)) == 0


# --- a stale CSRF token as well ------------------------------------------------------


async def test_a_stale_form_shows_back_what_was_typed_without_javascript(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    await client.get(f"/feedback/{world.application_id}")
    refused = await client.post(
        f"/feedback/{world.application_id}/questions",
        data={"csrftoken": "stale" * 8 + "abc", "body": QUESTION},
        headers={"sec-fetch-site": "same-origin"},
    )
    assert refused.status_code == 403
    assert "This form has expired" in refused.text
    assert "here is what you typed" in refused.text
    assert f">{QUESTION}</textarea>" in refused.text
    assert "stale" not in refused.text  # the token is not shown


async def test_a_cross_site_post_is_never_shown_back(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    await client.get(f"/feedback/{world.application_id}")
    for headers in ({"sec-fetch-site": "cross-site"}, {}):
        refused = await client.post(
            f"/feedback/{world.application_id}/questions",
            data={"csrftoken": "x" * 43, "body": "<script>alert(1)</script> Call 555-0100"},
            headers=headers,
        )
        assert refused.status_code == 403
        assert "555-0100" not in refused.text and "<script>alert" not in refused.text


async def test_a_stale_form_with_htmx_keeps_the_form_in_place(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    await client.get(f"/feedback/{world.application_id}")
    refused = await client.post(
        f"/feedback/{world.application_id}/questions",
        data={"body": QUESTION},
        headers={"hx-request": "true", "x-csrftoken": "x" * 43},
    )
    assert refused.status_code == 403
    assert refused.headers["hx-retarget"] == "#session-message"
    assert "Your text is still in the form" in refused.text
    assert "<html" not in refused.text


async def test_kept_text_expires_and_is_pruned(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await _ask_after_session_ended(client, sessions, world, htmx=True)
    async with unit_of_work(sessions) as db:
        await db.execute(update(KeptForm).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    # Past its time, it is not handed back, even to its writer...
    signed_in = await open_link(client, await sign_in_link(sessions, world))
    assert "kept" not in signed_in.headers["location"]
    page = await client.get(f"/feedback/{world.application_id}?kept=1")
    assert QUESTION not in page.text
    # ...and the hourly job deletes it.
    async with unit_of_work(sessions) as db:
        await kept.prune(db, now=utcnow())
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(KeptForm)) == 0
    assert registry.get("auth.prune_kept_forms") in registry.periodic()
