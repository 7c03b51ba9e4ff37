"""What an attack pass broke around staff accounts: strangers locking the owner out of
signing in, unaudited refusals, a header-breaking sender name, sessions outliving a
new password, audit events without the client."""

from __future__ import annotations

import email
import email.policy
import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.audit.models import AuditEvent
from portal.db import unit_of_work
from portal.orgs.models import Organization
from portal.security.tokens import keyed_hash
from portal.settings import Settings
from tests.factories import (
    CSRF_FIELD,
    csrf_token,
    make_staff,
    make_world,
    open_session,
    staff_sign_in,
)
from tests.test_import import csv_bytes, row

Sessions = async_sessionmaker[AsyncSession]
COOKIE = "afterword_session"
OWNER = "sam@acme.example"
ADMIN = "ada@acme.example"
STRANGER_ADDRESS = "198.51.100.9"  # the `other_client` fixture's
ADMIN_ADDRESS = "192.0.2.77"
LOCKS = "/staff/people/sign-in-locks"


def _client_at(app: Starlette, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def admin_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A third browser, on its own connection: the organization's admin."""
    async with _client_at(app, ADMIN_ADDRESS) as client:
        yield client


async def _acme(sessions: Sessions) -> tuple[int, int, int]:
    """Acme with Sam (a recruiter) and Ada (its admin): (organization, Sam, Ada)."""
    world = await make_world(sessions)
    sam = await make_staff(sessions, organization_id=world.organization_id, email=OWNER)
    ada = await make_staff(
        sessions, organization_id=world.organization_id, email=ADMIN, name="Ada Admin", role="admin"
    )
    return world.organization_id, sam, ada


async def _guess(client: httpx.AsyncClient, times: int, address: str = OWNER) -> list[int]:
    return [
        (await staff_sign_in(client, address, password=f"guess {n}")).status_code
        for n in range(times)
    ]


def _client_shown(settings: Settings, address: str) -> str:
    return keyed_hash(settings.secret_key.get_secret_value(), address)[:8]


async def _events(sessions: Sessions, action: str) -> list[AuditEvent]:
    async with sessions() as db:
        found = await db.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return list(found)


async def _post(client: httpx.AsyncClient, path: str, page: str, **data: str) -> httpx.Response:
    token = await csrf_token(client, page)
    return await client.post(path, data={"csrftoken": token, **data})


# --- 2. smaller findings ----------------------------------------------------------------


NOT_ONE_LINE = [
    ("mail_from_name", "Acme Jobs\r\nBcc: everyone@example.com"),
    ("mail_from_name", "Acme\x00Jobs"),
    ("display_name", "Acme\nCorp"),
    ("display_name", "Acme\tCorp"),
]


async def test_a_name_with_line_breaks_or_control_characters_is_refused(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    """Either name may become the From header of every email the organization sends."""
    organization_id, _, _ = await _acme(sessions)
    assert (await staff_sign_in(client, ADMIN)).status_code == 303
    for field, typed in NOT_ONE_LINE:
        values = {
            "display_name": "Acme Corp",
            "accent_colour": "#224466",
            "reply_promise_days": "5",
            "invitation_days": "14",
            "consent_text": "",
            "mail_from_name": "Acme Careers",
            "privacy_url": "",
            "contact_email": "",
            "version": "1",
            field: typed,
        }
        response = await _post(client, "/staff/settings", "/staff/settings", **values)
        assert response.status_code == 422, field
        message = "Keep this to one line of text: no line breaks, tabs or other control characters."
        assert message in response.text
        assert response.text.count(message) == 1
        assert f'id="{field}-error"' in response.text
        kept = "Acme Corp" if field == "mail_from_name" else "Acme Careers"
        assert f'value="{kept}"' in response.text  # and the other fields as typed
        assert html.escape(typed.split()[0]) in response.text
    async with sessions() as db:
        org = await db.get(Organization, organization_id)
        assert org is not None
        assert (org.display_name, org.mail_from_name, org.version) == ("Acme Corp", None, 1)


async def _inbox_links(app: Starlette, settings: Settings) -> list[str]:
    while await app.state.worker.run_once():
        pass
    links = []
    for path in sorted(Path(settings.mail_dir).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        links += re.findall(r"http://testserver(/staff/l/\S+)", body.get_content())
    return links


async def test_accepting_a_new_invitation_ends_the_accounts_other_sessions(
    app: Starlette,
    client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    _, sam, _ = await _acme(sessions)
    # Someone holding Sam's old password is signed in somewhere.
    elsewhere = await open_session(sessions, staff_user_id=sam)
    client.cookies.set(COOKIE, elsewhere)
    assert (await client.get("/staff/")).status_code == 200
    assert (await staff_sign_in(admin_client, ADMIN)).status_code == 303
    resent = await _post(admin_client, f"/staff/people/{sam}/invitation", f"/staff/people/{sam}")
    assert resent.status_code == 303
    (link,) = await _inbox_links(app, settings)
    async with _client_at(app, "192.0.2.99") as sams_browser:
        page = await sams_browser.get(link)
        token = CSRF_FIELD.search(page.text)
        assert token
        new_password = "an entirely new passphrase"
        accepted = await sams_browser.post(
            link,
            data={"csrftoken": token.group(1), "password": new_password, "confirm": new_password},
        )
        assert accepted.status_code == 303, accepted.text
        assert (await sams_browser.get("/staff/")).status_code == 200
    assert (await client.get("/staff/")).status_code == 303  # the old session is over


async def test_a_resent_link_is_audited_with_the_client(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id)
    assert (await staff_sign_in(client)).status_code == 303
    path = f"/staff/applications/{world.application_id}"
    sent = await _post(client, f"{path}/links", path)
    assert sent.status_code == 303
    (event,) = await _events(sessions, "link.issued")
    assert event.ip_hash == keyed_hash(settings.secret_key.get_secret_value(), "203.0.113.7")


async def test_an_import_is_audited_with_the_client(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions, published=False)
    await make_staff(sessions, organization_id=world.organization_id)
    assert (await staff_sign_in(client)).status_code == 303
    token = await csrf_token(client, "/staff/import")
    checked = await client.post(
        "/staff/import",
        data={"csrftoken": token, "publish": "yes"},
        files={"file": ("feedback.csv", csv_bytes([row("kim@example.com")]), "text/csv")},
    )
    assert checked.status_code == 303
    result = await client.get(checked.headers["location"])
    action = re.search(r'<form method="post" action="(/staff/import/\d+)"', result.text)
    assert action, result.text
    imported = await _post(client, action.group(1), checked.headers["location"])
    assert imported.status_code == 303
    expected = keyed_hash(settings.secret_key.get_secret_value(), "203.0.113.7")
    (event,) = await _events(sessions, "feedback.imported")
    assert event.ip_hash == expected
    links = await _events(sessions, "link.issued")  # the invitation it published
    assert links and all(link.ip_hash == expected for link in links)


async def test_a_changed_consent_statement_is_audited_with_the_client(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    organization_id, _, _ = await _acme(sessions)
    assert (await staff_sign_in(client, ADMIN)).status_code == 303
    expected = keyed_hash(settings.secret_key.get_secret_value(), "203.0.113.7")
    # From the talent-pool settings page...
    saved = await _post(
        client,
        "/staff/pool/settings",
        "/staff/pool/settings",
        consent_text="Keep my details for future roles.",
        durations="6, 12",
        offers_pool="yes",
        version="1",
    )
    assert saved.status_code == 303
    # ...and from the organization settings page.
    async with unit_of_work(sessions) as db:
        org = await db.get(Organization, organization_id)
        assert org is not None
        version = org.version
    again = await _post(
        client,
        "/staff/settings",
        "/staff/settings",
        display_name="Acme Corp",
        accent_colour="#224466",
        reply_promise_days="5",
        invitation_days="14",
        consent_text="Keep my details for a year.",
        version=str(version),
    )
    assert again.status_code == 303, again.text
    changed = await _events(sessions, "pool.consent_text_changed")
    assert len(changed) == 2 and all(event.ip_hash == expected for event in changed)
    (settings_event,) = await _events(sessions, "organization.settings_changed")
    assert settings_event.ip_hash == expected
