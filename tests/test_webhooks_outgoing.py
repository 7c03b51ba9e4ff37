"""Outgoing webhooks (Standard Webhooks): an admin adds an endpoint, events are signed
and delivered through the job table to a real HTTP receiver, retried on the
specification's schedule, and the delivery log can send a message again."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook
from werkzeug import Response as WerkzeugResponse

from portal.db import unit_of_work, utcnow
from portal.jobs.models import BackgroundJob
from portal.jobs.worker import Worker
from portal.settings import Settings
from portal.webhooks import service
from portal.webhooks.address import RefusedAddress, check_destination
from portal.webhooks.events import EVENT_TYPES
from portal.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from tests.factories import (
    World,
    csrf_token,
    invitation,
    make_staff,
    make_world,
    open_link,
    staff_sign_in,
)

Sessions = async_sessionmaker[AsyncSession]
ADMIN = "ada@acme.example"
EVENTS = {"feedback_viewed": "on", "feedback_published": "on"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The receiver listens on 127.0.0.1: let webhooks go there, as the setting allows.
    return settings.model_copy(update={"webhook_allow_private_addresses": True})


async def _admin_world(client: httpx.AsyncClient, sessions: Sessions) -> World:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id, email=ADMIN, role="admin")
    assert (await staff_sign_in(client, ADMIN)).status_code == 303
    return world


async def _admin(client: httpx.AsyncClient, sessions: Sessions) -> int:
    return (await _admin_world(client, sessions)).organization_id


async def _add(client: httpx.AsyncClient, url: str, **fields: str) -> httpx.Response:
    token = await csrf_token(client, "/staff/webhooks")
    data = {"csrftoken": token, "url": url, "description": "Our ATS", **EVENTS, **fields}
    return await client.post("/staff/webhooks", data=data)


def _secret(page: str) -> str:
    found = re.search(r'<code id="secret">(whsec_[A-Za-z0-9+/=]+)</code>', page)
    assert found, page
    return found.group(1)


async def _deliveries(sessions: Sessions) -> list[WebhookDelivery]:
    async with unit_of_work(sessions) as db:
        return list((await db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))).all())


async def test_an_event_reaches_the_receiver_signed(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
    httpserver: HTTPServer,
) -> None:
    world = await _admin_world(client, sessions)
    added = await _add(client, httpserver.url_for("/afterword"))
    assert added.status_code == 303
    page = await client.get(added.headers["location"])
    assert page.status_code == 200 and "Endpoint added" in page.text
    secret = _secret(page.text)

    httpserver.expect_request("/afterword", method="POST").respond_with_data("ok")
    assert await _deliveries(sessions) == []
    # The candidate opens their feedback from the emailed link: feedback.viewed.
    application_id, candidate_id = world.application_id, world.candidate_id
    assert (await open_link(other_client, await invitation(sessions, world))).status_code == 303
    [delivery] = await _deliveries(sessions)
    assert delivery.state == DeliveryState.PENDING and delivery.event_type == "feedback.viewed"

    await Worker(settings=settings, sessions=sessions).run_once()
    [(request, response)] = httpserver.log
    assert response.status_code == 200
    body = request.get_data()
    payload = Webhook(secret).verify(body, dict(request.headers))
    assert payload["type"] == "feedback.viewed"
    assert payload["data"] == {
        "application_id": application_id,
        "candidate_id": candidate_id,
        "link": "invitation",
    }
    assert re.match(r"^\d{4}-\d\d-\d\dT", payload["timestamp"])
    assert request.headers["webhook-id"] == delivery.message_id
    assert request.headers["webhook-signature"].startswith("v1,")
    # A forged body does not verify.
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(body.replace(b"viewed", b"erased"), dict(request.headers))
    [done] = await _deliveries(sessions)
    assert done.state == DeliveryState.DELIVERED and done.attempts == 1
    log = await client.get(added.headers["location"])
    assert "feedback.viewed" in log.text and "Delivered" in log.text


async def _endpoint(sessions: Sessions, organization_id: int, url: str) -> WebhookEndpoint:
    async with unit_of_work(sessions) as db:
        endpoint = WebhookEndpoint(
            organization_id=organization_id,
            url=url,
            event_types=["feedback.published", "pool.left"],
            secret=service.new_secret(),
            enabled=True,
        )
        db.add(endpoint)
        await db.flush()
        return endpoint


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now


async def _emit(sessions: Sessions, organization_id: int, now: dt.datetime) -> None:
    async with unit_of_work(sessions) as db:
        queued = await service.emit(
            db,
            organization_id=organization_id,
            event_type="feedback.published",
            data={"application_id": 1, "version": 1},
            now=now,
        )
    assert queued == 1


async def _next_job(sessions: Sessions) -> BackgroundJob | None:
    async with unit_of_work(sessions) as db:
        return await db.scalar(
            select(BackgroundJob).where(
                BackgroundJob.kind == "webhooks.deliver", BackgroundJob.state == "pending"
            )
        )


async def test_failures_follow_the_retry_schedule_then_give_up(
    sessions: Sessions, settings: Settings, httpserver: HTTPServer
) -> None:
    world = await make_world(sessions)
    await _endpoint(sessions, world.organization_id, httpserver.url_for("/down"))
    httpserver.expect_request("/down").respond_with_data("no", status=500)
    clock = Clock()
    worker = Worker(settings=settings, sessions=sessions, clock=clock)
    await _emit(sessions, world.organization_id, clock.now)
    waits = []
    for _ in range(len(service.RETRY_DELAYS)):
        job = await _next_job(sessions)
        assert job is not None
        waits.append(job.run_at - clock.now)
        clock.now = job.run_at
        await worker.run_once()
    assert waits == list(service.RETRY_DELAYS)
    assert len(httpserver.log) == len(service.RETRY_DELAYS)
    assert await _next_job(sessions) is None
    [delivery] = await _deliveries(sessions)
    assert delivery.state == DeliveryState.FAILED
    assert delivery.attempts == 8 and delivery.last_status == 500


async def test_slow_down_answers_honour_retry_after(
    sessions: Sessions, settings: Settings, httpserver: HTTPServer
) -> None:
    world = await make_world(sessions)
    endpoint = await _endpoint(sessions, world.organization_id, httpserver.url_for("/busy"))
    clock = Clock()
    worker = Worker(settings=settings, sessions=sessions, clock=clock)
    for status in (429, 502, 504):
        httpserver.clear()
        httpserver.expect_request("/busy").respond_with_response(
            WerkzeugResponse("later", status=status, headers={"Retry-After": "3600"})
        )
        await _emit(sessions, world.organization_id, clock.now)
        await worker.run_once()
        async with unit_of_work(sessions) as db:
            delivery = await db.scalar(
                select(WebhookDelivery)
                .where(WebhookDelivery.endpoint_id == endpoint.id)
                .order_by(WebhookDelivery.id.desc())
                .limit(1)
            )
        assert delivery is not None
        assert delivery.state == DeliveryState.PENDING and delivery.last_status == status
        # The schedule says 5 s; the receiver asked for an hour.
        assert delivery.next_attempt_at == clock.now + dt.timedelta(hours=1)
    # A plain failure keeps to the schedule.
    httpserver.clear()
    httpserver.expect_request("/busy").respond_with_data("oops", status=503)
    await _emit(sessions, world.organization_id, clock.now)
    await worker.run_once()
    async with unit_of_work(sessions) as db:
        newest = await db.scalar(select(WebhookDelivery).order_by(WebhookDelivery.id.desc()))
    assert newest is not None and newest.next_attempt_at == clock.now + dt.timedelta(seconds=5)


async def test_gone_turns_the_endpoint_off(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings, httpserver: HTTPServer
) -> None:
    organization_id = await _admin(client, sessions)
    endpoint = await _endpoint(sessions, organization_id, httpserver.url_for("/gone"))
    httpserver.expect_request("/gone").respond_with_data("bye", status=410)
    await _emit(sessions, organization_id, utcnow())
    await Worker(settings=settings, sessions=sessions).run_once()
    assert await _next_job(sessions) is None
    async with unit_of_work(sessions) as db:
        stored = await db.get(WebhookEndpoint, endpoint.id)
        assert stored is not None and not stored.enabled
        # Nothing more is queued for an endpoint that is off.
        assert (
            await service.emit(
                db,
                organization_id=organization_id,
                event_type="feedback.published",
                data={},
                now=utcnow(),
            )
            == 0
        )
    page = await client.get(f"/staff/webhooks/{endpoint.id}")
    assert "410 Gone" in page.text
    # Sending again is refused while it is off, with the reason.
    [delivery] = await _deliveries(sessions)
    token = await csrf_token(client, f"/staff/webhooks/{endpoint.id}")
    refused = await client.post(
        f"/staff/webhooks/{endpoint.id}/deliveries/{delivery.id}/resend", data={"csrftoken": token}
    )
    assert refused.status_code == 409 and "Turn the endpoint on first" in refused.text


async def test_send_again_repeats_the_same_message(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings, httpserver: HTTPServer
) -> None:
    organization_id = await _admin(client, sessions)
    endpoint = await _endpoint(sessions, organization_id, httpserver.url_for("/hook"))
    httpserver.expect_request("/hook").respond_with_data("ok")
    await _emit(sessions, organization_id, utcnow())
    worker = Worker(settings=settings, sessions=sessions)
    await worker.run_once()
    [delivery] = await _deliveries(sessions)
    assert delivery.state == DeliveryState.DELIVERED
    path = f"/staff/webhooks/{endpoint.id}"
    token = await csrf_token(client, path)
    resend = f"{path}/deliveries/{delivery.id}/resend"
    # Without the CSRF token: refused.
    assert (await client.post(resend, data={})).status_code == 403
    again = await client.post(resend, data={"csrftoken": token})
    assert again.status_code == 303
    await worker.run_once()
    first, second = (request for request, _ in httpserver.log)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert first.get_data() == second.get_data()
    [resent] = await _deliveries(sessions)
    assert resent.state == DeliveryState.DELIVERED and resent.attempts == 2


async def test_rotating_signs_with_both_secrets_for_a_day(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings, httpserver: HTTPServer
) -> None:
    organization_id = await _admin(client, sessions)
    endpoint = await _endpoint(sessions, organization_id, httpserver.url_for("/hook"))
    old = endpoint.secret
    token = await csrf_token(client, f"/staff/webhooks/{endpoint.id}")
    rotated = await client.post(f"/staff/webhooks/{endpoint.id}/rotate", data={"csrftoken": token})
    assert rotated.status_code == 303
    new = _secret((await client.get(rotated.headers["location"])).text)
    assert new != old and new.startswith("whsec_")
    httpserver.expect_request("/hook").respond_with_data("ok")
    await _emit(sessions, organization_id, utcnow())
    await Worker(settings=settings, sessions=sessions).run_once()
    [(request, _)] = httpserver.log
    headers = dict(request.headers)
    assert len(headers["Webhook-Signature"].split(" ")) == 2
    Webhook(new).verify(request.get_data(), headers)
    Webhook(old).verify(request.get_data(), headers)


async def test_the_form_keeps_what_was_typed_and_refuses_bad_addresses(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _admin(client, sessions)
    refused = await _add(client, "ftp://ats.example.com/x", description="<script>x</script>")
    assert refused.status_code == 422
    assert "starting with https://" in refused.text
    assert 'value="ftp://ats.example.com/x"' in refused.text
    assert "<script>x</script>" not in refused.text and "&lt;script&gt;" in refused.text
    token = await csrf_token(client, "/staff/webhooks")
    none = await client.post(
        "/staff/webhooks", data={"csrftoken": token, "url": "https://ats.example.com/x"}
    )
    assert none.status_code == 422 and "Choose at least one event" in none.text


async def test_private_addresses_are_refused_unless_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    strict = Settings(database_url="sqlite://")
    assert not strict.webhook_allow_private_addresses
    for url in (
        "http://127.0.0.1:8000/x",
        "http://localhost/x",
        "http://10.1.2.3/",
        "http://[::1]/",
    ):
        with pytest.raises(RefusedAddress):
            await check_destination(url, allow_private=False)
    real = socket.getaddrinfo

    def resolve(host: str, *args: object, **kwargs: object) -> object:
        if host == "ats.internal.example":  # a public-looking name for an inside address
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", 443))]
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(RefusedAddress, match="resolves to a private"):
        await check_destination("https://ats.internal.example/x", allow_private=False)
    await check_destination("http://127.0.0.1:8000/x", allow_private=True)
    with pytest.raises(RefusedAddress):
        await check_destination("file:///etc/passwd", allow_private=True)


async def test_refused_address_at_delivery_is_recorded(
    sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    await _endpoint(sessions, world.organization_id, "http://127.0.0.1:9/nothing")
    strict = settings.model_copy(update={"webhook_allow_private_addresses": False})
    await _emit(sessions, world.organization_id, utcnow())
    await Worker(settings=strict, sessions=sessions).run_once()
    [delivery] = await _deliveries(sessions)
    assert delivery.last_status is None and "private" in (delivery.last_error or "")


async def test_only_admins_of_the_organization_see_endpoints(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    organization_id = await _admin(client, sessions)
    endpoint = await _endpoint(sessions, organization_id, "https://hooks.acme-ats.example/in")
    other = await make_world(sessions, slug="globex", email="x@globex.example")
    await make_staff(
        sessions, organization_id=other.organization_id, email="eve@globex.example", role="admin"
    )
    assert (await staff_sign_in(other_client, "eve@globex.example")).status_code == 303
    assert (await other_client.get(f"/staff/webhooks/{endpoint.id}")).status_code == 404
    listing = await other_client.get("/staff/webhooks")
    assert "acme-ats" not in listing.text
    token = await csrf_token(other_client, "/staff/webhooks")
    edit = {"csrftoken": token, "url": "https://x.example", **EVENTS}
    assert (await other_client.post(f"/staff/webhooks/{endpoint.id}", data=edit)).status_code == 404
    rotate = await other_client.post(
        f"/staff/webhooks/{endpoint.id}/rotate", data={"csrftoken": token}
    )
    assert rotate.status_code == 404
    await make_staff(sessions, organization_id=organization_id, email="rick@acme.example")
    async with httpx.AsyncClient(
        transport=client._transport,
        base_url="http://testserver",
    ) as recruiter:
        assert (await staff_sign_in(recruiter, "rick@acme.example")).status_code == 303
        assert (await recruiter.get("/staff/webhooks")).status_code == 404


async def test_an_endpoint_can_be_edited_and_turned_off(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    organization_id = await _admin(client, sessions)
    endpoint = await _endpoint(sessions, organization_id, "https://ats.example.com/hook")
    path = f"/staff/webhooks/{endpoint.id}"
    token = await csrf_token(client, path)
    saved = await client.post(
        path, data={"csrftoken": token, "url": "https://ats.example.com/v2", "pool_joined": "on"}
    )
    assert saved.status_code == 303
    async with unit_of_work(sessions) as db:
        stored = await db.get(WebhookEndpoint, endpoint.id)
        assert stored is not None
        assert stored.url == "https://ats.example.com/v2"
        assert stored.event_types == ["pool.joined"] and not stored.enabled
    page = await client.get(path)
    assert "Turned off by an admin" in page.text
    audit = await client.get("/staff/audit")
    assert "changed the webhook endpoint" in audit.text


async def test_a_publishing_import_announces_each_version_without_private_text(
    sessions: Sessions, settings: Settings
) -> None:
    from tests.test_import import csv_bytes, row, run

    world = await make_world(sessions)
    await _endpoint(sessions, world.organization_id, "https://hooks.example.com/in")
    data = csv_bytes(
        [
            # The note is the candidate's to read, never the webhook's.
            row("lee@example.com", personal_note="PRIVATE-NOTE-MARKER: thank you for your time."),
            row("kim@example.com"),
        ]
    )
    result = await run(sessions, settings, world, data, publish=True)
    assert result.written
    deliveries = await _deliveries(sessions)
    assert [d.event_type for d in deliveries] == ["feedback.published"] * 2
    for delivery in deliveries:
        body = json.loads(delivery.body)
        assert set(body) == {"type", "timestamp", "data"}
        assert set(body["data"]) == {"application_id", "version", "published_at"}
        # Ids and facts only: never the feedback's words, internal items or notes.
        assert "MARKER" not in delivery.body and "INTERNAL" not in delivery.body
    # A draft import publishes nothing and announces nothing.
    await run(sessions, settings, world, csv_bytes([row("ana@example.com")]))
    assert len(await _deliveries(sessions)) == 2


async def test_a_candidates_steps_are_announced_in_order_without_their_words(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    from tests.pool_support import join, offer_pool, page_token
    from tests.test_queue import _as_staff, _post, _scene

    question = "QUESTION-MARKER: what did my SQL lack?"
    world, thread_id, recruiter = await _scene(client, sessions, question=question)
    async with unit_of_work(sessions) as db:
        db.add(
            WebhookEndpoint(
                organization_id=world.organization_id,
                url="https://hooks.example.com/in",
                event_types=sorted(EVENT_TYPES),
                secret=service.new_secret(),
            )
        )
    # (The invitation link the candidate opened came before the endpoint: not announced.)
    await _ask_again(client, world.application_id, "FOLLOW-UP-MARKER")
    await _as_staff(other_client, sessions, recruiter)
    assert (await _post(other_client, thread_id, "reply", body="REPLY-MARKER")).status_code == 303
    await offer_pool(sessions, world)
    assert (await join(client, world)).status_code == 303
    token = await page_token(client, f"/feedback/{world.application_id}")
    left = await client.post(
        f"/feedback/{world.application_id}/pool/leave", data={"csrftoken": token}
    )
    assert left.status_code == 303
    deliveries = await _deliveries(sessions)
    assert [d.event_type for d in deliveries] == [
        "question.asked",
        "question.answered",
        "pool.joined",
        "pool.left",
    ]
    for delivery in deliveries:
        assert "MARKER" not in delivery.body
        data = json.loads(delivery.body)["data"]
        key = (
            "source_application_id" if delivery.event_type.startswith("pool.") else "application_id"
        )
        assert data[key] == world.application_id
    assert json.loads(deliveries[-1].body)["data"]["reason"] == "candidate"


async def _ask_again(client: httpx.AsyncClient, application_id: int, body: str) -> None:
    token = await csrf_token(client, f"/feedback/{application_id}")
    asked = await client.post(
        f"/feedback/{application_id}/questions", data={"csrftoken": token, "body": body}
    )
    assert asked.status_code == 303, asked.text
