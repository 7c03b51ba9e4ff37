"""The feedback editor: write and save versions, check them, preview as the candidate,
publish (with a second recruiter's override when the check finds risky words)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth import kept
from portal.auth.areas import staff_of
from portal.auth.models import KeptFormKind
from portal.concurrency import Conflict
from portal.db import utcnow
from portal.drafting import service as drafting
from portal.drafting import usefulness
from portal.feedback import drafts
from portal.feedback.completeness import MISSING_WORDS
from portal.feedback.view import Version, load_feedback_view
from portal.formats import in_zone
from portal.forms import MAX_ROWS_INDEX, FormState, parse_number, read_form
from portal.llm import service as language_model
from portal.pool import panel as talent_pool
from portal.routing import keeps_typed
from portal.security.actors import Staff
from portal.survey import service as survey
from portal.threads import service as threads
from portal.web import (
    client_ip_hash,
    conflict_page,
    db_session,
    is_htmx,
    parse_form,
    path_for,
    portal,
    redirect_page,
    render,
)
from portal.workspace.drafting import (
    BuiltDraft,
    CheckResult,
    Requirement,
    build_draft,
    built_from_stored,
    check,
    checked_fields,
    form_from_draft,
    form_from_input,
    row_count,
    with_row_added,
    with_row_removed,
)
from portal.workspace.forms import EditorForm, PublishForm
from portal.workspace.routes import (
    NO_STORE,
    application_context,
    application_id_of,
    application_url,
)

TEMPLATE = "staff/editor.html"
ROW_LISTS = ("strengths", "growth_areas")
RATINGS = {"met": "Met", "partly_met": "Partly met", "not_yet_met": "Not yet met"}


def _requirements(context: dict[str, Any]) -> list[Requirement]:
    requirements: list[Requirement] = context["application"].requirements
    return requirements


async def _editor_context(request: Request, actor: Staff, application_id: int) -> dict[str, Any]:
    context = await application_context(request, actor, application_id)
    context.update(
        requirements=_requirements(context),
        ratings=RATINGS,
        rows=row_count,
        checked_fields=checked_fields,
        check=None,
        oob=False,
        drafted=None,
        drafted_sentences=[],
    )
    return context


def _page(
    request: Request,
    context: dict[str, Any],
    form: FormState,
    result: CheckResult | None,
    *,
    status: int = 200,
    block: str | None = "editor",
) -> Response:
    return render(
        request,
        TEMPLATE,
        {**context, "form": form, "check": result},
        status_code=status,
        block=block,
        headers=NO_STORE,
    )


async def editor(request: Request) -> Response:
    """The newest version in the form, with the check's findings on it; or what this
    recruiter typed before their session ended, when it was kept (`portal.auth.kept`),
    from the version they started from (saving it meets the usual conflict check)."""
    actor = staff_of(request)
    application_id = application_id_of(request)
    context = await _editor_context(request, actor, application_id)
    async with db_session(request) as db:
        restored = await kept.take(
            db,
            owner=kept.SessionOwner(staff_user_id=actor.staff_id),
            kind=KeptFormKind.FEEDBACK_DRAFT,
            application_id=application_id,
            now=utcnow(),
        )
        stored = await drafts.load_draft(db, actor=actor, application_id=application_id)
        context["language_model"] = await language_model.settings_of(
            db, organization_id=actor.organization_id
        )
    requirements = context["requirements"]
    if restored:
        context["done"] = RESTORED
        return _page(request, context, FormState(values=restored), None, block=None)
    form = form_from_draft(
        stored.draft if stored else None,
        version=stored.version if stored else 0,
        requirements=requirements,
    )
    result = None
    if stored is not None:
        result = check(built_from_stored(stored.draft, requirements=requirements), form.values)
        await _drafted_sources(request, actor, context, stored)
    return _page(request, context, form, result, block=None)


ITEM_WORDS = {"assessment": "Assessment", "strength": "Strength", "growth_area": "Growth area"}


async def _drafted_sources(
    request: Request, actor: Staff, context: dict[str, Any], stored: drafts.StoredDraft
) -> None:
    """For a version drafted from scorecards: its sentences' sources, for the recruiter."""
    async with db_session(request) as db:
        record = await drafting.drafted_record(
            db, actor=actor, application_id=application_id_of(request), version=stored.version
        )
    if record is None:
        return
    names = {r.id: r.name for r in context["requirements"]}
    sentences = []
    for sentence in record.sentences:
        where = str(sentence.get("field", ""))
        index, _, part = where[6:].partition("].")
        if where.startswith("items[") and index.isdigit() and int(index) < len(stored.draft.items):
            item = stored.draft.items[int(index)]
            name = names.get(item.requirement) if isinstance(item.requirement, int) else None
            where = ITEM_WORDS[item.kind] + (f" of {name}" if name else "")
            where += ", suggestion" if part == "suggestion" else ""
        sentences.append({**sentence, "where": where})
    context.update(drafted=record, drafted_sentences=sentences)


