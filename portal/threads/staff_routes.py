"""The moderation queue and thread pages for staff (/staff/queue...), and the saved
answers admins manage (/staff/saved-answers...)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import admin_of, staff_of
from portal.concurrency import Conflict
from portal.db import utcnow
from portal.forms import FormState, InputModel, parse_number, read_form
from portal.orgs.models import Organization
from portal.orgs.service import update_question_settings
from portal.security.actors import Staff
from portal.settings import Settings
from portal.threads import moderation, queue
from portal.threads.context import application_context
from portal.threads.forms import (
    AssignForm,
    NoteForm,
    QuestionSettingsForm,
    ReasonForm,
    ReplyForm,
    ReviewForm,
    SavedAnswerForm,
    VersionForm,
    one_newline,
)
from portal.threads.models import SavedAnswer
from portal.threads.moderation import Act, NotAllowed, ThreadNotFound
from portal.threads.nav import nav_counts
from portal.web import client_ip_hash, db_session, portal, redirect_page, render

NO_STORE = {"cache-control": "no-store"}
# What the thread page says after an action (?done=...): fixed texts only.
DONE = {
    "sent": "Reply sent. The candidate has been emailed.",
    "pending": "Reply saved. It waits for a colleague's approval before the candidate sees it.",
    "approved": "Reply approved and sent. The candidate has been emailed.",
    "returned": "Reply returned to its author with your comment.",
    "no_reply": "Marked as needing no reply. The candidate sees your note.",
    "no_reply_pending": "Closing note saved. It waits for a colleague's approval before the "
    "candidate sees it; the conversation stays in the queue until then.",
    "closing_approved": "Closing note approved. The candidate sees it now (no email is sent).",
    "hidden": "Message hidden. Its text stays in the audit trail.",
    "closed": "Conversation closed. The candidate sees it is closed and why.",
    "closed_pending": "Conversation closed. The candidate sees it is closed; your reason waits "
    "for a colleague's approval before they see it.",
    "reopened": "Conversation reopened. The candidate can write again.",
    "assigned": "Assignment changed.",
    "noted": "Internal note added.",
    "blocked": "Candidate blocked: they can no longer send messages to your organization.",
    "unblocked": "Candidate unblocked: they can send messages again.",
}
NO_REPLY_NOTE = (
    "Thank you for your message. There is nothing more we need to add for now, but you are "
    "welcome to write again if anything is unclear."
)
CONFLICT = (
    "Someone else acted on this conversation while you were writing. Here it is as it "
    "is now; your text is kept below, so you can check and send it again."
)


def _id(request: Request, name: str) -> int:
    value: int = request.path_params[name]
    return value


async def queue_page(request: Request) -> Response:
    actor = staff_of(request)
    wanted = queue.QueueFilter.from_query(request.query_params)
    today = utcnow().date()
    async with db_session(request) as db:
        page = await queue.queue_page(db, actor=actor, wanted=wanted, today=today)
    counts = await nav_counts(request, actor)
    context = {
        "staff": actor,
        "page": page,
        "counts": counts,
        "wanted": wanted,
        "today": today,
        "states": queue.STATES,
    }
    return render(request, "staff/queue.html", context, headers=NO_STORE)


async def _thread_page(
    request: Request,
    actor: Staff,
    thread_id: int,
    *,
    forms: dict[str, FormState] | None = None,
    status_code: int = 200,
    error: str = "",
) -> Response:
    today = utcnow().date()
    async with db_session(request) as db:
        thread = await queue.thread_page(db, actor=actor, thread_id=thread_id)
        if thread is None:
            raise HTTPException(404)
        about = await application_context(db, actor=actor, application_id=thread.application_id)
        forms = {"no_reply": FormState(values={"body": NO_REPLY_NOTE}), **(forms or {})}
        answer = parse_number(request.query_params.get("answer", ""))
        if "reply" not in forms and answer is not None:
            body = await queue.saved_answer_body(db, actor=actor, answer_id=answer)
            if body is not None:
                forms["reply"] = FormState(values={"body": body})
    counts = await nav_counts(request, actor)
    context = {
        "staff": actor,
        "thread": thread,
        "about": about,
        "counts": counts,
        "today": today,
        "forms": forms,
        "empty": FormState(),
        "done": DONE.get(request.query_params.get("done", "")),
        "error": error,
    }
    return render(request, "staff/thread.html", context, status_code=status_code, headers=NO_STORE)


async def thread_page(request: Request) -> Response:
    return await _thread_page(request, staff_of(request), _id(request, "thread_id"))


Run = Callable[[AsyncSession, Act, int, Any], Awaitable[str]]


async def _act(request: Request, name: str, model: type[InputModel], run: Run) -> Response:
    """Parse the form, run the action on the thread in the path, and go back to the
    thread; a bad form (422), a stale version or an action that no longer applies
    (409) show the thread as it is now with what was typed kept."""
    actor = staff_of(request)
    thread_id = _id(request, "thread_id")
    data, form = await read_form(request, model, values=one_newline)
    if data is None:
        return await _thread_page(request, actor, thread_id, forms={name: form}, status_code=422)
    act = Act(actor=actor, now=utcnow(), ip_hash=client_ip_hash(request))
    try:
        async with db_session(request) as db:
            done = await run(db, act, thread_id, data)
    except ThreadNotFound:
        raise HTTPException(404) from None
    except Conflict:
        return await _thread_page(
            request, actor, thread_id, forms={name: form}, status_code=409, error=CONFLICT
        )
    except NotAllowed as refused:
        return await _thread_page(
            request, actor, thread_id, forms={name: form}, status_code=409, error=str(refused)
        )
    url = request.url_for("staff.thread", thread_id=thread_id).include_query_params(done=done)
    return redirect_page(request, url.path + "?" + url.query + "#done")


# What an action's endpoint calls: the service, with the thread's (and message's) ids
# and the version as keyword arguments, the parsed form, the settings.
Call = Callable[[AsyncSession, Act, dict[str, int], Any, Settings], Awaitable[str | None]]


def _endpoint(
    form: str, model: type[InputModel], done: str, call: Call
) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of one action on a thread; `form` names the form on the page whose
    text is kept ({message_id} filled in), `done` what the page then says."""

    async def endpoint(request: Request) -> Response:
        settings = portal(request).settings
        message = _id(request, "message_id") if "message_id" in request.path_params else None

        async def run(db: AsyncSession, act: Act, thread_id: int, data: Any) -> str:
            ids = {"thread_id": thread_id, "version": data.version}
            if message is not None:
                ids["message_id"] = message
            return await call(db, act, ids, data, settings) or done

        return await _act(request, form.format(message_id=message), model, run)

    return endpoint


