"""The applications list's bulk actions: publish the chosen applications' drafts
(after a confirmation page, since it emails candidates), assign them to a
colleague, or draft their feedback from scorecards (a background job, whose
progress page this answers with). Plain form posts, so they work without
JavaScript. The rules are in `portal.workspace.bulk`."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import staff_of
from portal.db import utcnow
from portal.drafting import jobs as drafting_jobs
from portal.forms import FormState, read_form, validate_input
from portal.security.actors import Staff
from portal.web import client_ip_hash, db_session, path_for, portal, redirect_page, render
from portal.workspace import bulk
from portal.workspace.forms import (
    BULK_MAX,
    ApplicationFilter,
    BulkAction,
    BulkForm,
    BulkPublishForm,
    Scope,
    joined_ids,
)
from portal.workspace.routes import applications_page

NO_STORE = {"cache-control": "no-store"}
NOTHING_CHOSEN = (
    "Tick at least one application, or choose all on this page or every match of the filters."
)
NO_ASSIGNEE = "Choose who to assign them to (or Nobody, to unassign them)."
NOT_A_COLLEAGUE = "Choose a colleague from the list."


def too_many(count: int) -> str:
    return (
        f"That is {count:,} applications, and one bulk action takes at most {BULK_MAX:,}. "
        "Nothing was changed. Narrow the filters (by job, stage or feedback, for example) "
        "and act on each part in turn."
    )


async def _corrected(
    request: Request, actor: Staff, filters: ApplicationFilter, bulk_form: FormState
) -> Response:
    """The list again (422), with the bulk bar as posted and its message."""
    shown = FormState(values={**filters.query(), "page": str(filters.page)})
    return await applications_page(
        request, actor, filters=filters, form=shown, status=422, bulk=bulk_form
    )


async def bulk_action(request: Request) -> Response:
    """The bulk bar's two buttons: publishing shows the confirmation page, assigning is
    done at once and answered with what changed."""
    actor = staff_of(request)
    data, form = await read_form(request, BulkForm, values=joined_ids)
    if data is None:
        filters, _ = validate_input(ApplicationFilter, form.values)
        return await _corrected(request, actor, filters or ApplicationFilter(), form)
    # What the form alone shows is wrong, all said at once.
    given = {Scope.TICKED: data.ticked_ids, Scope.PAGE: data.shown_ids}
    if data.scope in given and not given[data.scope]:
        form.errors["application"] = NOTHING_CHOSEN
    if data.action == BulkAction.ASSIGN and not data.assign_to:
        form.errors["assign_to"] = NO_ASSIGNEE
    if form.errors:
        return await _corrected(request, actor, data, form)
    assignee = None if data.assign_to in ("", "none") else int(data.assign_to)
    plan, outcome, run_id = None, None, None
    try:
        async with db_session(request) as db:
            chosen = await bulk.choose(
                db,
                actor=actor,
                scope=data.scope,
                ticked=data.ticked_ids,
                shown=data.shown_ids,
                filters=data,
            )
            if not chosen.ids and not chosen.not_found:
                form.errors["application"] = NOTHING_CHOSEN
            elif data.action == BulkAction.PUBLISH:
                plan = await bulk.plan_publishing(db, actor=actor, chosen=chosen)
            elif data.action == BulkAction.DRAFT:
                run_id = await drafting_jobs.start_run(
                    db,
                    actor=actor,
                    application_ids=chosen.ids,
                    now=utcnow(),
                    ip_hash=client_ip_hash(request),
                )
            else:
                outcome = await bulk.assign(
                    db,
                    actor=actor,
                    chosen=chosen,
                    assignee=assignee,
                    ip_hash=client_ip_hash(request),
                )
    except bulk.TooMany as exc:
        form.errors["scope"] = too_many(exc.count)
    except bulk.UnknownColleague:
        form.errors["assign_to"] = NOT_A_COLLEAGUE
    if form.errors:
        return await _corrected(request, actor, data, form)
    if run_id is not None:
        portal(request).wake_worker()
        return redirect_page(request, path_for(request, "staff.drafting_run", run_id=run_id))
    if plan is not None:
        context = {"staff": actor, "plan": plan, "back": data.query()}
        return render(request, "staff/bulk_confirm.html", context, headers=NO_STORE)
    context = {"staff": actor, "assigned": outcome, "back": data.query()}
    return render(request, "staff/bulk_result.html", context, headers=NO_STORE)


async def bulk_publish(request: Request) -> Response:
    """The confirmation's button: publish each confirmed draft, and say what was
    published and what was skipped, and why."""
    actor = staff_of(request)
    data, _form = await read_form(request, BulkPublishForm)
    if data is None:
        # Only hidden fields, written by the confirmation page: this was not sent from it.
        raise HTTPException(400)
    try:
        async with db_session(request) as db:
            outcome = await bulk.publish(
                db,
                actor=actor,
                confirmed=data.versions,
                settings=portal(request).settings,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except bulk.TooMany as exc:
        form = FormState(errors={"scope": too_many(exc.count)})
        return await _corrected(request, actor, data, form)
    if outcome.published:
        portal(request).wake_worker()
    context = {"staff": actor, "published": outcome, "back": data.query()}
    return render(request, "staff/bulk_result.html", context, headers=NO_STORE)


routes = [
    Route("/applications/bulk", bulk_action, methods=["POST"], name="staff.applications_bulk"),
    Route(
        "/applications/bulk/publish",
        bulk_publish,
        methods=["POST"],
        name="staff.applications_bulk_publish",
    ),
]
