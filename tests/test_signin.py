"""Asking for a sign-in link by email: same answer for everyone, a link only for the known."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import httpx
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.access.models import AccessLink
from portal.db import unit_of_work
from portal.jobs.models import BackgroundJob
from portal.jobs.registry import registry
from portal.settings import Settings
from tests.factories import csrf_token, invitation, make_world, open_link, sign_in

Sessions = async_sessionmaker[AsyncSession]


async def _ask(client: httpx.AsyncClient, address: str) -> httpx.Response:
    return await client.post(
        "/signin", data={"csrftoken": await csrf_token(client), "email": address}
    )


async def test_known_and_unknown_addresses_get_the_same_answer(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await make_world(sessions, email="dana@example.com")
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = app.state.portal.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        known = await _ask(client, "dana@example.com")
        known_statements, statements[:] = list(statements), []
        unknown = await _ask(client, "nobody@example.com")
        unknown_statements = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("dana@example.com", "X").replace(
        "dana%40example.com", "X"
    ) == unknown.text.replace("nobody@example.com", "X").replace("nobody%40example.com", "X")
    assert {k: v for k, v in known.headers.items() if k != "content-length"} == {
        k: v for k, v in unknown.headers.items() if k != "content-length"
    }
    # The request does the same database work either way; the worker does the rest.
    assert known_statements == unknown_statements
    async with unit_of_work(sessions) as db:
        assert len((await db.scalars(select(BackgroundJob))).all()) == 2
        assert (await db.scalars(select(AccessLink))).all() == []


async def test_a_known_address_is_emailed_a_working_link(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions, email="dana@example.com")
    await _ask(client, "  Dana@Example.com ")
    await _ask(client, "nobody@example.com")
    # Both requests are answered, then the single email they produced is delivered.
    assert await app.state.worker.run_once() == 3
    assert await app.state.worker.run_once() == 0
    async with unit_of_work(sessions) as db:
        sent = (
            await db.scalars(
                select(BackgroundJob).where(
                    BackgroundJob.kind.not_in([kind.name for kind in registry.periodic()])
                )
            )
        ).one()
        assert sent.kind == "mail.send" and sent.state == "done"
        assert sent.payload["template"] == "sign_in"

    files = list(Path(settings.mail_dir).glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "dana@example.com"
    assert "Acme Corp" in message["From"]
    assert message["Message-ID"] and message["Date"]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "10 minutes" in text
    link = next(word for word in text.split() if word.startswith("http://testserver/l/"))
    response = await open_link(client, link.removeprefix("http://testserver"))
    assert response.status_code == 303
    assert response.headers["location"].endswith("/feedback")
    assert (await client.get(f"/feedback/{world.application_id}")).status_code == 200


async def test_one_link_per_organization_that_knows_the_address(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    await make_world(sessions, slug="acme", email="dana@example.com")
    await make_world(sessions, slug="globex", email="dana@example.com")
    await _ask(client, "dana@example.com")
    await app.state.worker.run_once()
    await app.state.worker.run_once()
    senders = sorted(
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)["From"]
        for path in Path(settings.mail_dir).glob("*.eml")
    )
    assert len(senders) == 2
    assert "Acme Corp" in senders[0] and "Globex Corp" in senders[1]


async def test_a_malformed_address_is_explained_and_kept(client: httpx.AsyncClient) -> None:
    response = await _ask(client, "dana-at-example")
    assert response.status_code == 422
    assert "Enter an email address like name@example.com." in response.text
    assert 'value="dana-at-example"' in response.text
    assert 'aria-invalid="true"' in response.text

    empty = await _ask(client, "")
    assert empty.status_code == 422
    assert "Enter the email address your application used." in empty.text


async def test_htmx_gets_only_the_panel(client: httpx.AsyncClient) -> None:
    token = await csrf_token(client)
    response = await client.post(
        "/signin",
        data={"email": "dana@example.com"},
        headers={"hx-request": "true", "x-csrftoken": token},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="signin-panel">')
    assert "<html" not in response.text
    assert "Check your email" in response.text


async def _jobs(sessions: Sessions) -> int:
    async with unit_of_work(sessions) as db:
        return len((await db.scalars(select(BackgroundJob))).all())


def _client_at(app: Starlette, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_over_the_limit_the_answer_is_the_same_and_nothing_is_sent(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    answers = [await _ask(client, f"person{i}@example.com") for i in range(6)]
    assert [answer.status_code for answer in answers] == [200] * 6
    assert answers[5].text.replace("person5", "X") == answers[0].text.replace("person0", "X")
    assert "Check your email" in answers[5].text
    # Five requests per client address a minute: the sixth was answered but not queued.
    assert await _jobs(sessions) == 5


async def test_strangers_cannot_lock_a_candidate_out(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions, email="dana@example.com")
    await sign_in(client, sessions, world)  # Dana is reading her feedback
    invitation_path = await invitation(sessions, world)
    # Strangers from rotating addresses ask for Dana's links, again and again.
    for n in range(6):
        async with _client_at(app, f"192.0.2.{n + 1}") as stranger:
            assert (await _ask(stranger, "dana@example.com")).status_code == 200
    await app.state.worker.run_once()
    # The address gets one email, not six.
    assert len(list(Path(settings.mail_dir).glob("*.eml"))) == 1

    # Dana, from her own address, gets the usual answer, and the link in her inbox works.
    async with _client_at(app, "198.51.100.20") as dana:
        answer = await _ask(dana, "Dana@Example.com")
        assert answer.status_code == 200 and "Check your email" in answer.text
        await app.state.worker.run_once()
        files = sorted(Path(settings.mail_dir).glob("*.eml"), key=lambda path: path.stat().st_mtime)
        text = email.message_from_bytes(files[-1].read_bytes(), policy=email.policy.default)
        body = text.get_body(preferencelist=("plain",))
        assert body is not None
        link = next(w for w in body.get_content().split() if w.startswith("http://testserver/l/"))
        assert (await open_link(dana, link.removeprefix("http://testserver"))).status_code == 303
        # Her invitation link still opens too.
        assert (await open_link(dana, invitation_path)).status_code == 303
    # And the session she had is untouched.
    assert (await client.get(f"/feedback/{world.application_id}")).status_code == 200


async def test_one_address_cannot_be_flooded(
    app: Starlette, client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await make_world(sessions, email="dana@example.com")
    assert [(await _ask(client, "dana@example.com")).status_code for _ in range(3)] == [200] * 3
    assert (await _ask(other_client, "DANA@example.com")).status_code == 200
    assert await _jobs(sessions) == 3
    await app.state.worker.run_once()
    async with unit_of_work(sessions) as db:
        emails = await db.scalars(select(BackgroundJob).where(BackgroundJob.kind == "mail.send"))
        assert len(emails.all()) == 1


async def test_sign_in_needs_the_csrf_token(client: httpx.AsyncClient) -> None:
    await client.get("/signin")
    assert (await client.post("/signin", data={"email": "dana@example.com"})).status_code == 403
