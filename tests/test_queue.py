"""Recruiters work the queue: every action on a thread, its audit, and what is refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.db import unit_of_work, utcnow
from portal.jobs.models import BackgroundJob
from portal.orgs.models import Organization
from portal.threads.models import Message, SavedAnswer, Thread
from tests.factories import CSRF_FIELD, World, make_staff, make_world, open_session, sign_in

Sessions = async_sessionmaker[AsyncSession]
COOKIE = "afterword_session"
VERSION = re.compile(r'name="version" value="(\d+)"')


async def _as_staff(client: httpx.AsyncClient, sessions: Sessions, staff_id: int) -> None:
    client.cookies.set(COOKIE, await open_session(sessions, staff_user_id=staff_id))


async def _ask(client: httpx.AsyncClient, world: World, body: str) -> None:
    page = await client.get(f"/feedback/{world.application_id}")
    token = CSRF_FIELD.search(page.text)
    assert token
    response = await client.post(
        f"/feedback/{world.application_id}/questions",
        data={"csrftoken": token.group(1), "body": body},
    )
    assert response.status_code == 303, response.text


async def _thread_id(sessions: Sessions, world: World) -> int:
    async with sessions() as db:
        found = await db.scalar(
            select(Thread.id).where(Thread.application_id == world.application_id)
        )
    assert found is not None
    return found


async def _post(
    client: httpx.AsyncClient, thread_id: int, action: str, **data: str
) -> httpx.Response:
    """Post an action from the thread page, with the version and token it shows."""
    page = await client.get(f"/staff/queue/{thread_id}")
    assert page.status_code == 200, page.text
    token = CSRF_FIELD.search(page.text)
    version = VERSION.search(page.text)
    assert token and version
    fields = {"csrftoken": token.group(1), "version": version.group(1), **data}
    return await client.post(f"/staff/queue/{thread_id}/{action}", data=fields)


async def _emails(sessions: Sessions) -> list[dict[str, object]]:
    async with sessions() as db:
        payloads = await db.scalars(
            select(BackgroundJob.payload).where(BackgroundJob.kind == "mail.send")
        )
        return [p for p in payloads if p.get("template") == "reply"]


async def _actions(sessions: Sessions) -> list[str]:
    """What staff did to threads and saved answers, in order (candidates' questions are
    audited too, as `thread.question_asked`)."""
    async with sessions() as db:
        return list(
            (
                await db.scalars(
                    select(AuditEvent.action)
                    .where(
                        AuditEvent.subject_type.in_(("thread", "saved_answer")),
                        AuditEvent.actor_kind == "staff",
                    )
                    .order_by(AuditEvent.id)
                )
            ).all()
        )


async def _scene(
    client: httpx.AsyncClient, sessions: Sessions, question: str = "What did my SQL lack?"
) -> tuple[World, int, int]:
    """A candidate who asked a question (signed in on `client`), the thread, a recruiter."""
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    await _ask(client, world, question)
    recruiter = await make_staff(sessions, organization_id=world.organization_id)
    return world, await _thread_id(sessions, world), recruiter


async def test_a_recruiter_answers_from_the_queue_and_the_candidate_reads_it(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, recruiter = await _scene(client, sessions)
    await _as_staff(other_client, sessions, recruiter)
    queue = await other_client.get("/staff/queue")
    assert queue.status_code == 200
    assert "Dana Scully" in queue.text and "Data Analyst" in queue.text
    assert f'href="/staff/queue/{thread_id}"' in queue.text
    assert "Queue (1)" in queue.text
    thread = await other_client.get(f"/staff/queue/{thread_id}")
    assert "What did my SQL lack?" in thread.text
    assert "Reply due by" in thread.text
    reply = await _post(
        other_client,
        thread_id,
        "reply",
        body="Your window functions were fine; **indexing** was the gap.",
        markdown="true",
    )
    assert reply.status_code == 303
    assert "done=sent" in reply.headers["location"]
    page = await client.get(f"/feedback/{world.application_id}")
    assert "<strong>indexing</strong> was the gap." in page.text
    assert "Waiting for a reply" not in page.text
    (email,) = await _emails(sessions)
    assert email["to"] == "dana@example.com"
    # The reply itself, and a one-time link (sealed until sending; see test_replies.py).
    assert "Your window functions were fine; **indexing** was the gap." in str(email["text"])
    assert "[[afterword:link]]" in str(email["text"])
    async with sessions() as db:
        thread_row = await db.get(Thread, thread_id)
        assert thread_row is not None
        assert thread_row.state == "answered"
        assert thread_row.candidate_read_at is not None
    # Staff see that the candidate read it; the queue is empty now.
    assert "after the latest reply" in (await other_client.get(f"/staff/queue/{thread_id}")).text
    assert "Nothing is waiting" in (await other_client.get("/staff/queue")).text
    # A follow-up puts it back in the queue.
    await _ask(client, world, "Thanks! Which book on indexing?")
    assert "Dana Scully" in (await other_client.get("/staff/queue")).text
    assert await _actions(sessions) == ["thread.replied"]


async def test_markup_in_a_reply_is_shown_as_text(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, recruiter = await _scene(client, sessions, "<b>bold</b> <script>x()</script>")
    await _as_staff(other_client, sessions, recruiter)
    staff_page = await other_client.get(f"/staff/queue/{thread_id}")
    assert "<script>x()" not in staff_page.text and "&lt;script&gt;" in staff_page.text
    body = '<img src=x onerror=alert(1)> [site](javascript:alert(2)) <a href="https://e.vil">x</a>'
    await _post(other_client, thread_id, "reply", body=body, markdown="true")
    page = await client.get(f"/feedback/{world.application_id}")
    main = page.text.split('id="conversation"', 1)[1]
    assert "<img" not in main
    assert 'href="javascript:' not in main
    assert '<a href="https://e.vil"' not in main


async def test_a_too_long_reply_answers_422_with_the_text_kept(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    _, thread_id, recruiter = await _scene(client, sessions)
    await _as_staff(other_client, sessions, recruiter)
    long = "y" * 2001
    response = await _post(other_client, thread_id, "reply", body=long)
    assert response.status_code == 422
    assert "Keep it to 2,000 characters or fewer (this has 2,001)." in response.text
    assert long in response.text
    assert await _emails(sessions) == []


async def test_an_action_without_a_csrf_token_is_refused(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    _, thread_id, recruiter = await _scene(client, sessions)
    await _as_staff(other_client, sessions, recruiter)
    await other_client.get("/staff/queue")
    response = await other_client.post(
        f"/staff/queue/{thread_id}/reply", data={"body": "Hi", "version": "1"}
    )
    assert response.status_code == 403
    assert await _emails(sessions) == []


async def test_another_organizations_thread_is_a_404(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    _, thread_id, _ = await _scene(client, sessions)
    other = await make_world(sessions, slug="globex", email="bo@example.com")
    outsider = await make_staff(
        sessions, organization_id=other.organization_id, email="x@globex.example"
    )
    await _as_staff(other_client, sessions, outsider)
    assert (await other_client.get(f"/staff/queue/{thread_id}")).status_code == 404
    assert "Dana" not in (await other_client.get("/staff/queue")).text
    token = CSRF_FIELD.search((await other_client.get("/staff/queue")).text)
    assert token
    response = await other_client.post(
        f"/staff/queue/{thread_id}/close",
        data={"csrftoken": token.group(1), "version": "1", "reason": "x"},
    )
    assert response.status_code == 404


async def test_a_stale_version_answers_409_with_the_thread_now_and_the_text_kept(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    _, thread_id, recruiter = await _scene(client, sessions)
    await _as_staff(other_client, sessions, recruiter)
    page = await other_client.get(f"/staff/queue/{thread_id}")
    token, seen = CSRF_FIELD.search(page.text), VERSION.search(page.text)
    assert token and seen
    # A colleague adds a note meanwhile: the version moves on.
    await _post(other_client, thread_id, "notes", body="Checking with the hiring manager.")
    stale = await other_client.post(
        f"/staff/queue/{thread_id}/reply",
        data={"csrftoken": token.group(1), "version": seen.group(1), "body": "My careful answer."},
    )
    assert stale.status_code == 409
    assert "Someone else acted on this conversation" in stale.text
    assert "My careful answer." in stale.text
    assert "Checking with the hiring manager." in stale.text
    assert f'name="version" value="{int(seen.group(1)) + 1}"' in stale.text
    assert await _emails(sessions) == []


async def test_two_replies_at_the_same_moment_one_wins_one_email(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    app: object,
    sessions: Sessions,
) -> None:
    world, thread_id, first = await _scene(client, sessions)
    second = await make_staff(
        sessions, organization_id=world.organization_id, email="kim@acme.example", name="Kim"
    )
    transport = httpx.ASGITransport(app=app, client=("192.0.2.8", 1))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as third:
        await _as_staff(other_client, sessions, first)
        await _as_staff(third, sessions, second)
        forms = []
        for browser in (other_client, third):
            page = await browser.get(f"/staff/queue/{thread_id}")
            token, seen = CSRF_FIELD.search(page.text), VERSION.search(page.text)
            assert token and seen
            forms.append((browser, token.group(1), seen.group(1)))
        answers = await asyncio.gather(
            *(
                browser.post(
                    f"/staff/queue/{thread_id}/reply",
                    data={"csrftoken": token, "version": version, "body": f"Answer {n}"},
                )
                for n, (browser, token, version) in enumerate(forms)
            )
        )
    assert sorted(a.status_code for a in answers) == [303, 409]
    lost = next(a for a in answers if a.status_code == 409)
    kept = next(f"Answer {n}" for n, a in enumerate(answers) if a.status_code == 409)
    assert kept in lost.text
    async with sessions() as db:
        replies = (
            await db.scalars(select(Message.body).where(Message.author_kind == "staff"))
        ).all()
    assert len(replies) == 1 and replies[0] != kept
    assert len(await _emails(sessions)) == 1


async def test_approval_by_a_second_recruiter(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, author = await _scene(client, sessions)
    async with unit_of_work(sessions) as db:
        await db.execute(update(Organization).values(replies_need_approval=True))
    approver = await make_staff(
        sessions, organization_id=world.organization_id, email="kim@acme.example", name="Kim"
    )
    await _as_staff(other_client, sessions, author)
    pending = await _post(other_client, thread_id, "reply", body="Draft answer v1")
    assert "done=pending" in pending.headers["location"]
    assert "Draft answer v1" not in (await client.get(f"/feedback/{world.application_id}")).text
    assert await _emails(sessions) == []
    async with sessions() as db:
        message_id = await db.scalar(select(Message.id).where(Message.state == "pending_approval"))
    # The author cannot approve their own reply.
    page = await other_client.get(f"/staff/queue/{thread_id}")
    assert "a colleague must approve it" in page.text
    own = await _post(other_client, thread_id, f"messages/{message_id}/approve")
    assert own.status_code == 409
    assert "You wrote this reply" in own.text
    # A colleague returns it with a comment (a comment is required to return).
    await _as_staff(other_client, sessions, approver)
    bare = await _post(other_client, thread_id, f"messages/{message_id}/return")
    assert bare.status_code == 409 and "Say what to change" in bare.text
    returned = await _post(
        other_client, thread_id, f"messages/{message_id}/return", comment="Mention the course."
    )
    assert "done=returned" in returned.headers["location"]
    # The author writes again; the colleague approves.
    await _as_staff(other_client, sessions, author)
    page = await other_client.get(f"/staff/queue/{thread_id}")
    assert "Mention the course." in page.text
    await _post(other_client, thread_id, "reply", body="Draft answer v2, with the course")
    async with sessions() as db:
        message_id = await db.scalar(select(Message.id).where(Message.state == "pending_approval"))
    await _as_staff(other_client, sessions, approver)
    approved = await _post(other_client, thread_id, f"messages/{message_id}/approve")
    assert "done=approved" in approved.headers["location"]
    candidate_page = await client.get(f"/feedback/{world.application_id}")
    assert "Draft answer v2, with the course" in candidate_page.text
    assert "Draft answer v1" not in candidate_page.text
    assert len(await _emails(sessions)) == 1
    assert await _actions(sessions) == [
        "thread.reply_submitted",
        "thread.reply_returned",
        "thread.reply_submitted",
        "thread.reply_approved",
    ]


async def test_close_with_a_reason_and_reopen(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, recruiter = await _scene(client, sessions)
    await _as_staff(other_client, sessions, recruiter)
    missing = await _post(other_client, thread_id, "close", reason="")
    assert missing.status_code == 422
    await _post(other_client, thread_id, "close", reason="We have shared all we can on this role.")
    page = await client.get(f"/feedback/{world.application_id}")
    assert "This conversation is closed." in page.text
    assert "We have shared all we can on this role." in page.text
    assert 'name="body"' not in page.text
    await _post(other_client, thread_id, "reopen")
    await _ask(client, world, "One more thing.")
    assert await _actions(sessions) == ["thread.closed", "thread.reopened"]


async def test_hiding_a_message_withholds_it_and_keeps_it_in_the_audit_trail(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, recruiter = await _scene(
        client, sessions, "You are all idiots. Call me on 555-0100."
    )
    await _as_staff(other_client, sessions, recruiter)
    queue = await other_client.get("/staff/queue")
    assert "Flagged: abusive language" in queue.text
    async with sessions() as db:
        message_id = await db.scalar(select(Message.id))
    hidden = await _post(other_client, thread_id, f"messages/{message_id}/hide", reason="Abuse")
    assert "done=hidden" in hidden.headers["location"]
    page = await client.get(f"/feedback/{world.application_id}")
    assert "idiots" not in page.text
    assert "This message was withheld by the moderators." in page.text
    staff_page = await other_client.get(f"/staff/queue/{thread_id}")
    assert "idiots" not in staff_page.text and "Hidden by Sam Recruiter: Abuse" in staff_page.text
    async with sessions() as db:
        event = await db.scalar(
            select(AuditEvent).where(AuditEvent.action == "thread.message_hidden")
        )
        thread = await db.get(Thread, thread_id)
    assert event is not None and event.actor_id == recruiter
    assert event.details["body"] == "You are all idiots. Call me on 555-0100."
    assert event.details["reason"] == "Abuse"
    assert thread is not None and not thread.flagged


async def test_flagged_threads_float_to_the_top_with_their_reason(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    polite = await make_world(sessions)
    rude = await make_world(sessions, email="rex@example.com", name="Rex Angry", job_title="Ops")
    await sign_in(client, sessions, polite)
    await _ask(client, polite, "Could you tell me more about the statistics part?")
    client.cookies.clear()
    await sign_in(client, sessions, rude)
    await _ask(client, rude, "This whole process is a scam. You will regret this.")
    recruiter = await make_staff(sessions, organization_id=polite.organization_id)
    await _as_staff(other_client, sessions, recruiter)
    queue = (await other_client.get("/staff/queue")).text
    assert queue.index("Rex Angry") < queue.index("Dana Scully")
    assert "Flagged: threat, accusation" in queue
    flagged_only = (await other_client.get("/staff/queue?flagged=1")).text
    assert "Rex Angry" in flagged_only and "Dana Scully" not in flagged_only
    assert "1 flagged" in queue


async def test_no_reply_needed_sends_a_courteous_note_and_leaves_the_queue(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, recruiter = await _scene(client, sessions, "Thanks, that was helpful!")
    await _as_staff(other_client, sessions, recruiter)
    page = await other_client.get(f"/staff/queue/{thread_id}")
    assert "There is nothing more we need to add" in page.text
    await _post(other_client, thread_id, "no-reply-needed", body="Glad it helped. All the best!")
    candidate = await client.get(f"/feedback/{world.application_id}")
    assert "Glad it helped. All the best!" in candidate.text
    assert 'name="body"' in candidate.text  # they may still write
    assert "Nothing is waiting" in (await other_client.get("/staff/queue")).text
    assert await _emails(sessions) == []
    assert await _actions(sessions) == ["thread.no_reply_needed"]


async def test_assignment_and_internal_notes(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, recruiter = await _scene(client, sessions)
    colleague = await make_staff(
        sessions, organization_id=world.organization_id, email="kim@acme.example", name="Kim Lee"
    )
    await _as_staff(other_client, sessions, recruiter)
    assert "Dana Scully" not in (await other_client.get("/staff/queue?assignee=me")).text
    await _post(other_client, thread_id, "assign", assignee=str(recruiter))
    assert "Dana Scully" in (await other_client.get("/staff/queue?assignee=me")).text
    await _post(other_client, thread_id, "assign", assignee=str(colleague))
    queue = await other_client.get(f"/staff/queue?assignee={colleague}")
    assert "Dana Scully" in queue.text and "Kim Lee" in queue.text
    outsider = await make_world(sessions, slug="globex", email="z@example.com")
    stranger = await make_staff(
        sessions, organization_id=outsider.organization_id, email="s@globex.example"
    )
    refused = await _post(other_client, thread_id, "assign", assignee=str(stranger))
    assert refused.status_code == 409
    await _post(other_client, thread_id, "notes", body="Hiring manager says: indexing.")
    assert (
        "Hiring manager says: indexing."
        in (await other_client.get(f"/staff/queue/{thread_id}")).text
    )
    assert "Hiring manager" not in (await client.get(f"/feedback/{world.application_id}")).text
    assert await _actions(sessions) == ["thread.assigned", "thread.assigned", "thread.note_added"]


async def test_blocking_a_candidate_and_undoing_it(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, recruiter = await _scene(client, sessions)
    await _as_staff(other_client, sessions, recruiter)
    assert (await _post(other_client, thread_id, "block", reason="")).status_code == 422
    await _post(other_client, thread_id, "block", reason="Repeated threats")
    page = await client.get(f"/feedback/{world.application_id}")
    assert "You can no longer send messages to Acme Corp here." in page.text
    assert "Repeated threats" not in page.text
    assert "Blocked" in (await other_client.get(f"/staff/queue/{thread_id}")).text
    await _post(other_client, thread_id, "unblock")
    await _ask(client, world, "Hello again")
    async with sessions() as db:
        events = (
            await db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("candidate.%")))
        ).all()
    assert events == ["candidate.blocked", "candidate.unblocked"]


async def test_saved_answers_are_managed_by_admins_and_used_by_recruiters(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, recruiter = await _scene(client, sessions)
    admin = await make_staff(
        sessions, organization_id=world.organization_id, email="ann@acme.example", role="admin"
    )
    await _as_staff(other_client, sessions, recruiter)
    assert (await other_client.get("/staff/saved-answers")).status_code == 404
    await _as_staff(other_client, sessions, admin)
    page = await other_client.get("/staff/saved-answers")
    assert "No saved answers yet" in page.text
    token = CSRF_FIELD.search(page.text)
    assert token
    empty = await other_client.post(
        "/staff/saved-answers", data={"csrftoken": token.group(1), "title": "", "body": "x"}
    )
    assert empty.status_code == 422 and "Give the answer a short title." in empty.text
    created = await other_client.post(
        "/staff/saved-answers",
        data={
            "csrftoken": token.group(1),
            "title": "Reapply",
            "body": "You may reapply in 6 months.",
        },
    )
    assert created.status_code == 303
    async with sessions() as db:
        answer_id = await db.scalar(select(SavedAnswer.id))
    await _as_staff(other_client, sessions, recruiter)
    page = await other_client.get(f"/staff/queue/{thread_id}?answer={answer_id}")
    assert ">You may reapply in 6 months.</textarea>" in page.text
    await _post(other_client, thread_id, "reply", body="You may reapply in 6 months. Good luck!")
    assert "Good luck!" in (await client.get(f"/feedback/{world.application_id}")).text
    await _as_staff(other_client, sessions, admin)
    confirm = await other_client.get(f"/staff/saved-answers/{answer_id}/delete")
    assert "Delete “Reapply”?" in confirm.text
    token = CSRF_FIELD.search(confirm.text)
    assert token
    deleted = await other_client.post(
        f"/staff/saved-answers/{answer_id}/delete", data={"csrftoken": token.group(1)}
    )
    assert deleted.status_code == 303
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(SavedAnswer)) == 0
    assert (await _actions(sessions)) == [
        "saved_answer.created",
        "thread.replied",
        "saved_answer.deleted",
    ]


async def test_the_queue_pages_oldest_first_and_shows_overdue_clocks(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    recruiter = await make_staff(sessions, organization_id=world.organization_id)
    now = utcnow()
    async with unit_of_work(sessions) as db:
        for n in range(30):
            other = await make_world_in(db, world, n)
            db.add(
                Thread(
                    organization_id=world.organization_id,
                    application_id=other[0],
                    candidate_id=other[1],
                    job_id=other[2],
                    state="waiting",
                    waiting_since=now - dt.timedelta(days=30 - n),
                    due_on=(now - dt.timedelta(days=23 - n)).date(),
                    last_message_at=now,
                )
            )
    await _as_staff(other_client, sessions, recruiter)
    first = await other_client.get("/staff/queue")
    names = re.findall(r"Person (\d+)</a>", first.text)
    assert names == [str(n) for n in range(25)]
    assert "Overdue since" in first.text
    assert "Queue (30)" in first.text
    after = re.search(r'href="(/staff/queue\?after=[^"]+)" rel="next"', first.text)
    assert after
    second = await other_client.get(after.group(1).replace("&amp;", "&"))
    assert re.findall(r"Person (\d+)</a>", second.text) == [str(n) for n in range(25, 30)]
    assert 'rel="next"' not in second.text
    overdue = await other_client.get("/staff/queue?overdue=1")
    assert len(re.findall(r"Person (\d+)</a>", overdue.text)) == 23


async def make_world_in(db: AsyncSession, world: World, n: int) -> tuple[int, int, int]:
    """Another application (candidate "Person n") in the world's organization."""
    from portal.candidates.models import Application, Candidate, Job

    job = await db.scalar(select(Job).where(Job.organization_id == world.organization_id))
    assert job is not None
    candidate = Candidate(
        organization_id=world.organization_id, email=f"p{n}@example.com", name=f"Person {n}"
    )
    db.add(candidate)
    await db.flush()
    application = Application(
        organization_id=world.organization_id, candidate_id=candidate.id, job_id=job.id
    )
    db.add(application)
    await db.flush()
    return application.id, candidate.id, job.id


