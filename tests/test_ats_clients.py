"""The live ATS API clients, against a local server answering as Greenhouse (Harvest
v3), Lever and Ashby do: credentials sent, pages followed, 429 retried as asked, errors
leaving the event FAILED with a message and "Process again" retrying it; private
notes only ever in the scorecard's questions. And the admin's side: credentials set
on the ATS page, never shown back, audited."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.ats import clients
from portal.ats.clients import AtsApiError, choose_api, live_api, retry_after
from portal.ats.fetch import NoApi, RecordedApi
from portal.ats.models import Ats, AtsConnection, AtsEvent, AtsEventState
from portal.audit.models import AuditEvent
from portal.db import unit_of_work
from portal.jobs.worker import Worker
from portal.settings import Settings
from tests.factories import csrf_token, make_staff, make_world, staff_sign_in
from tests.test_ats_hooks import (
    FIXTURES,
    PRIVATE,
    SECRETS,
    _analyst_job,
    _draft_items,
    _greenhouse_body,
    _map,
    _post_greenhouse,
)

Sessions = async_sessionmaker[AsyncSession]
ADMIN = "ada@acme.example"
GREENHOUSE_CARDS = json.loads((FIXTURES / "greenhouse" / "scorecards-69306314.json").read_text())


def _basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def live(settings: Settings, httpserver: HTTPServer) -> Settings:
    base = httpserver.url_for("").rstrip("/")
    return settings.model_copy(
        update={
            "ats_greenhouse_api_url": base,
            "ats_greenhouse_token_url": f"{base}/token",
            "ats_lever_api_url": f"{base}/lever",
            "ats_ashby_api_url": f"{base}/ashby",
        }
    )


class Naps:
    """Waits asked for, not slept."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _greenhouse_token(httpserver: HTTPServer, *, ordered: bool = False) -> None:
    expect = httpserver.expect_ordered_request if ordered else httpserver.expect_request
    expect(
        "/token",
        method="POST",
        headers={"authorization": _basic("client-1", "secret-1")},
        data="grant_type=client_credentials",
    ).respond_with_json({"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600})


async def test_greenhouse_gets_a_token_follows_pages_and_waits_when_asked(
    live: Settings, httpserver: HTTPServer
) -> None:
    _greenhouse_token(httpserver, ordered=True)
    bearer = {"authorization": "Bearer tok-1"}
    httpserver.expect_ordered_request(
        "/v3/scorecards", query_string="application_ids=69306314&per_page=100", headers=bearer
    ).respond_with_data("slow down", status=429, headers={"retry-after": "2"})
    next_page = httpserver.url_for("/v3/scorecards") + "?cursor=c2"
    httpserver.expect_ordered_request(
        "/v3/scorecards", query_string="application_ids=69306314&per_page=100", headers=bearer
    ).respond_with_json(GREENHOUSE_CARDS[:1], headers={"link": f'<{next_page}>; rel="next"'})
    httpserver.expect_ordered_request(
        "/v3/scorecards", query_string="cursor=c2", headers=bearer
    ).respond_with_json(GREENHOUSE_CARDS[1:])
    naps = Naps()
    api = live_api(live, Ats.GREENHOUSE, "client-1:secret-1", sleep=naps)
    cards = await api.scorecards(Ats.GREENHOUSE, "69306314")
    assert [card.id for card in cards] == ["211231", "211232"]
    assert naps.waits == [2.0]  # Retry-After, honoured
    assert cards[0].interviewer == "Kate Austen"
    assert {a.name: a.rating for a in cards[0].attributes}["SQL"] == "yes"
    # The private note is a question's answer, never an attribute's note.
    assert any(PRIVATE in q["answer"] for q in cards[0].questions)
    assert all(PRIVATE not in a.note for card in cards for a in card.attributes)
    httpserver.check_assertions()


async def test_retries_are_bounded_and_errors_say_what_happened(
    live: Settings, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/lever/opportunities/opp-1/feedback").respond_with_data(
        "down", status=503
    )
    naps = Naps()
    api = live_api(live, Ats.LEVER, "lever-key", sleep=naps)
    with pytest.raises(AtsApiError, match="answered 503, 4 times"):
        await api.scorecards(Ats.LEVER, "opp-1")
    assert naps.waits == [0.5, 1.0, 2.0]

    httpserver.clear()
    httpserver.expect_request("/lever/opportunities/opp-2/feedback").respond_with_data(
        "slow", status=429, headers={"retry-after": "3600"}
    )
    with pytest.raises(AtsApiError, match="asked to wait 3600 s"):
        await api.scorecards(Ats.LEVER, "opp-2")

    httpserver.clear()
    httpserver.expect_request("/lever/opportunities/opp-3/feedback").respond_with_data(
        "no", status=401
    )
    with pytest.raises(AtsApiError, match="refused the API credentials"):
        await api.scorecards(Ats.LEVER, "opp-3")


async def test_lever_sends_its_key_and_follows_pages(
    live: Settings, httpserver: HTTPServer
) -> None:
    auth = {"authorization": _basic("lever-key")}
    form = {
        "id": "fb-1",
        "user": {"name": "Kate Austen"},
        "completedAt": 1763650800000,
        "fields": [
            {"type": "score", "text": "SQL", "value": {"score": 3, "comment": "Good joins."}},
            {"type": "textarea", "text": "Private notes", "value": f"{PRIVATE} too junior"},
        ],
    }
    httpserver.expect_ordered_request(
        "/lever/opportunities/opp-1/feedback", query_string="limit=100", headers=auth
    ).respond_with_json({"data": [form], "hasNext": True, "next": "page2"})
    httpserver.expect_ordered_request(
        "/lever/opportunities/opp-1/feedback", query_string="limit=100&offset=page2", headers=auth
    ).respond_with_json({"data": [form | {"id": "fb-2"}], "hasNext": False})
    httpserver.expect_ordered_request(
        "/lever/opportunities/opp-1", query_string="expand=applications", headers=auth
    ).respond_with_json(
        {
            "data": {
                "name": "Jane Roe",
                "emails": ["Jane@Example.com"],
                "applications": [{"posting": "post-9", "postingName": "Data Analyst"}],
            }
        }
    )
    api = live_api(live, Ats.LEVER, "lever-key", sleep=Naps())
    cards = await api.scorecards(Ats.LEVER, "opp-1")
    assert [card.id for card in cards] == ["fb-1", "fb-2"]
    [attribute] = cards[0].attributes
    assert (attribute.name, attribute.rating, attribute.note) == ("SQL", "yes", "Good joins.")
    assert cards[0].questions == ({"question": "Private notes", "answer": f"{PRIVATE} too junior"},)
    person = await api.person(Ats.LEVER, "opp-1", "contact-1")
    assert person is not None
    assert (person.email, person.name, person.job_id) == ("jane@example.com", "Jane Roe", "post-9")
    httpserver.check_assertions()


async def test_ashby_posts_with_its_key_and_follows_cursors(
    live: Settings, httpserver: HTTPServer
) -> None:
    auth = {"authorization": _basic("ashby-key")}
    submission = {
        "id": "fs-1",
        "submittedAt": "2026-11-20T15:00:00Z",
        "submittedByUser": {"firstName": "Kate", "lastName": "Austen"},
        "formDefinition": {
            "sections": [
                {
                    "fields": [
                        {"field": {"path": "sql", "title": "SQL", "type": "Score"}},
                        {"field": {"path": "notes", "title": "Private notes", "type": "String"}},
                    ]
                }
            ]
        },
        "submittedValues": {"sql": {"score": 1}, "notes": f"{PRIVATE} no"},
    }
    httpserver.expect_ordered_request(
        "/ashby/applicationFeedback.list",
        method="POST",
        headers=auth,
        json={"applicationId": "a1"},
    ).respond_with_json(
        {"success": True, "results": [submission], "moreDataAvailable": True, "nextCursor": "n2"}
    )
    httpserver.expect_ordered_request(
        "/ashby/applicationFeedback.list",
        method="POST",
        headers=auth,
        json={"applicationId": "a1", "cursor": "n2"},
    ).respond_with_json(
        {"success": True, "results": [submission | {"id": "fs-2"}], "moreDataAvailable": False}
    )
    httpserver.expect_ordered_request(
        "/ashby/application.info", method="POST", headers=auth, json={"applicationId": "a1"}
    ).respond_with_json(
        {
            "success": True,
            "results": {
                "candidate": {"name": "Jane Roe", "primaryEmailAddress": {"value": "jane@x.org"}},
                "job": {"id": "job-7", "title": "Data Analyst"},
                "currentInterviewStage": {"title": "Archived"},
            },
        }
    )
    api = live_api(live, Ats.ASHBY, "ashby-key", sleep=Naps())
    cards = await api.scorecards(Ats.ASHBY, "a1")
    assert [card.id for card in cards] == ["fs-1", "fs-2"]
    assert cards[0].interviewer == "Kate Austen"
    assert [(a.name, a.rating) for a in cards[0].attributes] == [("SQL", "definitely_not")]
    assert all(PRIVATE not in a.note for a in cards[0].attributes)
    assert PRIVATE in cards[0].questions[0]["answer"]
    person = await api.person(Ats.ASHBY, "a1", "")
    assert person is not None and (person.email, person.job_id) == ("jane@x.org", "job-7")
    httpserver.check_assertions()


def test_the_client_is_chosen_by_credentials_then_recordings(settings: Settings) -> None:
    assert isinstance(choose_api(settings, Ats.LEVER, None), NoApi)
    recorded = settings.model_copy(update={"ats_recorded_answers_dir": str(FIXTURES)})
    assert isinstance(choose_api(recorded, Ats.LEVER, None), RecordedApi)
    assert isinstance(choose_api(recorded, Ats.LEVER, "key-12345678"), clients.LeverApi)
    assert isinstance(choose_api(settings, Ats.GREENHOUSE, "a:b"), clients.GreenhouseApi)
    assert isinstance(choose_api(settings, Ats.ASHBY, "key-12345678"), clients.AshbyApi)


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after("7") == 7.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after("soon") is None and retry_after(None) is None


# --- through the page and the worker -----------------------------------------------


@pytest.fixture
def settings(settings: Settings, httpserver: HTTPServer) -> Settings:
    base = httpserver.url_for("").rstrip("/")
    return settings.model_copy(
        update={"ats_greenhouse_api_url": base, "ats_greenhouse_token_url": f"{base}/token"}
    )


async def _admin(client: httpx.AsyncClient, sessions: Sessions) -> int:
    world = await make_world(sessions, email="someone-else@example.com")
    await make_staff(sessions, organization_id=world.organization_id, email=ADMIN, role="admin")
    assert (await staff_sign_in(client, ADMIN)).status_code == 303
    return world.organization_id


async def _save(client: httpx.AsyncClient, ats: str, path: str, **data: str) -> httpx.Response:
    token = await csrf_token(client, "/staff/ats")
    return await client.post(f"/staff/ats/{ats}/{path}", data={"csrftoken": token, **data})


async def test_an_admin_sets_credentials_that_are_never_shown_back(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    organization_id = await _admin(client, sessions)
    early = await _save(client, "lever", "credentials", credentials="lever-key-SECRET-1234")
    assert early.status_code == 422
    assert "Set the webhook secret first" in early.text
    assert "lever-key-SECRET" not in early.text
    assert (await _save(client, "lever", "secret", secret=SECRETS["lever"])).status_code == 303
    saved = await _save(client, "lever", "credentials", credentials="lever-key-SECRET-1234")
    assert saved.status_code == 303
    page = await client.get("/staff/ats")
    assert "lever-key-SECRET" not in page.text
    assert "…1234" in page.text  # its end, to tell keys apart
    assert (await _save(client, "greenhouse", "secret", secret=SECRETS["greenhouse"])).is_redirect
    no_colon = await _save(client, "greenhouse", "credentials", credentials="only-a-client-id")
    assert no_colon.status_code == 422 and "CLIENT_ID:CLIENT_SECRET" in no_colon.text
    assert "only-a-client-id" not in no_colon.text
    async with unit_of_work(sessions) as db:
        stored = await db.scalar(
            select(AtsConnection.api_credentials).where(
                AtsConnection.organization_id == organization_id, AtsConnection.ats == Ats.LEVER
            )
        )
        assert stored == "lever-key-SECRET-1234"
        events = (
            await db.scalars(
                select(AuditEvent).where(AuditEvent.action == "ats.api_credentials_set")
            )
        ).all()
        assert len(events) == 1 and "SECRET" not in json.dumps(events[0].details)
    removed = await _save(client, "lever", "credentials/remove")
    assert removed.status_code == 303
    async with unit_of_work(sessions) as db:
        assert (
            await db.scalar(
                select(AtsConnection.api_credentials).where(AtsConnection.ats == Ats.LEVER)
            )
        ) is None


async def test_a_recruiter_cannot_set_credentials_or_process_events_again(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id, email="rae@acme.example")
    assert (await staff_sign_in(client, "rae@acme.example")).status_code == 303
    token = await csrf_token(client, "/staff/applications")
    answer = await client.post(
        "/staff/ats/lever/credentials", data={"csrftoken": token, "credentials": "k" * 12}
    )
    assert answer.status_code == 404
    again = await client.post("/staff/ats/events/1/again", data={"csrftoken": token})
    assert again.status_code == 404


async def test_a_live_greenhouse_rejection_fails_clearly_then_is_processed_again(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
    httpserver: HTTPServer,
) -> None:
    organization_id = await _admin(client, sessions)
    assert (await _save(client, "greenhouse", "secret", secret=SECRETS["greenhouse"])).is_redirect
    saved = await _save(client, "greenhouse", "credentials", credentials="client-1:secret-1")
    assert saved.is_redirect
    # The API is down: the event fails with a message, and nothing is written.
    httpserver.expect_request("/token", method="POST").respond_with_data("down", status=503)
    assert (await _post_greenhouse(other_client, _greenhouse_body())).status_code == 202
    worker = Worker(settings=settings, sessions=sessions)
    await worker.run_once()
    [event] = await _events(sessions)
    assert event.state == AtsEventState.FAILED
    assert "Greenhouse's token endpoint answered 503" in event.message
    page = await client.get("/staff/ats")
    assert "Process again" in page.text

    # Up again: processed again from the page, with the live scorecards.
    httpserver.clear()
    _greenhouse_token(httpserver)
    httpserver.expect_request(
        "/v3/scorecards", headers={"authorization": "Bearer tok-1"}
    ).respond_with_json(GREENHOUSE_CARDS)
    token = await csrf_token(client, "/staff/ats")
    again = await client.post(f"/staff/ats/events/{event.id}/again", data={"csrftoken": token})
    assert again.status_code == 303
    await worker.run_once()
    [event] = await _events(sessions)
    assert event.state == AtsEventState.WAITING  # its job is not mapped yet
    async with unit_of_work(sessions) as db:
        again_audited = await db.scalar(
            select(AuditEvent).where(AuditEvent.action == "ats.event_processed_again")
        )
        assert again_audited is not None
    # A processed (or waiting) event is not processed again by hand.
    token = await csrf_token(client, "/staff/ats")
    twice = await client.post(f"/staff/ats/events/{event.id}/again", data={"csrftoken": token})
    assert twice.status_code == 404
    page = await client.get("/staff/ats")
    for name in ("SQL", "Statistics", "Communication"):
        assert name in page.text
    assert PRIVATE not in page.text

    # Mapped: the draft has the live scorecards' ratings, and no private note.
    job_id = await _analyst_job(sessions, organization_id)
    assert (await _map(client, sessions, "4567", job_id)).status_code == 303
    await worker.run_once()
    [event] = await _events(sessions)
    assert event.state == AtsEventState.PROCESSED and event.application_id
    items = await _draft_items(sessions, event.application_id)
    assert {item.rating for item in items} == {"met", "not_yet_met"}
    for item in items:
        assert PRIVATE not in item.body + item.suggestion


async def _events(sessions: Sessions) -> list[AtsEvent]:
    async with unit_of_work(sessions) as db:
        return list((await db.scalars(select(AtsEvent).order_by(AtsEvent.id))).all())
