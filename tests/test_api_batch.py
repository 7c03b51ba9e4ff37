"""`POST /api/v1/applications/batch`: many rejections in one request, each item what
`POST /applications` takes, written in bulk, answered item by item."""

from __future__ import annotations

import httpx
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.candidates.models import Application, Job
from portal.db import unit_of_work
from portal.feedback.models import Feedback, FeedbackItem
from tests.api_support import application_body, make_key, post
from tests.factories import make_world

Sessions = async_sessionmaker[AsyncSession]
BATCH = "/api/v1/applications/batch"


async def _job(sessions: Sessions, organization_id: int) -> int:
    async with unit_of_work(sessions) as db:
        found = await db.scalar(
            select(Job.id).where(Job.organization_id == organization_id).order_by(Job.id)
        )
    assert found is not None
    return found


def _items(job_id: int, count: int, tag: str = "b") -> list[dict[str, object]]:
    return [
        application_body(
            external_id=f"{tag}-{n}", job_id=job_id, email=f"{tag}.person{n}@example.com"
        )
        for n in range(count)
    ]


async def _counts(sessions: Sessions, organization_id: int) -> tuple[int, int, int]:
    async with unit_of_work(sessions) as db:
        applications = await db.scalar(
            select(func.count())
            .select_from(Application)
            .where(Application.organization_id == organization_id)
        )
        versions = await db.scalar(
            select(func.count())
            .select_from(Feedback)
            .join(Application, Application.id == Feedback.application_id)
            .where(Application.organization_id == organization_id)
        )
        items = await db.scalar(
            select(func.count())
            .select_from(FeedbackItem)
            .join(Feedback, Feedback.id == FeedbackItem.feedback_id)
            .join(Application, Application.id == Feedback.application_id)
            .where(Application.organization_id == organization_id)
        )
    return int(applications or 0), int(versions or 0), int(items or 0)


async def test_an_ats_sends_many_rejections_in_one_batch_and_retries_it(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    job_id = await _job(sessions, world.organization_id)
    before = await _counts(sessions, world.organization_id)
    answer = await post(client, BATCH, key, {"items": _items(job_id, 5)}, idem="batch-1")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["created"], body["updated"], body["failed"]) == (5, 0, 0)
    assert [item["status"] for item in body["items"]] == [201] * 5
    first = body["items"][0]["application"]
    assert first["external_id"] == "b-0"
    assert first["feedback"]["newest_version"] == 1
    assert first["feedback"]["newest_state"] == "draft"
    after = await _counts(sessions, world.organization_id)
    assert after[0] - before[0] == 5 and after[1] - before[1] == 5
    assert after[2] - before[2] == 5 * 4  # two assessments, a strength, a growth area

    # The same batch under the same key: replayed, nothing written.
    again = await post(client, BATCH, key, {"items": _items(job_id, 5)}, idem="batch-1")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == body
    assert await _counts(sessions, world.organization_id) == after

    # Sent again under a new key: updated, and the same content adds no version.
    resent = await post(client, BATCH, key, {"items": _items(job_id, 5)})
    assert [item["status"] for item in resent.json()["items"]] == [200] * 5
    assert await _counts(sessions, world.organization_id) == after


async def test_a_batch_means_what_single_requests_mean(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    job_id = await _job(sessions, world.organization_id)
    single = await post(client, "/api/v1/applications", key, _items(job_id, 1)[0])
    assert single.status_code == 201
    changed = _items(job_id, 2)
    changed[0]["stage"] = "final"
    changed[0]["feedback"]["decision_summary"] = "Thank you. The statistics fell short."  # type: ignore[index]
    answer = await post(client, BATCH, key, {"items": changed})
    items = answer.json()["items"]
    assert [item["status"] for item in items] == [200, 201]
    assert items[0]["application"]["id"] == single.json()["id"]
    assert items[0]["application"]["stage"] == "final"
    assert items[0]["application"]["feedback"]["newest_version"] == 2
    read = await client.get(
        f"/api/v1/applications/{items[1]['application']['id']}",
        headers={"authorization": f"Bearer {key}"},
    )
    assert read.json() == items[1]["application"]


async def test_items_the_records_refuse_are_answered_in_place_and_the_rest_written(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    other = await make_world(sessions, slug="globex")
    key = await make_key(sessions, world.organization_id)
    job_id = await _job(sessions, world.organization_id)
    foreign_job = await _job(sessions, other.organization_id)
    items = _items(job_id, 5)
    items[1]["job_id"] = foreign_job  # another organization's job: as if none
    items[2]["feedback"]["assessments"][0]["requirement"] = "Juggling"  # type: ignore[index]
    items[3]["external_id"] = "b-0"  # named twice
    before = await _counts(sessions, world.organization_id)
    answer = await post(client, BATCH, key, {"items": items})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [item["status"] for item in body["items"]] == [201, 422, 422, 422, 201]
    assert body["failed"] == 3
    assert body["items"][1]["problem"]["errors"] == [
        {"field": "items.1.job_id", "message": "Your organization has no such job."}
    ]
    assert body["items"][2]["problem"]["errors"][0]["field"] == (
        "items.2.feedback.assessments.0.requirement"
    )
    after = await _counts(sessions, world.organization_id)
    assert after[0] - before[0] == 2


async def test_another_candidates_external_id_is_a_409_for_that_item(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    job_id = await _job(sessions, world.organization_id)
    await post(client, BATCH, key, {"items": _items(job_id, 1)})
    hijack = _items(job_id, 1)
    hijack[0]["email"] = "someone.else@example.com"
    answer = await post(client, BATCH, key, {"items": hijack})
    assert answer.json()["items"][0]["status"] == 409


async def test_a_malformed_item_refuses_the_batch_naming_its_fields(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    job_id = await _job(sessions, world.organization_id)
    items = _items(job_id, 3)
    items[2]["email"] = "not an address"
    before = await _counts(sessions, world.organization_id)
    answer = await post(client, BATCH, key, {"items": items})
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["items.2.email"]
    too_many = await post(client, BATCH, key, {"items": _items(job_id, 101)})
    assert too_many.status_code == 422
    empty = await post(client, BATCH, key, {"items": []})
    assert empty.status_code == 422
    assert await _counts(sessions, world.organization_id) == before


async def test_a_batch_costs_about_as_many_statements_as_one_item(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    job_id = await _job(sessions, world.organization_id)
    # The key's first use is noted (once a minute at most): not counted here.
    await post(client, BATCH, key, {"items": _items(job_id, 1, tag="first")})
    counted: list[str] = []
    engine = sessions.kw["bind"].sync_engine

    def count(*args: object) -> None:
        counted.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        await post(client, BATCH, key, {"items": _items(job_id, 1, tag="one")})
        one = list(counted)
        counted.clear()
        await post(client, BATCH, key, {"items": _items(job_id, 50, tag="many")})
        many = list(counted)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # Reads do not grow with the batch; nor do writes on PostgreSQL (SQLite runs a
    # multi-row INSERT … RETURNING one row at a time).
    reads = [[s for s in found if not s.startswith("INSERT")] for found in (one, many)]
    assert len(reads[1]) == len(reads[0]), reads
    if engine.dialect.name == "postgresql":
        assert len(many) == len(one), (one, many)
