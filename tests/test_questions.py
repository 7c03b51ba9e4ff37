"""A candidate asks about their feedback: the form, the thread, and what is refused."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.db import unit_of_work, utcnow
from portal.orgs.models import Organization
from portal.threads.models import CandidateBlock, Message, Thread
from portal.threads.working_days import reply_due
from tests.factories import CSRF_FIELD, World, make_world, sign_in

Sessions = async_sessionmaker[AsyncSession]


async def _page(client: httpx.AsyncClient, world: World) -> httpx.Response:
    response = await client.get(f"/feedback/{world.application_id}")
    assert response.status_code == 200
    return response


async def _ask(
    client: httpx.AsyncClient, world: World, body: str, *, htmx: bool = False
) -> httpx.Response:
    page = await _page(client, world)
    token = CSRF_FIELD.search(page.text)
    assert token
    headers = {"hx-request": "true"} if htmx else {}
    return await client.post(
        f"/feedback/{world.application_id}/questions",
        data={"csrftoken": token.group(1), "body": body},
        headers=headers,
    )


async def _messages(sessions: Sessions) -> list[Message]:
    async with sessions() as db:
        return list((await db.scalars(select(Message).order_by(Message.id))).all())


async def test_the_feedback_page_offers_the_question_form(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    page = await _page(client, world)
    assert 'id="conversation"' in page.text
    assert f'action="/feedback/{world.application_id}/questions"' in page.text
    assert 'name="body"' in page.text
    assert "Waiting for a reply" not in page.text


async def test_asking_without_javascript_redirects_to_the_thread_with_its_due_date(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    response = await _ask(client, world, "What exactly did my\r\nstatistics answer lack?")
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/feedback/{world.application_id}?asked=1#conversation-message"
    )
    page = await _page(client, world)
    due = reply_due(utcnow(), 5)
    assert "What exactly did my<br>statistics answer lack?" in page.text
    assert f"Waiting for a reply, expected by {due.day} {due:%B %Y}." in page.text
    assert "Send a follow-up" in page.text
    async with sessions() as db:
        thread = (await db.scalars(select(Thread))).one()
    assert thread.state == "waiting"
    assert thread.due_on == due
    assert not thread.flagged
    (message,) = await _messages(sessions)
    # Line breaks arrive as CR LF and are kept as one.
    assert message.body == "What exactly did my\nstatistics answer lack?"


async def test_asking_with_htmx_answers_the_thread_alone(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    response = await _ask(client, world, "Could you say more about the SQL part?", htmx=True)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="conversation"')
    assert "<html" not in response.text
    assert "Could you say more about the SQL part?" in response.text
    assert "Waiting for a reply, expected by" in response.text


async def test_the_reply_promise_counts_working_days(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    async with unit_of_work(sessions) as db:
        await db.execute(update(Organization).values(reply_promise_days=2))
    await sign_in(client, sessions, world)
    await _ask(client, world, "A question.")
    async with sessions() as db:
        thread = (await db.scalars(select(Thread))).one()
    assert thread.due_on == reply_due(utcnow(), 2)
    assert thread.due_on is not None and thread.due_on.weekday() < 5


async def test_a_follow_up_joins_the_same_thread(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    await _ask(client, world, "First question.")
    await _ask(client, world, "And a follow-up.")
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Thread)) == 1
    assert [m.body for m in await _messages(sessions)] == ["First question.", "And a follow-up."]
    page = await _page(client, world)
    assert page.text.index("First question.") < page.text.index("And a follow-up.")


async def test_empty_and_too_long_questions_answer_422_with_the_text_kept(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    empty = await _ask(client, world, "   ")
    assert empty.status_code == 422
    assert "Write your message first." in empty.text
    long = "é" * 2001
    too_long = await _ask(client, world, long)
    assert too_long.status_code == 422
    assert "Keep it to 2,000 characters or fewer (this has 2,001)." in too_long.text
    assert long in too_long.text
    htmx = await _ask(client, world, long, htmx=True)
    assert htmx.status_code == 422
    assert long in htmx.text and "<html" not in htmx.text
    assert await _messages(sessions) == []
    # Exactly 2,000 is fine.
    assert (await _ask(client, world, "x" * 2000)).status_code == 303


async def test_markup_in_a_question_is_shown_as_text(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    body = "<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3))"
    await _ask(client, world, body)
    page = await _page(client, world)
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<img" not in page.text
    assert 'href="javascript:' not in page.text


async def test_a_flood_of_questions_is_rate_limited_with_the_text_kept(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    for number in range(5):
        assert (await _ask(client, world, f"Message {number}")).status_code == 303
    refused = await _ask(client, world, "One too many")
    assert refused.status_code == 429
    assert "Please wait a little before sending another" in refused.text
    assert "One too many" in refused.text
    assert len(await _messages(sessions)) == 5


async def test_posting_to_another_candidates_application_is_a_404(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    mine = await make_world(sessions)
    theirs = await make_world(sessions, email="eve@example.com", name="Eve Other")
    await sign_in(client, sessions, mine)
    page = await _page(client, mine)
    token = CSRF_FIELD.search(page.text)
    assert token
    response = await client.post(
        f"/feedback/{theirs.application_id}/questions",
        data={"csrftoken": token.group(1), "body": "Hello"},
    )
    assert response.status_code == 404
    assert "Eve Other" not in response.text
    assert await _messages(sessions) == []


async def test_unpublished_feedback_cannot_be_asked_about(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    draft = await make_world(sessions, published=False, job_title="Draft Job")
    await sign_in(client, sessions, world)
    page = await _page(client, world)
    token = CSRF_FIELD.search(page.text)
    assert token
    response = await client.post(
        f"/feedback/{draft.application_id}/questions",
        data={"csrftoken": token.group(1), "body": "Hello"},
    )
    assert response.status_code == 404


async def test_a_question_without_a_csrf_token_is_refused(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    await _page(client, world)
    response = await client.post(
        f"/feedback/{world.application_id}/questions", data={"body": "Hello"}
    )
    assert response.status_code == 403
    assert await _messages(sessions) == []


async def test_signed_out_visitors_cannot_ask(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    page = await client.get("/signin")
    token = CSRF_FIELD.search(page.text)
    assert token
    response = await client.post(
        f"/feedback/{world.application_id}/questions",
        data={"csrftoken": token.group(1), "body": "Hello"},
    )
    assert response.status_code == 401
    assert await _messages(sessions) == []


async def test_a_closed_thread_takes_no_more_messages(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    await _ask(client, world, "First.")
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Thread).values(
                state="closed", closed_reason="We have answered all we can.", closed_at=utcnow()
            )
        )
    page = await _page(client, world)
    assert "This conversation is closed." in page.text
    assert "We have answered all we can." in page.text
    assert 'name="body"' not in page.text
    token = CSRF_FIELD.search(page.text)
    assert token
    response = await client.post(
        f"/feedback/{world.application_id}/questions",
        data={"csrftoken": token.group(1), "body": "Still there?"},
    )
    assert response.status_code == 409
    assert "This conversation is closed." in response.text
    assert [m.body for m in await _messages(sessions)] == ["First."]


async def test_a_blocked_candidate_sees_a_calm_notice_and_cannot_post(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    page = await _page(client, world)
    token = CSRF_FIELD.search(page.text)
    assert token
    async with unit_of_work(sessions) as db:
        db.add(
            CandidateBlock(
                organization_id=world.organization_id,
                candidate_id=world.candidate_id,
                reason="Threats",
            )
        )
    page = await _page(client, world)
    assert "You can no longer send messages to Acme Corp here." in page.text
    assert "Threats" not in page.text
    assert 'name="body"' not in page.text
    response = await client.post(
        f"/feedback/{world.application_id}/questions",
        data={"csrftoken": token.group(1), "body": "Let me in"},
    )
    assert response.status_code == 403
    assert "Let me in" not in [m.body for m in await _messages(sessions)]


async def test_an_abusive_question_is_flagged_but_delivered(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    response = await _ask(client, world, "This job was a scam and I know where your office is.")
    assert response.status_code == 303
    async with sessions() as db:
        thread = (await db.scalars(select(Thread))).one()
    assert thread.flagged
    assert thread.flag_reasons == "threat, accusation"
    (message,) = await _messages(sessions)
    assert message.flagged and message.flag_reasons == "threat, accusation"
    page = await _page(client, world)
    # The candidate sees their message as sent, without a label.
    assert "I know where your office is." in page.text
    assert "threat" not in page.text


async def test_a_waiting_thread_keeps_its_first_due_date(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    await _ask(client, world, "First.")
    earlier = utcnow() - dt.timedelta(days=3)
    async with unit_of_work(sessions) as db:
        await db.execute(update(Thread).values(waiting_since=earlier, due_on=earlier.date()))
    await _ask(client, world, "Hello again?")
    async with sessions() as db:
        thread = (await db.scalars(select(Thread))).one()
    assert thread.due_on == earlier.date()
