"""Staff single sign-on against a real OpenID provider (tests/oidc_provider.py).

The portal runs in-process (httpx's ASGI transport, at http://testserver); the
provider is a real server on 127.0.0.1, and a second HTTP client plays the
person's browser there. The portal itself talks to the provider over the
network: discovery, keys, the code exchange.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.app import create_app
from portal.audit.models import AuditEvent
from portal.db import unit_of_work, utcnow
from portal.security.tokens import new_token, token_digest
from portal.settings import Settings
from portal.staff.models import StaffInvitation, StaffUser
from portal.staff.people import INVITATION_LIFETIME
from tests.factories import csrf_token, make_staff, make_world, staff_sign_in
from tests.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    HTTP_TIMEOUT,
    WRONG_AUDIENCE_CLIENT_ID,
    Provider,
    require_provider,
    sign_in_at_provider,
    start_provider,
)
from tests.processes import stop
from tests.test_people import ADMIN, _inbox
from tests.test_people import _link as _mailed_link

Sessions = async_sessionmaker[AsyncSession]
PORTAL = "http://testserver"
CALLBACK = f"{PORTAL}/staff/oidc/callback"
SESSION_COOKIE = "afterword_session"
FLOW_COOKIE = "afterword_oidc"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    require_provider()
    process, provider = start_provider(tmp_path_factory.mktemp("oidc"), redirect_uri=CALLBACK)
    try:
        yield provider
    finally:
        stop(process)


@pytest.fixture
def settings(settings: Settings, provider: Provider) -> Settings:
    """The usual test settings, with single sign-on through the test provider."""
    return settings.model_copy(
        update={
            "oidc_issuer": provider.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": SecretStr(CLIENT_SECRET),
            "oidc_provider_name": "Test Identity",
        }
    )


@pytest.fixture
async def at_provider() -> AsyncIterator[httpx.AsyncClient]:
    """The person's browser, at the provider (cookies of its own)."""
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as browser:
        yield browser


async def _start(client: httpx.AsyncClient) -> str:
    """Press "Sign in with ..." on the sign-in page: where the portal sends the browser."""
    token = await csrf_token(client, "/staff/signin")
    response = await client.post("/staff/oidc/start", data={"csrftoken": token})
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def _back(client: httpx.AsyncClient, url: str) -> httpx.Response:
    """The browser, sent back to the portal by the provider."""
    assert url.startswith(PORTAL), url
    return await client.get(url.removeprefix(PORTAL))


async def _sso(client: httpx.AsyncClient, at_provider: httpx.AsyncClient, login: str) -> str:
    """The whole way through the provider: the URL it sends the browser back to."""
    return await sign_in_at_provider(
        at_provider, await _start(client), login=login, stop_at=CALLBACK
    )


def _with_query(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


async def _link(sessions: Sessions, staff_id: int, issuer: str, subject: str) -> None:
    async with unit_of_work(sessions) as db:
        staff = await db.get(StaffUser, staff_id)
        assert staff is not None
        staff.oidc_issuer, staff.oidc_subject = issuer, subject


async def _failures(sessions: Sessions) -> list[str]:
    async with sessions() as db:
        reasons = await db.scalars(
            select(AuditEvent.details["reason"].as_string())
            .where(AuditEvent.action == "staff.sign_in_failed")
            .order_by(AuditEvent.id)
        )
        return list(reasons)


@pytest.fixture
async def sam(sessions: Sessions, provider: Provider) -> int:
    """A staff member whose account is linked to the provider's subject "sam"."""
    world = await make_world(sessions)
    staff_id = await make_staff(sessions, organization_id=world.organization_id, name="Sam Rivera")
    await _link(sessions, staff_id, provider.issuer, "sam")
    return staff_id


async def _refused(client: httpx.AsyncClient, response: httpx.Response) -> None:
    """The provider's answer was not accepted, and nobody is signed in."""
    assert response.status_code == 400, response.text
    assert "Single sign-on did not complete" in response.text
    assert SESSION_COOKIE not in response.cookies
    assert (await client.get("/staff/")).status_code == 303


async def test_a_linked_staff_member_signs_in_with_single_sign_on(
    client: httpx.AsyncClient,
    at_provider: httpx.AsyncClient,
    sessions: Sessions,
    provider: Provider,
    sam: int,
) -> None:

    page = await client.get("/staff/signin")
    assert "Sign in with Test Identity" in page.text
    authorization_url = await _start(client)
    # Authorization code with PKCE (S256), a state and a nonce, for our client.
    query = parse_qs(urlsplit(authorization_url).query)
    assert authorization_url.startswith(f"{provider.issuer}/auth?")
    assert query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["state"][0] and query["nonce"][0] and query["redirect_uri"] == [CALLBACK]
    # What the callback needs is sealed: none of it readable in the cookie.
    flow_cookie = client.cookies[FLOW_COOKIE]
    for secret in (query["state"][0], query["nonce"][0]):
        assert secret not in flow_cookie

    back = await sign_in_at_provider(at_provider, authorization_url, login="sam", stop_at=CALLBACK)
    response = await _back(client, back)
    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith("/staff/")
    assert FLOW_COOKIE not in client.cookies  # used once, then forgotten
    home = await client.get("/staff/")
    assert home.status_code == 200 and "Sam Rivera" in home.text

    # The same answer again (a replayed callback) signs nobody in.
    client.cookies.clear()
    await _refused(client, await _back(client, back))
    async with sessions() as db:
        events = (
            await db.execute(
                select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.details).order_by(
                    AuditEvent.id
                )
            )
        ).all()
    assert [tuple(event) for event in events] == [
        ("staff.signed_in", sam, {"method": "single_sign_on"}),
        ("staff.sign_in_failed", None, {"method": "single_sign_on", "reason": "no_flow"}),
    ]


