"""The language model in the feedback editor (portal.llm), when the organization's
admin turned it on: "Rephrase with <model>" on the saved draft (a proposal shown beside
the current texts, checked, saved as a new version only when a recruiter approves),
and the model's second opinion beside the feedback check (never blocking)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import staff_of
from portal.concurrency import Conflict
from portal.db import utcnow
from portal.feedback import drafts
from portal.llm import adapter, rephrase
from portal.llm import service as language_model
from portal.llm.second_opinion import second_opinion
from portal.security.actors import Staff
from portal.web import client_ip_hash, db_session, is_htmx, path_for, portal, redirect_page, render
from portal.workspace.drafting import Requirement, built_from_stored, check, form_from_draft
from portal.workspace.editor import FIELD_LABELS
from portal.workspace.routes import NO_STORE, application_context, application_id_of

TEMPLATE = "staff/rephrasing.html"
PART_WORDS = {"body": "text", "suggestion": "suggestion"}
KIND_WORDS = {"assessment": "Assessment", "strength": "Strength", "growth_area": "Growth area"}

REFUSED = {
    "nothing": "There is no saved draft with text to rephrase yet. Save a draft first.",
    "failed": "The model could not rephrase the draft ({reason}). Nothing was changed; "
    "try again later, or keep the draft as it is.",
    "stale": "A newer version was saved after this rephrasing was made, so it was not "
    "saved. Rephrase the newest version instead.",
    "unchanged": "The rephrased texts are the same as the draft's: there is nothing new to save.",
}


def _field_label(name: str, draft: Any, requirements: list[Requirement]) -> str:
    """Words for a field named as the check names it ("items[2].suggestion")."""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    index, _, part = name[6:].partition("].")
    item = draft.items[int(index)]
    names = {requirement.id: requirement.name for requirement in requirements}
    about = names.get(item.requirement, "")
    kind = KIND_WORDS.get(item.kind, item.kind)
    return f"{kind}{f' ({about})' if about else ''}: {PART_WORDS.get(part, part)}"


def _timeout(request: Request) -> float:
    return portal(request).settings.language_model_timeout_seconds


async def _context(request: Request, actor: Staff, application_id: int) -> dict[str, Any]:
    context = await application_context(request, actor, application_id)
    async with db_session(request) as db:
        context["language_model"] = await language_model.settings_of(
            db, organization_id=actor.organization_id
        )
    context.update(proposal=None, rows=[], check=None, refused="")
    return context


def _refused(request: Request, context: dict[str, Any], message: str, status: int) -> Response:
    context["refused"] = message
    return render(request, TEMPLATE, context, status_code=status, headers=NO_STORE)


async def rephrase_draft(request: Request) -> Response:
    """Send the newest draft's candidate-facing texts to the model (off the event loop,
    with no transaction held meanwhile); keep a valid answer as a proposal and show it."""
    actor = staff_of(request)
    application_id = application_id_of(request)
    context = await _context(request, actor, application_id)
    try:
        async with db_session(request) as db:
            prepared = await language_model.prepare_rephrasing(
                db, actor=actor, application_id=application_id
            )
    except (language_model.Off, drafts.ApplicationNotFound):
        raise HTTPException(404) from None
    except language_model.NothingToRephrase:
        return _refused(request, context, REFUSED["nothing"], 422)
    try:
        exchange = await language_model.ask_to_rephrase(prepared, within=_timeout(request))
    except adapter.ModelFailed as failed:
        return _refused(request, context, REFUSED["failed"].format(reason=failed), 503)
    try:
        async with db_session(request) as db:
            proposal_id = await language_model.record_proposal(
                db,
                actor=actor,
                application_id=application_id,
                prepared=prepared,
                exchange=exchange,
                now=utcnow(),
            )
    except rephrase.BadAnswer as bad:
        return _refused(request, context, str(bad), 422)
    except drafts.ApplicationNotFound:
        raise HTTPException(404) from None
    url = path_for(
        request,
        "staff.feedback_rephrasing",
        application_id=application_id,
        rephrasing_id=proposal_id,
    )
    return redirect_page(request, url)


async def rephrasing(request: Request) -> Response:
    """A proposal: each text now and as rephrased, and the check on the rephrased draft."""
    actor = staff_of(request)
    application_id = application_id_of(request)
    context = await _context(request, actor, application_id)
    rephrasing_id = int(request.path_params["rephrasing_id"])
    try:
        async with db_session(request) as db:
            proposal = await language_model.load_proposal(
                db, actor=actor, application_id=application_id, rephrasing_id=rephrasing_id
            )
    except (LookupError, rephrase.BadAnswer):
        raise HTTPException(404) from None
    requirements: list[Requirement] = context["application"].requirements
    form = form_from_draft(
        proposal.proposed, version=proposal.based_on_version, requirements=requirements
    )
    context.update(
        proposal=proposal,
        rows=[
            (
                _field_label(name, proposal.current, requirements),
                proposal.texts[name],
                proposal.answer[name],
            )
            for name in proposal.texts
        ],
        check=check(built_from_stored(proposal.proposed, requirements=requirements), form.values),
    )
    return render(request, TEMPLATE, context, headers=NO_STORE)


async def approve(request: Request) -> Response:
    """Save the proposal as a new draft version, with its prompt and answer."""
    actor = staff_of(request)
    application_id = application_id_of(request)
    rephrasing_id = int(request.path_params["rephrasing_id"])
    try:
        async with db_session(request) as db:
            await language_model.approve(
                db,
                actor=actor,
                application_id=application_id,
                rephrasing_id=rephrasing_id,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except (Conflict, language_model.Unchanged) as refused:
        context = await _context(request, actor, application_id)
        message = REFUSED["stale" if isinstance(refused, Conflict) else "unchanged"]
        return _refused(request, context, message, 409)
    except (LookupError, rephrase.BadAnswer):
        raise HTTPException(404) from None
    url = path_for(request, "staff.feedback_editor", application_id=application_id)
    return redirect_page(request, f"{url}?done=saved")


async def reject(request: Request) -> Response:
    actor = staff_of(request)
    application_id = application_id_of(request)
    rephrasing_id = int(request.path_params["rephrasing_id"])
    try:
        async with db_session(request) as db:
            await language_model.reject(
                db,
                actor=actor,
                application_id=application_id,
                rephrasing_id=rephrasing_id,
                now=utcnow(),
            )
    except LookupError:
        raise HTTPException(404) from None
    url = path_for(request, "staff.feedback_editor", application_id=application_id)
    return redirect_page(request, url)


async def ask_second_opinion(request: Request) -> Response:
    """The model's opinion on the saved draft, beside the check's findings on it: for
    htmx the panel alone, otherwise a page. Never blocks anything; any failure is "no
    second opinion" (logged). When the organization has not turned it on, the page says
    so and nothing is sent."""
    actor = staff_of(request)
    application_id = application_id_of(request)
    context = await _context(request, actor, application_id)
    settings = context["language_model"]
    async with db_session(request) as db:
        stored = await drafts.load_draft(db, actor=actor, application_id=application_id)
    requirements: list[Requirement] = context["application"].requirements
    opinion = None
    if stored is not None:
        form = form_from_draft(stored.draft, version=stored.version, requirements=requirements)
        context["check"] = check(
            built_from_stored(stored.draft, requirements=requirements), form.values
        )
    if stored is not None and settings.gives_second_opinion:
        opinion = await second_opinion(settings.model, stored.draft, within=_timeout(request))
        if opinion is not None:
            context["opinion_labels"] = {
                found.field: _field_label(found.field, stored.draft, requirements)
                for found in opinion.opinions
            }
    context.update(stored=stored, opinion=opinion, asked=True)
    return render(
        request,
        "staff/second_opinion.html",
        context,
        block="second_opinion" if is_htmx(request) else None,
        headers=NO_STORE,
    )


FEEDBACK = "/applications/{application_id:id}/feedback"
REPHRASING = FEEDBACK + "/rephrase/{rephrasing_id:id}"
routes = [
    Route(FEEDBACK + "/rephrase", rephrase_draft, methods=["POST"], name="staff.feedback_rephrase"),
    Route(REPHRASING, rephrasing, methods=["GET"], name="staff.feedback_rephrasing"),
    Route(
        REPHRASING + "/approve", approve, methods=["POST"], name="staff.feedback_rephrase_approve"
    ),
    Route(REPHRASING + "/reject", reject, methods=["POST"], name="staff.feedback_rephrase_reject"),
    Route(
        FEEDBACK + "/second-opinion",
        ask_second_opinion,
        methods=["GET"],
        name="staff.feedback_second_opinion",
    ),
]
