"""The admins' organization settings page: what candidates see of the organization, an
accent colour too light for white text refused, a privacy notice and a contact."""

from __future__ import annotations

import html

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.db import unit_of_work
from portal.orgs.models import Organization
from tests.factories import csrf_token, make_staff, make_world, sign_in, staff_sign_in

Sessions = async_sessionmaker[AsyncSession]
ADMIN = "ada@acme.example"


async def _admin_signed_in(client: httpx.AsyncClient, sessions: Sessions) -> int:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id, email=ADMIN, role="admin")
    assert (await staff_sign_in(client, ADMIN)).status_code == 303
    return world.organization_id


def _values(**changes: str) -> dict[str, str]:
    return {
        "display_name": "Acme Corp",
        "accent_colour": "#224466",
        "reply_promise_days": "5",
        "invitation_days": "14",
        "consent_text": "",
        "mail_from_name": "",
        "privacy_url": "",
        "contact_email": "",
        "version": "1",
        **changes,
    }


async def _save(client: httpx.AsyncClient, **changes: str) -> httpx.Response:
    token = await csrf_token(client, "/staff/settings")
    return await client.post("/staff/settings", data={"csrftoken": token, **_values(**changes)})


async def test_an_admin_sees_and_saves_the_settings(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    organization_id = await _admin_signed_in(client, sessions)
    page = await client.get("/staff/settings")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert 'value="Acme Corp"' in page.text and 'value="#224466"' in page.text

    saved = await _save(
        client,
        privacy_url="https://acme.example/privacy",
        contact_email="Jobs@Acme.example",
        accent_colour="#1F4E79",
    )
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        "/staff/settings?saved=1#settings-message",
    )
    again = await client.get(saved.headers["location"])
    assert "Settings saved." in again.text
    assert 'value="https://acme.example/privacy"' in again.text
    async with unit_of_work(sessions) as db:
        org = await db.get(Organization, organization_id)
        assert org is not None
        assert (org.accent_colour, org.privacy_url, org.version) == (
            "#1f4e79",
            "https://acme.example/privacy",
            2,
        )
        event = await db.scalar(select(AuditEvent).where(AuditEvent.action.like("organization%")))
        assert event is not None
        assert event.details == {"fields": ["accent_colour", "contact_email", "privacy_url"]}

    # The candidates' pages show them at once.
    world = await make_world(sessions, email="cy@example.com", name="Cy Varga")
    await sign_in(other_client, sessions, world)
    feedback = await other_client.get(f"/feedback/{world.application_id}")
    assert 'href="https://acme.example/privacy">Privacy notice</a>' in feedback.text
    assert 'href="mailto:Jobs@Acme.example"' in feedback.text


async def test_a_colour_too_light_for_white_text_is_refused_and_kept(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    organization_id = await _admin_signed_in(client, sessions)
    response = await _save(client, accent_colour="#f5c518", display_name="Acme Bright")
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert (
        "White text on #f5c518 is too faint to read (1.6:1; candidates need at least 4.5:1)" in text
    )
    assert "Choose a darker colour, such as #8e720e." in text
    assert 'value="#f5c518"' in response.text and 'value="Acme Bright"' in response.text
    async with unit_of_work(sessions) as db:
        org = await db.get(Organization, organization_id)
        assert org is not None and (org.accent_colour, org.display_name) == ("#224466", "Acme Corp")


async def test_with_htmx_only_the_form_comes_back(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _admin_signed_in(client, sessions)
    token = await csrf_token(client, "/staff/settings")
    response = await client.post(
        "/staff/settings",
        data={"csrftoken": token, **_values(accent_colour="#ffffff")},
        headers={"hx-request": "true"},
    )
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<form id="settings"')
    assert 'aria-invalid="true"' in response.text


async def test_recruiters_and_strangers_find_no_settings(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id)
    assert (await staff_sign_in(client)).status_code == 303
    assert (await client.get("/staff/settings")).status_code == 404
    token = await csrf_token(client, "/staff/")
    posted = await client.post("/staff/settings", data={"csrftoken": token, **_values()})
    assert posted.status_code == 404
    anonymous = await other_client.get("/staff/settings")
    assert (anonymous.status_code, anonymous.headers["location"]) == (303, "/staff/signin")


async def test_an_admin_changes_only_their_own_organization(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _admin_signed_in(client, sessions)
    other = await make_world(sessions, slug="globex", email="bo@example.com")
    assert (await _save(client, display_name="Renamed")).status_code == 303
    async with unit_of_work(sessions) as db:
        globex = await db.get(Organization, other.organization_id)
        assert globex is not None and globex.display_name == "Globex Corp"


async def test_attackers_get_nowhere(client: httpx.AsyncClient, sessions: Sessions) -> None:
    organization_id = await _admin_signed_in(client, sessions)
    # No CSRF token.
    assert (await client.post("/staff/settings", data=_values())).status_code == 403
    # Script in a name is text, on the settings page and on the candidates' pages.
    assert (await _save(client, display_name="<script>alert(1)</script>")).status_code == 303
    page = await client.get("/staff/settings")
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;" in page.text
    # Over-long text: 422, what was typed kept.
    long = await _save(client, display_name="x" * 201, version="2")
    assert long.status_code == 422
    assert "Keep it to 200 characters or fewer (this has 201)." in long.text
    assert 'value="' + "x" * 201 + '"' in long.text
    # A javascript: address is not a web address.
    bad = await _save(client, privacy_url="javascript:alert(1)", version="2")
    assert bad.status_code == 422
    assert "Enter a web address that starts with https://" in bad.text
    # A 10 MB body.
    token = await csrf_token(client, "/staff/settings")
    huge = await client.post(
        "/staff/settings",
        content=b"csrftoken=" + token.encode() + b"&display_name=" + b"a" * (10 * 1024 * 1024),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413
    async with unit_of_work(sessions) as db:
        org = await db.get(Organization, organization_id)
        assert org is not None and org.version == 2


async def test_a_stale_save_shows_what_changed_and_keeps_the_text(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _admin_signed_in(client, sessions)
    assert (await _save(client, display_name="Acme Ltd")).status_code == 303
    stale = await _save(client, display_name="Acme Inc")
    assert stale.status_code == 409
    assert "Acme Inc" in stale.text and "Acme Ltd" in stale.text
    assert 'action="/staff/settings"' in stale.text
