"""The requirement library's pages (/staff/jobs/library...): browse and search it,
save, edit and (admins) delete its requirements."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import admin_of, staff_of
from portal.db import utcnow
from portal.forms import FormState, read_form
from portal.postings import library
from portal.postings.forms import LibraryQuery, RequirementForm
from portal.postings.library import LibraryEntry, LibraryNotFound
from portal.postings.requirements import NameTaken
from portal.security.actors import Staff
from portal.web import client_ip_hash, db_session, parse_query, path_for, redirect_page, render

NO_STORE = {"cache-control": "no-store"}
DONE = {
    "saved": "Saved to the library. Add it to a job from the job's page.",
    "changed": "Library requirement saved. Jobs that have it keep their own copy.",
    "unchanged": "Nothing had changed, so nothing was saved.",
    "deleted": "Deleted from the library. Jobs that have it keep their own copy.",
}


def _taken(name: str) -> str:
    return f"The library already has a requirement named “{name}”. Choose another name."


def _entry_id(request: Request) -> int:
    value: int = request.path_params["library_requirement_id"]
    return value


def _library_url(request: Request, done: str) -> str:
    return path_for(request, "staff.library") + "?" + urlencode({"done": done})


async def _library_page(
    request: Request, actor: Staff, *, new: FormState | None = None, status_code: int = 200
) -> Response:
    query, search, status = parse_query(request, LibraryQuery)
    async with db_session(request) as db:
        page = await library.library_page(db, actor=actor, q=query.q, page=query.page)
    context = {
        "staff": actor,
        "page": page,
        "search": search,
        "q": query.q,
        "form": new or FormState(),
        "done": DONE.get(request.query_params.get("done", "")),
    }
    return render(
        request,
        "staff/library.html",
        context,
        status_code=status if status_code == 200 else status_code,
        headers=NO_STORE,
    )


async def library_page(request: Request) -> Response:
    return await _library_page(request, staff_of(request))


async def create_entry(request: Request) -> Response:
    actor = staff_of(request)
    data, form = await read_form(request, RequirementForm)
    if data is not None:
        try:
            async with db_session(request) as db:
                await library.save_to_library(
                    db,
                    actor=actor,
                    name=data.name,
                    description=data.description,
                    now=utcnow(),
                    ip_hash=client_ip_hash(request),
                )
        except NameTaken as taken:
            form.errors["name"] = _taken(taken.name)
        else:
            return redirect_page(request, _library_url(request, "saved"))
    return await _library_page(request, actor, new=form, status_code=422)


async def _entry(request: Request, actor: Staff) -> LibraryEntry:
    try:
        async with db_session(request) as db:
            return await library.library_entry(db, actor=actor, entry_id=_entry_id(request))
    except LibraryNotFound:
        raise HTTPException(404) from None


def _entry_page(
    request: Request,
    actor: Staff,
    entry: LibraryEntry,
    form: FormState,
    *,
    template: str = "staff/library_entry.html",
    status_code: int = 200,
) -> Response:
    context = {"staff": actor, "entry": entry, "form": form}
    return render(request, template, context, status_code=status_code, headers=NO_STORE)


async def entry_page(request: Request) -> Response:
    actor = staff_of(request)
    entry = await _entry(request, actor)
    form = FormState(values={"name": entry.name, "description": entry.description})
    return _entry_page(request, actor, entry, form)


async def save_entry(request: Request) -> Response:
    actor = staff_of(request)
    entry = await _entry(request, actor)
    data, form = await read_form(request, RequirementForm)
    if data is not None:
        try:
            async with db_session(request) as db:
                await library.edit_library_entry(
                    db,
                    actor=actor,
                    entry_id=entry.id,
                    name=data.name,
                    description=data.description,
                    ip_hash=client_ip_hash(request),
                )
        except LibraryNotFound:
            raise HTTPException(404) from None
        except NameTaken as taken:
            form.errors["name"] = _taken(taken.name)
        else:
            changed = (data.name, data.description) != (entry.name, entry.description)
            return redirect_page(
                request, _library_url(request, "changed" if changed else "unchanged")
            )
    return _entry_page(request, actor, entry, form, status_code=422)


async def confirm_delete_entry(request: Request) -> Response:
    actor = admin_of(request)
    entry = await _entry(request, actor)
    return _entry_page(
        request, actor, entry, FormState(), template="staff/library_entry_delete.html"
    )


async def delete_entry(request: Request) -> Response:
    actor = admin_of(request)
    try:
        async with db_session(request) as db:
            await library.delete_library_entry(
                db, actor=actor, entry_id=_entry_id(request), ip_hash=client_ip_hash(request)
            )
    except LibraryNotFound:
        raise HTTPException(404) from None
    return redirect_page(request, _library_url(request, "deleted"))


ENTRY = "/jobs/library/{library_requirement_id:id}"
routes = [
    Route("/jobs/library", library_page, methods=["GET"], name="staff.library"),
    Route("/jobs/library", create_entry, methods=["POST"], name="staff.library_create"),
    Route(ENTRY, entry_page, methods=["GET"], name="staff.library_requirement"),
    Route(ENTRY, save_entry, methods=["POST"], name="staff.library_requirement_save"),
]
# For admins: deleting from the library.
admin_routes = [
    Route(
        ENTRY + "/delete",
        confirm_delete_entry,
        methods=["GET"],
        name="staff.library_requirement_confirm_delete",
    ),
    Route(
        ENTRY + "/delete",
        delete_entry,
        methods=["POST"],
        name="staff.library_requirement_delete",
    ),
]
