"""Staff hear about candidates' questions by email, as each chose on their profile:
immediately, in a daily digest, or never; never about blocked candidates or closed
conversations, never at a deactivated account; one digest per person and day."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import delete, select, update

from portal import job_kinds
from portal.candidates.models import Application
from portal.db import unit_of_work
from portal.feedback.models import Feedback
from portal.jobs.registry import registry
from portal.settings import Settings
from portal.staff.models import StaffUser
from portal.threads import notifications
from portal.threads.models import CandidateBlock, Thread
from tests.factories import CSRF_FIELD, World, make_staff, make_world, sign_in
from tests.pool_support import Sessions, queued_mail
from tests.test_queue import _as_staff, _ask, _thread_id

# A working-day morning, after the digest hour everywhere these tests look.
MORNING = dt.datetime(2026, 3, 11, 9, 30, tzinfo=dt.UTC)


async def _people(sessions: Sessions, world: World) -> dict[str, int]:
    org = world.organization_id
    return {
        "assignee": await make_staff(sessions, organization_id=org, email="ann@acme.example"),
        "other": await make_staff(sessions, organization_id=org, email="otto@acme.example"),
        "admin": await make_staff(
            sessions, organization_id=org, email="ada@acme.example", role="admin"
        ),
    }


async def _assign(sessions: Sessions, world: World, staff_id: int | None) -> None:
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Application)
            .where(Application.id == world.application_id)
            .values(assignee_staff_id=staff_id)
        )


async def _choose(sessions: Sessions, staff_id: int, choice: str) -> None:
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(StaffUser).where(StaffUser.id == staff_id).values(question_emails=choice)
        )


async def _recipients(sessions: Sessions, template: str) -> list[str]:
    return [str(mail["to"]) for mail in await queued_mail(sessions, template)]


async def _digests(sessions: Sessions, settings: Settings, now: dt.datetime) -> int:
    async with unit_of_work(sessions) as db:
        return await notifications.send_digests(db, settings=settings, now=now)


async def _overdue(sessions: Sessions, world: World) -> None:
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Thread)
            .where(Thread.application_id == world.application_id)
            .values(due_on=dt.date(2026, 3, 2))
        )


async def test_a_new_question_emails_the_applications_assignee_at_once(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    people = await _people(sessions, world)
    await _assign(sessions, world, people["assignee"])
    await sign_in(client, sessions, world)
    await _ask(client, world, "What did my SQL lack? <script>x()</script>")
    assert await _recipients(sessions, "staff_question") == ["ann@acme.example"]
    [mail] = await queued_mail(sessions, "staff_question")
    thread_id = await _thread_id(sessions, world)
    assert f"http://testserver/staff/queue/{thread_id}" in str(mail["text"])
    assert "http://testserver/staff/profile" in str(mail["text"])
    assert "Dana Scully" in str(mail["subject"])
    # The question itself stays in the portal: nothing the candidate typed is mailed.
    assert "script" not in str(mail["html"])
    # A follow-up while the question still waits adds nothing.
    await _ask(client, world, "And the statistics?")
    assert len(await _recipients(sessions, "staff_question")) == 1


async def test_unassigned_questions_go_to_the_feedback_author_then_the_admins(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    people = await _people(sessions, world)
    await sign_in(client, sessions, world)
    await _ask(client, world, "First question")
    # Nobody assigned, no known author: the admins.
    assert await _recipients(sessions, "staff_question") == ["ada@acme.example"]

    second = await make_world(sessions, job_title="Data Engineer", email="fox@example.com")
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Feedback)
            .where(Feedback.application_id == second.application_id)
            .values(created_by_staff_id=people["other"])
        )
    await sign_in(client, sessions, second)
    await _ask(client, second, "Second question")
    assert await _recipients(sessions, "staff_question") == [
        "ada@acme.example",
        "otto@acme.example",
    ]


async def test_a_deactivated_assignee_is_passed_over(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    people = await _people(sessions, world)
    await _assign(sessions, world, people["assignee"])
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(StaffUser).where(StaffUser.id == people["assignee"]).values(active=False)
        )
    await sign_in(client, sessions, world)
    await _ask(client, world, "Anyone there?")
    assert await _recipients(sessions, "staff_question") == ["ada@acme.example"]


async def test_daily_and_never_send_nothing_at_once(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    people = await _people(sessions, world)
    await _assign(sessions, world, people["assignee"])
    await _choose(sessions, people["assignee"], "daily")
    await sign_in(client, sessions, world)
    await _ask(client, world, "What did my SQL lack?")
    assert await _recipients(sessions, "staff_question") == []
    # The daily digest lists it (not overdue yet) for the daily reader.
    assert await _digests(sessions, settings, MORNING) == 1
    [digest] = await queued_mail(sessions, "staff_digest")
    assert digest["to"] == "ann@acme.example"
    assert "Dana Scully, Data Analyst" in str(digest["text"])

    await _choose(sessions, people["assignee"], "never")
    await _overdue(sessions, world)
    assert await _digests(sessions, settings, MORNING + dt.timedelta(days=1)) == 0


async def test_the_digest_goes_once_per_day_with_the_overdue_questions(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    people = await _people(sessions, world)
    await _assign(sessions, world, people["assignee"])
    await sign_in(client, sessions, world)
    await _ask(client, world, "What did my SQL lack?")
    # Immediately: the digest only carries overdue questions; none yet.
    assert await _digests(sessions, settings, MORNING) == 0
    await _overdue(sessions, world)
    # Before the digest hour of the person's day: nothing yet.
    assert await _digests(sessions, settings, MORNING.replace(hour=5)) == 0
    assert await _digests(sessions, settings, MORNING) == 1
    assert await _digests(sessions, settings, MORNING + dt.timedelta(hours=5)) == 0
    [digest] = await queued_mail(sessions, "staff_digest")
    assert digest["to"] == "ann@acme.example"
    assert "a reply was due by 2 March 2026" in str(digest["text"])
    assert await _digests(sessions, settings, MORNING + dt.timedelta(days=1)) == 1
    assert len(await queued_mail(sessions, "staff_digest")) == 2


async def test_the_digest_follows_the_persons_time_zone(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    people = await _people(sessions, world)
    await _assign(sessions, world, people["assignee"])
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(StaffUser)
            .where(StaffUser.id == people["assignee"])
            .values(time_zone="America/Los_Angeles")
        )
    await sign_in(client, sessions, world)
    await _ask(client, world, "What did my SQL lack?")
    await _overdue(sessions, world)
    # 09:30 UTC is 02:30 in Los Angeles: too early; 16:30 UTC is 09:30 there.
    assert await _digests(sessions, settings, MORNING) == 0
    assert await _digests(sessions, settings, MORNING.replace(hour=16)) == 1


async def test_no_digest_for_blocked_candidates_closed_threads_or_deactivated_staff(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    people = await _people(sessions, world)
    await _assign(sessions, world, people["assignee"])
    await sign_in(client, sessions, world)
    await _ask(client, world, "What did my SQL lack?")
    await _overdue(sessions, world)
    thread_id = await _thread_id(sessions, world)

    async with unit_of_work(sessions) as db:
        db.add(
            CandidateBlock(
                organization_id=world.organization_id,
                candidate_id=world.candidate_id,
                reason="Abuse",
            )
        )
    assert await _digests(sessions, settings, MORNING) == 0

    async with unit_of_work(sessions) as db:
        await db.execute(delete(CandidateBlock))
        await db.execute(update(Thread).where(Thread.id == thread_id).values(state="closed"))
    assert await _digests(sessions, settings, MORNING) == 0

    async with unit_of_work(sessions) as db:
        await db.execute(update(Thread).where(Thread.id == thread_id).values(state="waiting"))
        await db.execute(update(StaffUser).values(active=False))
    assert await _digests(sessions, settings, MORNING) == 0
    assert await queued_mail(sessions, "staff_digest") == []


async def test_each_person_chooses_on_their_profile(
    other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    people = await _people(sessions, world)
    await _as_staff(other_client, sessions, people["other"])
    page = await other_client.get("/staff/profile")
    assert 'name="question_emails" value="immediately" checked' in page.text
    token = CSRF_FIELD.search(page.text)
    assert token
    saved = await other_client.post(
        "/staff/profile",
        data={
            "csrftoken": token.group(1),
            "name": "Sam Recruiter",
            "question_emails": "daily",
        },
    )
    assert saved.status_code == 303
    async with unit_of_work(sessions) as db:
        choice = await db.scalar(
            select(StaffUser.question_emails).where(StaffUser.id == people["other"])
        )
    assert choice == "daily"
    page = await other_client.get("/staff/profile")
    assert 'name="question_emails" value="daily" checked' in page.text
    refused = await other_client.post(
        "/staff/profile",
        data={"csrftoken": token.group(1), "name": "Sam Recruiter", "question_emails": "hourly"},
    )
    assert refused.status_code == 422
    missing_csrf = await other_client.post(
        "/staff/profile", data={"name": "Sam Recruiter", "question_emails": "never"}
    )
    assert missing_csrf.status_code == 403


def test_the_digest_is_a_periodic_job() -> None:
    assert job_kinds.thread_jobs.DIGEST is registry.get("threads.digest")
    kind = registry.get("threads.digest")
    assert kind is not None
    assert kind.every is not None and kind.every <= dt.timedelta(hours=1)
