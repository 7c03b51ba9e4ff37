"""The job pages for staff (/staff/jobs...): the list, a job and its requirements,
creating, editing, archiving and (admins) deleting jobs. The requirement library's
pages are in `portal.postings.library_routes`."""

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
from portal.forms import FormState, InputModel, parse_number, read_form
from portal.postings import library, service
from portal.postings.forms import (
    JOB_LABELS,
    CopyForm,
    JobEditForm,
    JobForm,
    JobListQuery,
    LibraryChoiceForm,
    MoveForm,
    RequirementForm,
    RestoreForm,
)
from portal.postings.models import LibraryRequirement
from portal.postings.service import JobNotFound, NameTaken
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


def _job_id(request: Request) -> int:
    value: int = request.path_params["job_id"]
    return value


def _requirement_id(request: Request) -> int:
    value: int = request.path_params["requirement_id"]
    return value


def job_url(request: Request, job_id: int, done: str = "", anchor: str = "") -> str:
    url = path_for(request, "staff.job", job_id=job_id)
    if done:
        url += "?" + urlencode({"done": done})
    return url + (f"#{anchor}" if anchor else "")


def _taken(name: str) -> str:
    return f"This job already has a requirement named “{name}”. Choose another name."


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
    return _job_form_page(request, staff_of(request), FormState())


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


async def _detail(request: Request, actor: Staff, job_id: int) -> service.JobDetail:
    try:
        async with db_session(request) as db:
            return await service.job_detail(db, actor=actor, job_id=job_id)
    except JobNotFound:
        raise HTTPException(404) from None


async def edit_job(request: Request) -> Response:
    actor = staff_of(request)
    job = await _detail(request, actor, _job_id(request))
    return _job_form_page(request, actor, FormState(values=job.form_values()), job=job)


async def save_job(request: Request) -> Response:
    """Save a job's details (audited), or show what to fix (422) or what a colleague
    saved meanwhile (409), keeping everything typed."""
    actor = staff_of(request)
    job = await _detail(request, actor, _job_id(request))
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
            now = await _detail(request, actor, job.id)
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
    job_id = _job_id(request)
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