async def test_a_wrong_state_is_refused(
    client: httpx.AsyncClient,
    at_provider: httpx.AsyncClient,
    sessions: Sessions,
    sam: int,
) -> None:
    back = await _sso(client, at_provider, "sam")
    await _refused(client, await _back(client, _with_query(back, state="not-the-state-we-sent")))
    assert await _failures(sessions) == ["state"]


async def test_an_answer_meant_for_another_browser_is_refused(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    at_provider: httpx.AsyncClient,
    sessions: Sessions,
    sam: int,
) -> None:
    """Login CSRF: an attacker's own callback URL, opened in the victim's browser."""
    back = await _sso(client, at_provider, "sam")
    await _refused(other_client, await _back(other_client, back))
    assert await _failures(sessions) == ["no_flow"]


async def test_a_wrong_nonce_is_refused(
    client: httpx.AsyncClient,
    at_provider: httpx.AsyncClient,
    sessions: Sessions,
    sam: int,
) -> None:
    """An ID token minted for another sign-in (the nonce the provider saw is not
    the one this browser's flow expects) is refused, though everything else fits."""
    authorization_url = _with_query(await _start(client), nonce="a-nonce-of-another-sign-in")
    back = await sign_in_at_provider(at_provider, authorization_url, login="sam", stop_at=CALLBACK)
    await _refused(client, await _back(client, back))
    assert await _failures(sessions) == ["nonce"]


