"""The `/api/v1` handlers: read the JSON body into the model the route takes, call
`portal.api.service`, answer JSON (errors as problem details, portal.api.problems).

POST and PATCH go through `Idempotency-Key` (portal.api.idempotency): the work and
its stored answer are written in one transaction; an error's answer is stored
after the work was rolled back, so a retry gets the same error.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal.api import batch, idempotency
from portal.api import service as api
from portal.api.forms import (
    ApplicationBatchIn,
    ApplicationBatchOut,
    ApplicationIn,
    ApplicationOut,
    ApplicationPage,
    ExternalId,
    JobIn,
    JobOut,
    JobPage,
    JobPatch,
    LinkSentOut,
    MemberPage,
    Page,
    PublishedOut,
    PublishIn,
    ScorecardIn,
    ScorecardList,
    ScorecardOut,
    SendLinkIn,
    ThreadPage,
)
from portal.api.models import ApiScope
from portal.api.openapi import PAGE, Operation, Query, documented, openapi_document
from portal.api.problems import MEDIA_TYPE, ApiProblem, invalid, problem_body
from portal.auth.areas import api_client_of
from portal.db import unit_of_work, utcnow
from portal.routing import needs_scope
from portal.web import db_session, portal

# An ATS id given in a query string, read by the same rule as in a body; the
# document says the rule as a pattern (portal.forms.OneLine: no C0 or C1 control
# character, no Unicode line or paragraph separator).
EXTERNAL_ID: TypeAdapter[str] = TypeAdapter(ExternalId)
ONE_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]+$"

M = TypeVar("M", bound=BaseModel)
PREFIX = "/api/v1"


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Work = Callable[[Request, AsyncSession], Awaitable[Answer]]


def _response(answer: Answer, *, replayed: bool = False) -> Response:
    headers = {"cache-control": "no-store", **answer.headers}
    if replayed:
        headers["idempotent-replayed"] = "true"
    problem = isinstance(answer.body, dict) and "type" in answer.body and answer.status >= 400
    return JSONResponse(
        answer.body,
        status_code=answer.status,
        headers=headers,
        media_type=MEDIA_TYPE if problem else "application/json",
    )


def _problem(request: Request, problem: ApiProblem) -> Answer:
    return Answer(problem.status, problem.body(request.url.path), problem.headers)


def _not_found(request: Request) -> Answer:
    return Answer(
        404,
        problem_body(
            404,
            detail="There is no such record, or it is not your organization's.",
            instance=request.url.path,
        ),
    )


def body_model(request: Request, model: type[M], body: bytes) -> M:
    """The request's JSON body as `model`: 415 for another media type, 400 for
    malformed JSON, 422 naming each invalid field."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ApiProblem(
            415,
            "Send the body as JSON, with Content-Type: application/json.",
            kind="unsupported-media-type",
        )
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiProblem(
            400,
            f"The body is not valid JSON: {exc}.",
            kind="malformed-json",
            title="Malformed JSON",
        ) from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc) from exc


def _refuse_unknown_query(request: Request) -> None:
    """A query parameter the operation does not take is a mistake: 400, named."""
    operation: Operation | None = getattr(request.scope.get("endpoint"), "api_operation", None)
    allowed = {query.name for query in operation.query} if operation else set()
    unknown = sorted({name for name in request.query_params if name not in allowed})
    if unknown:
        raise ApiProblem(
            400,
            "Unknown query parameters: " + ", ".join(repr(name) for name in unknown) + ".",
            kind="unknown-parameter",
            title="Unknown query parameter",
            errors=[
                {"field": name, "message": "Not a parameter of this operation."} for name in unknown
            ],
        )


async def _run(request: Request, work: Work) -> Response:
    """Run `work` in the request's transaction, answering its problems."""
    try:
        _refuse_unknown_query(request)
        async with db_session(request) as db:
            answer = await work(request, db)
    except ApiProblem as problem:
        answer = _problem(request, problem)
    except api.NotFound:
        answer = _not_found(request)
    return _response(answer)