async def _job_page(
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
                found = await service.removal_of(
                    db, actor=actor, job_id=job.id, removal_id=removal_id
                )
                if found and await service.is_restorable(db, job_id=job.id, removed=found):
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
    return await _job_page(request, staff_of(request), _job_id(request))


async def _scoped_form(
    request: Request, actor: Staff, model: type[InputModel]
) -> tuple[Any, FormState]:
    """The posted form, once the job in the path is known to be the actor's (another
    organization's job is a 404 whatever was posted)."""
    await _detail(request, actor, _job_id(request))
    return await read_form(request, model)


async def add_requirement(request: Request) -> Response:
    actor = staff_of(request)
    job_id = _job_id(request)
    data, form = await _scoped_form(request, actor, RequirementForm)
    if data is not None:
        try:
            async with db_session(request) as db:
                requirement_id = await service.add_requirement(
                    db,
                    actor=actor,
                    job_id=job_id,
                    name=data.name,
                    description=data.description,
                    ip_hash=client_ip_hash(request),
                )
        except JobNotFound:
            raise HTTPException(404) from None
        except NameTaken as taken:
            form.errors["name"] = _taken(taken.name)
        else:
            return redirect_page(
                request, job_url(request, job_id, "added", f"requirement-{requirement_id}")
            )
    return await _job_page(request, actor, job_id, new_requirement=form, status_code=422)


def _requirement_page(
    request: Request,
    actor: Staff,
    job: service.JobDetail,
    requirement: service.RequirementRow,
    form: FormState,
    *,
    status_code: int = 200,
) -> Response:
    context = {"staff": actor, "job": job, "requirement": requirement, "form": form}
    return render(
        request, "staff/requirement.html", context, status_code=status_code, headers=NO_STORE
    )


async def _job_and_requirement(
    request: Request, actor: Staff
) -> tuple[service.JobDetail, service.RequirementRow]:
    try:
        async with db_session(request) as db:
            job = await service.job_detail(db, actor=actor, job_id=_job_id(request))
            requirement = await service.requirement_of(
                db, actor=actor, job_id=job.id, requirement_id=_requirement_id(request)
            )
    except JobNotFound:
        raise HTTPException(404) from None
    return job, requirement


async def requirement_page(request: Request) -> Response:
    actor = staff_of(request)
    job, requirement = await _job_and_requirement(request, actor)
    form = FormState(values={"name": requirement.name, "description": requirement.description})
    return _requirement_page(request, actor, job, requirement, form)


async def save_requirement(request: Request) -> Response:
    actor = staff_of(request)
    job, requirement = await _job_and_requirement(request, actor)
    data, form = await read_form(request, RequirementForm)
    if data is not None:
        try:
            async with db_session(request) as db:
                changed = await service.edit_requirement(
                    db,
                    actor=actor,
                    job_id=job.id,
                    requirement_id=requirement.id,
                    name=data.name,
                    description=data.description,
                    ip_hash=client_ip_hash(request),
                )
        except JobNotFound:
            raise HTTPException(404) from None
        except NameTaken as taken:
            form.errors["name"] = _taken(taken.name)
        else:
            done = "changed" if changed else "unchanged"
            return redirect_page(
                request, job_url(request, job.id, done, f"requirement-{requirement.id}")
            )
    return _requirement_page(request, actor, job, requirement, form, status_code=422)


async def move_requirement(request: Request) -> Response:
    actor = staff_of(request)
    job_id, requirement_id = _job_id(request), _requirement_id(request)
    await _job_and_requirement(request, actor)
    data, _ = await read_form(request, MoveForm)
    if data is None:
        return await _job_page(
            request, actor, job_id, error="Choose to move it up or down.", status_code=422
        )
    try:
        async with db_session(request) as db:
            await service.move_requirement(
                db,
                actor=actor,
                job_id=job_id,
                requirement_id=requirement_id,
                direction=data.direction,
                ip_hash=client_ip_hash(request),
            )
    except JobNotFound:
        raise HTTPException(404) from None
    return redirect_page(
        request, job_url(request, job_id, "moved", f"requirement-{requirement_id}")
    )


async def remove_requirement(request: Request) -> Response:
    actor = staff_of(request)
    job_id = _job_id(request)
    try:
        async with db_session(request) as db:
            removed = await service.remove_requirement(
                db,
                actor=actor,
                job_id=job_id,
                requirement_id=_requirement_id(request),
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except JobNotFound:
        raise HTTPException(404) from None
    url = path_for(request, "staff.job", job_id=job_id)
    return redirect_page(request, f"{url}?{urlencode({'removed': removed.removal_id})}#done")


async def restore_requirement(request: Request) -> Response:
    actor = staff_of(request)
    job_id = _job_id(request)
    data, _ = await _scoped_form(request, actor, RestoreForm)
    if data is None:
        raise HTTPException(404)
    done = "restored"
    try:
        async with db_session(request) as db:
            await service.restore_requirement(
                db,
                actor=actor,
                job_id=job_id,
                removal_id=data.removal,
                ip_hash=client_ip_hash(request),
            )
    except JobNotFound:
        raise HTTPException(404) from None
    except service.AlreadyRestored:
        done = "already_restored"
    except NameTaken as taken:
        return await _job_page(
            request,
            actor,
            job_id,
            error=f"It cannot come back: this job has a requirement named “{taken.name}” now. "
            "Rename one of them first.",
            status_code=409,
        )
    return redirect_page(request, job_url(request, job_id, done, "requirements"))


async def requirement_to_library(request: Request) -> Response:
    actor = staff_of(request)
    job_id = _job_id(request)
    try:
        async with db_session(request) as db:
            await library.save_job_requirement(
                db,
                actor=actor,
                job_id=job_id,
                requirement_id=_requirement_id(request),
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except JobNotFound:
        raise HTTPException(404) from None
    except NameTaken as taken:
        return await _job_page(
            request,
            actor,
            job_id,
            error=f"The requirement library already has “{taken.name}”. Edit it in the "
            "library if its description should change.",
            status_code=409,
        )
    return redirect_page(
        request,
        job_url(request, job_id, "saved_to_library", f"requirement-{_requirement_id(request)}"),
    )


async def requirement_from_library(request: Request) -> Response:
    actor = staff_of(request)
    job_id = _job_id(request)
    data, form = await _scoped_form(request, actor, LibraryChoiceForm)
    if data is None:
        return await _job_page(request, actor, job_id, forms={"library": form}, status_code=422)
    try:
        async with db_session(request) as db:
            await library.add_to_job(
                db,
                actor=actor,
                job_id=job_id,
                entry_id=data.requirement,
                ip_hash=client_ip_hash(request),
            )
    except (JobNotFound, library.LibraryNotFound):
        raise HTTPException(404) from None
    except NameTaken as taken:
        form.errors["requirement"] = _taken(taken.name)
        return await _job_page(request, actor, job_id, forms={"library": form}, status_code=409)
    return redirect_page(request, job_url(request, job_id, "added", "requirements"))


async def copy_requirements(request: Request) -> Response:
    actor = staff_of(request)
    job_id = _job_id(request)
    data, form = await _scoped_form(request, actor, CopyForm)
    if data is None:
        return await _job_page(request, actor, job_id, forms={"copy": form}, status_code=422)
    try:
        async with db_session(request) as db:
            added, _skipped = await service.copy_requirements(
                db,
                actor=actor,
                job_id=job_id,
                from_job_id=data.from_job,
                ip_hash=client_ip_hash(request),
            )
    except JobNotFound:
        raise HTTPException(404) from None
    done = "copied" if added else "nothing_to_copy"
    return redirect_page(request, job_url(request, job_id, done, "requirements"))


# --- deleting a job (admins) ------------------------------------------------------------


async def confirm_delete_job(request: Request) -> Response:
    actor = admin_of(request)
    job = await _detail(request, actor, _job_id(request))
    context = {"staff": actor, "job": job}
    return render(request, "staff/job_delete.html", context, headers=NO_STORE)


async def delete_job(request: Request) -> Response:
    actor = admin_of(request)
    job_id = _job_id(request)
    try:
        async with db_session(request) as db:
            await service.delete_job(
                db, actor=actor, job_id=job_id, ip_hash=client_ip_hash(request)
            )
    except JobNotFound:
        raise HTTPException(404) from None
    except service.JobHasApplications:
        job = await _detail(request, actor, job_id)
        context = {"staff": actor, "job": job}
        return render(request, "staff/job_delete.html", context, status_code=409, headers=NO_STORE)
    url = path_for(request, "staff.jobs")
    return redirect_page(request, f"{url}?{urlencode({'done': 'deleted'})}")


def _post(path: str, endpoint: Any, name: str) -> Route:
    return Route(path, endpoint, methods=["POST"], name=name)


JOB = "/jobs/{job_id:id}"
REQUIREMENT = JOB + "/requirements/{requirement_id:id}"
routes = [
    Route("/jobs", jobs, methods=["GET"], name="staff.jobs"),
    _post("/jobs", create_job, "staff.job_create"),
    Route("/jobs/new", new_job, methods=["GET"], name="staff.job_new"),
    Route(JOB, job_page, methods=["GET"], name="staff.job"),
    Route(JOB + "/edit", edit_job, methods=["GET"], name="staff.job_edit"),
    _post(JOB + "/edit", save_job, "staff.job_save"),
    _post(JOB + "/archive", archive_job, "staff.job_archive"),
    _post(JOB + "/unarchive", unarchive_job, "staff.job_unarchive"),
    _post(JOB + "/requirements", add_requirement, "staff.requirement_add"),
    _post(JOB + "/requirements/restore", restore_requirement, "staff.requirement_restore"),
    _post(
        JOB + "/requirements/from-library",
        requirement_from_library,
        "staff.requirement_from_library",
    ),
    _post(JOB + "/requirements/copy", copy_requirements, "staff.requirements_copy"),
    Route(REQUIREMENT, requirement_page, methods=["GET"], name="staff.requirement"),
    _post(REQUIREMENT, save_requirement, "staff.requirement_save"),
    _post(REQUIREMENT + "/move", move_requirement, "staff.requirement_move"),
    _post(REQUIREMENT + "/remove", remove_requirement, "staff.requirement_remove"),
    _post(REQUIREMENT + "/library", requirement_to_library, "staff.requirement_to_library"),
]
# For admins: deleting a job.
admin_routes = [
    Route(JOB + "/delete", confirm_delete_job, methods=["GET"], name="staff.job_confirm_delete"),
    _post(JOB + "/delete", delete_job, "staff.job_delete"),
]