reply = _endpoint(
    "reply",
    ReplyForm,
    "sent",
    lambda db, act, ids, data, settings: moderation.reply(
        db, act, **ids, body=data.body, markdown=data.markdown, settings=settings
    ),
)
approve = _endpoint(
    "review-{message_id}",
    ReviewForm,
    "approved",
    lambda db, act, ids, data, settings: moderation.approve(
        db, act, **ids, comment=data.comment, settings=settings
    ),
)
return_reply = _endpoint(
    "review-{message_id}",
    ReviewForm,
    "returned",
    lambda db, act, ids, data, _: moderation.return_reply(db, act, **ids, comment=data.comment),
)
hide = _endpoint(
    "hide-{message_id}",
    ReasonForm,
    "hidden",
    lambda db, act, ids, data, _: moderation.hide_message(db, act, **ids, reason=data.reason),
)
no_reply_needed = _endpoint(
    "no_reply",
    NoteForm,
    "no_reply",
    lambda db, act, ids, data, _: moderation.no_reply_needed(db, act, **ids, body=data.body),
)
close = _endpoint(
    "close",
    ReasonForm,
    "closed",
    lambda db, act, ids, data, _: moderation.close(db, act, **ids, reason=data.reason),
)
reopen = _endpoint(
    "reopen", VersionForm, "reopened", lambda db, act, ids, _, __: moderation.reopen(db, act, **ids)
)
add_note = _endpoint(
    "note",
    NoteForm,
    "noted",
    lambda db, act, ids, data, _: moderation.add_note(db, act, **ids, body=data.body),
)
block = _endpoint(
    "block",
    ReasonForm,
    "blocked",
    lambda db, act, ids, data, _: moderation.block(db, act, **ids, reason=data.reason),
)
unblock = _endpoint(
    "unblock",
    VersionForm,
    "unblocked",
    lambda db, act, ids, _, __: moderation.unblock(db, act, **ids),
)


