"""Incoming ATS webhooks: a Greenhouse, Lever or Ashby rejection arrives, signed, is
stored and answered at once, waits while its job is unmapped, and becomes a draft in
the editor with the scorecards' attributes on the job's requirements; private notes
never reach a draft. Bad signatures, replays, unknown organizations, oversized and
malformed bodies are refused."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.ats.models import AtsEvent, AtsEventState, AtsJobMapping
from portal.ats.signatures import sign_for_tests
from portal.audit.models import AuditEvent
from portal.candidates.models import Application, Candidate, Job, Requirement
from portal.db import unit_of_work, utcnow
from portal.drafting.models import Scorecard, ScorecardEntry
from portal.feedback.models import Feedback, FeedbackItem
from portal.jobs.worker import Worker
from portal.settings import Settings
from tests.factories import csrf_token, make_staff, make_world, staff_sign_in

Sessions = async_sessionmaker[AsyncSession]
FIXTURES = Path(__file__).parent / "fixtures" / "ats"
ADMIN = "ada@acme.example"
SECRETS = {
    "greenhouse": "gh-secret-0123456789",
    "lever": "lever-token-0123456789",
    "ashby": "ashby-secret-0123456789",
}
PRIVATE = "PRIVATE-MARKER"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ats_recorded_answers_dir": str(FIXTURES)})


async def _connected(client: httpx.AsyncClient, sessions: Sessions) -> int:
    """Acme with its Data Analyst job (SQL, Statistics), an admin signed in, and a
    secret set for each ATS through the page."""
    world = await make_world(sessions, email="someone-else@example.com")
    await make_staff(sessions, organization_id=world.organization_id, email=ADMIN, role="admin")
    assert (await staff_sign_in(client, ADMIN)).status_code == 303
    for ats, secret in SECRETS.items():
        token = await csrf_token(client, "/staff/ats")
        saved = await client.post(
            f"/staff/ats/{ats}/secret", data={"csrftoken": token, "secret": secret}
        )
        assert saved.status_code == 303
    return world.organization_id


def _greenhouse_body() -> bytes:
    return (FIXTURES / "greenhouse" / "reject_candidate.json").read_bytes()


async def _post_greenhouse(
    hook: httpx.AsyncClient, body: bytes, *, secret: str = SECRETS["greenhouse"], slug: str = "acme"
) -> httpx.Response:
    return await hook.post(
        f"/api/v1/hooks/greenhouse/{slug}",
        content=body,
        headers={
            "content-type": "application/json",
            "signature": f"sha256 {sign_for_tests(secret, body)}",
        },
    )


async def _events(sessions: Sessions) -> list[AtsEvent]:
    async with unit_of_work(sessions) as db:
        return list((await db.scalars(select(AtsEvent).order_by(AtsEvent.id))).all())


async def _analyst_job(sessions: Sessions, organization_id: int) -> int:
    async with unit_of_work(sessions) as db:
        job_id = await db.scalar(
            select(Job.id).where(
                Job.organization_id == organization_id, Job.title == "Data Analyst"
            )
        )
    assert job_id is not None
    return job_id


async def _map(
    client: httpx.AsyncClient, sessions: Sessions, external_id: str, job_id: int, **attributes: int
) -> httpx.Response:
    async with unit_of_work(sessions) as db:
        mapping = await db.scalar(
            select(AtsJobMapping).where(AtsJobMapping.external_id == external_id)
        )
    assert mapping is not None
    data: dict[str, str] = {"csrftoken": await csrf_token(client, "/staff/ats"), "job": str(job_id)}
    for index, (name, requirement) in enumerate(attributes.items()):
        data[f"attributes-{index}-name"] = name.replace("_", " ")
        data[f"attributes-{index}-requirement"] = str(requirement)
    return await client.post(f"/staff/ats/mappings/{mapping.id}", data=data)


async def _draft_items(sessions: Sessions, application_id: int) -> list[FeedbackItem]:
    async with unit_of_work(sessions) as db:
        feedback_id = await db.scalar(
            select(Feedback.id).where(Feedback.application_id == application_id)
        )
        return list(
            (
                await db.scalars(
                    select(FeedbackItem)
                    .where(FeedbackItem.feedback_id == feedback_id)
                    .order_by(FeedbackItem.id)
                )
            ).all()
        )


async def test_a_greenhouse_rejection_waits_for_its_job_then_becomes_a_draft(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    organization_id = await _connected(client, sessions)
    body = _greenhouse_body()
    answer = await _post_greenhouse(other_client, body)
    assert answer.status_code == 202 and answer.json()["status"] == "received"
    assert "set-cookie" not in answer.headers
    worker = Worker(settings=settings, sessions=sessions)
    await worker.run_once()
    [event] = await _events(sessions)
    assert event.state == AtsEventState.WAITING and event.external_job_id == "4567"

    # The job waits on the page, with a clear message and the attributes seen.
    page = await client.get("/staff/ats")
    assert "Data Analyst (Greenhouse)" in page.text
    assert "1 rejection(s) waiting" in page.text
    assert "not mapped to an Afterword job yet" in page.text
    for name in ("SQL", "Statistics", "Communication"):
        assert name in page.text
    assert PRIVATE not in page.text

    job_id = await _analyst_job(sessions, organization_id)
    mapped = await _map(client, sessions, "4567", job_id)
    assert mapped.status_code == 303 and "queued=1" in mapped.headers["location"]
    await worker.run_once()
    [event] = await _events(sessions)
    assert event.state == AtsEventState.PROCESSED and event.application_id

    async with unit_of_work(sessions) as db:
        application = await db.get_one(Application, event.application_id)
        candidate = await db.get_one(Candidate, application.candidate_id)
        assert (candidate.email, candidate.name) == ("johnny.smith@example.com", "Johnny Smith")
        assert application.job_id == job_id and application.stage == "interview"
        assert application.decided_at is not None
        assert application.decided_at.date() == dt.date(2026, 11, 22)
        requirements = {
            row.id: row.name for row in await db.execute(select(Requirement.id, Requirement.name))
        }
        cards = (await db.scalars(select(Scorecard))).all()
        assert len(cards) == 2 and {card.source for card in cards} == {"greenhouse"}
        # Kept for staff, private notes included: that is where they stay, marked private.
        entries = (await db.scalars(select(ScorecardEntry))).all()
        assert {e.private for e in entries if PRIVATE in e.text} == {True}
        imported = await db.scalar(
            select(AuditEvent).where(AuditEvent.action == "feedback.imported")
        )
        assert imported is not None and imported.details["ats"] == "greenhouse"
    items = await _draft_items(sessions, event.application_id)
    by_requirement = {requirements[i.requirement_id]: i for i in items if i.requirement_id}
    # SQL: yes and strong yes -> met; Statistics: no and definitely not -> not yet met.
    assert by_requirement["SQL"].rating == "met"
    assert "window function" in by_requirement["SQL"].body
    assert by_requirement["Statistics"].rating == "not_yet_met"
    assert "power and significance" in by_requirement["Statistics"].body
    # Attributes without a requirement of that name are left out.
    assert len(items) == 2
    for item in items:
        assert PRIVATE not in item.body + item.suggestion

    editor = await client.get(f"/staff/applications/{event.application_id}/feedback")
    assert editor.status_code == 200
    assert "window function" in editor.text
    preview = await client.get(f"/staff/applications/{event.application_id}/preview")
    for text in (editor.text, preview.text):
        assert PRIVATE not in text
        assert "Lacking skill" not in text

    # Staff read the scorecards beside the application, private notes marked as theirs.
    staff_page = await client.get(f"/staff/applications/{event.application_id}")
    assert "Scorecards" in staff_page.text and "Kate Austen" in staff_page.text
    assert "only your colleagues see these" in staff_page.text

    # The same event again (a retry, or a replay): nothing new.
    again = await _post_greenhouse(other_client, body)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert len(await _events(sessions)) == 1


async def test_bad_requests_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _connected(client, sessions)
    body = _greenhouse_body()
    forged = await _post_greenhouse(other_client, body, secret="not-the-secret-at-all")
    assert forged.status_code == 401
    assert forged.headers["content-type"] == "application/problem+json"
    assert forged.json()["status"] == 401 and forged.json()["title"] == "Signature not valid"
    tampered = await other_client.post(
        "/api/v1/hooks/greenhouse/acme",
        content=body.replace(b"Johnny", b"Mallory"),
        headers={"signature": f"sha256 {sign_for_tests(SECRETS['greenhouse'], body)}"},
    )
    assert tampered.status_code == 401
    unsigned = await other_client.post("/api/v1/hooks/greenhouse/acme", content=body)
    assert unsigned.status_code == 401
    assert (await _post_greenhouse(other_client, body, slug="nobody")).status_code == 404
    unknown_ats = await other_client.post("/api/v1/hooks/workday/acme", content=body)
    assert unknown_ats.status_code == 404
    assert unknown_ats.headers["content-type"] == "application/problem+json"
    malformed = b"{not json"
    bad_json = await _post_greenhouse(other_client, malformed)
    assert bad_json.status_code == 400 and bad_json.json()["detail"] == "The body is not JSON."
    deep = b"[" * 200_000 + b"]" * 200_000
    assert (await _post_greenhouse(other_client, deep)).status_code == 400
    huge = b'{"action": "' + b"x" * 1_100_000 + b'"}'
    assert (await _post_greenhouse(other_client, huge)).status_code == 413
    assert (await other_client.get("/api/v1/hooks/greenhouse/acme")).status_code == 405
    assert await _events(sessions) == []
    # A ping (sent when the webhook is created) is answered and not stored.
    ping = json.dumps({"action": "ping", "payload": {"web_hook_id": 1}}).encode()
    pong = await _post_greenhouse(other_client, ping)
    assert pong.status_code == 200 and pong.json()["status"] == "ignored"
    assert await _events(sessions) == []


def _lever_body(
    *, triggered: int, token: str = "f8e6a0b4c4", secret: str = SECRETS["lever"]
) -> bytes:
    import hashlib
    import hmac

    signature = hmac.new(secret.encode(), f"{token}{triggered}".encode(), hashlib.sha256)
    return json.dumps(
        {
            "triggeredAt": triggered,
            "event": "candidateArchiveChange",
            "signature": signature.hexdigest(),
            "token": token,
            "data": {
                "opportunityId": "opp-250d8f03",
                "candidateId": "opp-250d8f03",
                "contactId": "c-7ef1",
                "fromArchived": None,
                "toArchived": {"archivedAt": triggered, "reason": "63dd55b2-a99f"},
            },
        }
    ).encode()


async def test_a_lever_archive_becomes_a_draft(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    organization_id = await _connected(client, sessions)
    now_ms = int(utcnow().timestamp() * 1000)
    old = await other_client.post(
        "/api/v1/hooks/lever/acme", content=_lever_body(triggered=now_ms - 3 * 86_400_000)
    )
    assert old.status_code == 401
    forged = await other_client.post(
        "/api/v1/hooks/lever/acme", content=_lever_body(triggered=now_ms, secret="wrong-token-xx")
    )
    assert forged.status_code == 401
    assert await _events(sessions) == []
    answer = await other_client.post(
        "/api/v1/hooks/lever/acme", content=_lever_body(triggered=now_ms)
    )
    assert answer.status_code == 202
    worker = Worker(settings=settings, sessions=sessions)
    await worker.run_once()
    job_id = await _analyst_job(sessions, organization_id)
    async with unit_of_work(sessions) as db:
        sql_id = await db.scalar(
            select(Requirement.id).where(Requirement.job_id == job_id, Requirement.name == "SQL")
        )
    assert sql_id is not None
    # "SQL skills" is not a requirement's name: the admin chooses SQL for it.
    mapped = await _map(client, sessions, "posting-9a1", job_id, SQL_skills=sql_id)
    assert mapped.status_code == 303
    await worker.run_once()
    [event] = await _events(sessions)
    assert event.state == AtsEventState.PROCESSED
    async with unit_of_work(sessions) as db:
        application = await db.get_one(Application, event.application_id)
        candidate = await db.get_one(Candidate, application.candidate_id)
    assert candidate.email == "maria.lopez@example.com" and application.stage == "screen"
    [item] = await _draft_items(sessions, application.id)
    assert item.requirement_id == sql_id and item.rating == "partly_met"
    assert "aggregation" in item.body and PRIVATE not in item.body


def _ashby_body(stage_type: str) -> bytes:
    return json.dumps(
        {
            "action": "application.changeStage",
            "data": {
                "application": {
                    "id": "a1b2c3",
                    "status": "Archived" if stage_type == "Archived" else "Active",
                    "updatedAt": "2026-11-25T09:00:00.000Z",
                    "candidate": {
                        "id": "cand-1",
                        "name": "Kim Park",
                        "primaryEmailAddress": {"value": "kim.park@example.com"},
                    },
                    "currentInterviewStage": {"title": "Archived", "type": stage_type},
                    "job": {"id": "job-ashby-1", "title": "Data Analyst (Ashby)"},
                    "archiveReason": {"text": "Not enough experience"},
                }
            },
        }
    ).encode()


async def _post_ashby(hook: httpx.AsyncClient, body: bytes) -> httpx.Response:
    signature = sign_for_tests(SECRETS["ashby"], body)
    return await hook.post(
        "/api/v1/hooks/ashby/acme", content=body, headers={"ashby-signature": f"sha256={signature}"}
    )


async def test_an_ashby_archive_becomes_a_draft_and_other_moves_are_ignored(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    organization_id = await _connected(client, sessions)
    job_id = await _analyst_job(sessions, organization_id)
    worker = Worker(settings=settings, sessions=sessions)
    moved = await _post_ashby(other_client, _ashby_body("Interview"))
    assert moved.status_code == 202
    await worker.run_once()
    assert (await _events(sessions))[0].state == AtsEventState.IGNORED
    assert (await _post_ashby(other_client, _ashby_body("Archived"))).status_code == 202
    await worker.run_once()
    await _map(client, sessions, "job-ashby-1", job_id)
    await worker.run_once()
    archived = (await _events(sessions))[1]
    assert archived.state == AtsEventState.PROCESSED
    [item] = await _draft_items(sessions, archived.application_id or 0)
    assert item.rating == "met" and "confidence intervals" in item.body
    page = await client.get("/staff/ats")
    assert "Processed" in page.text and "Ignored" in page.text


async def test_admins_of_another_organization_cannot_map_or_see_the_jobs(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    await _connected(client, sessions)
    assert (await _post_greenhouse(other_client, _greenhouse_body())).status_code == 202
    await Worker(settings=settings, sessions=sessions).run_once()
    globex = await make_world(sessions, slug="globex", email="g@globex.example")
    await make_staff(
        sessions, organization_id=globex.organization_id, email="eve@globex.example", role="admin"
    )
    async with httpx.AsyncClient(
        transport=other_client._transport, base_url="http://testserver"
    ) as eve:
        assert (await staff_sign_in(eve, "eve@globex.example")).status_code == 303
        page = await eve.get("/staff/ats")
        assert "Data Analyst (Greenhouse)" not in page.text
        other_job = await _analyst_job(sessions, globex.organization_id)
        refused = await _map(eve, sessions, "4567", other_job)
        assert refused.status_code == 404
    # Nor can an admin map a job to another organization's job.
    wrong = await _map(client, sessions, "4567", other_job)
    assert wrong.status_code == 422 and "Choose one of your organization" in wrong.text
    async with unit_of_work(sessions) as db:
        assert await db.scalar(select(func.count()).select_from(Application)) == 2


async def test_the_secret_form_keeps_the_secret_out_of_the_page(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _connected(client, sessions)
    token = await csrf_token(client, "/staff/ats")
    short = await client.post(
        "/staff/ats/greenhouse/secret", data={"csrftoken": token, "secret": "short"}
    )
    assert short.status_code == 422 and "12 to 200 characters" in short.text
    page = await client.get("/staff/ats")
    for secret in SECRETS.values():
        assert secret not in page.text
    assert re.search(r"http://testserver/api/v1/hooks/greenhouse/acme", page.text)
    assert (
        await client.post(
            "/staff/ats/workday/secret", data={"csrftoken": token, "secret": "x" * 20}
        )
    ).status_code == 404


async def test_the_events_list_pages(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _connected(client, sessions)
    payload = json.loads(_greenhouse_body())
    for number in range(26):
        payload["payload"]["application"]["id"] = 5000 + number
        body = json.dumps(payload).encode()
        assert (await _post_greenhouse(other_client, body)).status_code == 202
    first = await client.get("/staff/ats")
    assert "Page 1 of 2" in first.text and first.text.count("<td>Greenhouse</td>") == 25
    second = await client.get("/staff/ats?page=2")
    assert "Page 2 of 2" in second.text and second.text.count("<td>Greenhouse</td>") == 1
    assert "Page 2 of 2" in (await client.get("/staff/ats?page=99")).text