async def _run_idempotent(request: Request, work: Work) -> Response:
    """`_run`, once per `Idempotency-Key` (see the module's docstring)."""
    actor = api_client_of(request)
    try:
        _refuse_unknown_query(request)
    except ApiProblem as problem:
        return _response(_problem(request, problem))
    key = request.headers.get("idempotency-key")
    wrong = idempotency.key_problem(key)
    if wrong or key is None:
        return _response(
            _problem(
                request,
                ApiProblem(
                    400,
                    wrong,
                    kind="idempotency-key-missing",
                    title="Idempotency-Key needed",
                    errors=[{"field": "Idempotency-Key", "message": wrong}],
                ),
            )
        )
    body = await request.body()
    sessions = portal(request).sessions
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    begun = await idempotency.begin(
        portal(request).read_sessions,
        api_key_id=actor.key_id,
        key=idempotency.normalized(key),
        fingerprint=idempotency.fingerprint(request.method, path, body),
        now=utcnow(),
    )
    if isinstance(begun, idempotency.Replay):
        return _response(Answer(begun.status_code, begun.body, begun.headers), replayed=True)
    if isinstance(begun, idempotency.Running):
        return _response(
            _problem(
                request,
                ApiProblem(
                    409,
                    "A request with this Idempotency-Key is still running: retry later.",
                    kind="idempotency-key-in-use",
                    title="Request in progress",
                    headers={"retry-after": "1"},
                ),
            )
        )
    if isinstance(begun, idempotency.Mismatch):
        return _response(
            _problem(
                request,
                ApiProblem(
                    422,
                    "This Idempotency-Key was used for another request (another method, "
                    "path or body): use a new key for a new request.",
                    kind="idempotency-key-reused",
                    title="Idempotency-Key reused",
                ),
            )
        )
    row_id = begun.row_id
    try:
        try:
            async with db_session(request) as db:
                answer = await work(request, db)
                await idempotency.complete(
                    db,
                    row_id=row_id,
                    status_code=answer.status,
                    body=answer.body,
                    headers=answer.headers,
                    now=utcnow(),
                )
            return _response(answer)
        except ApiProblem as problem:
            answer = _problem(request, problem)
        except api.NotFound:
            answer = _not_found(request)
        async with unit_of_work(sessions) as db:
            await idempotency.complete(
                db,
                row_id=row_id,
                status_code=answer.status,
                body=answer.body,
                headers=answer.headers,
                now=utcnow(),
            )
        return _response(answer)
    except BaseException:
        # Unexpected (a bug, the database gone, the client gone): the key is let go,
        # so that a retry runs the request again.
        await idempotency.abandon(sessions, row_id=row_id)
        raise


def _next(request: Request, after: api.Cursor | None, limit: int, **filters: str) -> str | None:
    """The next page's URL (path and query), or None after the last page."""
    if after is None:
        return None
    query = urlencode({**filters, "limit": limit, "cursor": after.encode()})
    return f"{request.url.path}?{query}"


def _dump(model: BaseModel) -> Any:
    return model.model_dump(mode="json")


# A service's list of one page: (items, the cursor after them or None).
Lister = Callable[..., Awaitable[tuple[list[Any], "api.Cursor | None"]]]


async def _list_page(request: Request, lister: Lister, page: type[Page]) -> Response:
    """One page of a list the query filters by nothing but `cursor` and `limit`."""

    async def work(request: Request, db: AsyncSession) -> Answer:
        cursor = api.read_cursor(request.query_params.get("cursor"))
        limit = api.read_limit(request.query_params.get("limit"))
        items, after = await lister(db, actor=api_client_of(request), cursor=cursor, limit=limit)
        return Answer(200, _dump(page(items=items, next=_next(request, after, limit))))

    return await _run(request, work)


# --- jobs ----------------------------------------------------------------------------


