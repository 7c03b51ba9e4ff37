"""The JSON API (/api/v1): what an ATS does with it, and what an attacker cannot."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.api.models import ApiKey as ApiKeyRow
from portal.audit.models import AuditEvent
from portal.candidates.models import Application, Job
from portal.db import unit_of_work
from portal.feedback.models import Feedback
from tests.api_support import application_body, auth, make_key, post
from tests.factories import make_staff, make_world, open_session

Sessions = async_sessionmaker[AsyncSession]
PROBLEM = "application/problem+json"


async def _job_id(sessions: Sessions, organization_id: int) -> int:
    async with unit_of_work(sessions) as db:
        found = await db.scalar(select(Job.id).where(Job.organization_id == organization_id))
    assert found is not None
    return found


async def test_an_ats_creates_a_job_and_a_rejection_with_feedback_and_publishes_it(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    job = await post(
        client,
        "/api/v1/jobs",
        key,
        {
            "title": "Data Engineer",
            "external_id": "gh-job-7",
            "requirements": [
                {"name": "SQL", "description": "Writes and tunes queries"},
                {"name": "Statistics", "description": "Designs tests"},
            ],
        },
    )
    assert job.status_code == 201, job.text
    assert job.headers["location"] == f"/api/v1/jobs/{job.json()['id']}"
    assert [r["name"] for r in job.json()["requirements"]] == ["SQL", "Statistics"]

    created = await post(
        client,
        "/api/v1/applications",
        key,
        application_body(job_external_id="gh-job-7"),
    )
    assert created.status_code == 201, created.text
    application = created.json()
    assert application["external_id"] == "gh-app-1"
    assert application["feedback"]["newest_state"] == "draft"
    assert application["feedback"]["newest_version"] == 1

    # The same application again, with other words: updated, a second version.
    again = await post(
        client,
        "/api/v1/applications",
        key,
        application_body(
            job_external_id="gh-job-7",
            summary="Thank you for your time. Your SQL was strong; the statistics fell short.",
            stage="final",
        ),
    )
    assert again.status_code == 200, again.text
    assert again.json()["id"] == application["id"]
    assert again.json()["stage"] == "final"
    assert again.json()["feedback"]["newest_version"] == 2

    published = await post(client, f"/api/v1/applications/{application['id']}/publish", key, {})
    assert published.status_code == 200, published.text
    assert published.json() == {
        "application_id": application["id"],
        "version": 2,
        "published": True,
        "link_sent": True,
    }
    read = await client.get(f"/api/v1/applications/{application['id']}", headers=auth(key))
    assert read.json()["feedback"]["published_version"] == 2
    sent = await post(client, f"/api/v1/applications/{application['id']}/send-link", key, {})
    assert sent.status_code == 200 and sent.json()["link_sent"] is True
    async with unit_of_work(sessions) as db:
        actions = (
            await db.scalars(select(AuditEvent.action).where(AuditEvent.actor_kind == "api_key"))
        ).all()
    assert {"job.created", "application.created", "feedback.saved", "feedback.published"} <= set(
        actions
    )


async def test_risky_feedback_is_refused_with_its_findings(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    job_id = await _job_id(sessions, world.organization_id)
    body = application_body(job_id=job_id)
    body["feedback"]["strengths"] = [{"body": "Great culture fit, but too old for the team."}]
    created = await post(client, "/api/v1/applications", key, body)
    assert created.status_code == 201, created.text
    refused = await post(client, f"/api/v1/applications/{created.json()['id']}/publish", key, {})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    assert problem["type"] == "urn:afterword:problem:risky-feedback"
    assert problem["findings"], problem
    assert all(f["field"].startswith("feedback.strengths.0") for f in problem["errors"])
    async with unit_of_work(sessions) as db:
        states = (
            await db.scalars(
                select(Feedback.state).where(Feedback.application_id == created.json()["id"])
            )
        ).all()
    assert [s.value for s in states] == ["draft"]


async def test_invalid_fields_are_each_named(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    body = application_body(email="not-an-address", stage="lunch")
    body["feedback"]["assessments"][0]["rating"] = "great"
    answer = await post(client, "/api/v1/applications", key, body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    fields = {error["field"] for error in answer.json()["errors"]}
    assert {"email", "stage", "feedback.assessments.0.rating"} <= fields
    assert answer.json()["instance"] == "/api/v1/applications"
    unknown = await post(
        client,
        "/api/v1/applications",
        key,
        application_body(job_id=await _job_id(sessions, world.organization_id), sql=1),
    )
    assert unknown.status_code == 422
    assert {e["field"] for e in unknown.json()["errors"]} == {"sql"}


async def test_an_unknown_requirement_is_named_and_nothing_is_written(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    body = application_body(job_id=await _job_id(sessions, world.organization_id))
    body["feedback"]["strengths"][0]["requirement"] = "Juggling"
    answer = await post(client, "/api/v1/applications", key, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == "feedback.strengths.0.requirement"
    async with unit_of_work(sessions) as db:
        count = await db.scalar(
            select(func.count())
            .select_from(Application)
            .where(Application.external_id.is_not(None))
        )
    assert count == 0


async def test_malformed_json_is_400_and_another_media_type_415(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    headers = {**auth(key), "content-type": "application/json"}
    broken = await client.post("/api/v1/jobs", content=b'{"title": ', headers=headers)
    assert broken.status_code == 400
    assert broken.json()["type"] == "urn:afterword:problem:malformed-json"
    form = await client.post("/api/v1/jobs", data={"title": "x"}, headers=auth(key))
    assert form.status_code == 415


async def test_lists_page_with_an_opaque_cursor(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    for number in range(3):
        answer = await post(client, "/api/v1/jobs", key, {"title": f"Job {number}"})
        assert answer.status_code == 201
    first = await client.get("/api/v1/jobs?limit=2", headers=auth(key))
    assert first.status_code == 200
    assert len(first.json()["items"]) == 2
    following = await client.get(first.json()["next"], headers=auth(key))
    assert len(following.json()["items"]) == 2
    assert following.json()["next"] is None
    seen = [j["id"] for j in first.json()["items"] + following.json()["items"]]
    assert len(set(seen)) == 4
    bad = await client.get("/api/v1/jobs?cursor=nonsense!", headers=auth(key))
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "cursor"
    too_many = await client.get("/api/v1/jobs?limit=100000", headers=auth(key))
    assert too_many.status_code == 400
    # A filter holding a control character (NUL, which PostgreSQL cannot compare) is
    # refused by name, on both databases.
    for sent in ("gh%00app", "gh%0Aapp"):
        refused = await client.get(f"/api/v1/applications?external_id={sent}", headers=auth(key))
        assert refused.status_code == 400, sent
        assert refused.json()["errors"][0]["field"] == "external_id"
    found = await client.get("/api/v1/applications?external_id=gh-app", headers=auth(key))
    assert found.status_code == 200 and found.json()["items"] == []


async def test_a_job_is_updated_by_patch(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    job_id = await _job_id(sessions, world.organization_id)
    changed = await client.patch(
        f"/api/v1/jobs/{job_id}",
        json={"location": "Berlin", "requirements": [{"name": "Python", "description": "pandas"}]},
        headers=auth(key),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["location"] == "Berlin"
    assert changed.json()["title"] == "Data Analyst"
    assert [r["name"] for r in changed.json()["requirements"]] == ["SQL", "Statistics", "Python"]


async def test_threads_and_pool_members_are_read_with_their_scopes(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    threads = await client.get("/api/v1/threads", headers=auth(key))
    assert threads.status_code == 200 and threads.json() == {"items": [], "next": None}
    members = await client.get("/api/v1/pool/members", headers=auth(key))
    assert members.status_code == 200 and members.json() == {"items": [], "next": None}


# --- the attacker ---------------------------------------------------------------------


async def test_another_organizations_key_gets_404_for_its_records(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    other = await make_world(sessions, slug="globex", email="other@example.com")
    key = await make_key(sessions, other.organization_id)
    job_id = await _job_id(sessions, world.organization_id)
    assert (await client.get(f"/api/v1/jobs/{job_id}", headers=auth(key))).status_code == 404
    patched = await client.patch(f"/api/v1/jobs/{job_id}", json={"title": "x"}, headers=auth(key))
    assert patched.status_code == 404
    read = await client.get(f"/api/v1/applications/{world.application_id}", headers=auth(key))
    assert read.status_code == 404 and read.headers["content-type"] == PROBLEM
    for action in ("publish", "send-link"):
        answer = await post(
            client, f"/api/v1/applications/{world.application_id}/{action}", key, {}
        )
        assert answer.status_code == 404, action
    # Naming another organization's job in a body is no way in either.
    body = application_body(job_id=job_id)
    assert (await post(client, "/api/v1/applications", key, body)).status_code == 422
    listed = await client.get("/api/v1/applications", headers=auth(key))
    assert [a["id"] for a in listed.json()["items"]] == [other.application_id]


async def test_a_wrong_or_missing_key_is_401_without_saying_why(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    answers = [
        await client.get("/api/v1/jobs"),
        await client.get("/api/v1/jobs", headers={"authorization": "Bearer"}),
        await client.get("/api/v1/jobs", headers={"authorization": f"Basic {key}"}),
        await client.get("/api/v1/jobs", headers={"authorization": f"Bearer {key}x"}),
        await client.get("/api/v1/jobs", headers={"authorization": "Bearer aw_" + "A" * 43}),
    ]
    bodies = {answer.text for answer in answers}
    assert {answer.status_code for answer in answers} == {401}
    assert len(bodies) == 1
    assert answers[0].headers["content-type"] == PROBLEM
    assert answers[0].headers["www-authenticate"].startswith("Bearer")


async def test_a_revoked_key_stops_at_once(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    assert (await client.get("/api/v1/jobs", headers=auth(key))).status_code == 200
    async with unit_of_work(sessions) as db:
        row = await db.scalar(select(ApiKeyRow))
        assert row is not None and row.last_used_at is not None
        from portal.api.keys import revoke_key
        from portal.db import utcnow

        await revoke_key(
            db, organization_id=world.organization_id, key_id=row.id, staff=None, now=utcnow()
        )
    assert (await client.get("/api/v1/jobs", headers=auth(key))).status_code == 401


async def test_a_missing_scope_is_403(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    reader = await make_key(sessions, world.organization_id, scopes=["applications:read"])
    refused = await post(client, "/api/v1/jobs", reader, {"title": "Nope"})
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    assert (await client.get("/api/v1/threads", headers=auth(reader))).status_code == 403
    assert (await client.get("/api/v1/pool/members", headers=auth(reader))).status_code == 403
    pool_only = await make_key(sessions, world.organization_id, scopes=["pool:read"])
    assert (await client.get("/api/v1/jobs", headers=auth(pool_only))).status_code == 403
    assert (await client.get("/api/v1/pool/members", headers=auth(pool_only))).status_code == 200


async def test_a_staff_session_cookie_alone_is_401(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    staff_id = await make_staff(sessions, organization_id=world.organization_id, role="admin")
    cookie = await open_session(sessions, staff_user_id=staff_id)
    client.cookies.set("afterword_session", cookie)
    assert (await client.get("/staff/queue")).status_code == 200
    assert (await client.get("/api/v1/jobs")).status_code == 401
    answer = await client.post(
        "/api/v1/jobs", json={"title": "x"}, headers={"idempotency-key": "k1"}
    )
    assert answer.status_code == 401
    assert "set-cookie" not in answer.headers


async def test_an_oversized_body_is_413(client: httpx.AsyncClient, sessions: Sessions) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    answer = await client.post(
        "/api/v1/applications",
        content=b"{" + b" " * (10 * 1024 * 1024) + b"}",
        headers={**auth(key), "content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["status"] == 413


async def test_script_is_stored_and_returned_as_data(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    key = await make_key(sessions, world.organization_id)
    created = await post(client, "/api/v1/jobs", key, {"title": "<script>alert(1)</script>"})
    assert created.status_code == 201
    assert created.headers["content-type"] == "application/json"
    read = await client.get(f"/api/v1/jobs/{created.json()['id']}", headers=auth(key))
    assert read.json()["title"] == "<script>alert(1)</script>"
    assert "<script>" not in read.text.replace("<script>alert(1)</script>", "")