RESTORED = (
    "We restored what you typed before your session ended. It is not saved yet: check it "
    "and press Save draft."
)


async def keep_draft(request: Request, owner: kept.SessionOwner) -> bool:
    """The editor posted after the recruiter's session ended: every field as typed,
    kept for them (`portal.auth.kept`) until they sign in again."""
    _, form = await read_form(request, EditorForm)
    fields = {name: value for name, value in form.values.items() if name != "action"}
    async with db_session(request) as db:
        return await kept.keep(
            db,
            owner=owner,
            kind=KeptFormKind.FEEDBACK_DRAFT,
            application_id=application_id_of(request),
            fields=fields,
            now=utcnow(),
        )


def _changed_rows(form: FormState, action: str) -> FormState | None:
    """The form after an add or remove button (`add-strengths`, `remove-growth_areas-2`)."""
    verb, _, rest = action.partition("-")
    if verb == "add" and rest in ROW_LISTS:
        return with_row_added(form, rest)
    list_name, _, index = rest.rpartition("-")
    row = parse_number(index, low=0, high=MAX_ROWS_INDEX)
    if verb == "remove" and list_name in ROW_LISTS and row is not None:
        return with_row_removed(form, list_name, row)
    return None


@keeps_typed(keep_draft)
async def save(request: Request) -> Response:
    """Save (a new version), check, preview, or add or remove a row, by the button pressed."""
    actor = staff_of(request)
    application_id = application_id_of(request)
    context = await _editor_context(request, actor, application_id)
    data = await parse_form(request, EditorForm, template=TEMPLATE, block="editor", context=context)
    if isinstance(data, Response):
        return data
    requirements = context["requirements"]
    changed = _changed_rows(form_from_input(data), data.action)
    if changed is not None:
        # After "Add a strength" (say), focus lands on the new row's first field.
        return _page(request, {**context, "added": data.action}, changed, None)
    built = build_draft(data, requirements=requirements)
    if isinstance(built, FormState):
        return _page(request, context, built, None, status=422)
    form = form_from_input(data)
    if data.action == "check":
        return _page(request, context, form, check(built, form.values))
    try:
        async with db_session(request) as db:
            saved = await drafts.save_draft(
                db,
                actor=actor,
                application_id=application_id,
                draft=built.draft,
                author_staff_id=actor.staff_id,
                based_on=data.version,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except drafts.ApplicationNotFound:
        raise HTTPException(404) from None
    except Conflict:
        return await _conflict(request, actor, application_id, form, requirements)
    if data.action == "preview":
        url = path_for(request, "staff.feedback_preview", application_id=application_id)
        return redirect_page(request, url)
    done = "saved" if saved.created else "unchanged"
    editor_url = path_for(request, "staff.feedback_editor", application_id=application_id)
    return redirect_page(request, f"{editor_url}?{urlencode({'done': done})}")


async def _conflict(
    request: Request,
    actor: Staff,
    application_id: int,
    yours: FormState,
    requirements: list[Requirement],
) -> Response:
    """409: someone saved a newer version meanwhile. What they saved beside what this
    recruiter typed, field by field; "save mine instead" makes theirs the next version."""
    async with db_session(request) as db:
        stored = await drafts.load_draft(db, actor=actor, application_id=application_id)
    if stored is None:  # every version was deleted meanwhile (the whole job, say)
        raise HTTPException(404)
    theirs = form_from_draft(stored.draft, version=stored.version, requirements=requirements)
    names = [name for name in {**theirs.values, **yours.values} if name != "version"]
    labels = {name: _label(name, requirements) for name in names}
    current = {name: theirs.value(name) for name in names}
    url = path_for(request, "staff.feedback_editor", application_id=application_id)
    kept = {name: value for name, value in yours.values.items() if name != "version"}
    return conflict_page(
        request,
        conflict=Conflict(current=current, version=stored.version),
        submitted=kept,
        labels=labels,
        action=url,
        back=url,
    )


FIELD_LABELS = {
    "decision_summary": "Decision summary",
    "personal_note": "Personal note",
    "suggested_roles": "Roles that may suit better",
    "reapply_after_months": "May reapply after (months)",
    "pool_invitation_offered": "Talent pool invitation offered",
}
PART_LABELS = {
    "rating": "rating",
    "evidence": "evidence",
    "body": "text",
    "suggestion": "suggestion",
    "requirement": "requirement",
    "visible": "shown to the candidate",
}


def _label(name: str, requirements: list[Requirement]) -> str:
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    list_name, _, rest = name.partition("-")
    number, _, part = rest.partition("-")
    if list_name == "assessments" and number.isdigit() and int(number) < len(requirements):
        return f"{requirements[int(number)].name}: {PART_LABELS.get(part, part)}"
    kind = "Strength" if list_name == "strengths" else "Growth area"
    return (
        f"{kind} {int(number) + 1 if number.isdigit() else number}: {PART_LABELS.get(part, part)}"
    )


AUTOSAVE_REFUSED = {
    422: "Not saved automatically: some fields need attention. Press Save draft to see which.",
    409: "Not saved automatically: someone else saved a newer version meanwhile. Press Save "
    "draft to compare your text with theirs.",
}


@keeps_typed(keep_draft)
async def autosave(request: Request) -> Response:
    """For htmx, a few seconds after typing: save the form as a new version when it
    differs from the newest one (nothing when it does not: 204), under the same
    optimistic check as Save draft, so a newer version saved elsewhere is never
    overwritten (409, and the recruiter is told). Answers "Saved at 14:05" for the
    form's live region, and the form's new version out of band. (Only htmx posts
    here; anything else is a plain Save draft.)"""
    if not is_htmx(request):
        return await save(request)
    actor = staff_of(request)
    application_id = application_id_of(request)
    context = await _editor_context(request, actor, application_id)
    data, _ = await read_form(request, EditorForm)
    built = build_draft(data, requirements=context["requirements"]) if data else None
    status = 422
    if data is not None and isinstance(built, BuiltDraft):
        now = utcnow()
        try:
            async with db_session(request) as db:
                saved = await drafts.save_draft(
                    db,
                    actor=actor,
                    application_id=application_id,
                    draft=built.draft,
                    author_staff_id=actor.staff_id,
                    based_on=data.version,
                    now=now,
                    ip_hash=client_ip_hash(request),
                )
        except drafts.ApplicationNotFound:
            raise HTTPException(404) from None
        except Conflict:
            status = 409
        else:
            if not saved.created:
                return Response(status_code=204, headers=NO_STORE)
            return render(
                request,
                TEMPLATE,
                {
                    **context,
                    "saved_at": f"{in_zone(now, actor.time_zone):%H:%M}",
                    "saved_version": saved.version,
                },
                block="autosaved",
                headers=NO_STORE,
            )
    return render(
        request,
        TEMPLATE,
        {**context, "autosave_refused": AUTOSAVE_REFUSED[status]},
        status_code=status,
        block="autosaved",
        headers=NO_STORE,
    )


async def live_check(request: Request) -> Response:
    """The check on what the recruiter is typing, for htmx: the findings panel, and each
    field's findings swapped in beside it (out of band)."""
    actor = staff_of(request)
    application_id = application_id_of(request)
    context = await _editor_context(request, actor, application_id)
    data, form = await read_form(request, EditorForm)
    result: CheckResult | None = None
    if data is not None:
        built = build_draft(data, requirements=context["requirements"])
        if isinstance(built, BuiltDraft):
            form = form_from_input(data)
            result = check(built, form.values)
    return render(
        request,
        TEMPLATE,
        {**context, "form": form, "check": result, "oob": True, "unchecked": result is None},
        block="findings",
        headers=NO_STORE,
    )


# --- preview and publish ------------------------------------------------------------------


async def _preview_context(request: Request, actor: Staff, application_id: int) -> dict[str, Any]:
    context = await application_context(request, actor, application_id)
    requirements = _requirements(context)
    async with db_session(request) as db:
        page = await load_feedback_view(
            db, actor=actor, application_id=application_id, version=Version.LATEST
        )
        stored = await drafts.load_draft(db, actor=actor, application_id=application_id)
        if page is None or stored is None:
            raise HTTPException(404)
        # Below the feedback, what the candidate's page shows there: the conversation
        # and (when the feedback offers it) the talent-pool panel, shown inert.
        thread = await threads.preview_thread(
            db,
            actor=actor,
            application_id=application_id,
            organization=page.branding.display_name,
        )
        pool = None
        if page.pool_invitation_offered:
            pool = await talent_pool.application_panel(
                db, actor=actor, application_id=application_id
            )
        # "Was this helpful?" as the candidate is asked it, unanswered (never their answer).
        wording = await survey.wording_of(db, organization_id=actor.organization_id)
    form = form_from_draft(stored.draft, version=stored.version, requirements=requirements)
    result = check(built_from_stored(stored.draft, requirements=requirements), form.values)
    context.update(
        page=page,
        preview=True,
        check=result,
        stored=stored,
        is_author=stored.created_by_staff_id == actor.staff_id,
        form=FormState(),
        thread=thread,
        pool=pool,
        survey=survey.SurveyPanel(application_id, wording, None, None, ""),
        missing=(),
    )
    return context


async def preview(request: Request) -> Response:
    """Exactly the candidate's page for the newest version, under a banner."""
    actor = staff_of(request)
    application_id = application_id_of(request)
    try:
        context = await _preview_context(request, actor, application_id)
    except HTTPException:
        # Nothing written yet: the editor is where to start.
        await application_context(request, actor, application_id)  # 404 if not theirs
        url = path_for(request, "staff.feedback_editor", application_id=application_id)
        return redirect_page(request, url)
    return render(request, "candidate/feedback.html", context, headers=NO_STORE)


PUBLISH_REFUSED = {
    "risky": "This version has risky wording, so it cannot be published as it is. Change "
    "the highlighted words, or ask a colleague to review it: a second recruiter can "
    "publish it with a written reason.",
    "own": "You saved this version, so you cannot override the check on it: a second "
    "recruiter must review it.",
    "stale": "A newer version was saved while you were reviewing this one. Review the newest "
    "version before publishing.",
}


async def publish(request: Request) -> Response:
    actor = staff_of(request)
    application_id = application_id_of(request)
    context = await _preview_context(request, actor, application_id)
    data = await parse_form(
        request, PublishForm, template="candidate/feedback.html", context=context
    )
    if isinstance(data, Response):
        return data
    refused, status = "", 200
    try:
        async with db_session(request) as db:
            await drafts.publish_version(
                db,
                actor=actor,
                application_id=application_id,
                version=data.version,
                staff_id=actor.staff_id,
                settings=portal(request).settings,
                now=utcnow(),
                override_reason=data.reason or None,
                incomplete_confirmed=data.confirm_incomplete,
                ip_hash=client_ip_hash(request),
            )
            await usefulness.measure_published(
                db, actor=actor, application_id=application_id, version=data.version
            )
    except (drafts.ApplicationNotFound, drafts.NothingToPublish):
        raise HTTPException(404) from None
    except drafts.RiskyFindings:
        refused, status = "risky", 422
    except drafts.OwnVersion:
        refused, status = "own", 403
    except drafts.Incomplete as incomplete:
        # Not refused: the warning says what is missing, and a second press publishes.
        context["missing"] = [MISSING_WORDS[part] for part in incomplete.missing]
        context["form"] = FormState(values={"reason": data.reason})
        return render(
            request, "candidate/feedback.html", context, status_code=422, headers=NO_STORE
        )
    except Conflict:
        refused, status = "stale", 409
    if refused:
        context["error"] = PUBLISH_REFUSED[refused]
        context["form"] = FormState(values={"reason": data.reason})
        return render(
            request, "candidate/feedback.html", context, status_code=status, headers=NO_STORE
        )
    portal(request).wake_worker()
    return redirect_page(request, application_url(request, application_id, "published"))


FEEDBACK = "/applications/{application_id:id}/feedback"
routes = [
    Route(FEEDBACK, editor, methods=["GET"], name="staff.feedback_editor"),
    Route(FEEDBACK, save, methods=["POST"], name="staff.feedback_save"),
    Route(FEEDBACK + "/check", live_check, methods=["POST"], name="staff.feedback_check"),
    Route(FEEDBACK + "/autosave", autosave, methods=["POST"], name="staff.feedback_autosave"),
    Route(
        "/applications/{application_id:id}/preview",
        preview,
        methods=["GET"],
        name="staff.feedback_preview",
    ),
    Route(
        "/applications/{application_id:id}/publish",
        publish,
        methods=["POST"],
        name="staff.feedback_publish",
    ),
]