@needs_scope(ApiScope.APPLICATIONS_READ)
@documented(Operation("List jobs", {200: JobPage}, query=PAGE))
async def list_jobs(request: Request) -> Response:
    return await _list_page(request, api.list_jobs, JobPage)


@needs_scope(ApiScope.APPLICATIONS_WRITE)
@documented(
    Operation(
        "Create a job with its requirements",
        {201: JobOut},
        body=JobIn,
        description="`external_id` is the ATS's id of the job, by which applications may "
        "name it (409 when another job has it).",
    )
)
async def create_job(request: Request) -> Response:
    async def work(request: Request, db: AsyncSession) -> Answer:
        data = body_model(request, JobIn, await request.body())
        job = await api.create_job(db, actor=api_client_of(request), data=data, now=utcnow())
        return Answer(201, _dump(job), {"location": f"{PREFIX}/jobs/{job.id}"})

    return await _run_idempotent(request, work)


@needs_scope(ApiScope.APPLICATIONS_READ)
@documented(Operation("Read a job", {200: JobOut}))
async def get_job(request: Request) -> Response:
    async def work(request: Request, db: AsyncSession) -> Answer:
        job = await api.get_job(
            db, actor=api_client_of(request), job_id=request.path_params["job_id"]
        )
        return Answer(200, _dump(job))

    return await _run(request, work)


@needs_scope(ApiScope.APPLICATIONS_WRITE)
@documented(Operation("Change a job, add or reword requirements", {200: JobOut}, body=JobPatch))
async def update_job(request: Request) -> Response:
    async def work(request: Request, db: AsyncSession) -> Answer:
        data = body_model(request, JobPatch, await request.body())
        job = await api.update_job(
            db, actor=api_client_of(request), job_id=request.path_params["job_id"], data=data
        )
        return Answer(200, _dump(job))

    return await _run_idempotent(request, work)


# --- applications --------------------------------------------------------------------


@needs_scope(ApiScope.APPLICATIONS_READ)
@documented(
    Operation(
        "List applications with their feedback and thread state",
        {200: ApplicationPage},
        query=(
            *PAGE,
            Query(
                "external_id",
                "Only the application with this ATS id (one line: no control characters).",
                {"type": "string", "minLength": 1, "maxLength": 200, "pattern": ONE_LINE_PATTERN},
            ),
        ),
    )
)
async def list_applications(request: Request) -> Response:
    async def work(request: Request, db: AsyncSession) -> Answer:
        cursor = api.read_cursor(request.query_params.get("cursor"))
        limit = api.read_limit(request.query_params.get("limit"))
        external_id = request.query_params.get("external_id")
        if external_id is not None:
            # The same rule as an ATS id in a body (1 to 200 characters, one line: no
            # control character, which PostgreSQL could not even compare).
            try:
                external_id = EXTERNAL_ID.validate_python(external_id)
            except ValidationError as exc:
                message = exc.errors()[0]["msg"]
                raise ApiProblem(
                    400,
                    f"external_id: {message}",
                    kind="bad-filter",
                    errors=[{"field": "external_id", "message": message}],
                ) from None
        items, after = await api.list_applications(
            db, actor=api_client_of(request), cursor=cursor, limit=limit, external_id=external_id
        )
        filters = {} if external_id is None else {"external_id": external_id}
        next_url = _next(request, after, limit, **filters)
        return Answer(200, _dump(ApplicationPage(items=items, next=next_url)))

    return await _run(request, work)


