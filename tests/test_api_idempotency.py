"""`Idempotency-Key` on the API's POST and PATCH requests."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.api import idempotency
from portal.api.models import ApiKey as ApiKeyRow
from portal.api.models import IdempotentRequest
from portal.candidates.models import Application, Job
from portal.db import unit_of_work, utcnow
from portal.jobs.housekeeping import Prune, prune_finished_jobs
from portal.jobs.registry import JobContext
from portal.settings import Settings
from tests.api_support import application_body, auth, make_key, post
from tests.factories import make_world

Sessions = async_sessionmaker[AsyncSession]


async def _count(sessions: Sessions, model: type) -> int:
    async with unit_of_work(sessions) as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_retry_replays_the_stored_answer_and_creates_nothing(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    jobs = await _count(sessions, Job)
    first = await post(client, "/api/v1/jobs", key, {"title": "Analyst"}, idem="job-1")
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    again = await post(client, "/api/v1/jobs", key, {"title": "Analyst"}, idem="job-1")
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert await _count(sessions, Job) == jobs + 1


async def test_an_error_is_replayed_too_and_nothing_half_written(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    body = application_body(job_id=999_999)
    first = await post(client, "/api/v1/applications", key, body, idem="app-err")
    assert first.status_code == 422
    again = await post(client, "/api/v1/applications", key, body, idem="app-err")
    assert again.status_code == 422 and again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json() == first.json()
    async with unit_of_work(sessions) as db:
        assert (
            await db.scalar(select(func.count()).where(Application.external_id.is_not(None)))
        ) == 0


async def test_a_missing_key_is_400(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    answer = await client.post(
        "/api/v1/jobs", json={"title": "x"}, headers={"authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 400
    assert answer.json()["type"] == "urn:afterword:problem:idempotency-key-missing"
    patched = await client.patch(
        "/api/v1/jobs/1", json={"title": "x"}, headers={"authorization": f"Bearer {key}"}
    )
    assert patched.status_code == 400
    too_long = await post(client, "/api/v1/jobs", key, {"title": "x"}, idem="k" * 300)
    assert too_long.status_code == 400


async def test_the_same_key_with_another_request_is_422(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    assert (await post(client, "/api/v1/jobs", key, {"title": "A"}, idem="same")).status_code == 201
    other = await post(client, "/api/v1/jobs", key, {"title": "B"}, idem="same")
    assert other.status_code == 422
    assert other.json()["type"] == "urn:afterword:problem:idempotency-key-reused"


async def test_the_same_key_while_the_first_still_runs_is_409(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    body = b'{"title":"A"}'
    path = "/api/v1/jobs"
    # Another process holds the key: its row is there, with no answer yet.
    async with unit_of_work(sessions) as db:
        key_id = await db.scalar(select(ApiKeyRow.id))
        assert key_id is not None
    started = await idempotency.begin(
        sessions,
        api_key_id=key_id,
        key="busy",
        fingerprint=idempotency.fingerprint("POST", path, body),
        now=utcnow(),
    )
    assert isinstance(started, idempotency.Started)
    answer = await client.post(
        path, content=body, headers={**auth(key, "busy"), "content-type": "application/json"}
    )
    assert answer.status_code == 409
    assert answer.json()["type"] == "urn:afterword:problem:idempotency-key-in-use"
    # A process that died with the key: after a while, a retry runs the request.
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(IdempotentRequest).values(created_at=utcnow() - dt.timedelta(minutes=10))
        )
    retried = await client.post(
        path, content=body, headers={**auth(key, "busy"), "content-type": "application/json"}
    )
    assert retried.status_code == 201


async def test_keys_are_per_api_key(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    one = await make_key(sessions, world.organization_id, name="one")
    two = await make_key(sessions, world.organization_id, name="two")
    assert (await post(client, "/api/v1/jobs", one, {"title": "A"}, idem="k")).status_code == 201
    answer = await post(client, "/api/v1/jobs", two, {"title": "A"}, idem="k")
    assert answer.status_code == 201 and "idempotent-replayed" not in answer.headers


async def test_housekeeping_forgets_answers_after_24_hours(
    client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    await post(client, "/api/v1/jobs", key, {"title": "A"}, idem="old")
    await post(client, "/api/v1/jobs", key, {"title": "B"}, idem="new")
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(IdempotentRequest)
            .where(IdempotentRequest.idempotency_key == "old")
            .values(created_at=utcnow() - dt.timedelta(hours=25))
        )
    async with unit_of_work(sessions) as db:
        await prune_finished_jobs(db, Prune(), JobContext(settings=settings, now=utcnow()))
    async with unit_of_work(sessions) as db:
        kept = (await db.scalars(select(IdempotentRequest.idempotency_key))).all()
    assert kept == ["new"]
