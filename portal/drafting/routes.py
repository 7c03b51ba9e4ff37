"""The job's scorecard attributes page (which attribute rates which requirement) and
the organization's suggestion library."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import staff_of
from portal.db import utcnow
from portal.drafting import csvfile, library, service
from portal.drafting.forms import MappingForm, SuggestionForm
from portal.forms import FormState, InputModel, read_form, read_upload
from portal.web import client_ip_hash, db_session, path_for, redirect_page, render

NO_STORE = {"cache-control": "no-store"}
DONE = {
    "saved": "Saved: drafts from now on use this mapping.",
    "suggestion": "Saved in the suggestion library.",
}


async def mapping_page(request: Request) -> Response:
    actor = staff_of(request)
    job_id = int(request.path_params["job_id"])
    try:
        async with db_session(request) as db:
            mapping = await library.job_mapping(db, actor=actor, job_id=job_id)
    except library.JobNotFound:
        raise HTTPException(404) from None
    context = {
        "staff": actor,
        "mapping": mapping,
        "done": DONE.get(request.query_params.get("done", "")),
    }
    return render(request, "staff/scorecard_mapping.html", context, headers=NO_STORE)


async def save_mapping(request: Request) -> Response:
    actor = staff_of(request)
    job_id = int(request.path_params["job_id"])
    data, _ = await read_form(request, MappingForm)
    rows = [(row.attribute, row.requirement) for row in data.rows] if data else []
    try:
        async with db_session(request) as db:
            await library.save_job_mapping(
                db, actor=actor, job_id=job_id, rows=rows, ip_hash=client_ip_hash(request)
            )
    except library.JobNotFound:
        raise HTTPException(404) from None
    url = path_for(request, "staff.scorecard_mapping", job_id=job_id)
    return redirect_page(request, f"{url}?done=saved")


async def _library_page(
    request: Request, form: FormState | None = None, status: int = 200
) -> Response:
    actor = staff_of(request)
    async with db_session(request) as db:
        entries = await library.suggestion_library(db, actor=actor)
    context = {
        "staff": actor,
        "entries": entries,
        "form": form or FormState(),
        "done": DONE.get(request.query_params.get("done", "")),
    }
    return render(request, "staff/suggestions.html", context, status_code=status, headers=NO_STORE)


async def suggestions(request: Request) -> Response:
    return await _library_page(request)


async def save_suggestion(request: Request) -> Response:
    actor = staff_of(request)
    data, form = await read_form(request, SuggestionForm)
    if data is None:
        return await _library_page(request, form, 422)
    async with db_session(request) as db:
        await library.save_suggestion(
            db,
            actor=actor,
            requirement=data.requirement,
            text=data.text,
            url=data.url or None,
            now=utcnow(),
            ip_hash=client_ip_hash(request),
        )
    url = path_for(request, "staff.suggestions")
    return redirect_page(request, f"{url}?done=suggestion")


class ImportForm(InputModel):
    pass


async def import_page(request: Request) -> Response:
    actor = staff_of(request)
    context: dict[str, Any] = {
        "staff": actor,
        "result": None,
        "problems": [],
        "columns": csvfile.COLUMNS,
    }
    return render(request, "staff/scorecard_import.html", context, headers=NO_STORE)


async def import_scorecards(request: Request) -> Response:
    """Check and store a CSV file of scorecards: all of it, or nothing and every problem."""
    actor = staff_of(request)
    _, _, upload = await read_upload(request, ImportForm, file="file", max_fields=4)
    problems: list[str] = []
    result = None
    if upload is None:
        problems = ["Choose a CSV file."]
    else:
        data = await upload.read()
        await upload.close()
        parsed = csvfile.parse_scorecards(data)
        problems = parsed.problems
        if not problems:
            async with db_session(request) as db:
                result = await service.import_scorecards(
                    db,
                    actor=actor,
                    cards=parsed.cards,
                    now=utcnow(),
                    ip_hash=client_ip_hash(request),
                )
                problems = result.problems
                if problems:
                    await db.rollback()
                    result = None
    context = {"staff": actor, "result": result, "problems": problems, "columns": csvfile.COLUMNS}
    return render(
        request,
        "staff/scorecard_import.html",
        context,
        status_code=422 if problems else 200,
        headers=NO_STORE,
    )


routes = [
    Route("/scorecards/import", import_page, methods=["GET"], name="staff.scorecard_import"),
    Route(
        "/scorecards/import",
        import_scorecards,
        methods=["POST"],
        name="staff.scorecard_import_check",
    ),
    Route(
        "/jobs/{job_id:id}/scorecard-attributes",
        mapping_page,
        methods=["GET"],
        name="staff.scorecard_mapping",
    ),
    Route(
        "/jobs/{job_id:id}/scorecard-attributes",
        save_mapping,
        methods=["POST"],
        name="staff.scorecard_mapping_save",
    ),
    Route("/suggestions", suggestions, methods=["GET"], name="staff.suggestions"),
    Route("/suggestions", save_suggestion, methods=["POST"], name="staff.suggestion_save"),
]
