"""The staff entrance: sign in, the home page, sign out, and who may not get in."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.audit.models import AuditEvent
from portal.db import unit_of_work
from portal.security.models import Session
from portal.security.sessions import session_hash
from portal.staff import passwords, service
from portal.staff.models import StaffUser
from tests.factories import csrf_token, make_staff, make_world, sign_in, staff_sign_in

Sessions = async_sessionmaker[AsyncSession]
COOKIE = "afterword_session"


def _path(location: str) -> str:
    url = httpx.URL(location)
    return url.path + (f"?{url.query.decode()}" if url.query else "")


async def test_staff_sign_in_shows_who_and_which_organization(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id, name="Sam Rivera")
    form = await client.get("/staff/signin")
    assert form.status_code == 200
    assert 'name="email"' in form.text and 'name="password"' in form.text
    response = await staff_sign_in(client)
    assert response.status_code == 303
    assert _path(response.headers["location"]) == "/staff/"
    home = await client.get("/staff/")
    assert home.status_code == 200
    assert "Sam Rivera" in home.text
    assert "Acme Corp" in home.text and "Afterword" in home.text
    assert 'action="/staff/signout"' in home.text
    # Signed in already: the sign-in page moves on.
    assert _path((await client.get("/staff/signin")).headers["location"]) == "/staff/"


async def test_signing_in_starts_a_new_session_and_ends_the_old_one(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id)
    await sign_in(client, sessions, world)  # a candidate session in the same browser
    before = client.cookies[COOKIE]
    await staff_sign_in(client)
    after = client.cookies[COOKIE]
    assert after != before
    async with sessions() as db:
        old = await db.scalar(select(Session).where(Session.id_hash == session_hash(before)))
    assert old is not None and old.revoked_at is not None


async def _failed_answer(client: httpx.AsyncClient, email: str, password: str) -> str:
    response = await staff_sign_in(client, email, password)
    assert response.status_code == 422
    assert COOKIE not in response.headers.get("set-cookie", "")
    return response.text.replace(email, "EMAIL")


async def test_unknown_wrong_and_deactivated_get_the_same_answer_and_work(
    app: Starlette,
    client: httpx.AsyncClient,
    sessions: Sessions,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id)
    await make_staff(
        sessions, organization_id=world.organization_id, email="gone@acme.example", active=False
    )
    checks: list[str | None] = []
    real_verify = passwords.verify_password

    def counting_verify(stored_hash: str | None, password: str) -> bool:
        checks.append(stored_hash)
        return real_verify(stored_hash, password)

    monkeypatch.setattr(service, "verify_password", counting_verify)
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = app.state.portal.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    answers, work = [], []
    try:
        for email, password in [
            ("nobody@acme.example", "correct horse battery staple"),
            ("sam@acme.example", "wrong password"),
            ("gone@acme.example", "correct horse battery staple"),
        ]:
            checks.clear()
            statements.clear()
            answers.append(await _failed_answer(client, email, password))
            # One argon2 check every time (against a dummy hash when there is no
            # account, which is what costs the time) and the same database work.
            assert len(checks) == 1, email
            work.append(list(statements))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert answers[0] == answers[1] == answers[2]
    assert work[0] == work[1] == work[2]
    assert "do not match an active staff account" in answers[0]
    async with sessions() as db:
        reasons = (
            await db.scalars(
                select(AuditEvent.details["reason"].as_string())
                .where(AuditEvent.action == "staff.sign_in_failed")
                .order_by(AuditEvent.id)
            )
        ).all()
    assert reasons == ["unknown", "wrong_password", "inactive"]


async def test_verify_password_without_a_hash_does_the_same_work() -> None:
    stored = passwords.hash_password("secret words")
    assert passwords.verify_password(stored, "secret words")
    assert not passwords.verify_password(stored, "other words")
    assert not passwords.verify_password(None, "secret words")
    assert not passwords.verify_password("not a hash", "secret words")
    assert stored.startswith("$argon2id$")


async def test_a_deactivated_account_is_signed_out_at_once(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    staff_id = await make_staff(sessions, organization_id=world.organization_id)
    await staff_sign_in(client)
    assert (await client.get("/staff/")).status_code == 200
    async with unit_of_work(sessions) as db:
        await db.execute(update(StaffUser).where(StaffUser.id == staff_id).values(active=False))
    response = await client.get("/staff/")
    assert response.status_code == 303
    assert _path(response.headers["location"]) == "/staff/signin"


async def test_staff_pages_send_everyone_else_to_the_staff_sign_in(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    anonymous = await client.get("/staff/")
    assert anonymous.status_code == 303 and _path(anonymous.headers["location"]) == "/staff/signin"
    htmx = await client.get("/staff/", headers={"hx-request": "true"})
    assert htmx.status_code == 401 and htmx.headers["hx-retarget"] == "#session-message"
    assert 'href="/staff/signin"' in htmx.text and "<form" not in htmx.text
    await sign_in(client, sessions, world)  # a candidate is not staff
    candidate = await client.get("/staff/")
    assert candidate.status_code == 303 and _path(candidate.headers["location"]) == "/staff/signin"


async def test_staff_sign_out_ends_the_session_on_the_server(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id)
    await staff_sign_in(client)
    cookie = client.cookies[COOKIE]
    token = await csrf_token(client, "/staff/")
    response = await client.post("/staff/signout", data={"csrftoken": token})
    assert response.status_code == 303
    assert _path(response.headers["location"]) == "/staff/signin?signed_out=1"
    client.cookies.set(COOKIE, cookie)  # replaying the old cookie gets nowhere
    assert (await client.get("/staff/")).status_code == 303
    async with sessions() as db:
        actions = (await db.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all()
    assert actions[-2:] == ["staff.signed_in", "staff.signed_out"]


async def test_staff_sign_in_failures_are_limited_per_address_and_client(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id)
    for _ in range(4):
        assert (await staff_sign_in(client, password="guess")).status_code == 422
        assert (await staff_sign_in(other_client, password="guess")).status_code == 422
    # The fifth failure from one client locks the address for that client only, right
    # password or not; the other client's own four failures do not add up with it.
    assert (await staff_sign_in(client, password="guess")).status_code == 422
    assert (await staff_sign_in(client)).status_code == 429
    assert (await staff_sign_in(other_client)).status_code == 303


async def test_staff_sign_in_is_rate_limited_per_client(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    for n in range(10):
        response = await staff_sign_in(client, email=f"person{n}@acme.example")
        assert response.status_code == 422
    assert (await staff_sign_in(client, email="person10@acme.example")).status_code == 429


async def test_staff_sign_in_form_keeps_the_address_and_says_what_is_missing(
    client: httpx.AsyncClient,
) -> None:
    token = await csrf_token(client, "/staff/signin")
    response = await client.post(
        "/staff/signin",
        data={"csrftoken": token, "email": "<b>sam</b>@acme.example", "password": ""},
        headers={"hx-request": "true"},
    )
    assert response.status_code == 422
    assert "<html" not in response.text  # the form alone, swapped in place
    assert "Enter your password." in response.text
    assert "&lt;b&gt;sam&lt;/b&gt;@acme.example" in response.text


async def test_staff_names_are_shown_as_text(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id, name="<script>x</script>")
    await staff_sign_in(client)
    home = await client.get("/staff/")
    assert "<script>x" not in home.text
    assert "&lt;script&gt;x&lt;/script&gt;" in home.text
    assert re.search(r"<script(?! src=)", home.text) is None


async def test_over_long_input_is_refused_and_the_address_kept(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    token = await csrf_token(client, "/staff/signin")
    long_email = "a" * 320 + "@acme.example"
    response = await client.post(
        "/staff/signin", data={"csrftoken": token, "email": long_email, "password": "x" * 1025}
    )
    assert response.status_code == 422
    assert "That is longer than any email address we know." in response.text
    assert "Passwords are at most 1,024 characters." in response.text
    assert 'value="' + "a" * 320 + '"' in response.text
    assert "x" * 1025 not in response.text  # a password never comes back
    async with sessions() as db:
        assert (await db.scalars(select(AuditEvent))).all() == []  # nothing was tried


async def test_without_single_sign_on_there_is_no_button_and_no_way_in(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/staff/signin")
    assert "Sign in with" not in page.text and "/staff/oidc/start" not in page.text
    token = await csrf_token(client, "/staff/signin")
    assert (await client.post("/staff/oidc/start", data={"csrftoken": token})).status_code == 404
    assert (await client.get("/staff/oidc/callback?code=x&state=y")).status_code == 404
