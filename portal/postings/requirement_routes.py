"""The requirement handlers of a job's page (/staff/jobs/<id>/requirements...): add,
edit, reorder, remove and undo, save to and add from the library, copy from another
job. Each answers with the job's page (`portal.postings.routes`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import staff_of
from portal.db import utcnow
from portal.forms import FormState, InputModel, read_form
from portal.postings import library, requirements, service
from portal.postings.forms import (
    CopyForm,
    LibraryChoiceForm,
    MoveForm,
    RequirementForm,
    RestoreForm,
)
from portal.postings.requirements import NameTaken
from portal.postings.routes import (
    JOB,
    NO_STORE,
    job_id_of,
    job_or_404,
    job_page_response,
    job_url,
    post_route,
)
from portal.postings.service import JobNotFound
from portal.security.actors import Staff
from portal.web import client_ip_hash, db_session, path_for, redirect_page, render


def _requirement_id(request: Request) -> int:
    value: int = request.path_params["requirement_id"]
    return value


def _taken(name: str) -> str:
    return f"This job already has a requirement named “{name}”. Choose another name."


async def _scoped_form(
    request: Request, actor: Staff, model: type[InputModel]
) -> tuple[Any, FormState]:
    """The posted form, once the job in the path is known to be the actor's (another
    organization's job is a 404 whatever was posted)."""
    await job_or_404(request, actor, job_id_of(request))
    return await read_form(request, model)


async def add_requirement(request: Request) -> Response:
    actor = staff_of(request)
    job_id = job_id_of(request)
    data, form = await _scoped_form(request, actor, RequirementForm)
    if data is not None:
        try:
            async with db_session(request) as db:
                requirement_id = await requirements.add_requirement(
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
    return await job_page_response(request, actor, job_id, new_requirement=form, status_code=422)


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
            job = await service.job_detail(db, actor=actor, job_id=job_id_of(request))
            requirement = await requirements.requirement_of(
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
                changed = await requirements.edit_requirement(
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
    job_id, requirement_id = job_id_of(request), _requirement_id(request)
    await _job_and_requirement(request, actor)
    data, _ = await read_form(request, MoveForm)
    if data is None:
        return await job_page_response(
            request, actor, job_id, error="Choose to move it up or down.", status_code=422
        )
    try:
        async with db_session(request) as db:
            await requirements.move_requirement(
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
    job_id = job_id_of(request)
    try:
        async with db_session(request) as db:
            removed = await requirements.remove_requirement(
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
    job_id = job_id_of(request)
    data, _ = await _scoped_form(request, actor, RestoreForm)
    if data is None:
        raise HTTPException(404)
    done = "restored"
    try:
        async with db_session(request) as db:
            await requirements.restore_requirement(
                db,
                actor=actor,
                job_id=job_id,
                removal_id=data.removal,
                ip_hash=client_ip_hash(request),
            )
    except JobNotFound:
        raise HTTPException(404) from None
    except requirements.AlreadyRestored:
        done = "already_restored"
    except NameTaken as taken:
        return await job_page_response(
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
    job_id = job_id_of(request)
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
        return await job_page_response(
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
    job_id = job_id_of(request)
    data, form = await _scoped_form(request, actor, LibraryChoiceForm)
    if data is None:
        return await job_page_response(
            request, actor, job_id, forms={"library": form}, status_code=422
        )
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
        return await job_page_response(
            request, actor, job_id, forms={"library": form}, status_code=409
        )
    return redirect_page(request, job_url(request, job_id, "added", "requirements"))


async def copy_requirements(request: Request) -> Response:
    actor = staff_of(request)
    job_id = job_id_of(request)
    data, form = await _scoped_form(request, actor, CopyForm)
    if data is None:
        return await job_page_response(
            request, actor, job_id, forms={"copy": form}, status_code=422
        )
    try:
        async with db_session(request) as db:
            added, _skipped = await requirements.copy_requirements(
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


REQUIREMENT = JOB + "/requirements/{requirement_id:id}"
routes = [
    post_route(JOB + "/requirements", add_requirement, "staff.requirement_add"),
    post_route(JOB + "/requirements/restore", restore_requirement, "staff.requirement_restore"),
    post_route(
        JOB + "/requirements/from-library",
        requirement_from_library,
        "staff.requirement_from_library",
    ),
    post_route(JOB + "/requirements/copy", copy_requirements, "staff.requirements_copy"),
    Route(REQUIREMENT, requirement_page, methods=["GET"], name="staff.requirement"),
    post_route(REQUIREMENT, save_requirement, "staff.requirement_save"),
    post_route(REQUIREMENT + "/move", move_requirement, "staff.requirement_move"),
    post_route(REQUIREMENT + "/remove", remove_requirement, "staff.requirement_remove"),
    post_route(REQUIREMENT + "/library", requirement_to_library, "staff.requirement_to_library"),
]
