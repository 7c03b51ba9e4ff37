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
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.audit.models import AuditEvent
from portal.db import unit_of_work
from portal.orgs.models import Organization
from portal.security.tokens import keyed_hash
from portal.settings import Settings
from portal.staff.models import StaffSignInFailure
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


# --- 1. a stranger's guesses lock out only the stranger -----------------------------


async def test_the_owner_signs_in_after_a_strangers_failures_from_another_client(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _acme(sessions)
    assert await _guess(other_client, 7) == [422] * 5 + [429] * 2
    # The owner, from their own connection, with the right password: in.
    assert (await staff_sign_in(client, OWNER)).status_code == 303
    assert (await client.get("/staff/")).status_code == 200
    # The stranger stays locked out of the address, even with the right password.
    refused = await staff_sign_in(other_client, OWNER)
    assert refused.status_code == 429
    assert "try again in 15 minutes, or ask an admin of your organization" in refused.text
    assert refused.headers["retry-after"] == "900"


async def test_a_locked_client_gets_the_same_answers_for_known_and_unknown_addresses(
    other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _acme(sessions)
    known = [await staff_sign_in(other_client, OWNER, password="guess") for _ in range(5)]
    unknown = [
        await staff_sign_in(other_client, "nobody@acme.example", password="guess") for _ in range(5)
    ]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [422] * 5
    # Locked alike, with the same answer (the per-client limit allows a 429 more).
    locked_known = await staff_sign_in(other_client, OWNER)
    assert locked_known.status_code == 429
    async with sessions() as db:
        rows = await db.scalar(select(func.count()).select_from(StaffSignInFailure))
    assert rows == 2  # both addresses counted alike, neither stored in clear
    async with sessions() as db:
        stored = (await db.scalars(select(StaffSignInFailure.address_hash))).all()
    assert all("@" not in value for value in stored)


async def test_signing_in_forgets_that_clients_failures(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _acme(sessions)
    assert await _guess(client, 4) == [422] * 4
    assert (await staff_sign_in(client, OWNER)).status_code == 303
    client.cookies.clear()
    # Counting starts again: four more typos do not lock the owner out.
    assert await _guess(client, 4) == [422] * 4
    assert (await staff_sign_in(client, OWNER)).status_code == 303


async def test_a_client_trying_many_addresses_is_still_limited(
    other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _acme(sessions)
    statuses = [
        (await staff_sign_in(other_client, f"person{n}@acme.example")).status_code
        for n in range(11)
    ]
    assert statuses == [422] * 10 + [429]


# --- refusals are audited -------------------------------------------------------------


async def test_refused_sign_ins_are_audited_with_the_client(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    organization_id, sam, _ = await _acme(sessions)
    await _guess(other_client, 6)
    stranger = keyed_hash(settings.secret_key.get_secret_value(), STRANGER_ADDRESS)
    failed = await _events(sessions, "staff.sign_in_failed")
    assert [event.details["reason"] for event in failed] == ["wrong_password"] * 5 + ["locked"]
    assert "locked_until" in failed[4].details
    refused = failed[-1]
    assert (refused.organization_id, refused.subject_id, refused.ip_hash) == (
        organization_id,
        sam,
        stranger,
    )
    # Over the per-client limit (any addresses): audited too.
    for n in range(10):
        await staff_sign_in(client, f"person{n}@acme.example")
    assert (await staff_sign_in(client, OWNER)).status_code == 429
    last = (await _events(sessions, "staff.sign_in_failed"))[-1]
    assert (last.details["reason"], last.subject_id) == ("rate_limited", sam)
    assert last.ip_hash == keyed_hash(settings.secret_key.get_secret_value(), "203.0.113.7")


# --- an admin sees and clears locks ---------------------------------------------------


async def test_an_admin_sees_a_lock_and_clears_it(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    _, sam, _ = await _acme(sessions)
    await _guess(other_client, 5)
    assert (await staff_sign_in(admin_client, ADMIN)).status_code == 303
    people = await admin_client.get("/staff/people")
    assert f'href="{LOCKS}"' in people.text and "(1 now)" in people.text
    page = await admin_client.get(LOCKS)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    table = page.text[page.text.index("<tbody>") : page.text.index("</tbody>")]
    assert "Sam Recruiter" in table and OWNER in table
    assert _client_shown(settings, STRANGER_ADDRESS) in table
    assert re.search(r'<td data-label="Failed passwords">5</td>', table)
    assert table.count("<tr>") == 1
    lock = re.search(r'name="lock" value="(\d+)"', table)
    assert lock
    cleared = await _post(
        admin_client, f"/staff/people/{sam}/sign-in-lock", LOCKS, lock=lock.group(1)
    )
    assert (cleared.status_code, cleared.headers["location"]) == (303, f"{LOCKS}?cleared=1")
    after = await admin_client.get(cleared.headers["location"])
    assert "Lock cleared." in after.text and "No one in your organization is locked" in after.text
    (event,) = await _events(sessions, "staff.sign_in_lock_cleared")
    assert (event.subject_id, event.details) == (
        sam,
        {"client": _client_shown(settings, STRANGER_ADDRESS), "failures": 5},
    )
    assert event.ip_hash == keyed_hash(settings.secret_key.get_secret_value(), ADMIN_ADDRESS)
    # That connection may try again.
    assert (await staff_sign_in(other_client, OWNER, password="guess")).status_code == 422


async def test_a_recruiter_cannot_see_or_clear_locks(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    organization_id, sam, _ = await _acme(sessions)
    await make_staff(
        sessions, organization_id=organization_id, email="rob@acme.example", name="Rob"
    )
    await _guess(other_client, 5)
    assert (await staff_sign_in(client, "rob@acme.example")).status_code == 303
    assert (await client.get(LOCKS)).status_code == 404
    async with sessions() as db:
        lock_id = await db.scalar(select(StaffSignInFailure.id))
    refused = await _post(client, f"/staff/people/{sam}/sign-in-lock", "/staff/", lock=str(lock_id))
    assert refused.status_code == 404
    assert (await staff_sign_in(other_client, OWNER)).status_code == 429  # still locked


async def test_another_organizations_lock_is_neither_shown_nor_cleared(
    app: Starlette,
    other_client: httpx.AsyncClient,
    admin_client: httpx.AsyncClient,
    sessions: Sessions,
) -> None:
    _, sam, _ = await _acme(sessions)
    globex = await make_world(sessions, slug="globex", email="bo@example.com")
    gus = await make_staff(
        sessions, organization_id=globex.organization_id, email="gus@globex.example", name="Gus"
    )
    await make_staff(
        sessions,
        organization_id=globex.organization_id,
        email="gia@globex.example",
        name="Gia Admin",
        role="admin",
    )
    await _guess(other_client, 5)  # Sam of Acme, locked from the stranger's connection
    async with sessions() as db:
        acme_lock = await db.scalar(select(StaffSignInFailure.id))
    assert acme_lock is not None
    async with _client_at(app, "192.0.2.88") as globex_admin:
        assert (await staff_sign_in(globex_admin, "gia@globex.example")).status_code == 303
        page = await globex_admin.get(LOCKS)
        assert page.status_code == 200
        assert "Sam Recruiter" not in page.text and OWNER not in page.text
        for person in (sam, gus):  # Acme's account, or their own colleague's
            refused = await _post(
                globex_admin, f"/staff/people/{person}/sign-in-lock", LOCKS, lock=str(acme_lock)
            )
            assert refused.status_code == 404
    assert (await staff_sign_in(other_client, OWNER)).status_code == 429
    assert await _events(sessions, "staff.sign_in_lock_cleared") == []
    # Acme's own admin does see it.
    assert (await staff_sign_in(admin_client, ADMIN)).status_code == 303
    assert "Sam Recruiter" in (await admin_client.get(LOCKS)).text


# --- 2. smaller findings ----------------------------------------------------------------


ONE_LINE = "Keep this to one line of text: no line breaks, tabs or other control characters."
# A NUL is refused in every field of every form, with the message that names it.
CONTROL = "This contains an invisible control character (U+0000, character 5)."
NOT_ONE_LINE = [
    ("mail_from_name", "Acme Jobs\r\nBcc: everyone@example.com", ONE_LINE),
    ("mail_from_name", "Acme\x00Jobs", CONTROL),
    ("display_name", "Acme\nCorp", ONE_LINE),
    ("display_name", "Acme\tCorp", ONE_LINE),
]


async def test_a_name_with_line_breaks_or_control_characters_is_refused(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    """Either name may become the From header of every email the organization sends."""
    organization_id, _, _ = await _acme(sessions)
    assert (await staff_sign_in(client, ADMIN)).status_code == 303
    for field, typed, message in NOT_ONE_LINE:
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
        assert message in response.text
        # Beside the field, and in the summary above the form that links to it.
        assert response.text.count(message) == 2
        assert f'id="{field}-error"' in response.text
        assert f'<a href="#{field}">' in response.text
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