@needs_scope(ApiScope.APPLICATIONS_WRITE)
@documented(
    Operation(
        "Create or update a rejected application with its feedback draft",
        {201: ApplicationOut, 200: ApplicationOut},
        body=ApplicationIn,
        description="By the ATS's id of the application (`external_id`): 201 when created, "
        "200 when updated. The feedback is saved as a draft version (the same content as "
        "the newest version adds none).",
    )
)
async def put_application(request: Request) -> Response:
    async def work(request: Request, db: AsyncSession) -> Answer:
        data = body_model(request, ApplicationIn, await request.body())
        application, created = await api.put_application(
            db, actor=api_client_of(request), data=data, now=utcnow()
        )
        return Answer(
            201 if created else 200,
            _dump(application),
            {"location": f"{PREFIX}/applications/{application.id}"},
        )

    return await _run_idempotent(request, work)


@needs_scope(ApiScope.APPLICATIONS_WRITE)
@documented(
    Operation(
        "Create or update up to 100 rejected applications at once",
        {200: ApplicationBatchOut},
        body=ApplicationBatchIn,
        description="Each item is what `POST /applications` takes and means the same; the "
        "batch is written in bulk, in one transaction, under one Idempotency-Key. A "
        "malformed item refuses the whole batch (422, fields named `items.<n>.<field>`); "
        "an item the organization's records refuse (no such job, a requirement the job "
        "lacks, an external id of another candidate's application) is answered in its "
        "place with its problem and status, and nothing of it is written.",
    )
)
async def put_applications(request: Request) -> Response:
    async def work(request: Request, db: AsyncSession) -> Answer:
        data = body_model(request, ApplicationBatchIn, await request.body())
        done = await batch.put_applications(
            db,
            actor=api_client_of(request),
            data=data,
            settings=portal(request).settings,
            now=utcnow(),
            instance=request.url.path,
        )
        return Answer(200, _dump(done))

    return await _run_idempotent(request, work)


@needs_scope(ApiScope.APPLICATIONS_READ)
@documented(Operation("Read an application, its feedback state and threads", {200: ApplicationOut}))
async def get_application(request: Request) -> Response:
    async def work(request: Request, db: AsyncSession) -> Answer:
        found = await api.get_application(
            db, actor=api_client_of(request), application_id=request.path_params["application_id"]
        )
        return Answer(200, _dump(found))

    return await _run(request, work)


@needs_scope(ApiScope.APPLICATIONS_WRITE)
@documented(
    Operation(
        "Publish the newest feedback version and email the candidate's link",
        {200: PublishedOut},
        body=PublishIn,
        description="Through the feedback check: risky findings answer 422 "
        "(`risky-feedback`) with the findings.",
    )
)
async def publish(request: Request) -> Response:
    async def work(request: Request, db: AsyncSession) -> Answer:
        data = body_model(request, PublishIn, await request.body())
        done = await api.publish(
            db,
            actor=api_client_of(request),
            application_id=request.path_params["application_id"],
            data=data,
            settings=portal(request).settings,
            now=utcnow(),
        )
        return Answer(200, _dump(done))

    return await _run_idempotent(request, work)


@needs_scope(ApiScope.APPLICATIONS_WRITE)
@documented(
    Operation(
        "Email the candidate a fresh link to their feedback", {200: LinkSentOut}, body=SendLinkIn
    )
)
async def send_link(request: Request) -> Response:
    async def work(request: Request, db: AsyncSession) -> Answer:
        body_model(request, SendLinkIn, await request.body())
        sent = await api.send_link(
            db,
            actor=api_client_of(request),
            application_id=request.path_params["application_id"],
            settings=portal(request).settings,
            now=utcnow(),
        )
        return Answer(200, _dump(sent))

    return await _run_idempotent(request, work)


# --- threads and the talent pool -----------------------------------------------------


@needs_scope(ApiScope.THREADS_READ)
@documented(Operation("List where candidates' questions stand", {200: ThreadPage}, query=PAGE))
async def list_threads(request: Request) -> Response:
    return await _list_page(request, api.list_threads, ThreadPage)


@needs_scope(ApiScope.POOL_READ)
@documented(
    Operation("List the talent pool's members and their consent", {200: MemberPage}, query=PAGE)
)
async def list_members(request: Request) -> Response:
    return await _list_page(request, functools.partial(api.list_members, now=utcnow()), MemberPage)