@asynccontextmanager
async def _portal(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second portal on the test database, with other settings."""
    app = create_app(settings, run_worker=False)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url=PORTAL) as client:
            yield client
    finally:
        await app.state.portal.engine.dispose()
        await app.state.portal.pdf.aclose()


async def test_an_id_token_for_another_audience_is_refused(
    settings: Settings, at_provider: httpx.AsyncClient, sessions: Sessions, sam: int
) -> None:
    """The provider (deliberately, see server.mjs) issues this client's ID tokens
    for "someone-else": a valid signature does not make it ours."""
    wrong_audience = settings.model_copy(update={"oidc_client_id": WRONG_AUDIENCE_CLIENT_ID})
    async with _portal(wrong_audience) as client:
        back = await _sso(client, at_provider, "sam")
        assert parse_qs(urlsplit(back).query)["code"]  # the provider was happy
        await _refused(client, await _back(client, back))
    assert await _failures(sessions) == ["audience"]


async def test_pkce_is_required_and_always_sent(
    client: httpx.AsyncClient,
    at_provider: httpx.AsyncClient,
    sessions: Sessions,
    provider: Provider,
) -> None:
    # The provider refuses an authorization request without a PKCE challenge...
    stripped = _with_query(await _start(client), code_challenge=None, code_challenge_method=None)
    back = await sign_in_at_provider(at_provider, stripped, login="sam", stop_at=CALLBACK)
    assert parse_qs(urlsplit(back).query)["error"] == ["invalid_request"]
    await _refused(client, await _back(client, back))
    assert await _failures(sessions) == ["provider:invalid_request"]

    # ...and a code issued against a challenge is worth nothing without the verifier,
    # which only the portal holds (sealed in the browser's cookie).
    back = await _sso(client, at_provider, "sam")
    code = parse_qs(urlsplit(back).query)["code"][0]
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as attacker:
        stolen = await attacker.post(
            f"{provider.issuer}/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK},
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "invalid_grant"


async def test_an_unknown_subject_is_asked_to_get_an_invitation_and_gets_no_account(
    client: httpx.AsyncClient, at_provider: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id)  # not linked
    back = await _sso(client, at_provider, "<b>newcomer</b>")
    response = await _back(client, back)
    assert response.status_code == 403
    assert "Ask your admin to invite you" in response.text
    assert "&lt;b&gt;newcomer&lt;/b&gt;@example.com" in response.text  # shown as text
    assert (await client.get("/staff/")).status_code == 303
    async with sessions() as db:
        assert await db.scalar(select(func.count(StaffUser.id))) == 1
        linked = await db.scalar(
            select(func.count(StaffUser.id)).where(StaffUser.oidc_subject.is_not(None))
        )
    assert linked == 0
    assert await _failures(sessions) == ["unknown_identity"]


async def test_a_deactivated_staff_member_is_refused(
    client: httpx.AsyncClient,
    at_provider: httpx.AsyncClient,
    sessions: Sessions,
    provider: Provider,
) -> None:
    world = await make_world(sessions)
    staff_id = await make_staff(sessions, organization_id=world.organization_id, active=False)
    await _link(sessions, staff_id, provider.issuer, "sam")
    response = await _back(client, await _sso(client, at_provider, "sam"))
    assert response.status_code == 403
    assert "Ask your admin to invite you" in response.text
    assert (await client.get("/staff/")).status_code == 303
    assert await _failures(sessions) == ["inactive"]


async def _invite(sessions: Sessions, organization_id: int, email: str) -> tuple[int, str]:
    """An invited colleague (no way to sign in yet) and their invitation link's token."""
    token, now = new_token(), utcnow()
    async with unit_of_work(sessions) as db:
        person = StaffUser(
            organization_id=organization_id, email=email, name="Robin Invited", role="recruiter"
        )
        db.add(person)
        await db.flush()
        db.add(
            StaffInvitation(
                staff_user_id=person.id,
                token_hash=token_digest(token),
                created_at=now,
                expires_at=now + INVITATION_LIFETIME,
            )
        )
        return person.id, token


async def test_an_invitation_links_the_identity_and_sso_then_signs_in(
    client: httpx.AsyncClient,
    at_provider: httpx.AsyncClient,
    sessions: Sessions,
    provider: Provider,
) -> None:
    world = await make_world(sessions)
    person_id, token = await _invite(sessions, world.organization_id, "robin@acme.example")
    page = await client.get(f"/staff/l/{token}")
    assert page.status_code == 200 and "Use Test Identity" in page.text
    csrf = await csrf_token(client, f"/staff/l/{token}")
    started = await client.post(f"/staff/l/{token}/sso", data={"csrftoken": csrf})
    assert started.status_code == 303
    back = await sign_in_at_provider(
        at_provider, started.headers["location"], login="robin", stop_at=CALLBACK
    )
    response = await _back(client, back)
    assert response.status_code == 303 and response.headers["location"].endswith("/staff/")
    assert "Robin Invited" in (await client.get("/staff/")).text
    async with sessions() as db:
        person = await db.get(StaffUser, person_id)
        assert person is not None
        assert (person.oidc_issuer, person.oidc_subject) == (provider.issuer, "robin")
        assert person.password_hash is None
        used = await db.scalar(select(StaffInvitation.used_at))
        assert used is not None
        accepted = await db.scalar(
            select(AuditEvent.details).where(AuditEvent.action == "staff.invitation_accepted")
        )
    assert accepted == {"method": "single_sign_on"}
    # The link is spent; from now on the sign-in page's button is all it takes.
    assert (await client.get(f"/staff/l/{token}")).status_code == 404
    client.cookies.clear()
    at_provider.cookies.clear()
    again = await _back(client, await _sso(client, at_provider, "robin"))
    assert again.status_code == 303 and again.headers["location"].endswith("/staff/")


async def test_an_identity_linked_elsewhere_cannot_take_an_invitation(
    client: httpx.AsyncClient,
    at_provider: httpx.AsyncClient,
    sessions: Sessions,
    sam: int,
) -> None:
    async with sessions() as db:
        organization_id = await db.scalar(
            select(StaffUser.organization_id).where(StaffUser.id == sam)
        )
    assert organization_id is not None
    _, token = await _invite(sessions, organization_id, "robin@acme.example")
    csrf = await csrf_token(client, f"/staff/l/{token}")
    started = await client.post(f"/staff/l/{token}/sso", data={"csrftoken": csrf})
    back = await sign_in_at_provider(
        at_provider, started.headers["location"], login="sam", stop_at=CALLBACK
    )
    response = await _back(client, back)
    assert response.status_code == 409
    assert "already linked to another account" in response.text
    assert (await client.get("/staff/")).status_code == 303
    # The invitation still works (for a password, or another identity).
    assert (await client.get(f"/staff/l/{token}")).status_code == 200


async def test_an_admin_invites_a_password_user_to_link_single_sign_on(
    app: Starlette,
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    at_provider: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
    provider: Provider,
) -> None:
    world = await make_world(sessions)
    await make_staff(
        sessions, organization_id=world.organization_id, email=ADMIN, name="Ada", role="admin"
    )
    sam = await make_staff(sessions, organization_id=world.organization_id)  # a password only
    await staff_sign_in(client, ADMIN)
    person = await client.get(f"/staff/people/{sam}")
    assert "Send a single sign-on invitation" in person.text
    csrf = await csrf_token(client, f"/staff/people/{sam}")
    sent = await client.post(f"/staff/people/{sam}/invitation", data={"csrftoken": csrf})
    assert sent.status_code == 303
    (message,) = [m for m in await _inbox(app, settings) if m["To"] == "sam@acme.example"]

    link = _mailed_link(message)
    csrf = await csrf_token(other_client, link)
    started = await other_client.post(f"{link}/sso", data={"csrftoken": csrf})
    back = await sign_in_at_provider(
        at_provider, started.headers["location"], login="sam-at-work", stop_at=CALLBACK
    )
    response = await _back(other_client, back)
    assert response.status_code == 303 and response.headers["location"].endswith("/staff/")
    async with sessions() as db:
        account = await db.get(StaffUser, sam)
    assert account is not None and account.password_hash is not None  # still there
    assert (account.oidc_issuer, account.oidc_subject) == (provider.issuer, "sam-at-work")
    # Linked: the person page no longer offers it.
    assert "Send a single sign-on invitation" not in (await client.get(f"/staff/people/{sam}")).text


async def test_a_spent_invitation_starts_no_sign_in(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    csrf = await csrf_token(client, "/staff/signin")
    response = await client.post(f"/staff/l/{'x' * 43}/sso", data={"csrftoken": csrf})
    assert response.status_code == 404
    assert "This invitation link no longer works" in response.text
    assert FLOW_COOKIE not in client.cookies


async def test_starting_single_sign_on_needs_the_csrf_token(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    _, token = await _invite(sessions, world.organization_id, "robin@acme.example")
    await client.get("/staff/signin")  # the CSRF cookie, but no token in the form
    assert (await client.post("/staff/oidc/start", data={})).status_code == 403
    assert (await client.post(f"/staff/l/{token}/sso", data={})).status_code == 403
    assert FLOW_COOKIE not in client.cookies


async def test_a_provider_that_names_another_issuer_is_not_trusted(
    settings: Settings, provider: Provider
) -> None:
    # The same provider under another name: its discovery document disagrees.
    elsewhere = provider.issuer.replace("127.0.0.1", "localhost")
    async with _portal(settings.model_copy(update={"oidc_issuer": elsewhere})) as client:
        response = await client.post(
            "/staff/oidc/start", data={"csrftoken": await csrf_token(client, "/staff/signin")}
        )
    assert response.status_code == 503
    assert "Single sign-on is unavailable" in response.text
    assert FLOW_COOKIE not in response.cookies
