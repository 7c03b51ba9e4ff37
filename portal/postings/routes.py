"""The job pages for staff (/staff/jobs...): the list, a job's page, creating,
editing, archiving and (admins) deleting jobs. The forms on a job's page that change
its requirements are handled in `portal.postings.requirement_routes`, the
requirement library's pages in `portal.postings.library_routes`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import admin_of, staff_of
from portal.concurrency import Conflict
from portal.db import utcnow
from portal.forms import FormState, parse_number, read_form
from portal.postings import library, requirements, service
from portal.postings.forms import (
    JOB_LABELS,
    TITLE_MAX,
    JobEditForm,
    JobForm,
    JobListQuery,
)
from portal.postings.models import LibraryRequirement
from portal.postings.service import JobNotFound
from portal.security.actors import Staff
from portal.web import (
    client_ip_hash,
    conflict_page,
    db_session,
    parse_query,
    path_for,
    redirect_page,
    render,
)

NO_STORE = {"cache-control": "no-store"}
# What a page says after an action (?done=...): fixed texts only.
DONE = {
    "created": "Job created. Now list its requirements: what you assess candidates on.",
    "updated": "Job details saved.",
    "unchanged": "Nothing had changed, so nothing was saved.",
    "archived": "Job archived. It is no longer offered for new rejections; its applications "
    "and feedback are kept.",
    "unarchived": "Job brought back from the archive.",
    "added": "Requirement added.",
    "changed": "Requirement saved. Drafts show the new words; feedback already published "
    "keeps the words the candidate read.",
    "moved": "Requirement moved.",
    "restored": "Requirement restored.",
    "already_restored": "That requirement is back already.",
    "saved_to_library": "Saved to the requirement library.",
    "copied": "Requirements copied. Those this job had already were skipped.",
    "nothing_to_copy": "Nothing copied: this job has every requirement of that job already.",
    "deleted": "Job deleted.",
}


def job_id_of(request: Request) -> int:
    value: int = request.path_params["job_id"]
    return value


def job_url(request: Request, job_id: int, done: str = "", anchor: str = "") -> str:
    url = path_for(request, "staff.job", job_id=job_id)
    if done:
        url += "?" + urlencode({"done": done})
    return url + (f"#{anchor}" if anchor else "")


# --- the list -------------------------------------------------------------------------


async def jobs(request: Request) -> Response:
    actor = staff_of(request)
    query, form, status = parse_query(request, JobListQuery)
    async with db_session(request) as db:
        listing = await service.list_jobs(
            db, actor=actor, archived=query.show == "archived", page=query.page
        )
    context = {
        "staff": actor,
        "listing": listing,
        "form": form,
        "done": DONE.get(request.query_params.get("done", "")),
    }
    return render(request, "staff/jobs.html", context, status_code=status, headers=NO_STORE)


# --- creating and editing a job -------------------------------------------------------


def _job_form_page(
    request: Request,
    actor: Staff,
    form: FormState,
    *,
    job: service.JobDetail | None = None,
    status_code: int = 200,
) -> Response:
    context = {"staff": actor, "form": form, "job": job}
    return render(
        request, "staff/job_form.html", context, status_code=status_code, headers=NO_STORE
    )


async def new_job(request: Request) -> Response:
    """The form for a new job; ``?title=`` fills in its title (an import's missing job
    links here with the title its rows gave)."""
    title = request.query_params.get("title", "").strip()[:TITLE_MAX]
    return _job_form_page(request, staff_of(request), FormState(values={"title": title}))


async def create_job(request: Request) -> Response:
    actor = staff_of(request)
    data, form = await read_form(request, JobForm)
    if data is None:
        return _job_form_page(request, actor, form, status_code=422)
    async with db_session(request) as db:
        job_id = await service.create_job(
            db, actor=actor, data=data, now=utcnow(), ip_hash=client_ip_hash(request)
        )
    return redirect_page(request, job_url(request, job_id, "created", "add-requirement"))


async def job_or_404(request: Request, actor: Staff, job_id: int) -> service.JobDetail:
    try:
        async with db_session(request) as db:
            return await service.job_detail(db, actor=actor, job_id=job_id)
    except JobNotFound:
        raise HTTPException(404) from None


async def edit_job(request: Request) -> Response:
    actor = staff_of(request)
    job = await job_or_404(request, actor, job_id_of(request))
    return _job_form_page(request, actor, FormState(values=job.form_values()), job=job)


async def save_job(request: Request) -> Response:
    """Save a job's details (audited), or show what to fix (422) or what a colleague
    saved meanwhile (409), keeping everything typed."""
    actor = staff_of(request)
    job = await job_or_404(request, actor, job_id_of(request))
    data, form = await read_form(request, JobEditForm)
    if data is None:
        return _job_form_page(request, actor, form, job=job, status_code=422)
    try:
        async with db_session(request) as db:
            changed = await service.update_job(
                db, actor=actor, job_id=job.id, data=data, ip_hash=client_ip_hash(request)
            )
    except JobNotFound:
        raise HTTPException(404) from None
    except Conflict as conflict:
        if conflict.current is None:  # lost a race at the write: read what won
            now = await job_or_404(request, actor, job.id)
            conflict = Conflict(
                current={name: getattr(now, name) for name in JOB_LABELS}, version=now.version
            )
        return conflict_page(
            request,
            conflict=conflict,
            submitted=data,
            labels=JOB_LABELS,
            action=path_for(request, "staff.job_save", job_id=job.id),
            back=path_for(request, "staff.job", job_id=job.id),
        )
    return redirect_page(request, job_url(request, job.id, "updated" if changed else "unchanged"))


async def _archive(request: Request, archived: bool) -> Response:
    actor = staff_of(request)
    job_id = job_id_of(request)
    try:
        async with db_session(request) as db:
            await service.set_archived(
                db,
                actor=actor,
                job_id=job_id,
                archived=archived,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except JobNotFound:
        raise HTTPException(404) from None
    return redirect_page(
        request, job_url(request, job_id, "archived" if archived else "unarchived")
    )


async def archive_job(request: Request) -> Response:
    return await _archive(request, True)


async def unarchive_job(request: Request) -> Response:
    return await _archive(request, False)


# --- a job's page ---------------------------------------------------------------------


async def job_page_response(
    request: Request,
    actor: Staff,
    job_id: int,
    *,
    new_requirement: FormState | None = None,
    forms: dict[str, FormState] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    """The job with its requirements, and the forms that change them; after a removal
    (``?removed=<its record>``), "Removed X. Undo"."""
    try:
        async with db_session(request) as db:
            job = await service.job_detail(db, actor=actor, job_id=job_id)
            choices = await library.choices_for_job(db, actor=actor, job_id=job.id)
            library_size = await db.scalar(
                library.readable_library(actor).with_only_columns(LibraryRequirement.id).limit(1)
            )
            others = await service.other_jobs(db, actor=actor, job_id=job.id)
            removed = None
            removal_id = parse_number(request.query_params.get("removed", ""))
            if removal_id is not None:
                found = await requirements.removal_of(
                    db, actor=actor, job_id=job.id, removal_id=removal_id
                )
                if found and await requirements.is_restorable(db, job_id=job.id, removed=found):
                    removed = {**found, "id": removal_id}
    except JobNotFound:
        raise HTTPException(404) from None
    context: dict[str, Any] = {
        "staff": actor,
        "job": job,
        "new_requirement": new_requirement or FormState(),
        "forms": forms or {},
        "empty": FormState(),
        "library_choices": [(entry.id, entry.name) for entry in choices],
        "library_empty": library_size is None,
        "other_jobs": others,
        "removed": removed,
        "done": DONE.get(request.query_params.get("done", "")),
        "error": error,
    }
    return render(request, "staff/job.html", context, status_code=status_code, headers=NO_STORE)


async def job_page(request: Request) -> Response:
    return await job_page_response(request, staff_of(request), job_id_of(request))


# --- deleting a job (admins) ------------------------------------------------------------


async def confirm_delete_job(request: Request) -> Response:
    actor = admin_of(request)
    job = await job_or_404(request, actor, job_id_of(request))
    context = {"staff": actor, "job": job}
    return render(request, "staff/job_delete.html", context, headers=NO_STORE)


async def delete_job(request: Request) -> Response:
    actor = admin_of(request)
    job_id = job_id_of(request)
    try:
        async with db_session(request) as db:
            await service.delete_job(
                db, actor=actor, job_id=job_id, ip_hash=client_ip_hash(request)
            )
    except JobNotFound:
        raise HTTPException(404) from None
    except service.JobHasApplications:
        job = await job_or_404(request, actor, job_id)
        context = {"staff": actor, "job": job}
        return render(request, "staff/job_delete.html", context, status_code=409, headers=NO_STORE)
    url = path_for(request, "staff.jobs")
    return redirect_page(request, f"{url}?{urlencode({'done': 'deleted'})}")


def post_route(path: str, endpoint: Any, name: str) -> Route:
    return Route(path, endpoint, methods=["POST"], name=name)


JOB = "/jobs/{job_id:id}"
routes = [
    Route("/jobs", jobs, methods=["GET"], name="staff.jobs"),
    post_route("/jobs", create_job, "staff.job_create"),
    Route("/jobs/new", new_job, methods=["GET"], name="staff.job_new"),
    Route(JOB, job_page, methods=["GET"], name="staff.job"),
    Route(JOB + "/edit", edit_job, methods=["GET"], name="staff.job_edit"),
    post_route(JOB + "/edit", save_job, "staff.job_save"),
    post_route(JOB + "/archive", archive_job, "staff.job_archive"),
    post_route(JOB + "/unarchive", unarchive_job, "staff.job_unarchive"),
]
# For admins: deleting a job.
admin_routes = [
    Route(JOB + "/delete", confirm_delete_job, methods=["GET"], name="staff.job_confirm_delete"),
    post_route(JOB + "/delete", delete_job, "staff.job_delete"),
]