@needs_scope(ApiScope.APPLICATIONS_READ)
@documented(
    Operation(
        "List an application's scorecards",
        {200: ScorecardList},
        description="Every scorecard, from any source, private notes and ratings included: "
        "for the organization's own systems, never shown to the candidate.",
    )
)
async def list_scorecards(request: Request) -> Response:
    async def work(request: Request, db: AsyncSession) -> Answer:
        found = await api.list_scorecards(
            db, actor=api_client_of(request), application_id=request.path_params["application_id"]
        )
        return Answer(200, _dump(found))

    return await _run(request, work)


@needs_scope(ApiScope.APPLICATIONS_WRITE)
@documented(
    Operation(
        "Add an interviewer's scorecard to an application",
        {201: ScorecardOut, 200: ScorecardOut},
        body=ScorecardIn,
        description="201 with the new scorecard; 200 with the stored one when a scorecard "
        "with the same `external_id` was sent before. Attribute notes are candidate-safe "
        "unless `private`; question answers are private unless `private` is false. Drafts "
        "quote only candidate-safe attribute notes (docs/drafting.md).",
    )
)
async def add_scorecard(request: Request) -> Response:
    async def work(request: Request, db: AsyncSession) -> Answer:
        application_id = request.path_params["application_id"]
        await api.ensure_application(
            db, actor=api_client_of(request), application_id=application_id
        )
        data = body_model(request, ScorecardIn, await request.body())
        card, created = await api.add_scorecard(
            db,
            actor=api_client_of(request),
            application_id=application_id,
            data=data,
            now=utcnow(),
        )
        return Answer(201 if created else 200, _dump(card))

    return await _run_idempotent(request, work)


# Under /api/v1, authenticated by key (the API area's guard).
routes = [
    Route("/jobs", list_jobs, methods=["GET"], name="api.jobs"),
    Route("/jobs", create_job, methods=["POST"], name="api.job_create"),
    Route("/jobs/{job_id:id}", get_job, methods=["GET"], name="api.job"),
    Route("/jobs/{job_id:id}", update_job, methods=["PATCH"], name="api.job_update"),
    Route("/applications", list_applications, methods=["GET"], name="api.applications"),
    Route("/applications", put_application, methods=["POST"], name="api.application_put"),
    Route(
        "/applications/batch",
        put_applications,
        methods=["POST"],
        name="api.applications_batch",
    ),
    Route(
        "/applications/{application_id:id}",
        get_application,
        methods=["GET"],
        name="api.application",
    ),
    Route(
        "/applications/{application_id:id}/publish",
        publish,
        methods=["POST"],
        name="api.application_publish",
    ),
    Route(
        "/applications/{application_id:id}/send-link",
        send_link,
        methods=["POST"],
        name="api.application_send_link",
    ),
    Route(
        "/applications/{application_id:id}/scorecards",
        list_scorecards,
        methods=["GET"],
        name="api.application_scorecards",
    ),
    Route(
        "/applications/{application_id:id}/scorecards",
        add_scorecard,
        methods=["POST"],
        name="api.application_scorecard_add",
    ),
    Route("/threads", list_threads, methods=["GET"], name="api.threads"),
    Route("/pool/members", list_members, methods=["GET"], name="api.pool_members"),
]


_DOCUMENT: dict[str, Any] = {}


async def openapi_json(request: Request) -> Response:
    """The OpenAPI 3.1 document of /api/v1 (public: it holds no organization's data)."""
    if not _DOCUMENT:
        from importlib.metadata import version

        _DOCUMENT.update(openapi_document(routes, prefix=PREFIX, version=version("afterword")))
    return JSONResponse(_DOCUMENT, headers={"cache-control": "public, max-age=300"})


# Under /api, open to anyone.
public_routes = [Route("/v1/openapi.json", openapi_json, methods=["GET"], name="api.openapi")]