async def _assign(
    db: AsyncSession, act: Act, ids: dict[str, int], data: AssignForm, _: Settings
) -> None:
    if data.assignee == "me":
        assignee: int | None = act.actor.staff_id
    elif data.assignee == "":
        assignee = None
    else:
        assignee = data.assignee
    await moderation.assign(db, act, **ids, assignee=assignee)


assign = _endpoint("assign", AssignForm, "assigned", _assign)


# --- saved answers (admins) ------------------------------------------------------------

ANSWER_DONE = {
    "rules": "Reply promise and approval rule saved.",
    "created": "Saved answer added.",
    "changed": "Saved answer changed.",
    "deleted": "Saved answer deleted.",
}
TITLE_TAKEN = "Another saved answer has this title; choose another."


async def _answers_page(
    request: Request,
    actor: Staff,
    *,
    form: FormState | None = None,
    rules: FormState | None = None,
    rules_error: str = "",
    status_code: int = 200,
) -> Response:
    async with db_session(request) as db:
        answers = (
            await db.scalars(moderation.readable_saved_answers(actor).order_by(SavedAnswer.title))
        ).all()
        org = (
            await db.execute(
                select(
                    Organization.reply_promise_days,
                    Organization.replies_need_approval,
                    Organization.version,
                ).where(Organization.id == actor.organization_id)
            )
        ).one()
    saved = FormState(
        values={
            "reply_promise_days": str(org.reply_promise_days),
            "replies_need_approval": "true" if org.replies_need_approval else "",
        }
    )
    context = {
        "staff": actor,
        "answers": answers,
        "form": form or FormState(),
        "rules": rules or saved,
        "rules_version": org.version,
        "rules_error": rules_error,
        "done": ANSWER_DONE.get(request.query_params.get("done", "")),
    }
    return render(
        request, "staff/saved_answers.html", context, status_code=status_code, headers=NO_STORE
    )


async def saved_answers(request: Request) -> Response:
    return await _answers_page(request, admin_of(request))


async def _answer_page(
    request: Request,
    actor: Staff,
    answer_id: int,
    *,
    form: FormState | None = None,
    status_code: int = 200,
    template: str = "staff/saved_answer.html",
) -> Response:
    async with db_session(request) as db:
        answer = await db.scalar(
            moderation.readable_saved_answers(actor).where(SavedAnswer.id == answer_id)
        )
    if answer is None:
        raise HTTPException(404)
    form = form or FormState(values={"title": answer.title, "body": answer.body})
    context = {"staff": actor, "answer": answer, "form": form}
    return render(request, template, context, status_code=status_code, headers=NO_STORE)


async def saved_answer(request: Request) -> Response:
    return await _answer_page(request, admin_of(request), _id(request, "answer_id"))


async def confirm_delete_answer(request: Request) -> Response:
    return await _answer_page(
        request,
        admin_of(request),
        _id(request, "answer_id"),
        template="staff/saved_answer_delete.html",
    )


async def save_answer(request: Request) -> Response:
    actor = admin_of(request)
    answer_id = _id(request, "answer_id") if "answer_id" in request.path_params else None
    data, form = await read_form(request, SavedAnswerForm, values=one_newline)
    if data is not None:
        act = Act(actor=actor, now=utcnow(), ip_hash=client_ip_hash(request))
        try:
            async with db_session(request) as db:
                await moderation.save_answer(
                    db, act, answer_id=answer_id, title=data.title, body=data.body
                )
        except ThreadNotFound:
            raise HTTPException(404) from None
        except moderation.DuplicateTitle:
            form.errors["title"] = TITLE_TAKEN
        else:
            done = "created" if answer_id is None else "changed"
            url = request.url_for("staff.saved_answers").include_query_params(done=done)
            return redirect_page(request, url.path + "?" + url.query)
    if answer_id is None:
        return await _answers_page(request, actor, form=form, status_code=422)
    return await _answer_page(request, actor, answer_id, form=form, status_code=422)


