"""Greenhouse anonymizes a candidate (`candidate_anonymized`): the portal erases them
too, in that organization only, found by the Greenhouse person their applications
came from. Signed and counted once like every ATS event; a candidate the portal does
not know is ignored with a clear message."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.ats.models import AtsCandidate, AtsEventState
from portal.audit.models import AuditEvent
from portal.candidates.models import Application, Candidate
from portal.db import unit_of_work
from portal.jobs.models import BackgroundJob
from portal.jobs.worker import Worker
from portal.privacy.models import DataRequest, LegalHold
from portal.settings import Settings
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.factories import make_world
from tests.privacy_support import all_rows, owned_rows, scan_database
from tests.test_ats_hooks import (
    FIXTURES,
    _analyst_job,
    _connected,
    _events,
    _greenhouse_body,
    _map,
    _post_greenhouse,
)

Sessions = async_sessionmaker[AsyncSession]
JOHNNY = "60304594"  # Greenhouse's id of Johnny Smith in the recorded rejection
EMAIL = "johnny.smith@example.com"
NAME = "Johnny Smith"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ats_recorded_answers_dir": str(FIXTURES)})


def _anonymized(candidate_id: int | str, *fields: str) -> bytes:
    return json.dumps(
        {
            "action": "candidate_anonymized",
            "payload": {
                "candidate_id": candidate_id,
                "anonymized_fields": list(fields or ("full_name", "email_addresses")),
            },
        }
    ).encode()


def _rejection(*, application: int, candidate: int, email: str, first: str, last: str) -> bytes:
    payload = json.loads(_greenhouse_body())
    payload["payload"]["application"]["id"] = application
    payload["payload"]["application"]["candidate"].update(
        {
            "id": candidate,
            "first_name": first,
            "last_name": last,
            "email_addresses": [{"value": email, "type": "personal"}],
        }
    )
    return json.dumps(payload).encode()


async def _drain(worker: Worker) -> None:
    while await worker.run_once():
        pass


async def _candidate_id(sessions: Sessions, organization_id: int, email: str) -> int | None:
    async with unit_of_work(sessions) as db:
        return await db.scalar(
            select(Candidate.id).where(
                Candidate.organization_id == organization_id, Candidate.email == email
            )
        )


async def _count(sessions: Sessions, statement: object) -> int:
    async with unit_of_work(sessions) as db:
        return int(await db.scalar(statement) or 0)  # type: ignore[call-overload]


async def _johnny_from_greenhouse(
    client: httpx.AsyncClient, hook: httpx.AsyncClient, sessions: Sessions, worker: Worker
) -> int:
    """Acme connected, its Greenhouse job mapped, and Johnny's rejection made into an
    application. Acme's id."""
    organization_id = await _connected(client, sessions)
    assert (await _post_greenhouse(hook, _greenhouse_body())).status_code == 202
    await _drain(worker)
    mapped = await _map(client, sessions, "4567", await _analyst_job(sessions, organization_id))
    assert mapped.status_code == 303
    await _drain(worker)
    assert await _candidate_id(sessions, organization_id, EMAIL) is not None
    return organization_id


