"""Staff administration for admins: the people page, invitations, roles,
deactivation, sign-in locks; and the invitation link an invited colleague opens."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal.auth.areas import admin_of
from portal.auth.signin import sign_in
from portal.db import utcnow
from portal.forms import FormState, read_form
from portal.security.actors import Staff, StaffRole
from portal.staff import invitations, lockout, people
from portal.staff.forms import (
    PASSWORD_MIN,
    InviteForm,
    LockForm,
    PasswordForm,
    RoleForm,
    TitleForm,
)
from portal.web import (
    client_ip_hash,
    db_session,
    parse_form,
    path_for,
    portal,
    redirect_page,
    render,
    signed_in,
)

NO_STORE = {"cache-control": "no-store"}
# What the people page says after an action (?done=...): fixed texts only.
DONE = {
    "invited": "Invitation sent.",
    "reinvited": "A new invitation is on its way; earlier links no longer work.",
    "role": "Role changed.",
    "title": "Job title saved.",
    "deactivated": "Deactivated. Their sessions have ended.",
    "reactivated": "Reactivated. They can sign in again.",
}
LAST_ADMIN = "Your organization needs at least one active admin: make someone else an admin first."


async def _people_context(request: Request, actor: Staff) -> dict[str, Any]:
    async with db_session(request) as db:
        everyone = await people.list_people(db, actor=actor, now=utcnow())
        locks = await people.current_locks(
            db, actor=actor, secret_key=_secret_key(request), now=utcnow()
        )
    done = DONE.get(request.query_params.get("done", ""))
    return {
        "staff": actor,
        "people": everyone,
        "done": done,
        "form": FormState(),
        "lock_count": len(locks),
    }


async def people_page(request: Request) -> Response:
    actor = admin_of(request)
    context = await _people_context(request, actor)
    return render(request, "staff/people.html", context, headers=NO_STORE)


async def invite(request: Request) -> Response:
    actor = admin_of(request)
    context = await _people_context(request, actor)
    data = await parse_form(
        request, InviteForm, template="staff/people.html", block="invite_form", context=context
    )
    if isinstance(data, Response):
        return data
    try:
        async with db_session(request) as db:
            await people.invite(
                db,
                actor=actor,
                settings=portal(request).settings,
                name=data.name,
                email=data.email,
                role=data.role,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except people.AlreadyStaff:
        form = FormState(
            values={"name": data.name, "email": data.email, "role": str(data.role)},
            errors={"email": "Someone in your organization already has this address."},
        )
        context["form"] = form
        return render(
            request,
            "staff/people.html",
            context,
            status_code=422,
            block="invite_form",
            headers=NO_STORE,
        )
    return redirect_page(request, people_url(request, "invited"))


def people_url(request: Request, done: str) -> str:
    return f"{path_for(request, 'staff.people')}?{urlencode({'done': done})}"


async def _person_page(
    request: Request,
    actor: Staff,
    staff_user_id: int,
    *,
    error: str = "",
    status: int = 200,
    template: str = "staff/person.html",
    title_form: FormState | None = None,
) -> Response:
    try:
        async with db_session(request) as db:
            person = await people.find_person(
                db, actor=actor, staff_user_id=staff_user_id, now=utcnow()
            )
    except people.PersonNotFound:
        raise HTTPException(404) from None
    context = {
        "staff": actor,
        "person": person,
        "error": error,
        "itself": person.id == actor.staff_id,
        "title_form": title_form or FormState(values={"title": person.title or ""}),
        "single_sign_on": portal(request).oidc is not None,
        "provider_name": portal(request).settings.oidc_provider_name,
    }
    return render(request, template, context, status_code=status, headers=NO_STORE)


async def person_page(request: Request) -> Response:
    actor = admin_of(request)
    return await _person_page(request, actor, request.path_params["staff_user_id"])


async def confirm_deactivate(request: Request) -> Response:
    actor = admin_of(request)
    return await _person_page(
        request, actor, request.path_params["staff_user_id"], template="staff/deactivate.html"
    )


async def change_role(request: Request) -> Response:
    actor = admin_of(request)
    staff_user_id = request.path_params["staff_user_id"]
    data, _ = await read_form(request, RoleForm)
    if data is None:
        return await _person_page(
            request, actor, staff_user_id, error="Choose admin or recruiter.", status=422
        )
    try:
        async with db_session(request) as db:
            await people.change_role(
                db,
                actor=actor,
                staff_user_id=staff_user_id,
                role=data.role,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except people.PersonNotFound:
        raise HTTPException(404) from None
    except people.LastAdmin:
        return await _person_page(request, actor, staff_user_id, error=LAST_ADMIN, status=409)
    if staff_user_id == actor.staff_id and data.role != StaffRole.ADMIN:
        return redirect_page(request, path_for(request, "staff.home"))
    return redirect_page(request, people_url(request, "role"))


async def change_title(request: Request) -> Response:
    actor = admin_of(request)
    staff_user_id = request.path_params["staff_user_id"]
    data, form = await read_form(request, TitleForm)
    if data is None:
        return await _person_page(request, actor, staff_user_id, status=422, title_form=form)
    try:
        async with db_session(request) as db:
            await people.set_title(
                db,
                actor=actor,
                staff_user_id=staff_user_id,
                title=data.title,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except people.PersonNotFound:
        raise HTTPException(404) from None
    return redirect_page(request, people_url(request, "title"))


async def _set_active(request: Request, *, active: bool) -> Response:
    actor = admin_of(request)
    staff_user_id = request.path_params["staff_user_id"]
    try:
        async with db_session(request) as db:
            await people.set_active(
                db,
                actor=actor,
                staff_user_id=staff_user_id,
                active=active,
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except people.PersonNotFound:
        raise HTTPException(404) from None
    except people.LastAdmin:
        return await _person_page(
            request,
            actor,
            staff_user_id,
            error=LAST_ADMIN,
            status=409,
            template="staff/deactivate.html",
        )
    if staff_user_id == actor.staff_id:  # their own session has just ended
        return redirect_page(request, path_for(request, "staff.signin"))
    return redirect_page(request, people_url(request, "reactivated" if active else "deactivated"))


async def deactivate(request: Request) -> Response:
    return await _set_active(request, active=False)


async def reactivate(request: Request) -> Response:
    return await _set_active(request, active=True)


async def resend_invitation(request: Request) -> Response:
    actor = admin_of(request)
    try:
        async with db_session(request) as db:
            await people.reinvite(
                db,
                actor=actor,
                settings=portal(request).settings,
                staff_user_id=request.path_params["staff_user_id"],
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except people.PersonNotFound:
        raise HTTPException(404) from None
    return redirect_page(request, people_url(request, "reinvited"))


async def locks_page(request: Request) -> Response:
    actor = admin_of(request)
    async with db_session(request) as db:
        locks = await people.current_locks(
            db, actor=actor, secret_key=_secret_key(request), now=utcnow()
        )
    context = {
        "staff": actor,
        "locks": locks,
        "cleared": "cleared" in request.query_params,
        "lock_minutes": lockout.LOCK_LENGTH.seconds // 60,
        "failures_allowed": lockout.FAILURES_ALLOWED,
    }
    return render(request, "staff/sign_in_locks.html", context, headers=NO_STORE)


async def clear_lock(request: Request) -> Response:
    actor = admin_of(request)
    chosen, _ = await read_form(request, LockForm)
    if chosen is None:
        raise HTTPException(404)
    try:
        async with db_session(request) as db:
            await people.clear_lock(
                db,
                actor=actor,
                staff_user_id=request.path_params["staff_user_id"],
                lock_id=chosen.lock,
                secret_key=_secret_key(request),
                now=utcnow(),
                ip_hash=client_ip_hash(request),
            )
    except (people.PersonNotFound, people.LockNotFound):
        raise HTTPException(404) from None
    return redirect_page(request, f"{path_for(request, 'staff.sign_in_locks')}?cleared=1")


def _secret_key(request: Request) -> str:
    return portal(request).settings.secret_key.get_secret_value()


# --- the invitation link (open to anyone holding it) -------------------------


def _spent(request: Request) -> Response:
    return render(request, "staff/invitation_spent.html", {}, status_code=404, headers=NO_STORE)


def _invitation_context(request: Request, invitation: invitations.Invitation) -> dict[str, Any]:
    return {
        "invitation": invitation,
        "token": request.path_params["token"],
        "password_min": PASSWORD_MIN,
        "organization_name": invitation.organization_name,
        "form": FormState(),
        "single_sign_on": portal(request).oidc is not None,
        "provider_name": portal(request).settings.oidc_provider_name,
    }


async def invitation_page(request: Request) -> Response:
    token_hash = invitations.invitation_hash(request.path_params["token"])
    async with db_session(request) as db:
        invitation = await invitations.open_invitation(db, token_hash=token_hash, now=utcnow())
    if invitation is None:
        return _spent(request)
    context = _invitation_context(request, invitation)
    return render(request, "staff/invitation.html", context, headers=NO_STORE)


async def accept_invitation(request: Request) -> Response:
    token_hash = invitations.invitation_hash(request.path_params["token"])
    async with db_session(request) as db:
        invitation = await invitations.open_invitation(db, token_hash=token_hash, now=utcnow())
    if invitation is None:
        return _spent(request)
    data = await parse_form(
        request,
        PasswordForm,
        template="staff/invitation.html",
        block="password_form",
        context=_invitation_context(request, invitation),
    )
    if isinstance(data, Response):
        return data
    now = utcnow()
    async with db_session(request) as db:
        accepted = await invitations.accept_with_password(
            db, token_hash=token_hash, password=data.password, now=now
        )
        if accepted is not None:
            cookie = await sign_in(
                db, request, invitations.signed_in(accepted, "password"), now=now
            )
    if accepted is None:
        return _spent(request)
    return signed_in(request, cookie, then="staff.home")


# Open to anyone holding the link.
public_routes = [
    Route("/l/{token}", invitation_page, methods=["GET"], name="staff.invitation"),
    Route("/l/{token}", accept_invitation, methods=["POST"], name="staff.invitation_accept"),
]
# For admins.
admin_routes = [
    Route("/people", people_page, methods=["GET"], name="staff.people"),
    Route("/people", invite, methods=["POST"], name="staff.invite"),
    Route("/people/{staff_user_id:id}", person_page, methods=["GET"], name="staff.person"),
    Route("/people/sign-in-locks", locks_page, methods=["GET"], name="staff.sign_in_locks"),
    Route(
        "/people/{staff_user_id:id}/sign-in-lock",
        clear_lock,
        methods=["POST"],
        name="staff.sign_in_lock_clear",
    ),
    Route(
        "/people/{staff_user_id:id}/role", change_role, methods=["POST"], name="staff.person_role"
    ),
    Route(
        "/people/{staff_user_id:id}/title",
        change_title,
        methods=["POST"],
        name="staff.person_title",
    ),
    Route(
        "/people/{staff_user_id:id}/deactivate",
        confirm_deactivate,
        methods=["GET"],
        name="staff.person_deactivate_confirm",
    ),
    Route(
        "/people/{staff_user_id:id}/deactivate",
        deactivate,
        methods=["POST"],
        name="staff.person_deactivate",
    ),
    Route(
        "/people/{staff_user_id:id}/reactivate",
        reactivate,
        methods=["POST"],
        name="staff.person_reactivate",
    ),
    Route(
        "/people/{staff_user_id:id}/invitation",
        resend_invitation,
        methods=["POST"],
        name="staff.person_reinvite",
    ),
]
