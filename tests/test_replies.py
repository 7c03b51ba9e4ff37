"""Replies arrive whole, and links land where they promise: the reply email carries
the reply and a one-time link to the conversation; the talent-pool welcome's
"change your preferences" link lands on the pool panel."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette

from portal.access.models import AccessLink
from portal.audit.models import AuditEvent
from portal.db import unit_of_work, utcnow
from portal.feedback.models import Feedback
from portal.mail.jobs import OutgoingEmail, envelope
from portal.orgs.models import Organization
from portal.settings import Settings
from tests.factories import CSRF_FIELD, make_staff, make_world, open_link, sign_in
from tests.pool_support import Sessions, join, offer_pool, queued_mail
from tests.test_queue import _as_staff, _post, _scene

LINK = re.compile(r"http://testserver(/l/[A-Za-z0-9_\-]+)")


@pytest.fixture
async def third_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The candidate's phone: a browser that has never signed in."""
    transport = httpx.ASGITransport(app=app, client=("192.0.2.44", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def _sent(mail: dict[str, Any], settings: Settings) -> tuple[str, str]:
    """The email as it leaves: (text, html), with its sealed links in place."""
    out = envelope(1, OutgoingEmail(**mail), settings)
    return out.text_body, out.html_body


async def _replied(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
    body: str,
) -> tuple[int, str, str]:
    """A candidate asked, a recruiter replied `body`: (application id, text, html)."""
    world, thread_id, recruiter = await _scene(client, sessions)
    await _as_staff(other_client, sessions, recruiter)
    response = await _post(other_client, thread_id, "reply", body=body)
    assert response.status_code == 303
    [mail] = await queued_mail(sessions, "reply")
    text, html = _sent(mail, settings)
    return world.application_id, text, html


async def test_the_reply_email_carries_the_reply_as_plain_escaped_text(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    body = "<script>alert(1)</script> Thanks for asking!\n\n**Indexing** was the gap."
    _, text, html = await _replied(client, other_client, sessions, settings, body)
    assert "<script>alert(1)</script> Thanks for asking!" in text
    assert "**Indexing** was the gap." in text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Thanks for asking!" in html
    # Markdown is never turned into HTML in an email.
    assert "<strong>Indexing</strong>" not in html and "**Indexing** was the gap." in html
    assert "You may be asked to sign in first" not in text


async def test_the_reply_link_signs_in_once_and_lands_on_the_conversation(
    app: Starlette,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    third_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    application_id, text, html = await _replied(
        client, other_client, sessions, settings, "Window functions were fine."
    )
    found = LINK.search(text)
    assert found, text
    path = found.group(1)
    assert f'href="http://testserver{path}"' in html
    # Opening the link uses nothing (mail scanners); the button does.
    page = await third_client.get(path)
    assert page.status_code == 200
    assert "has replied to your question" in page.text
    assert "Show the reply" in page.text
    landed = await open_link(third_client, path)
    assert landed.status_code == 303
    assert landed.headers["location"] == f"/feedback/{application_id}#conversation"
    feedback = await third_client.get(landed.headers["location"].split("#")[0])
    assert feedback.status_code == 200
    assert "Window functions were fine." in feedback.text
    # Single use: a second browser gets the page that offers a fresh link by email.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as stranger:
        again = await open_link(stranger, path)
    assert again.status_code == 410
    assert "Email me a new link" in again.text
    async with sessions() as db:
        purposes = (await db.scalars(select(AccessLink.purpose).order_by(AccessLink.id))).all()
        used_via = (
            await db.scalars(select(AuditEvent.details).where(AuditEvent.action == "link.used"))
        ).all()
    assert purposes[-1] == "reply"
    assert {"purpose": "reply"} in used_via


async def test_a_reply_link_expires_as_invitations_do(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    third_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    _, text, _ = await _replied(client, other_client, sessions, settings, "See you.")
    found = LINK.search(text)
    assert found
    async with unit_of_work(sessions) as db:
        days = await db.scalar(select(Organization.invitation_days))
        link = await db.scalar(select(AccessLink).where(AccessLink.purpose == "reply"))
        assert link is not None and days is not None
        assert link.expires_at - link.created_at == dt.timedelta(days=days)
        link.expires_at = utcnow() - dt.timedelta(minutes=1)
    spent = await open_link(third_client, found.group(1))
    assert spent.status_code == 410
    assert "Email me a new link" in spent.text


async def test_the_pool_welcome_link_lands_on_the_pool_panel(
    client: httpx.AsyncClient,
    third_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    world = await make_world(sessions)
    await offer_pool(sessions, world)
    await sign_in(client, sessions, world)
    assert (await join(client, world)).status_code in (200, 303)
    [mail] = await queued_mail(sessions, "pool_welcome")
    text, html = _sent(mail, settings)
    found = re.search(r"Change your preferences:\n(\S+)", text)
    assert found, text
    url = found.group(1)
    assert url.startswith("http://testserver/l/")
    assert f'href="{url}"' in html
    path = url.removeprefix("http://testserver")
    page = await third_client.get(path)
    assert "Show my talent pool preferences" in page.text
    landed = await open_link(third_client, path)
    assert landed.status_code == 303
    assert landed.headers["location"] == f"/feedback/{world.application_id}#pool"
    feedback = await third_client.get(f"/feedback/{world.application_id}")
    assert 'id="pool"' in feedback.text
    again = await open_link(third_client, path)
    # Used: the browser signed in as its candidate goes back to the same place.
    assert again.status_code == 303
    assert again.headers["location"] == f"/feedback/{world.application_id}#pool"


async def test_the_thread_page_shows_what_the_candidate_asks_about(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, recruiter = await _scene(client, sessions)
    await _as_staff(other_client, sessions, recruiter)
    page = await other_client.get(f"/staff/queue/{thread_id}")
    assert page.status_code == 200
    about = page.text[page.text.index('id="about"') : page.text.index('id="messages-heading"')]
    assert "Dana Scully" in about and "dana@example.com" in about
    assert "Data Analyst" in about and "Interview" in about
    assert f'href="/staff/applications/{world.application_id}"' in about
    assert f'href="/staff/applications/{world.application_id}/feedback"' in about
    assert f'href="/staff/applications/{world.application_id}/preview"' in about
    assert "Thank you for interviewing for Data Analyst." in about
    assert re.search(r"SQL</th><td><span class=\"rating rating--met\">Met", about)
    assert re.search(r"Statistics</th><td><span class=\"rating rating--not_yet_met\">", about)
    assert "SQL: Clear, well-commented queries." in about
    assert "Statistics: Designing experiments end to end." in about
    # Internal items stay in the editor.
    assert "INTERNAL" not in about


async def test_another_organization_cannot_see_the_thread_or_its_context(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    _, thread_id, _ = await _scene(client, sessions)
    other = await make_world(sessions, slug="globex", email="eve@example.com")
    outsider = await make_staff(
        sessions, organization_id=other.organization_id, email="o@globex.example", role="admin"
    )
    await _as_staff(other_client, sessions, outsider)
    page = await other_client.get(f"/staff/queue/{thread_id}")
    assert page.status_code == 404
    assert "Dana Scully" not in page.text
    assert "Thank you for interviewing" not in page.text


async def test_a_markup_reply_in_the_context_is_escaped(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world, thread_id, recruiter = await _scene(client, sessions)
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Feedback)
            .where(Feedback.application_id == world.application_id)
            .values(decision_summary="<script>alert(1)</script>")
        )
    await _as_staff(other_client, sessions, recruiter)
    page = await other_client.get(f"/staff/queue/{thread_id}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert CSRF_FIELD.search(page.text)
