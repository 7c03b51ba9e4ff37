"""The language model's part of the admins' settings page (portal.llm): saving it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import admin_of
from portal.concurrency import Conflict
from portal.forms import FormState, read_form
from portal.llm import service as language_model
from portal.llm.forms import ModelSettingsForm
from portal.orgs import service
from portal.orgs.routes import NO_STORE, send_window_context, settings_context
from portal.web import client_ip_hash, db_session, path_for, redirect_page, render


async def save_language_model(request: Request) -> Response:
    """Save the admin's model and its uses (audited), or show what to fix (422), keeping
    what was typed; a save that lost to a colleague's is shown theirs (409)."""
    actor = admin_of(request)
    # Asking `llm` whether the model exists loads its plugins: off the event loop.
    data, typed = await read_form(request, ModelSettingsForm, blocking=True)
    form: FormState | None = typed
    status = 422
    if data is not None:
        try:
            async with db_session(request) as db:
                await language_model.update_settings(
                    db, actor=actor, changes=data, ip_hash=client_ip_hash(request)
                )
        except Conflict:
            status = 409
            form = None  # show what is saved now
        else:
            url = path_for(request, "staff.settings") + "?model_saved=1#language-model-message"
            return redirect_page(request, url)
    async with db_session(request) as db:
        org = await service.current_settings(db, organization_id=actor.organization_id)
        context = settings_context(
            actor, org, saved=False, form=FormState(values=service.form_values(org))
        )
        context |= await send_window_context(db, actor)
    if form is not None:
        context["model_form"] = form
    context["model_conflict"] = status == 409
    return render(request, "staff/settings.html", context, status_code=status, headers=NO_STORE)


admin_routes = [
    Route(
        "/settings/language-model",
        save_language_model,
        methods=["POST"],
        name="staff.language_model_save",
    )
]
