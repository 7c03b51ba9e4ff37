"""What an attack pass broke in moderation: with the approval rule on, a recruiter
reached the candidate alone through "no reply needed" and through a close reason."""

from __future__ import annotations

import httpx
from sqlalchemy import select, update

from portal.db import unit_of_work
from portal.orgs.models import Organization
from portal.threads.models import Message, Thread
from tests.factories import World, make_staff
from tests.test_queue import Sessions, _actions, _as_staff, _ask, _emails, _post, _scene

NOTE = "Glad it helped. (Between us: we hired the CEO's nephew.)"
REASON = "Closed: frankly, your questions are tiresome."


async def _approval_on(sessions: Sessions, world: World) -> int:
    """The organization requires approval; a second recruiter who may give it."""
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Organization)
            .where(Organization.id == world.organization_id)
            .values(replies_need_approval=True)
        )
    return await make_staff(
        sessions, organization_id=world.organization_id, email="kim@acme.example", name="Kim"
    )


async def _candidate_page(client: httpx.AsyncClient, world: World) -> str:
    return (await client.get(f"/feedback/{world.application_id}")).text


async def _pending_id(sessions: Sessions) -> int:
    async with sessions() as db:
        found = await db.scalar(select(Message.id).where(Message.state == "pending_approval"))
    assert found is not None
    return found


async def _thread(sessions: Sessions, thread_id: int) -> Thread:
    async with sessions() as db:
        thread = await db.get(Thread, thread_id)
    assert thread is not None
    return thread


async def test_a_no_reply_note_waits_for_a_second_recruiter_when_approval_is_on(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, author = await _scene(client, sessions, "Thanks, that was helpful!")
    approver = await _approval_on(sessions, world)
    await _as_staff(other_client, sessions, author)
    pending = await _post(other_client, thread_id, "no-reply-needed", body=NOTE)
    assert "done=no_reply_pending" in pending.headers["location"]
    assert "Between us" not in await _candidate_page(client, world)
    # Still in the queue, waiting for approval; the author cannot approve it.
    thread = await _thread(sessions, thread_id)
    assert (thread.state, thread.pending_approval) == ("waiting", True)
    message_id = await _pending_id(sessions)
    own = await _post(other_client, thread_id, f"messages/{message_id}/approve")
    assert own.status_code == 409
    assert "Between us" not in await _candidate_page(client, world)
    # The colleague returns it; the candidate still sees nothing of it.
    await _as_staff(other_client, sessions, approver)
    returned = await _post(
        other_client, thread_id, f"messages/{message_id}/return", comment="Not that, please."
    )
    assert "done=returned" in returned.headers["location"]
    assert "Between us" not in await _candidate_page(client, world)
    # A fresh note from the author, approved by the colleague, reaches the candidate.
    await _as_staff(other_client, sessions, author)
    await _post(other_client, thread_id, "no-reply-needed", body="Glad it helped. All the best!")
    await _as_staff(other_client, sessions, approver)
    approved = await _post(
        other_client, thread_id, f"messages/{await _pending_id(sessions)}/approve"
    )
    assert "done=closing_approved" in approved.headers["location"]
    page = await _candidate_page(client, world)
    assert "Glad it helped. All the best!" in page and "Between us" not in page
    thread = await _thread(sessions, thread_id)
    assert (thread.state, thread.pending_approval) == ("open", False)
    assert await _emails(sessions) == []
    assert await _actions(sessions) == [
        "thread.no_reply_submitted",
        "thread.reply_returned",
        "thread.no_reply_submitted",
        "thread.closing_note_approved",
    ]


async def test_a_close_reason_waits_for_a_second_recruiter_when_approval_is_on(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, author = await _scene(client, sessions)
    approver = await _approval_on(sessions, world)
    await _as_staff(other_client, sessions, author)
    closed = await _post(other_client, thread_id, "close", reason=REASON)
    assert "done=closed_pending" in closed.headers["location"]
    # Closed at once (nothing more can be posted), but without the reason.
    page = await _candidate_page(client, world)
    assert "This conversation is closed." in page
    assert 'name="body"' not in page
    assert "tiresome" not in page
    staff_page = await other_client.get(f"/staff/queue/{thread_id}")
    assert "the reason waits for a colleague's approval below" in staff_page.text
    # The colleague returns it: the candidate never sees it.
    await _as_staff(other_client, sessions, approver)
    message_id = await _pending_id(sessions)
    await _post(other_client, thread_id, f"messages/{message_id}/return", comment="Be kind.")
    assert "tiresome" not in await _candidate_page(client, world)
    # Reopened and closed again with a fair reason, which the colleague approves.
    await _as_staff(other_client, sessions, author)
    await _post(other_client, thread_id, "reopen")
    await _post(other_client, thread_id, "close", reason="We have shared all we can.")
    assert "We have shared all we can." not in await _candidate_page(client, world)
    await _as_staff(other_client, sessions, approver)
    await _post(other_client, thread_id, f"messages/{await _pending_id(sessions)}/approve")
    page = await _candidate_page(client, world)
    assert "We have shared all we can." in page and "This conversation is closed." in page
    assert "tiresome" not in page
    thread = await _thread(sessions, thread_id)
    assert (thread.state, thread.pending_approval) == ("closed", False)


async def test_reopening_returns_a_close_reason_still_waiting_for_approval(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, author = await _scene(client, sessions)
    await _approval_on(sessions, world)
    await _as_staff(other_client, sessions, author)
    await _post(other_client, thread_id, "close", reason=REASON)
    await _post(other_client, thread_id, "reopen")
    async with sessions() as db:
        states = (await db.scalars(select(Message.state).where(Message.closing.is_(True)))).all()
    assert states == ["returned"]
    thread = await _thread(sessions, thread_id)
    assert (thread.state, thread.pending_approval) == ("open", False)
    # Nothing waits any more, so the recruiter can answer again.
    reply = await _post(other_client, thread_id, "reply", body="Happy to help further.")
    assert "done=pending" in reply.headers["location"]
    assert "tiresome" not in await _candidate_page(client, world)


async def test_without_the_approval_rule_notes_and_reasons_reach_the_candidate_at_once(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, recruiter = await _scene(client, sessions)
    await _as_staff(other_client, sessions, recruiter)
    done = await _post(other_client, thread_id, "no-reply-needed", body=NOTE)
    assert "done=no_reply" in done.headers["location"]
    assert "Between us" in await _candidate_page(client, world)
    closed = await _post(other_client, thread_id, "close", reason=REASON)
    assert closed.headers["location"].endswith("done=closed#done")
    page = await _candidate_page(client, world)
    assert "tiresome" in page and "This conversation is closed." in page
    thread = await _thread(sessions, thread_id)
    assert (thread.state, thread.closed_reason, thread.pending_approval) == (
        "closed",
        REASON,
        False,
    )


async def test_an_approved_note_leaves_a_newer_question_in_the_queue(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, author = await _scene(client, sessions, "Thanks, that was helpful!")
    approver = await _approval_on(sessions, world)
    await _as_staff(other_client, sessions, author)
    await _post(other_client, thread_id, "no-reply-needed", body="Glad it helped.")
    await _ask(client, world, "Actually, one more question about statistics.")
    await _as_staff(other_client, sessions, approver)
    await _post(other_client, thread_id, f"messages/{await _pending_id(sessions)}/approve")
    assert "Glad it helped." in await _candidate_page(client, world)
    thread = await _thread(sessions, thread_id)
    assert (thread.state, thread.pending_approval) == ("waiting", False)
