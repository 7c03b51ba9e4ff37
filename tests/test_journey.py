"""The candidate's first minutes: no dead ends, the employer's name all the way, a
visitor's state known on every page anyone may land on."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.access.models import AccessLink
from portal.audit.models import AuditEvent
from portal.db import unit_of_work, utcnow
from portal.security.models import Session
from portal.web import ORG_COOKIE
from tests.factories import (
    CSRF_FIELD,
    csrf_token,
    invitation,
    make_world,
    open_link,
    press_button,
    sign_in,
    sign_in_link,
)

Sessions = async_sessionmaker[AsyncSession]


async def _actions(sessions: Sessions) -> list[str]:
    async with unit_of_work(sessions) as db:
        return list((await db.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all())


# --- opening the emailed link again ----------------------------------------------------


async def test_the_link_page_names_the_application_waiting(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions, job_title="Senior Data Analyst")
    page = await client.get(await invitation(sessions, world))
    assert page.status_code == 200
    assert "Your feedback on your Senior Data Analyst application is ready" in page.text
    assert "Acme Corp" in page.text
    # A sign-in link is for no one application: it names the organization.
    page = await client.get(await sign_in_link(sessions, world))
    assert "Your feedback from Acme Corp is ready" in page.text


async def test_a_spent_link_says_so_at_once_without_a_button(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    path = await invitation(sessions, world)
    assert (await open_link(client, path)).status_code == 303

    again = await other_client.get(path)
    assert again.status_code == 410
    assert "This link no longer works" in again.text
    assert "Show my feedback" not in again.text
    assert "Email me a new link" in again.text
    assert "Acme Corp" in again.text
    assert again.headers["cache-control"] == "no-store"
    assert again.headers["referrer-policy"] == "no-referrer"
    assert "afterword_session" not in again.headers.get("set-cookie", "")
    assert (await other_client.head(path)).status_code == 410
    # Worth knowing (a leaked link?), and recorded as such; nothing else happened.
    assert (await _actions(sessions)).count("link.reused") == 2
    async with unit_of_work(sessions) as db:
        assert (
            await db.scalar(select(Session.id_hash).where(Session.revoked_at.is_not(None))) is None
        )


async def test_an_unknown_link_gets_the_same_page_and_records_nothing(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    response = await client.get("/l/" + "Q" * 43)
    assert response.status_code == 410
    assert "This link no longer works" in response.text
    assert await _actions(sessions) == []


async def test_a_spent_link_takes_its_signed_in_candidate_to_their_feedback(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    path = await invitation(sessions, world)
    assert (await open_link(client, path)).status_code == 303

    again = await client.get(path)
    assert again.status_code == 303
    assert again.headers["location"] == f"/feedback/{world.application_id}"
    # A page with the button, kept open in another tab, does the same.
    pressed = await press_button(client, path)
    assert pressed.status_code == 303
    assert pressed.headers["location"] == f"/feedback/{world.application_id}"
    # A spent sign-in link leads to the list (which goes on to a single application).
    signin = await sign_in_link(sessions, world)
    assert (await open_link(client, signin)).status_code == 303
    again = await client.get(signin)
    assert (again.status_code, again.headers["location"]) == (303, "/feedback")


async def test_a_spent_link_of_someone_else_is_spent_even_when_signed_in(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    dana = await make_world(sessions)
    eve = await make_world(sessions, email="eve@example.com", name="Eve Moneypenny")
    path = await invitation(sessions, dana)
    assert (await open_link(other_client, path)).status_code == 303
    await sign_in(client, sessions, eve)

    response = await client.get(path)
    assert response.status_code == 410
    assert "This link no longer works" in response.text
    assert "Dana" not in response.text


async def test_an_expired_link_says_so_at_once(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    path = await invitation(sessions, world, now=utcnow() - dt.timedelta(days=15))
    response = await client.get(path)
    assert response.status_code == 410
    assert "Email me a new link" in response.text
    assert "link.rejected" in await _actions(sessions)
    async with unit_of_work(sessions) as db:
        link = await db.scalar(select(AccessLink))
        assert link is not None and link.used_at is None


# --- the organization's name and colour all the way ---------------------------------------


async def test_the_link_remembers_the_organization_for_later_pages(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    page = await client.get(await invitation(sessions, world))
    cookie = page.headers["set-cookie"]
    assert f"{ORG_COOKIE}=acme" in cookie
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()

    for path, status in (("/signin", 200), ("/signin?signed_out=1", 200), ("/nowhere", 404)):
        response = await client.get(path)
        assert response.status_code == status
        assert "Acme Corp" in response.text, path
        assert "/branding/acme.css" in response.text, path


async def test_a_remembered_organization_survives_signing_out(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    token = await csrf_token(client, f"/feedback/{world.application_id}")
    response = await client.post("/signout", data={"csrftoken": token})
    assert response.status_code == 303
    page = await client.get(response.headers["location"])
    assert "You have signed out." in page.text
    assert "Acme Corp" in page.text


async def test_a_forged_or_unknown_organization_cookie_is_ignored(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await make_world(sessions)
    for value in ("nobody", "<script>alert(1)</script>", "x" * 500):
        client.cookies.set(ORG_COOKIE, value)
        page = await client.get("/signin")
        assert page.status_code == 200
        assert "Afterword" in page.text
        assert "<script>alert(1)" not in page.text
        assert "/branding/" not in page.text


# --- pages that know who is signed in -----------------------------------------------------


async def test_home_sends_a_signed_in_candidate_to_their_feedback(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    response = await client.get("/")
    assert (response.status_code, response.headers["location"]) == (303, "/feedback")
    anonymous = await other_client.get("/")
    assert anonymous.status_code == 200
    assert "Get a sign-in link" in anonymous.text
    assert "Sign out" not in anonymous.text


async def test_a_404_while_signed_in_offers_the_way_back(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    for path in ("/nowhere", f"/feedback/{world.application_id + 1000}"):
        response = await client.get(path)
        assert response.status_code == 404
        assert "Your feedback" in response.text
        assert "Sign out" in response.text
        assert "Acme Corp" in response.text
    anonymous = await other_client.get("/nowhere")
    assert "Sign out" not in anonymous.text
    assert "Go to the start page" in anonymous.text


async def test_signed_out_after_inactivity_is_said_only_to_who_was_signed_in(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await sign_in(client, sessions, world)
    async with unit_of_work(sessions) as db:
        await db.execute(update(Session).values(last_seen_at=utcnow() - dt.timedelta(minutes=31)))
    page = f"/feedback/{world.application_id}"

    response = await client.get(page)
    assert response.status_code == 401
    assert "you were signed out after 30 minutes" in response.text
    assert 'afterword_session=""' in response.headers["set-cookie"]
    # Said once: the stale cookie is gone.
    client.cookies.delete("afterword_session")
    again = await client.get(page)
    assert "signed out after" not in again.text
    assert "Please sign in to see your feedback" in again.text

    never = await other_client.get(page)
    assert never.status_code == 401
    assert "signed out after" not in never.text
    assert "Please sign in to see your feedback" in never.text


# --- asking for a sign-in link ------------------------------------------------------------


async def test_sign_in_answers_check_your_email_with_real_links(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/signin")
    assert 'role="status"' in page.text  # the live region is there from the start
    token = CSRF_FIELD.search(page.text)
    assert token
    response = await client.post(
        "/signin", data={"csrftoken": token[1], "email": "dana+x@example.com"}
    )
    assert response.status_code == 200
    assert "<h1" in response.text and "Check your email</h1>" in response.text
    assert 'href="/signin?email=dana%2Bx%40example.com">Send the link again</a>' in response.text
    assert 'href="/signin">Use a different address</a>' in response.text
    assert 'tabindex="-1" autofocus' in response.text

    again = await client.get("/signin?email=dana%2Bx%40example.com")
    assert 'value="dana+x@example.com"' in again.text


async def test_sign_in_with_htmx_swaps_heading_and_live_region_out_of_band(
    client: httpx.AsyncClient,
) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/signin",
        data={"csrftoken": token, "email": "dana@example.com"},
        headers={"hx-request": "true"},
    )
    assert response.status_code == 200
    text = response.text
    assert "<html" not in text
    assert '<h1 id="signin-heading" hx-swap-oob="true">Check your email</h1>' in text
    assert 'id="signin-status" class="status" role="status" hx-swap-oob="innerHTML"' in text
    assert 'id="signin-panel"' in text


async def test_the_prefilled_address_is_text_and_kept_short(client: httpx.AsyncClient) -> None:
    page = await client.get("/signin", params={"email": "<script>alert(1)</script>"})
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;" in page.text
    long = await client.get("/signin", params={"email": "a" * 5000})
    assert long.status_code == 200
    assert "a" * 321 not in long.text
