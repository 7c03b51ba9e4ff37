"""The recruiter's applications list and application page: search, filters, order,
pages, counts, the links sent (re-send, revoke) and the staff's PDF summary."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.access.models import AccessLink
from portal.audit.models import AuditEvent
from portal.candidates.models import Application, Candidate, Job
from portal.db import unit_of_work, utcnow
from portal.feedback.models import Feedback
from portal.jobs.models import BackgroundJob
from portal.orgs.models import Organization
from portal.settings import Settings
from tests.factories import (
    CSRF_FIELD,
    World,
    invitation,
    make_staff,
    make_world,
    staff_sign_in,
)
from tests.test_pdf import text_of

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # PDF renders run niced: on a busy test machine they may take far longer than in service.
    return settings.model_copy(update={"pdf_timeout_seconds": 120.0})


async def _signed_in(client: httpx.AsyncClient, sessions: Sessions, world: World) -> int:
    staff_id = await make_staff(sessions, organization_id=world.organization_id)
    response = await staff_sign_in(client)
    assert response.status_code == 303
    return staff_id


async def _more_applications(
    sessions: Sessions, world: World, count: int, *, job_title: str = "Backend Engineer"
) -> None:
    """`count` applications without feedback, to a job of their own, decided a day apart."""
    now = utcnow()
    async with unit_of_work(sessions) as db:
        job = Job(organization_id=world.organization_id, title=job_title)
        db.add(job)
        await db.flush()
        for number in range(count):
            candidate = Candidate(
                organization_id=world.organization_id,
                email=f"person{number}@example.com",
                name=f"Person {number:02d}",
            )
            db.add(candidate)
            await db.flush()
            db.add(
                Application(
                    organization_id=world.organization_id,
                    candidate_id=candidate.id,
                    job_id=job.id,
                    stage="screen",
                    decided_at=now - dt.timedelta(days=10 + number),
                )
            )


def _names(page: httpx.Response) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', page.text)


async def test_the_list_shows_the_organizations_applications_with_counts(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await make_world(sessions, email="rita@example.com", name="Rita Draft", published=False)
    await make_world(sessions, slug="globex", email="bo@example.com", name="Bo Marsh")
    await _more_applications(sessions, world, 2)
    await _signed_in(client, sessions, world)

    page = await client.get("/staff/applications")
    assert page.status_code == 200
    # Newest decision first: the two with feedback were decided two days ago.
    assert set(_names(page)[:2]) == {"Dana Scully", "Rita Draft"}
    assert _names(page)[2:] == ["Person 00", "Person 01"]
    assert "Bo Marsh" not in page.text
    assert "4 applications" in page.text
    assert "No feedback: 2 · Draft: 1 · Published: 1" in page.text
    home = await client.get("/staff/")
    assert 'href="/staff/applications"' in home.text


async def test_search_filters_and_order(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    await make_world(
        sessions, email="rita@example.com", name="Rita Draft", job_title="Designer", published=False
    )
    await _more_applications(sessions, world, 3)
    await _signed_in(client, sessions, world)

    by_name = await client.get("/staff/applications", params={"q": "rita"})
    assert _names(by_name) == ["Rita Draft"]
    by_email = await client.get("/staff/applications", params={"q": "PERSON1@example"})
    assert _names(by_email) == ["Person 01"]
    by_job = await client.get("/staff/applications", params={"q": "backend"})
    assert _names(by_job) == ["Person 00", "Person 01", "Person 02"]
    # A wildcard typed by the recruiter is a character, not a pattern.
    assert _names(await client.get("/staff/applications", params={"q": "%"})) == []

    drafts = await client.get("/staff/applications", params={"feedback": "draft"})
    assert _names(drafts) == ["Rita Draft"]
    published = await client.get("/staff/applications", params={"feedback": "published"})
    assert _names(published) == ["Dana Scully"]
    none = await client.get("/staff/applications", params={"feedback": "none", "sort": "name"})
    assert _names(none) == ["Person 00", "Person 01", "Person 02"]
    oldest = await client.get("/staff/applications", params={"feedback": "none", "sort": "oldest"})
    assert _names(oldest) == ["Person 02", "Person 01", "Person 00"]
    screen = await client.get("/staff/applications", params={"stage": "screen"})
    assert len(_names(screen)) == 3

    async with sessions() as db:
        job_id = await db.scalar(select(Job.id).where(Job.title == "Designer"))
    by_job_filter = await client.get("/staff/applications", params={"job": str(job_id)})
    assert _names(by_job_filter) == ["Rita Draft"]

    nothing = await client.get("/staff/applications", params={"q": "nobody at all"})
    assert "No applications match these filters" in nothing.text


async def test_pages_of_twenty_five(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    await _more_applications(sessions, world, 30)
    await _signed_in(client, sessions, world)

    first = await client.get("/staff/applications", params={"sort": "name"})
    assert len(_names(first)) == 25
    assert "page 1 of 2" in first.text
    assert "page=2" in first.text and "sort=name" in first.text
    second = await client.get("/staff/applications", params={"sort": "name", "page": "2"})
    assert len(_names(second)) == 6
    assert set(_names(first)).isdisjoint(_names(second))
    beyond = await client.get("/staff/applications", params={"page": "99"})
    assert "page 2 of 2" in beyond.text


async def test_bad_filters_are_explained_and_kept(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await _signed_in(client, sessions, world)
    page = await client.get(
        "/staff/applications", params={"stage": "hired", "q": "<script>alert(1)</script>"}
    )
    assert page.status_code == 422
    assert "Choose one of the options." in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    overlong = await client.get("/staff/applications", params={"q": "x" * 201})
    assert overlong.status_code == 422
    assert "Keep it to 200 characters or fewer" in overlong.text
    assert "x" * 201 in overlong.text


async def test_an_organization_without_applications_says_so(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await make_world(sessions)
    async with unit_of_work(sessions) as db:
        empty = Organization(
            name="Empty", slug="empty", display_name="Empty Co", accent_colour="#224466"
        )
        db.add(empty)
        await db.flush()
        empty_id = empty.id
    await make_staff(sessions, organization_id=empty_id, email="e@empty.example")
    await staff_sign_in(client, email="e@empty.example")
    page = await client.get("/staff/applications")
    assert "No applications yet" in page.text
    assert "Dana Scully" not in page.text


async def test_htmx_gets_only_the_results(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    await _signed_in(client, sessions, world)
    page = await client.get(
        "/staff/applications", params={"q": "dana"}, headers={"hx-request": "true"}
    )
    assert page.text.lstrip().startswith('<section class="card" id="results"')
    assert "Dana Scully" in page.text


async def test_the_application_page(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    await _signed_in(client, sessions, world)
    page = await client.get(f"/staff/applications/{world.application_id}")
    assert page.status_code == 200
    text = page.text
    assert "Dana Scully" in text and "dana@example.com" in text
    assert "SQL" in text and "Writes queries" in text  # the job's requirements
    assert "Version 1 is published" in text
    assert "No invitation has been sent yet" in text
    assert f"/staff/applications/{world.application_id}/summary.pdf" in text


async def test_resend_and_revoke_links_are_audited(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    staff_id = await _signed_in(client, sessions, world)
    path = f"/staff/applications/{world.application_id}"
    token = CSRF_FIELD.search((await client.get(path)).text)
    assert token
    sent = await client.post(f"{path}/links", data={"csrftoken": token.group(1)})
    assert sent.status_code == 303
    assert sent.headers["location"].endswith(f"{path}?done=resent")
    async with sessions() as db:
        link = await db.scalar(select(AccessLink))
        assert link is not None and link.created_by_staff_id == staff_id
        emails = await db.scalar(select(func.count()).where(BackgroundJob.kind == "mail.send"))
        assert emails == 1
    page = await client.get(sent.headers["location"])
    assert "A new invitation is on its way" in page.text
    assert "Works until" in page.text

    confirm = await client.get(f"{path}/links/revoke", params={"link": str(link.id)})
    assert confirm.status_code == 200
    assert "Revoke this link?" in confirm.text
    revoked = await client.post(
        f"{path}/links/revoke", data={"csrftoken": token.group(1), "link": str(link.id)}
    )
    assert revoked.status_code == 303
    page = await client.get(revoked.headers["location"])
    assert "Revoked" in page.text
    again = await client.post(
        f"{path}/links/revoke", data={"csrftoken": token.group(1), "link": str(link.id)}
    )
    assert again.status_code == 409
    async with sessions() as db:
        actions = set((await db.scalars(select(AuditEvent.action))).all())
        refreshed = await db.get(AccessLink, link.id)
    assert {"link.issued", "link.revoked"} <= actions
    assert refreshed is not None and refreshed.revoked_at is not None


async def test_a_link_of_another_application_cannot_be_revoked(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    other = await make_world(sessions, slug="globex", email="bo@example.com")
    await _signed_in(client, sessions, world)
    await invitation(sessions, other)
    async with sessions() as db:
        link_id = await db.scalar(select(AccessLink.id))
    path = f"/staff/applications/{world.application_id}"
    token = CSRF_FIELD.search((await client.get(path)).text)
    assert token
    confirm = await client.get(f"{path}/links/revoke", params={"link": str(link_id)})
    assert confirm.status_code == 303  # not one of this application's links
    refused = await client.post(
        f"{path}/links/revoke", data={"csrftoken": token.group(1), "link": str(link_id)}
    )
    assert refused.status_code == 404
    async with sessions() as db:
        link = await db.get(AccessLink, link_id)
    assert link is not None and link.revoked_at is None


async def test_resending_needs_published_feedback_and_csrf(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, published=False)
    await _signed_in(client, sessions, world)
    path = f"/staff/applications/{world.application_id}"
    page = await client.get(path)
    assert "Re-send the invitation" not in page.text
    token = CSRF_FIELD.search(page.text)
    assert token
    no_token = await client.post(f"{path}/links", data={})
    assert no_token.status_code == 403
    refused = await client.post(f"{path}/links", data={"csrftoken": token.group(1)})
    assert refused.status_code == 409
    assert "Publish the feedback first" in refused.text


async def test_staff_download_the_candidates_pdf(
    client: httpx.AsyncClient, sessions: Sessions, tmp_path: Path
) -> None:
    world = await make_world(sessions, published=False)
    await _signed_in(client, sessions, world)
    path = f"/staff/applications/{world.application_id}/summary.pdf"
    assert (await client.get(path)).status_code == 404  # nothing published yet
    latest = await client.get(path, params={"version": "latest"})
    assert latest.status_code == 200
    assert latest.headers["content-type"] == "application/pdf"
    assert latest.content.startswith(b"%PDF")
    text = text_of(latest.content, tmp_path)
    assert "Thank you for interviewing for Data Analyst." in text
    assert "INTERNAL" not in text
    async with unit_of_work(sessions) as db:
        feedback = await db.scalar(select(Feedback))
        assert feedback is not None
        feedback.state = "published"
    published = await client.get(path)
    assert published.status_code == 200
    assert published.headers["etag"]
