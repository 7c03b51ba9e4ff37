"""The staff import page: upload a CSV, read its check, confirm, and job templates.

Uploading checks the file and keeps it (`ImportUpload`) so the person can page
through the problems and then import exactly what was checked. The upload
route alone accepts bodies up to `IMPORT_BODY_BYTES` (`portal.app.BODY_LIMITS`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import staff_of
from portal.characters import without_control_characters
from portal.csvexport import attachment_headers, csv_text
from portal.db import utcnow
from portal.forms import parse_number, read_upload
from portal.imports import uploads
from portal.imports.format import MAX_FILE_BYTES, FileProblem
from portal.imports.forms import EXAMPLE_EMAIL, UploadForm
from portal.security.actors import Staff
from portal.web import (
    client_ip_hash,
    db_session,
    optional_path_for,
    path_for,
    portal,
    redirect_page,
    render,
)

NO_STORE = {"cache-control": "no-store"}
# The file, plus room for the multipart framing and the form's other fields.
IMPORT_BODY_BYTES = MAX_FILE_BYTES + 64 * 1024
PROBLEMS_PER_PAGE = 50


async def _form_page(
    request: Request, actor: Staff, *, error: str = "", publish: bool = False, status: int = 200
) -> Response:
    async with db_session(request) as db:
        jobs = await uploads.job_choices(db, actor=actor)
        recent = await uploads.recent_uploads(db, actor=actor)
    context = {
        "staff": actor,
        "jobs": jobs,
        "recent": recent,
        "error": error,
        "publish": publish,
        "max_mb": MAX_FILE_BYTES // 1024 // 1024,
        "new_job_url": optional_path_for(request, "staff.job_new"),
        "example_email": EXAMPLE_EMAIL,
    }
    return render(request, "staff/import.html", context, status_code=status, headers=NO_STORE)


async def import_page(request: Request) -> Response:
    return await _form_page(request, staff_of(request))


async def upload(request: Request) -> Response:
    actor = staff_of(request)
    fields, _form, file = await read_upload(request, UploadForm, file="file", max_fields=5)
    # Anything but the checkbox's own value (only a hand-made request sends one) is no.
    publish = fields is not None and fields.publish == "yes"
    if file is None or not file.filename:
        return await _form_page(
            request, actor, error="Choose a CSV file to check.", publish=publish, status=422
        )
    data = await file.read(MAX_FILE_BYTES + 1)
    # Some browsers send a path ("C:\\fakepath\\feedback.csv"): keep the name only,
    # without control characters (a NUL cannot be stored).
    name = without_control_characters(file.filename)
    filename = name.replace("\\", "/").rsplit("/", 1)[-1][-255:] or "upload.csv"
    await file.close()
    try:
        async with db_session(request) as db:
            upload_id = await uploads.check_upload(
                db,
                actor=actor,
                data=data,
                filename=filename,
                publish=publish,
                settings=portal(request).settings,
                now=utcnow(),
            )
    except FileProblem as exc:
        return await _form_page(request, actor, error=str(exc), publish=publish, status=422)
    return redirect_page(request, path_for(request, "staff.import.result", upload_id=upload_id))


def _page_number(request: Request) -> int:
    given = request.query_params.get("page", "1")
    return parse_number(given, high=100_000) or 1


async def result(request: Request) -> Response:
    actor = staff_of(request)
    upload_id = request.path_params["upload_id"]
    async with db_session(request) as db:
        found = await uploads.find_upload(db, actor=actor, upload_id=upload_id)
    if found is None:
        raise HTTPException(404)
    problems = found.problems
    pages = max(1, -(-len(problems) // PROBLEMS_PER_PAGE))
    page = min(_page_number(request), pages)
    shown = _with_job_links(
        request, problems[(page - 1) * PROBLEMS_PER_PAGE : page * PROBLEMS_PER_PAGE]
    )
    context: dict[str, Any] = {
        "staff": actor,
        "upload": found,
        "problems": shown,
        "page": page,
        "pages": pages,
        "changed": request.query_params.get("changed") == "1",
    }
    return render(request, "staff/import_result.html", context, headers=NO_STORE)


def _with_job_links(request: Request, problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The problems, each naming a job the organization lacks with a link to create it
    (titled as the row names it) when the app has a page for new jobs: otherwise the
    message alone says to add the job first."""
    new_job = optional_path_for(request, "staff.job_new")
    if new_job is None:
        return problems
    return [
        {**problem, "create_job_url": f"{new_job}?{urlencode({'title': problem['missing_job']})}"}
        if problem.get("missing_job")
        else problem
        for problem in problems
    ]


async def confirm(request: Request) -> Response:
    actor = staff_of(request)
    upload_id = request.path_params["upload_id"]
    async with db_session(request) as db:
        outcome = await uploads.import_upload(
            db,
            actor=actor,
            upload_id=upload_id,
            settings=portal(request).settings,
            now=utcnow(),
            ip_hash=client_ip_hash(request),
        )
    if outcome is None:
        raise HTTPException(404)
    target = path_for(request, "staff.import.result", upload_id=upload_id)
    if outcome == "changed":
        target += "?changed=1"
    portal(request).wake_worker()
    return redirect_page(request, target)


async def template(request: Request) -> Response:
    actor = staff_of(request)
    job_id = request.path_params["job_id"]
    async with db_session(request) as db:
        found = await uploads.job_template(db, actor=actor, job_id=job_id, today=utcnow().date())
    if found is None:
        raise HTTPException(404)
    filename, header, example = found
    return Response(
        csv_text(header, [example]),
        media_type="text/csv; charset=utf-8",
        headers=attachment_headers(filename),
    )


routes = [
    Route("/import", import_page, methods=["GET"], name="staff.import"),
    Route("/import", upload, methods=["POST"], name="staff.import.check"),
    Route("/import/{upload_id:id}", result, methods=["GET"], name="staff.import.result"),
    Route("/import/{upload_id:id}", confirm, methods=["POST"], name="staff.import.confirm"),
    Route(
        "/import/jobs/{job_id:id}/template.csv",
        template,
        methods=["GET"],
        name="staff.import.template",
    ),
]