async def test_a_message_of_another_thread_is_a_404_through_ones_own_thread(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    _, thread_id, recruiter = await _scene(client, sessions)
    other = await make_world(sessions, slug="globex", email="bo@example.com")
    client.cookies.clear()
    await sign_in(client, sessions, other)
    await _ask(client, other, "Their question")
    async with sessions() as db:
        theirs = await db.scalar(select(Message.id).where(Message.body == "Their question"))
    await _as_staff(other_client, sessions, recruiter)
    for action in ("hide", "approve", "return"):
        response = await _post(
            other_client, thread_id, f"messages/{theirs}/{action}", reason="x", comment="x"
        )
        assert response.status_code == 404, action


async def test_admins_set_the_reply_promise_and_the_approval_rule(
    other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    admin = await make_staff(
        sessions, organization_id=world.organization_id, email="ann@acme.example", role="admin"
    )
    await _as_staff(other_client, sessions, admin)
    page = await other_client.get("/staff/saved-answers")
    token, version = CSRF_FIELD.search(page.text), VERSION.search(page.text)
    assert token and version
    bad = await other_client.post(
        "/staff/question-settings",
        data={"csrftoken": token.group(1), "version": version.group(1), "reply_promise_days": "0"},
    )
    assert bad.status_code == 422 and "Enter a number from 1 to 60." in bad.text
    saved = await other_client.post(
        "/staff/question-settings",
        data={
            "csrftoken": token.group(1),
            "version": version.group(1),
            "reply_promise_days": "3",
            "replies_need_approval": "true",
        },
    )
    assert saved.status_code == 303
    stale = await other_client.post(
        "/staff/question-settings",
        data={"csrftoken": token.group(1), "version": version.group(1), "reply_promise_days": "9"},
    )
    assert stale.status_code == 409 and "Another admin changed these settings" in stale.text
    async with sessions() as db:
        org = await db.get(Organization, world.organization_id)
        assert org is not None
        assert (org.reply_promise_days, org.replies_need_approval) == (3, True)
        event = await db.scalar(
            select(AuditEvent).where(AuditEvent.action == "organization.settings_changed")
        )
    assert event is not None
    assert event.details["fields"] == ["replies_need_approval", "reply_promise_days"]


async def test_the_staff_home_page_shows_what_waits(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    _, _, recruiter = await _scene(client, sessions, "This is a scam.")
    await _as_staff(other_client, sessions, recruiter)
    home = await other_client.get("/staff/")
    assert "1 waiting for a reply, 1 flagged for a careful read." in home.text
    assert "Queue (1)" in home.text


async def test_a_ten_megabyte_question_or_reply_is_refused(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, recruiter = await _scene(client, sessions)
    page = await client.get(f"/feedback/{world.application_id}")
    token = CSRF_FIELD.search(page.text)
    assert token
    huge = "x" * (10 * 1024 * 1024)
    asked = await client.post(
        f"/feedback/{world.application_id}/questions",
        data={"csrftoken": token.group(1), "body": huge},
    )
    assert asked.status_code == 413
    await _as_staff(other_client, sessions, recruiter)
    replied = await _post(other_client, thread_id, "reply", body=huge)
    assert replied.status_code == 413
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(Message)) == 1
    assert await _emails(sessions) == []


async def test_every_staff_page_shows_the_queue_counts_in_its_navigation(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, _, _ = await _scene(client, sessions, "This is a scam.")
    admin = await make_staff(
        sessions, organization_id=world.organization_id, email="ada@acme.example", role="admin"
    )
    await _as_staff(other_client, sessions, admin)
    application = f"/staff/applications/{world.application_id}"
    pages = [
        "/staff/",
        "/staff/applications",
        application,
        application + "/feedback",
        "/staff/queue",
        "/staff/pool",
        "/staff/import",
        "/staff/saved-answers",
        "/staff/people",
        "/staff/audit",
        "/staff/settings",
    ]
    for path in pages:
        page = await other_client.get(path)
        assert page.status_code == 200, path
        nav = page.text.split('<nav class="staff-nav"', 1)[1].split("</nav>", 1)[0]
        assert "Queue (1)" in nav, path
        assert "0 overdue · 1 flagged" in nav, path
    # A fragment for htmx is not a page: nothing to count, and no navigation in it.
    fragment = await other_client.get("/staff/applications", headers={"hx-request": "true"})
    assert fragment.status_code == 200
    assert "staff-nav" not in fragment.text