async def test_a_signed_anonymization_erases_that_candidate_here_and_no_one_else(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    worker = Worker(settings=settings, sessions=sessions)
    acme = await _johnny_from_greenhouse(client, other_client, sessions, worker)
    johnny = await _candidate_id(sessions, acme, EMAIL)
    # Another Greenhouse candidate of acme, made the same way.
    eve_body = _rejection(
        application=70000001, candidate=777, email="eve@example.com", first="Eve", last="Other"
    )
    assert (await _post_greenhouse(other_client, eve_body)).status_code == 202
    await _drain(worker)
    eve = await _candidate_id(sessions, acme, "eve@example.com")
    assert eve is not None
    # Johnny also has an application acme added by hand (erased with him: the whole
    # candidate goes), and the same person is a candidate of globex, whose
    # application says it came from the same Greenhouse id.
    await make_world(sessions, slug="acme", email=EMAIL, name=NAME, job_title="Chef")
    globex = await make_world(sessions, slug="globex", email=EMAIL, name="Johnny Globex")
    async with unit_of_work(sessions) as db:
        db.add(
            AtsCandidate(application_id=globex.application_id, ats="greenhouse", external_id=JOHNNY)
        )
        db.add(
            WebhookEndpoint(
                organization_id=acme,
                url="https://hooks.example.com/afterword",
                event_types=["candidate.erased"],
                secret="whsec_" + "A" * 32,
            )
        )
        applications = (
            await db.scalars(select(Application.id).where(Application.candidate_id == johnny))
        ).all()
        # Greenhouse's person is kept with the application its event made.
        kept = (
            await db.execute(select(AtsCandidate.application_id, AtsCandidate.external_id))
        ).all()
    assert len(applications) == 2
    assert {row.external_id for row in kept} == {JOHNNY, "777"}
    async with unit_of_work(sessions) as db:
        before = await all_rows(db)
    globex_owned = owned_rows(before, globex.candidate_id)
    assert scan_database(before, [NAME, EMAIL], skip={t: set(i) for t, i in globex_owned.items()})

    answer = await _post_greenhouse(other_client, _anonymized(int(JOHNNY)))
    assert answer.status_code == 202 and answer.json()["status"] == "received"
    assert "set-cookie" not in answer.headers
    await _drain(worker)

    event = (await _events(sessions))[-1]
    assert event.state == AtsEventState.PROCESSED
    assert event.message == "Greenhouse anonymized candidate 60304594: 1 candidate(s) erased here."
    assert await _candidate_id(sessions, acme, EMAIL) is None
    assert await _candidate_id(sessions, acme, "eve@example.com") == eve
    assert await _candidate_id(sessions, globex.organization_id, EMAIL) == globex.candidate_id

    # Nothing of Johnny is left in acme; globex's rows are exactly as they were.
    async with unit_of_work(sessions) as db:
        after = await all_rows(db)
    skip = {table: set(ids) for table, ids in globex_owned.items()}
    assert scan_database(after, [NAME, EMAIL, "Johnny.Smith"], skip=skip) == []
    for table, ids in globex_owned.items():
        rows = [row for row in before[table] if row.get("id") in set(ids)]
        assert [row for row in after[table] if row.get("id") in set(ids)] == rows, table

    async with unit_of_work(sessions) as db:
        holds = (await db.scalars(select(LegalHold).where(LegalHold.organization_id == acme))).all()
        assert sorted(hold.cause.value for hold in holds) == ["ats", "ats"]
        erased = (
            await db.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.erased"))
        ).all()
        assert [(e.organization_id, e.subject_id, e.actor_kind) for e in erased] == [
            (acme, johnny, "system")
        ]
        assert erased[0].details["cause"] == "ats"
        [request] = (await db.scalars(select(DataRequest))).all()
        assert (request.organization_id, request.source.value, request.kind.value) == (
            acme,
            "ats",
            "erasure",
        )
        assert request.candidate_id is None and request.answered_at is not None
        notice = await db.scalar(
            select(WebhookDelivery).where(WebhookDelivery.event_type == "candidate.erased")
        )
        assert notice is not None
        data = json.loads(notice.body)["data"]
        assert data["candidate_id"] == johnny and data["cause"] == "ats"
        assert sorted(data["application_ids"]) == sorted(applications)
        # They asked Greenhouse, not the portal: no email to an address just anonymized.
        mail = (await db.scalars(select(BackgroundJob.payload))).all()
        assert not [p for p in mail if p.get("template") == "erasure_confirmation"]
        # Eve's and globex's links to Greenhouse stay; Johnny's went with him.
        left = (await db.scalars(select(AtsCandidate.external_id))).all()
        assert sorted(left) == sorted(["777", JOHNNY])

    # Staff see it in the data requests log, the audit log and the ATS page.
    log = await client.get("/staff/privacy")
    assert "asked by your applicant tracking system" in log.text
    assert f"Greenhouse anonymized the candidate (event {event.id})" in log.text
    audit = await client.get("/staff/audit")
    assert "as the applicant tracking system had anonymized them" in audit.text
    ats_page = await client.get("/staff/ats")
    assert "1 candidate(s) erased here" in ats_page.text


async def test_a_bad_signature_stores_nothing_and_erases_nothing(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    worker = Worker(settings=settings, sessions=sessions)
    acme = await _johnny_from_greenhouse(client, other_client, sessions, worker)
    events = len(await _events(sessions))
    body = _anonymized(int(JOHNNY))
    forged = await _post_greenhouse(other_client, body, secret="not-the-secret-at-all")
    assert forged.status_code == 401
    # Another candidate's id under a signature made for this body.
    signed_for = await other_client.post(
        "/api/v1/hooks/greenhouse/acme",
        content=_anonymized(777),
        headers={"signature": forged.request.headers["signature"]},
    )
    assert signed_for.status_code == 401
    unsigned = await other_client.post("/api/v1/hooks/greenhouse/acme", content=body)
    assert unsigned.status_code == 401
    # Signed with acme's secret, sent to another organization's address.
    assert (await _post_greenhouse(other_client, body, slug="globex")).status_code == 404
    await _drain(worker)
    assert len(await _events(sessions)) == events
    assert await _candidate_id(sessions, acme, EMAIL) is not None
    assert await _count(sessions, select(func.count()).select_from(LegalHold)) == 0
    assert await _count(sessions, select(func.count()).select_from(DataRequest)) == 0


async def test_a_replay_erases_once(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    worker = Worker(settings=settings, sessions=sessions)
    acme = await _johnny_from_greenhouse(client, other_client, sessions, worker)
    body = _anonymized(int(JOHNNY))
    assert (await _post_greenhouse(other_client, body)).status_code == 202
    await _drain(worker)
    assert await _candidate_id(sessions, acme, EMAIL) is None
    events = len(await _events(sessions))
    # The same delivery again (Greenhouse's retry, or someone replaying it).
    again = await _post_greenhouse(other_client, body)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    await _drain(worker)
    assert len(await _events(sessions)) == events
    # A new anonymization of the same person (more fields): no one is left to erase.
    more = await _post_greenhouse(other_client, _anonymized(int(JOHNNY), "notes", "emails"))
    assert more.status_code == 202
    await _drain(worker)
    last = (await _events(sessions))[-1]
    assert last.state == AtsEventState.IGNORED
    erased = select(func.count()).where(AuditEvent.action == "privacy.erased")
    assert await _count(sessions, erased) == 1
    assert await _count(sessions, select(func.count()).select_from(LegalHold)) == 1
    assert await _count(sessions, select(func.count()).select_from(DataRequest)) == 1


async def test_an_unknown_candidate_is_ignored_with_a_clear_message(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    worker = Worker(settings=settings, sessions=sessions)
    acme = await _johnny_from_greenhouse(client, other_client, sessions, worker)
    async with unit_of_work(sessions) as db:
        before = await all_rows(db)
    answer = await _post_greenhouse(other_client, _anonymized(99999))
    assert answer.status_code == 202
    await _drain(worker)
    event = (await _events(sessions))[-1]
    assert event.state == AtsEventState.IGNORED
    assert event.message == (
        "No application here came from Greenhouse candidate 99999: nothing to erase."
    )
    assert await _candidate_id(sessions, acme, EMAIL) is not None
    async with unit_of_work(sessions) as db:
        after = await all_rows(db)
    # Nothing else changed: only the event was added, and its job came and went.
    for table in before:
        if table in ("ats_events", "background_jobs"):
            continue
        assert after[table] == before[table], table
    page = await client.get("/staff/ats")
    assert "No application here came from Greenhouse candidate 99999" in page.text
    # Nameless: an anonymization that names no one fails with its reason.
    assert (await _post_greenhouse(other_client, _anonymized(""))).status_code == 202
    await _drain(worker)
    failed = (await _events(sessions))[-1]
    assert failed.state == AtsEventState.FAILED
    assert failed.message == "The anonymization names no candidate."


async def test_a_rejection_still_waiting_for_its_job_is_dropped(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    sessions: Sessions,
    settings: Settings,
) -> None:
    worker = Worker(settings=settings, sessions=sessions)
    organization_id = await _connected(client, sessions)
    assert (await _post_greenhouse(other_client, _greenhouse_body())).status_code == 202
    await _drain(worker)
    [waiting] = await _events(sessions)
    assert waiting.state == AtsEventState.WAITING
    assert (await _post_greenhouse(other_client, _anonymized(JOHNNY))).status_code == 202
    await _drain(worker)
    waiting, anonymized = await _events(sessions)
    assert anonymized.state == AtsEventState.IGNORED
    assert "1 waiting rejection(s) of theirs dropped" in anonymized.message
    assert waiting.state == AtsEventState.IGNORED
    assert "Johnny" not in waiting.body and EMAIL not in waiting.body.lower()
    # Mapping the job later brings nothing back.
    mapped = await _map(client, sessions, "4567", await _analyst_job(sessions, organization_id))
    assert mapped.status_code == 303 and "queued=0" in mapped.headers["location"]
    await _drain(worker)
    assert await _candidate_id(sessions, organization_id, EMAIL) is None


def test_the_privacy_layer_registers_the_one_eraser() -> None:
    from portal import job_kinds  # noqa: F401  (what every worker and the app import)
    from portal.ats.anonymize import AnonymizedHook, on_anonymized
    from portal.privacy.anonymized import erase_anonymized

    assert on_anonymized.eraser is erase_anonymized
    with pytest.raises(ValueError, match="already registered"):
        on_anonymized.register(erase_anonymized)
    # Without one, processing fails loudly (the job is retried): never a silent drop.
    with pytest.raises(LookupError, match=r"import portal\.job_kinds"):
        AnonymizedHook().eraser  # noqa: B018
