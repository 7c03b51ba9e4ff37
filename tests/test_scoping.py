"""Every route, for every kind of actor: a record of another owner is a 404.

The routes are walked through every Mount and area, so a new route is covered
the day it is added. A route whose path names a record (`{application_id}`)
is asked for each record the actor may not read; every answer is checked for
traces of such records.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace

import httpx
import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from portal.access.models import AccessLink
from portal.api.keys import issue_key
from portal.ats.models import AtsEvent, AtsJobMapping
from portal.candidates.models import Application, Requirement
from portal.db import unit_of_work, utcnow
from portal.drafting.models import DraftingRun
from portal.feedback.drafts import load_draft
from portal.imports.models import ImportUpload
from portal.llm.models import Rephrasing
from portal.llm.rephrase import candidate_texts
from portal.postings.models import LibraryRequirement
from portal.routing import walk_routes
from portal.security.actors import Staff, StaffRole
from portal.threads.models import Message, SavedAnswer, Thread
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint
from portal.webhooks.service import new_secret
from tests.api_support import make_key
from tests.factories import CSRF_FIELD, World, make_staff, make_world, open_session
from tests.pool_support import add_member

Sessions = async_sessionmaker[AsyncSession]
COOKIE = "afterword_session"

# Path parameters that are not a record with an owner, and why.
NOT_OWNED = {
    "token": "a link token is itself the credential: whoever holds it may use it",
    "path": "static files are public",
    "slug": "an organization's branding stylesheet is public",
    "ats": "an applicant tracking system's name (greenhouse, lever, ashby), not a record",
    "organization": "an incoming webhook names its organization by slug; its signature, "
    "checked with that organization's secret, is the credential",
    "table": "names one of the insights dashboard's tables, not a record (its filters are "
    "scoped by the dashboard, tests/test_insights.py)",
}


@dataclass(frozen=True)
class Record:
    """An application, a staff account of its organization, and the texts that would
    betray them on a page."""

    world: World
    staff_id: int
    markers: tuple[str, ...]
    # A conversation about the application, its first message, a saved answer.
    thread_id: int = 0
    message_id: int = 0
    answer_id: int = 0
    membership_id: int = 0  # the candidate's talent-pool membership
    job_id: int = 0
    upload_id: int = 0
    requirement_id: int = 0  # a requirement of the job
    library_requirement_id: int = 0  # an entry of its organization's requirement library
    endpoint_id: int = 0  # an outgoing webhook endpoint of its organization
    delivery_id: int = 0  # a delivery to that endpoint
    mapping_id: int = 0  # an ATS job mapping of its organization
    key_id: int = 0  # an API key of its organization
    rephrasing_id: int = 0  # a language model's rephrasing of its feedback (portal.llm)
    event_id: int = 0  # a failed ATS event of its organization
    run_id: int = 0  # a bulk drafting run of its organization


@dataclass(frozen=True)
class Actor:
    name: str
    candidate_id: int | None = None
    staff_id: int | None = None
    admin: bool = False
    api_key: str = ""  # an API client of the organization, with every scope


# Pages for an organization's admins only: other staff find nothing there.
ADMIN_ONLY = (
    "/staff/people",
    "/staff/audit",
    "/staff/saved-answers",
    "/staff/settings",
    "/staff/api-keys",
    "/staff/jobs/{job_id:id}/delete",
    "/staff/webhooks",
    "/staff/ats",
    "/staff/jobs/library/{library_requirement_id:id}/delete",
    "/staff/privacy",
)


@dataclass
class Scene:
    records: dict[str, Record]
    actors: list[Actor]
    # actor name -> the records it may read
    readable: dict[str, set[str]]


async def _scene(sessions: Sessions) -> Scene:
    a = await make_world(
        sessions, slug="acme", email="ada@example.com", name="Ada Quill", job_title="Job Alpha"
    )
    c = await make_world(
        sessions, slug="acme", email="cy@example.com", name="Cy Varga", job_title="Job Gamma"
    )
    b = await make_world(
        sessions, slug="globex", email="bo@example.com", name="Bo Marsh", job_title="Job Beta"
    )
    staff_a = await make_staff(sessions, organization_id=a.organization_id, name="Sam Alpha")
    staff_b = await make_staff(
        sessions, organization_id=b.organization_id, email="sam@globex.example", name="Sam Beta"
    )
    staff_c = await make_staff(
        sessions, organization_id=c.organization_id, email="sid@acme.example", name="Sid Gamma"
    )
    admin_a = await make_staff(
        sessions, organization_id=a.organization_id, email="ann@acme.example", role="admin"
    )
    admin_b = await make_staff(
        sessions, organization_id=b.organization_id, email="ann@globex.example", role="admin"
    )
    records = {
        key: await _with_job_and_upload(
            sessions,
            Record(
                world,
                staff,
                (
                    *markers,
                    f"Quokka question {key}",
                    f"Saved reply {key}",
                    f"Quokka requirement {key}",
                    f"Quokka library entry {key}",
                    f"import-{key}.csv",
                ),
                *await _conversation(sessions, world, key),
                membership_id=await add_member(sessions, world),
            ),
        )
        for key, world, staff, markers in (
            ("A", a, staff_a, ("Ada Quill", "Job Alpha", "Sam Alpha")),
            ("B", b, staff_b, ("Bo Marsh", "Job Beta", "Sam Beta")),
            # candidate A's colleague in org A
            ("C", c, staff_c, ("Cy Varga", "Job Gamma", "Sid Gamma")),
        )
    }
    actors = [
        Actor("anonymous"),
        Actor("candidate A", candidate_id=a.candidate_id),
        Actor("candidate B", candidate_id=b.candidate_id),
        Actor("staff of org A", staff_id=staff_a),
        Actor("staff of org B", staff_id=staff_b),
        Actor("admin of org A", staff_id=admin_a, admin=True),
        Actor("admin of org B", staff_id=admin_b, admin=True),
        Actor("API key of org A", api_key=await make_key(sessions, a.organization_id)),
        Actor("API key of org B", api_key=await make_key(sessions, b.organization_id)),
    ]
    readable = {
        "anonymous": set(),
        "candidate A": {"A"},
        "candidate B": {"B"},
        "staff of org A": {"A", "C"},
        "staff of org B": {"B"},
        "admin of org A": {"A", "C"},
        "admin of org B": {"B"},
        "API key of org A": {"A", "C"},
        "API key of org B": {"B"},
    }
    return Scene(records, actors, readable)


async def _conversation(sessions: Sessions, world: World, key: str) -> tuple[int, int, int]:
    """A thread with one question about the world's application, and a saved answer of
    its organization: (thread id, message id, saved answer id)."""
    async with unit_of_work(sessions) as db:
        application = await db.get(Application, world.application_id)
        assert application is not None
        thread = Thread(
            organization_id=world.organization_id,
            application_id=world.application_id,
            candidate_id=world.candidate_id,
            job_id=application.job_id,
            state="waiting",
            waiting_since=utcnow(),
        )
        db.add(thread)
        await db.flush()
        message = Message(
            thread_id=thread.id, author_kind="candidate", body=f"Quokka question {key}"
        )
        answer = SavedAnswer(
            organization_id=world.organization_id, title=f"Saved reply {key}", body="Thanks."
        )
        db.add_all([message, answer])
        await db.flush()
        return thread.id, message.id, answer.id


async def _with_job_and_upload(sessions: Sessions, record: Record) -> Record:
    """The record with its application's job, a requirement of that job, an entry of
    its organization's requirement library (named after the record's markers) and an
    import upload of its organization (named after the record's last marker)."""
    async with unit_of_work(sessions) as db:
        job_id = (await db.get_one(Application, record.world.application_id)).job_id
        requirement = Requirement(job_id=job_id, position=9, name=record.markers[-3])
        entry = LibraryRequirement(
            organization_id=record.world.organization_id, name=record.markers[-2]
        )
        db.add_all([requirement, entry])
        upload = ImportUpload(
            organization_id=record.world.organization_id,
            staff_user_id=record.staff_id,
            filename=record.markers[-1],
            sha256="0" * 64,
            size=0,
            problems=[],
            summary={},
        )
        db.add(upload)
        endpoint = WebhookEndpoint(
            organization_id=record.world.organization_id,
            url="https://hooks.example.com/in",
            description=record.markers[0],
            event_types=["pool.joined"],
            secret=new_secret(),
        )
        db.add(endpoint)
        await db.flush()
        delivery = WebhookDelivery(
            endpoint_id=endpoint.id,
            message_id=f"msg_{endpoint.id}",
            event_type="pool.joined",
            body="{}",
            state="failed",
        )
        mapping = AtsJobMapping(
            organization_id=record.world.organization_id,
            ats="greenhouse",
            external_id=f"ext-{endpoint.id}",
            external_name=record.markers[0],
        )
        event = AtsEvent(
            organization_id=record.world.organization_id,
            ats="greenhouse",
            replay_key=f"sha256:{endpoint.id}",
            body="{}",
            state="failed",
            message=record.markers[0],
        )
        run = DraftingRun(
            organization_id=record.world.organization_id,
            staff_id=record.staff_id,
            application_ids=[record.world.application_id],
        )
        db.add_all([delivery, mapping, event, run])
        await db.flush()
        issued = await issue_key(
            db,
            organization_id=record.world.organization_id,
            name=record.markers[-4],
            scopes=["pool:read"],
            staff=None,
            now=utcnow(),
        )
        rephrasing_id = await _rephrasing(db, record)
        return replace(
            record,
            rephrasing_id=rephrasing_id,
            endpoint_id=endpoint.id,
            delivery_id=delivery.id,
            mapping_id=mapping.id,
            key_id=issued.id,
            event_id=event.id,
            job_id=job_id,
            upload_id=upload.id,
            requirement_id=requirement.id,
            library_requirement_id=entry.id,
            run_id=run.id,
        )


async def _rephrasing(db: AsyncSession, record: Record) -> int:
    """A language model's proposal for the record's feedback, naming its model after the
    record's first marker (the proposal's page shows it)."""
    actor = Staff(
        staff_id=record.staff_id,
        organization_id=record.world.organization_id,
        role=StaffRole.RECRUITER,
        name="",
        session_id_hash=b"",
    )
    stored = await load_draft(db, actor=actor, application_id=record.world.application_id)
    assert stored is not None
    texts = candidate_texts(stored.draft)
    rephrasing = Rephrasing(
        application_id=record.world.application_id,
        based_on_version=stored.version,
        model=record.markers[0],
        system="",
        prompt=json.dumps(texts),
        output=json.dumps(texts),
    )
    db.add(rephrasing)
    await db.flush()
    return rephrasing.id


# Path parameter -> the id of a record, for those that name records.
OWNED: dict[str, Callable[[Record], int]] = {
    "application_id": lambda record: record.world.application_id,
    "candidate_id": lambda record: record.world.candidate_id,
    "staff_user_id": lambda record: record.staff_id,
    "thread_id": lambda record: record.thread_id,
    "message_id": lambda record: record.message_id,
    "answer_id": lambda record: record.answer_id,
    "membership_id": lambda record: record.membership_id,
    "job_id": lambda record: record.job_id,
    "upload_id": lambda record: record.upload_id,
    "requirement_id": lambda record: record.requirement_id,
    "library_requirement_id": lambda record: record.library_requirement_id,
    "endpoint_id": lambda record: record.endpoint_id,
    "delivery_id": lambda record: record.delivery_id,
    "mapping_id": lambda record: record.mapping_id,
    "key_id": lambda record: record.key_id,
    "rephrasing_id": lambda record: record.rephrasing_id,
    "event_id": lambda record: record.event_id,
    "run_id": lambda record: record.run_id,
}


@pytest.fixture
async def browser(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("192.0.2.1", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def _endpoints(app: Starlette) -> list[tuple[str, str, list[str]]]:
    """(method, path, path parameters) for every endpoint, through every Mount."""
    found: list[tuple[str, str, list[str]]] = []
    for path, route in walk_routes(app.routes):
        if isinstance(route, Route):
            methods = sorted((route.methods or {"GET"}) - {"HEAD"})
            params = list(route.param_convertors)
        else:
            assert isinstance(route, Mount)
            methods, path, params = ["GET"], path + "/{path}", ["path"]
        found.extend((method, path, params) for method in methods)
    return found


def _key(endpoint: tuple[str, str, list[str]]) -> tuple[str, str, tuple[str, ...]]:
    method, path, params = endpoint
    return method, path, tuple(params)


def _fill(path: str, values: Mapping[str, object]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + ":id}", str(value)).replace("{" + name + "}", str(value))
    return path


async def _ask(
    client: httpx.AsyncClient, sessions: Sessions, actor: Actor, method: str, path: str
) -> httpx.Response:
    """The request as the actor, in a fresh session (POSTs may end it)."""
    client.cookies.clear()
    page = await client.get("/signin")
    token = CSRF_FIELD.search(page.text)
    assert token
    if actor.api_key and path.startswith("/api/"):
        headers = {"authorization": f"Bearer {actor.api_key}", "idempotency-key": path + method}
        if method == "GET":
            return await client.get(path, headers=headers)
        return await client.request(method, path, json={}, headers=headers)
    if actor.api_key:  # elsewhere a key is nothing: the request is anyone's
        headers = {"authorization": f"Bearer {actor.api_key}", "x-csrftoken": token.group(1)}
        if method == "GET":
            return await client.get(path, headers=headers)
        return await client.request(
            method, path, data={"csrftoken": token.group(1)}, headers=headers
        )
    if actor.candidate_id or actor.staff_id:
        cookie = await open_session(
            sessions, candidate_id=actor.candidate_id, staff_user_id=actor.staff_id
        )
        client.cookies.set(COOKIE, cookie)
    if method == "GET":
        return await client.get(path)
    return await client.request(
        method,
        path,
        data={"csrftoken": token.group(1), "email": "x@example.com", "password": "x"},
        headers={"x-csrftoken": token.group(1)},
    )


def _refused(response: httpx.Response) -> bool:
    """404, or the door of an area the actor may not enter at all (the sign-in
    page for candidates' pages, the staff sign-in for staff pages)."""
    if response.status_code == 404:
        return True
    if response.status_code == 401 and "Get a sign-in link" in response.text:
        return True
    # The API's door: no key (or not a valid one).
    if (
        response.status_code == 401
        and response.headers["content-type"] == "application/problem+json"
    ):
        return True
    return response.status_code == 303 and response.headers["location"].endswith("/staff/signin")


async def test_every_route_answers_404_for_another_owners_record(
    app: Starlette, browser: httpx.AsyncClient, sessions: Sessions
) -> None:
    scene = await _scene(sessions)
    endpoints = _endpoints(app)
    assert ("GET", "/feedback/{application_id:id}", ["application_id"]) in endpoints
    assert ("GET", "/staff/", []) in endpoints
    # The recruiter's workspace: the list (no record in its path, checked for leaks)
    # and every page of one application.
    workspace = [
        ("GET", "/staff/applications", ()),
        ("GET", "/staff/applications/{application_id:id}", ("application_id",)),
        ("GET", "/staff/applications/{application_id:id}/summary.pdf", ("application_id",)),
        ("POST", "/staff/applications/{application_id:id}/links", ("application_id",)),
        ("GET", "/staff/applications/{application_id:id}/links/revoke", ("application_id",)),
        ("POST", "/staff/applications/{application_id:id}/links/revoke", ("application_id",)),
        ("GET", "/staff/applications/{application_id:id}/feedback", ("application_id",)),
        ("POST", "/staff/applications/{application_id:id}/feedback", ("application_id",)),
        ("POST", "/staff/applications/{application_id:id}/feedback/check", ("application_id",)),
        ("GET", "/staff/applications/{application_id:id}/preview", ("application_id",)),
        ("POST", "/staff/applications/{application_id:id}/publish", ("application_id",)),
    ]
    assert set(workspace) <= set(map(_key, endpoints))
    # The job pages, the requirement library and the admins' deletions.
    jobs = [
        ("GET", "/staff/jobs", ()),
        ("GET", "/staff/jobs/{job_id:id}", ("job_id",)),
        ("POST", "/staff/jobs/{job_id:id}/requirements/copy", ("job_id",)),
        (
            "POST",
            "/staff/jobs/{job_id:id}/requirements/{requirement_id:id}/remove",
            ("job_id", "requirement_id"),
        ),
        ("POST", "/staff/jobs/{job_id:id}/delete", ("job_id",)),
        ("GET", "/staff/jobs/library/{library_requirement_id:id}", ("library_requirement_id",)),
    ]
    assert set(jobs) <= set(map(_key, endpoints))
    for method, template, params in endpoints:
        unknown = [p for p in params if p not in OWNED and p not in NOT_OWNED]
        assert not unknown, (
            f"{method} {template}: say which records {unknown} name (OWNED) and scope the "
            "route with the domain's readable_...() statement, or why they are not owned"
        )
        owned = [p for p in params if p in OWNED]
        for actor in scene.actors:
            others = [k for k in scene.records if k not in scene.readable[actor.name]]
            secrets = {m for k in others for m in scene.records[k].markers}
            fillers: dict[str, object] = {
                p: "x" * 43 if p == "token" else "css/portal.css" for p in params
            }
            targets = others if owned else [None]
            for key in targets:
                values: dict[str, object] = dict(fillers)
                if key is not None:
                    values.update({p: OWNED[p](scene.records[key]) for p in owned})
                path = _fill(template, values)
                response = await _ask(browser, sessions, actor, method, path)
                where = f"{actor.name}: {method} {path} -> {response.status_code}"
                leaked = [m for m in secrets if m in response.text]
                assert not leaked, f"{where} shows {leaked}"
                if key is not None:
                    assert _refused(response), where
            # And the route does find what the actor may read (the test can fail).
            if owned and method == "GET" and (actor.admin or not template.startswith(ADMIN_ONLY)):
                for key in scene.readable[actor.name]:
                    own = {p: OWNED[p](scene.records[key]) for p in owned}
                    response = await _ask(browser, sessions, actor, method, _fill(template, own))
                    assert response.status_code != 404, f"{actor.name}: {template} hides {key}"


async def test_the_database_refuses_an_application_mixing_two_organizations(
    sessions: Sessions,
) -> None:
    a = await make_world(sessions, slug="acme")
    b = await make_world(sessions, slug="globex", email="bo@example.com")
    # Candidate of A, job of B: whichever organization the row claims, one side disagrees.
    job_b = (await _job_of(sessions, b.application_id)).job_id
    for organization_id in (a.organization_id, b.organization_id):
        with pytest.raises(IntegrityError):
            async with unit_of_work(sessions) as db:
                db.add(
                    Application(
                        organization_id=organization_id,
                        candidate_id=a.candidate_id,
                        job_id=job_b,
                        stage="applied",
                    )
                )
                await db.flush()
    # The same candidate and a job of their own organization are fine.
    job_a = (await _job_of(sessions, a.application_id)).job_id
    async with unit_of_work(sessions) as db:
        db.add(
            Application(
                organization_id=a.organization_id,
                candidate_id=a.candidate_id,
                job_id=job_a,
                stage="applied",
            )
        )
        await db.flush()


async def _job_of(sessions: Sessions, application_id: int) -> Application:
    async with sessions() as db:
        application = await db.get(Application, application_id)
    assert application is not None
    return application


async def test_the_database_refuses_a_thread_or_link_that_disagrees_with_its_application(
    sessions: Sessions,
) -> None:
    a = await make_world(sessions, slug="acme")
    b = await make_world(sessions, slug="globex", email="bo@example.com")
    application = await _job_of(sessions, a.application_id)
    other = await _job_of(sessions, b.application_id)
    right = {
        "organization_id": a.organization_id,
        "application_id": a.application_id,
        "candidate_id": a.candidate_id,
        "job_id": application.job_id,
    }
    # A thread copies its application's organization, candidate and job: each wrong
    # copy (another organization's, another candidate's, another job's) is refused.
    for wrong in (
        {"organization_id": b.organization_id},
        {"candidate_id": b.candidate_id},
        {"job_id": other.job_id},
    ):
        with pytest.raises(IntegrityError):
            async with unit_of_work(sessions) as db:
                db.add(Thread(**{**right, **wrong}, state="waiting"))
                await db.flush()
    # An invitation link to another candidate's application is refused too.
    now = utcnow()
    with pytest.raises(IntegrityError):
        async with unit_of_work(sessions) as db:
            db.add(
                AccessLink(
                    candidate_id=b.candidate_id,
                    application_id=a.application_id,
                    purpose="invitation",
                    token_hash=b"x" * 32,
                    expires_at=now,
                )
            )
            await db.flush()
    # The right copies are accepted, and a sign-in link needs no application.
    async with unit_of_work(sessions) as db:
        db.add(Thread(**right, state="waiting"))
        db.add(
            AccessLink(
                candidate_id=b.candidate_id, purpose="sign_in", token_hash=b"y" * 32, expires_at=now
            )
        )
        await db.flush()