async def delete_answer(request: Request) -> Response:
    actor = admin_of(request)
    act = Act(actor=actor, now=utcnow(), ip_hash=client_ip_hash(request))
    try:
        async with db_session(request) as db:
            await moderation.delete_answer(db, act, answer_id=_id(request, "answer_id"))
    except ThreadNotFound:
        raise HTTPException(404) from None
    url = request.url_for("staff.saved_answers").include_query_params(done="deleted")
    return redirect_page(request, url.path + "?" + url.query)


async def question_settings(request: Request) -> Response:
    actor = admin_of(request)
    data, form = await read_form(request, QuestionSettingsForm, max_fields=6)
    if data is None:
        return await _answers_page(request, actor, rules=form, status_code=422)
    try:
        async with db_session(request) as db:
            await update_question_settings(
                db,
                organization_id=actor.organization_id,
                reply_promise_days=data.reply_promise_days,
                replies_need_approval=data.replies_need_approval,
                version=data.version,
                staff_user_id=actor.staff_id,
                ip_hash=client_ip_hash(request),
            )
    except Conflict:
        return await _answers_page(
            request,
            actor,
            rules=form,
            rules_error="Another admin changed these settings meanwhile: here is what you "
            "chose; the page now shows their version, so save again to keep yours.",
            status_code=409,
        )
    url = request.url_for("staff.saved_answers").include_query_params(done="rules")
    return redirect_page(request, url.path + "?" + url.query)


def _post(path: str, endpoint: Any, name: str) -> Route:
    return Route(path, endpoint, methods=["POST"], name=name)


THREAD = "/queue/{thread_id:id}"
MESSAGE = THREAD + "/messages/{message_id:id}"
routes = [
    Route("/queue", queue_page, methods=["GET"], name="staff.queue"),
    Route(THREAD, thread_page, methods=["GET"], name="staff.thread"),
    _post(THREAD + "/reply", reply, "staff.thread_reply"),
    _post(THREAD + "/no-reply-needed", no_reply_needed, "staff.thread_no_reply"),
    _post(THREAD + "/close", close, "staff.thread_close"),
    _post(THREAD + "/reopen", reopen, "staff.thread_reopen"),
    _post(THREAD + "/assign", assign, "staff.thread_assign"),
    _post(THREAD + "/notes", add_note, "staff.thread_note"),
    _post(THREAD + "/block", block, "staff.thread_block"),
    _post(THREAD + "/unblock", unblock, "staff.thread_unblock"),
    _post(MESSAGE + "/hide", hide, "staff.message_hide"),
    _post(MESSAGE + "/approve", approve, "staff.reply_approve"),
    _post(MESSAGE + "/return", return_reply, "staff.reply_return"),
]
# For admins (recruiters use saved answers from the thread page).
admin_routes = [
    Route("/saved-answers", saved_answers, methods=["GET"], name="staff.saved_answers"),
    _post("/saved-answers", save_answer, "staff.saved_answer_create"),
    _post("/question-settings", question_settings, "staff.question_settings"),
    Route(
        "/saved-answers/{answer_id:id}", saved_answer, methods=["GET"], name="staff.saved_answer"
    ),
    _post("/saved-answers/{answer_id:id}", save_answer, "staff.saved_answer_save"),
    Route(
        "/saved-answers/{answer_id:id}/delete",
        confirm_delete_answer,
        methods=["GET"],
        name="staff.saved_answer_confirm_delete",
    ),
    _post("/saved-answers/{answer_id:id}/delete", delete_answer, "staff.saved_answer_delete"),
]
