"""Who may enter each area, and the actor it lets in.

Every route lives in exactly one `portal.routing.Area`, whose guard says who may
enter (`tests/test_area_guards.py` fails for a route outside one):

| guard | who may enter | anyone else |
|---|---|---|
| `PUBLIC` | anyone | (nobody else) |
| `CANDIDATE` | a signed-in candidate | the sign-in page (401), as `sign_in_required` answers |
| `STAFF` | a signed-in staff member | 303 to the staff sign-in page (htmx: a 401 message) |
| `ADMIN` | an admin of their organization | other staff: 404; anyone else as `STAFF` |
| `API` | an API key (`Authorization: Bearer`) with the route's scope | 401, or 403 (scope) |
| `SIGNED` | senders of signed webhooks (an ATS), checked by the handler | 401 (problem+json) |

A handler reads the actor its area let in with `candidate_of`, `staff_of`,
`admin_of` or `api_client_of`, never with `current_actor` and a test of its own. Public pages that
adapt to whoever is there ask `signed_in_candidate` or `signed_in_staff`.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.api import keys as api_keys
from portal.api.problems import problem_response
from portal.auth import kept
from portal.auth.middleware import current_actor, session_id_hash
from portal.db import utcnow
from portal.routing import Guard, keeper_for, scope_needed
from portal.security.actors import Actor, ApiKey, Candidate, Staff, is_admin
from portal.web import (
    db_reads,
    db_session,
    is_htmx,
    path_for,
    session_ended_fragment,
    sign_in_required,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Key in the request's scope["state"]: the actor the area's guard let in.
ADMITTED_KEY = "admitted_actor"


def _admit(scope: Scope, actor: Actor) -> None:
    scope.setdefault("state", {})[ADMITTED_KEY] = actor


def _forget(scope: Scope) -> None:
    scope.setdefault("state", {}).pop(ADMITTED_KEY, None)


async def _keep_typed(request: Request, routes: Sequence[BaseRoute], *, staff: bool) -> bool:
    """Whether what a refused post held was kept for the owner of the browser's ended
    session (a candidate's in the candidate area, a staff member's in the staff
    areas): only for a route that keeps typed text, and only for an owner whose
    session ended by time. The owner comes from the session row, never the request."""
    id_hash = session_id_hash(request)
    if request.method in SAFE_METHODS or id_hash is None:
        return False
    found = keeper_for(routes, request.scope)
    if found is None:
        return False
    keeper, scope = found
    async with db_session(request) as db:
        owner = await kept.ended_session_owner(db, id_hash=id_hash)
    if owner is None or (owner.staff_user_id is not None) != staff:
        return False
    try:
        return await keeper(Request(scope, request.receive), owner)
    except HTTPException:  # a form no page of ours sends (too many fields, say)
        return False


class CandidateGuard:
    """A signed-in candidate may enter; anyone else gets the sign-in page (401), which
    says "you were signed out" to a browser whose session has just ended (htmx: that
    message alone, in the page's message area). A question posted after the session
    ended is kept for its writer first (`portal.auth.kept`). A browser without a
    session cookie is refused with no query."""

    sees_routes = True

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute] = ()) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        _forget(scope)
        request = Request(scope, receive)
        was_kept = False
        if session_id_hash(request) is not None:
            actor = await current_actor(request)
            if isinstance(actor, Candidate):
                _admit(scope, actor)
                await self.app(scope, receive, send)
                return
            was_kept = await _keep_typed(request, self.routes, staff=False)
        response = await sign_in_required(request, kept=was_kept)
        await response(scope, receive, send)


class StaffGuard:
    """A signed-in staff member may enter (with `admin`, only an admin); anyone else
    is sent to the staff sign-in page (htmx: a message in the page's message area,
    with a link there). A draft posted after the session ended is kept for its
    writer first (`portal.auth.kept`). Other staff get a 404 from an admin page:
    they do not learn it exists."""

    sees_routes = True

    def __init__(
        self, app: ASGIApp, *, admin: bool = False, routes: Sequence[BaseRoute] = ()
    ) -> None:
        self.app = app
        self.admin = admin
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            _forget(scope)
            connection = HTTPConnection(scope, receive)
            actor = await current_actor(connection)
            if not isinstance(actor, Staff):
                request = Request(scope, receive)
                was_kept = await _keep_typed(request, self.routes, staff=True)
                await _to_staff_signin(request, kept=was_kept)(scope, receive, send)
                return
            if self.admin and not is_admin(actor):
                raise HTTPException(404)
            _admit(scope, actor)
        await self.app(scope, receive, send)


class ApiKeyGuard:
    """An API client may enter with a valid key (`Authorization: Bearer <key>`) that has
    the scope its route declares (`portal.routing.needs_scope`). Anyone else gets a
    401 problem that does not say what was wrong (no key, a malformed one, an unknown
    or a revoked one), a key without the scope a 403. A route that declares no scope
    is refused to every key. The session cookie is never read: a browser signed in
    as staff is no API client."""

    sees_routes = True

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute] = ()) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        _forget(scope)
        request = Request(scope, receive)
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        actor = None
        if scheme.lower() == "bearer" and key.strip():
            async with db_reads(request) as db:
                actor = await api_keys.authenticate(db, key=key.strip(), now=utcnow())
        if actor is None:
            response = problem_response(
                401,
                detail="Send a valid API key: Authorization: Bearer <key>.",
                instance=request.url.path,
                headers={"www-authenticate": 'Bearer realm="api"'},
            )
            await response(scope, receive, send)
            return
        needed = scope_needed(self.routes, scope)
        if needed is None or needed not in actor.scopes:
            response = problem_response(
                403,
                detail=f"This API key lacks the scope this needs: {needed}."
                if needed
                else "This API key may not do this.",
                kind="scope-missing",
                instance=request.url.path,
            )
            await response(scope, receive, send)
            return
        _admit(scope, actor)
        await self.app(scope, receive, send)


def _to_staff_signin(request: Request, *, kept: bool) -> Response:
    target = path_for(request, "staff.signin") + ("?kept=1" if kept else "")
    headers = {"cache-control": "no-store"}
    if is_htmx(request):
        # htmx requests follow a 303 unseen and would swap the sign-in page into a
        # fragment; a redirect of the whole page would lose what is in the form. Say
        # so in the page's message area, with the way back in, and keep the form.
        return session_ended_fragment(request, signin_url=target, staff=True, kept=kept)
    return RedirectResponse(target, status_code=303, headers=headers)


PUBLIC = Guard("public", "anyone")
CANDIDATE = Guard(
    "candidate",
    "a signed-in candidate; anyone else gets the sign-in page (401)",
    [Middleware(CandidateGuard)],
)
STAFF = Guard(
    "staff",
    "a signed-in staff member; anyone else is sent to the staff sign-in page",
    [Middleware(StaffGuard)],
)
ADMIN = Guard(
    "staff/admin",
    "an admin of their organization; other staff get a 404, anyone else is sent to the "
    "staff sign-in page",
    [Middleware(StaffGuard, admin=True)],
)
API = Guard(
    "api",
    "API clients with a key (Authorization: Bearer) that has the route's scope; the "
    "session cookie is never read",
    [Middleware(ApiKeyGuard)],
)
# Incoming webhooks (/api/v1/hooks): no cookie and no key, but a signature over the raw
# body with the secret the organization's admin set, which the handler checks before
# reading anything else. Kept apart from the key-authenticated API on purpose.
SIGNED = Guard(
    "api/signed",
    "senders of signed webhooks: each request authenticates itself with its signature, "
    "checked by the handler before anything else (401 otherwise); no cookie is read",
)
GUARDS = (PUBLIC, CANDIDATE, STAFF, ADMIN, API, SIGNED)


class OutsideArea(RuntimeError):
    """A handler asked for an actor its area does not let in: a route in the wrong area."""


def _admitted(connection: HTTPConnection) -> Actor | None:
    found: Actor | None = connection.scope.get("state", {}).get(ADMITTED_KEY)
    return found


def candidate_of(connection: HTTPConnection) -> Candidate:
    """The signed-in candidate, in the candidate area."""
    actor = _admitted(connection)
    if not isinstance(actor, Candidate):
        raise OutsideArea(f"no candidate let in on {connection.url.path}")
    return actor


def staff_of(connection: HTTPConnection) -> Staff:
    """The signed-in staff member, in the staff and admin areas."""
    actor = _admitted(connection)
    if not isinstance(actor, Staff):
        raise OutsideArea(f"no staff member let in on {connection.url.path}")
    return actor


def api_client_of(connection: HTTPConnection) -> ApiKey:
    """The API client (its key), in the API area."""
    actor = _admitted(connection)
    if not isinstance(actor, ApiKey):
        raise OutsideArea(f"no API client let in on {connection.url.path}")
    return actor


def admin_of(connection: HTTPConnection) -> Staff:
    """The signed-in admin, in the admin area."""
    actor = _admitted(connection)
    if actor is None or not is_admin(actor):
        raise OutsideArea(f"no admin let in on {connection.url.path}")
    return actor


async def signed_in_candidate(connection: HTTPConnection) -> Candidate | None:
    """For public pages that adapt to a signed-in candidate."""
    actor = await current_actor(connection)
    return actor if isinstance(actor, Candidate) else None


async def signed_in_staff(connection: HTTPConnection) -> Staff | None:
    """For public pages that adapt to a signed-in staff member."""
    actor = await current_actor(connection)
    return actor if isinstance(actor, Staff) else None
