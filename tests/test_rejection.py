"""A rejection added by hand: the form, the candidate matched by email address, the
application, its audit event, and on to the candidate's email once the feedback is
published; with the attacker's requests beside the recruiter's."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.audit.models import AuditEvent
from portal.candidates.decisions import earliest_day
from portal.candidates.models import Application, ApplicationStatus, Candidate, Job, Stage
from portal.db import unit_of_work, utcnow
from portal.jobs.models import BackgroundJob
from portal.jobs.worker import Worker
from portal.orgs.models import Organization
from portal.settings import Settings
from tests.factories import CSRF_FIELD, World, make_staff, make_world, open_link, staff_sign_in
from tests.test_import_page import NEW_JOB, routes_named, stand_in_jobs_page

Sessions = async_sessionmaker[AsyncSession]
NEW = "/staff/applications/new"
SAFE = "Your experiment designs did not yet include a power calculation."


async def _signed_in(client: httpx.AsyncClient, sessions: Sessions) -> World:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id)
    assert (await staff_sign_in(client)).status_code == 303
    return world


async def _job(sessions: Sessions, organization_id: int, title: str) -> int:
    async with unit_of_work(sessions) as db:
        job = Job(organization_id=organization_id, title=title)
        db.add(job)
        await db.flush()
        return job.id


async def _job_of(sessions: Sessions, world: World) -> int:
    async with sessions() as db:
        return (await db.get_one(Application, world.application_id)).job_id


async def _token(client: httpx.AsyncClient) -> str:
    page = await client.get(NEW)
    assert page.status_code == 200
    found = CSRF_FIELD.search(page.text)
    assert found
    return found.group(1)


async def _add(client: httpx.AsyncClient, **fields: str | int) -> httpx.Response:
    data = {"csrftoken": await _token(client), **{k: str(v) for k, v in fields.items()}}
    return await client.post(NEW, data=data)


async def _counts(sessions: Sessions) -> tuple[int, int]:
    async with sessions() as db:
        candidates = await db.scalar(select(func.count()).select_from(Candidate))
        applications = await db.scalar(select(func.count()).select_from(Application))
    return int(candidates or 0), int(applications or 0)


def _application_id(response: httpx.Response) -> int:
    found = re.fullmatch(
        r"/staff/applications/(\d+)/feedback\?done=(\w+)", response.headers["location"]
    )
    assert found, response.headers.get("location")
    return int(found.group(1))


def _value(page: httpx.Response, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page.text)
    assert found, f"no {name} field"
    return html.unescape(found.group(1))


async def test_a_recruiter_adds_a_rejection_for_a_new_candidate(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _signed_in(client, sessions)
    job_id = await _job_of(sessions, world)
    listing = await client.get("/staff/applications")
    assert f'href="{NEW}"' in listing.text and "Add a rejection" in listing.text

    form = await client.get(NEW)
    assert form.status_code == 200
    today = utcnow().date()
    assert _value(form, "decided_on") == today.isoformat()  # today unless changed
    assert f'<option value="{job_id}">Data Analyst</option>' in form.text
    assert '<option value="interview">Interview</option>' in form.text

    added = await _add(
        client,
        name="Lee Park",
        email="Lee.Park@Example.com",
        job=job_id,
        stage="screen",
        decided_on=(today - dt.timedelta(days=3)).isoformat(),
    )
    assert added.status_code == 303
    assert added.headers["location"].endswith("?done=added")
    application_id = _application_id(added)
    async with sessions() as db:
        application = await db.get_one(Application, application_id)
        candidate = await db.get_one(Candidate, application.candidate_id)
        event = await db.scalar(
            select(AuditEvent).where(AuditEvent.action == "application.created")
        )
    assert (candidate.email, candidate.name) == ("lee.park@example.com", "Lee Park")
    assert candidate.organization_id == world.organization_id
    assert application.status == ApplicationStatus.REJECTED
    assert application.stage == Stage.SCREEN and application.job_id == job_id
    assert application.decided_at is not None
    assert application.decided_at.date() == today - dt.timedelta(days=3)
    assert event is not None and event.subject_id == application_id
    assert event.details["source"] == "hand" and event.details["new_candidate"] is True

    # The feedback editor opens on the new application, with nothing saved yet.
    editor = await client.get(added.headers["location"])
    assert editor.status_code == 200
    assert "Feedback for Lee Park" in editor.text and "Nothing saved yet." in editor.text
    assert "Rejection added." in editor.text
    # And the application is in the list, decided three days ago.
    listing = await client.get("/staff/applications", params={"q": "lee"})
    assert "Lee Park" in listing.text and "Screen" in listing.text


async def test_publishing_its_feedback_emails_the_candidate_their_link(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    world = await _signed_in(client, sessions)
    added = await _add(
        client,
        name="Lee Park",
        email="lee@example.com",
        job=await _job_of(sessions, world),
        stage="interview",
    )
    application_id = _application_id(added)
    async with sessions() as db:
        decided = (await db.get_one(Application, application_id)).decided_at
    assert decided is not None and decided.date() == utcnow().date()  # left as it was: today

    editor = await client.get(f"/staff/applications/{application_id}/feedback")
    token = CSRF_FIELD.search(editor.text)
    assert token
    saved = await client.post(
        f"/staff/applications/{application_id}/feedback",
        data={
            "csrftoken": token.group(1),
            "version": "0",
            "decision_summary": SAFE,
            "personal_note": "Thank you for your time, Lee.",
            "action": "save",
        },
    )
    assert saved.status_code == 303, saved.text
    published = await client.post(
        f"/staff/applications/{application_id}/publish",
        # Summary and note only: incomplete feedback, published on purpose.
        data={"csrftoken": token.group(1), "version": "1", "confirm_incomplete": "on"},
    )
    assert published.status_code == 303
    async with sessions() as db:
        emails = (
            await db.scalars(select(BackgroundJob).where(BackgroundJob.kind == "mail.send"))
        ).all()
    assert [email.payload["to"] for email in emails] == ["lee@example.com"]

    await Worker(settings=settings, sessions=sessions).run_once()
    written = [path.read_text() for path in sorted(Path(settings.mail_dir).glob("*.eml"))]
    assert len(written) == 1 and "lee@example.com" in written[0]
    link = re.search(r"http://testserver(/l/[A-Za-z0-9_-]+)", written[0])
    assert link
    opened = await open_link(other_client, link.group(1))
    assert opened.status_code == 303
    page = await other_client.get(opened.headers["location"])
    assert SAFE in page.text and "Thank you for your time, Lee." in page.text


async def test_an_email_on_file_in_other_capitals_is_the_same_candidate(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _signed_in(client, sessions)
    backend = await _job(sessions, world.organization_id, "Backend Engineer")
    designer = await _job(sessions, world.organization_id, "Designer")
    before = await _counts(sessions)

    # The same name (whatever its capitals): no more to say than that it matched.
    same = await _add(
        client, name="dana  SCULLY", email="DANA@Example.COM", job=backend, stage="applied"
    )
    assert same.headers["location"].endswith("?done=added_existing")
    page = await client.get(same.headers["location"])
    assert "a candidate already on file" in page.text and "was not saved" not in page.text

    # Another name: the one on file stays, and the page says so.
    other = await _add(
        client, name="Fox Mulder", email="Dana@example.com", job=designer, stage="final"
    )
    assert other.headers["location"].endswith("?done=added_existing_name")
    page = await client.get(other.headers["location"])
    assert "Feedback for Dana Scully" in page.text
    assert "the name you typed was different and was not saved" in page.text
    async with sessions() as db:
        names = (await db.scalars(select(Candidate.name))).all()
        owners = (
            await db.scalars(
                select(Application.candidate_id).where(Application.job_id.in_([backend, designer]))
            )
        ).all()
        event = await db.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "application.created")
            .order_by(AuditEvent.id.desc())
        )
    assert names == ["Dana Scully"]
    assert owners == [world.candidate_id, world.candidate_id]
    assert await _counts(sessions) == (before[0], before[1] + 2)
    assert event is not None and event.details["new_candidate"] is False


async def test_a_second_application_for_the_same_job_is_refused_with_a_link_to_the_first(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _signed_in(client, sessions)
    before = await _counts(sessions)
    refused = await _add(
        client,
        name="Dana Scully",
        email="dana@EXAMPLE.com",
        job=await _job_of(sessions, world),
        stage="final",
    )
    assert refused.status_code == 409
    assert "already has an application for that job" in refused.text
    assert f'href="/staff/applications/{world.application_id}"' in refused.text
    assert _value(refused, "email") == "dana@EXAMPLE.com"  # as typed
    assert '<option value="final" selected>' in refused.text
    assert await _counts(sessions) == before
    async with sessions() as db:
        assert (
            await db.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "application.created")
            )
            == 0
        )


async def test_a_decision_date_in_the_future_or_long_ago_or_malformed_is_refused(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _signed_in(client, sessions)
    job_id = await _job_of(sessions, world)
    before = await _counts(sessions)
    today = utcnow().date()
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    future = await _add(
        client,
        name="Lee Park",
        email="lee@example.com",
        job=job_id,
        stage="screen",
        decided_on=tomorrow,
    )
    assert future.status_code == 422
    assert f"{tomorrow} is in the future" in future.text
    assert _value(future, "decided_on") == tomorrow and _value(future, "name") == "Lee Park"
    old = (earliest_day(today) - dt.timedelta(days=1)).isoformat()
    too_old = await _add(
        client, name="Lee Park", email="lee@example.com", job=job_id, stage="screen", decided_on=old
    )
    assert too_old.status_code == 422 and "more than 5 years ago" in too_old.text
    for typed in ("31/12/2025", "2025-02-30", "20250101", "yesterday"):
        bad = await _add(
            client,
            name="Lee Park",
            email="lee@example.com",
            job=job_id,
            stage="screen",
            decided_on=typed,
        )
        assert bad.status_code == 422
        assert "Enter a date like 2026-03-31." in bad.text
        assert _value(bad, "decided_on") == typed
    earliest = await _add(
        client,
        name="Lee Park",
        email="lee@example.com",
        job=job_id,
        stage="screen",
        decided_on=earliest_day(today).isoformat(),
    )
    assert earliest.status_code == 303
    assert await _counts(sessions) == (before[0] + 1, before[1] + 1)


async def test_missing_fields_are_named_and_what_was_typed_is_kept(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _signed_in(client, sessions)
    before = await _counts(sessions)
    page = await _add(client, name="Lee Park", email="", job="", stage="", decided_on="")
    assert page.status_code == 422
    assert "Enter the candidate&#39;s email address." in page.text
    assert "Choose the job." in page.text
    assert "Choose how far the application got." in page.text
    assert "Enter the candidate&#39;s name." not in page.text
    assert _value(page, "name") == "Lee Park"
    page = await _add(client, name="", email="not an address", job="12x", stage="hired")
    assert page.status_code == 422
    assert "Enter the candidate&#39;s name." in page.text
    assert "Enter an email address like name@example.com." in page.text
    assert _value(page, "email") == "not an address"
    # The first field in error takes the focus; HTML allows one autofocus on a page.
    assert page.text.count("autofocus") == 1
    assert re.search(r'<input type="text" id="name"[^>]* autofocus', page.text)
    assert await _counts(sessions) == before


async def test_another_organizations_job_is_refused_and_not_shown(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _signed_in(client, sessions)
    other = await make_world(
        sessions, slug="globex", email="bo@example.com", job_title="Secret Job"
    )
    theirs = await _job_of(sessions, other)
    before = await _counts(sessions)
    form = await client.get(NEW)
    assert "Secret Job" not in form.text
    refused = await _add(
        client, name="Lee Park", email="bo@example.com", job=theirs, stage="screen"
    )
    assert refused.status_code == 422
    assert "Choose the job." in refused.text and "Secret Job" not in refused.text
    for job in (2**40, 2**31 - 1):
        assert (
            await _add(client, name="Lee Park", email="lee@example.com", job=job, stage="screen")
        ).status_code == 422
    assert await _counts(sessions) == before


async def test_adding_needs_the_csrf_token_and_a_staff_member(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _signed_in(client, sessions)
    job_id = await _job_of(sessions, world)
    before = await _counts(sessions)
    fields = {"name": "Lee Park", "email": "lee@example.com", "job": str(job_id), "stage": "screen"}
    assert (await client.post(NEW, data=fields)).status_code == 403
    assert (await client.post(NEW, data={**fields, "csrftoken": "x" * 43})).status_code == 403
    # Someone signed out is sent to the staff sign-in, whatever they post.
    page = await other_client.get("/staff/signin")
    token = CSRF_FIELD.search(page.text)
    assert token
    anonymous = await other_client.post(NEW, data={**fields, "csrftoken": token.group(1)})
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/staff/signin"
    assert (await other_client.get(NEW)).status_code == 303
    assert await _counts(sessions) == before


async def test_markup_in_the_name_is_shown_as_text(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await _signed_in(client, sessions)
    name = '<script>alert("x")</script> Lee'
    refused = await _add(
        client, name=name, email="", job=await _job_of(sessions, world), stage="screen"
    )
    assert refused.status_code == 422
    assert "<script>alert" not in refused.text and "&lt;script&gt;alert" in refused.text
    added = await _add(
        client,
        name=name,
        email="lee@example.com",
        job=await _job_of(sessions, world),
        stage="screen",
    )
    assert added.status_code == 303
    for path in (added.headers["location"], "/staff/applications"):
        page = await client.get(path)
        assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    # One line only: a name goes into email headers.
    broken = await _add(
        client,
        name="Lee\nBcc: x@example.com",
        email="lee2@example.com",
        job=await _job_of(sessions, world),
        stage="screen",
    )
    assert broken.status_code == 422 and "Keep this to one line" in broken.text


async def test_an_organization_without_jobs_is_told_to_add_one_first(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    async with unit_of_work(sessions) as db:
        org = Organization(
            name="Initech", slug="initech", display_name="Initech", accent_colour="#224466"
        )
        db.add(org)
        await db.flush()
        organization_id = org.id
    await make_staff(sessions, organization_id=organization_id)
    assert (await staff_sign_in(client)).status_code == 303
    page = await client.get(NEW)
    assert page.status_code == 200
    assert "Your organization has no active jobs yet" in page.text
    assert "<select" not in page.text
    if not routes_named(app, NEW_JOB):
        assert "/staff/jobs/new" not in page.text
        stand_in_jobs_page(app)
    # With a jobs page in the app, the way there.
    page = await client.get(NEW)
    assert '<a href="/staff/jobs/new">add a job</a>' in page.text
