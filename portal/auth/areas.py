"""Who may enter each area, and the actor it lets in.

Every route lives in exactly one `portal.routing.Area`, whose guard says who may
enter (`tests/test_area_guards.py` fails for a route outside one):

| guard | who may enter | anyone else |
|---|---|---|
| `PUBLIC` | anyone | (nobody else) |
| `CANDIDATE` | a signed-in candidate | the sign-in page (401), as `sign_in_required` answers |
| `CANDIDATE_PAGE` | the same, for pages whose own statement checks the session | the same |
| `STAFF` | a signed-in staff member | 303 to the staff sign-in page (htmx: HX-Redirect) |
| `ADMIN` | an admin of their organization | other staff: 404; anyone else as `STAFF` |
| `API` | API clients, each request authenticating itself | (nothing is routed there yet) |

A handler reads the actor its area let in with `candidate_of`, `staff_of` or
`admin_of`, never with `current_actor` and a test of its own. Public pages that
adapt to whoever is there ask `signed_in_candidate` or `signed_in_staff`.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.auth.middleware import current_actor, remember_actor, session_id_hash
from portal.routing import Guard
from portal.security.actors import Actor, Candidate, Staff, is_admin
from portal.web import path_for, sign_in_required

# Key in the request's scope["state"]: the actor the area's guard let in.
ADMITTED_KEY = "admitted_actor"


def _admit(scope: Scope, actor: Actor) -> None:
    scope.setdefault("state", {})[ADMITTED_KEY] = actor


def _forget(scope: Scope) -> None:
    scope.setdefault("state", {}).pop(ADMITTED_KEY, None)


class SignInRequired(Exception):
    """A page's own statement found no candidate behind the session
    (`candidate_found`): the candidate area's guard answers as for anyone else."""


class CandidateGuard:
    """A signed-in candidate may enter; anyone else gets the sign-in page (401), which
    says "you were signed out" to a browser whose session has just ended.

    With `checked_by_page`, for pages answered by one statement that checks the
    session itself (the feedback page, the busiest): a browser without a session
    cookie is refused here, with no query; the page's statement says who the
    session belongs to and hands it to `candidate_found`, which lets a candidate
    in and refuses anyone else (`SignInRequired`, answered here)."""

    def __init__(self, app: ASGIApp, *, checked_by_page: bool = False) -> None:
        self.app = app
        self.checked_by_page = checked_by_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        _forget(scope)
        request = Request(scope, receive)
        if session_id_hash(request) is not None:
            if self.checked_by_page:
                try:
                    await self.app(scope, receive, send)
                    return
                except SignInRequired:
                    pass
            else:
                actor = await current_actor(request)
                if isinstance(actor, Candidate):
                    _admit(scope, actor)
                    await self.app(scope, receive, send)
                    return
        response = await sign_in_required(request)
        await response(scope, receive, send)


class StaffGuard:
    """A signed-in staff member may enter (with `admin`, only an admin); anyone else
    is sent to the staff sign-in page. Other staff get a 404 from an admin page:
    they do not learn it exists."""

    def __init__(self, app: ASGIApp, *, admin: bool = False) -> None:
        self.app = app
        self.admin = admin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            _forget(scope)
            connection = HTTPConnection(scope, receive)
            actor = await current_actor(connection)
            if not isinstance(actor, Staff):
                await _to_staff_signin(Request(scope, receive))(scope, receive, send)
                return
            if self.admin and not is_admin(actor):
                raise HTTPException(404)
            _admit(scope, actor)
        await self.app(scope, receive, send)


def _to_staff_signin(request: Request) -> Response:
    target = path_for(request, "staff.signin")
    headers = {"cache-control": "no-store"}
    if request.headers.get("hx-request") == "true":
        # htmx requests follow a 303 unseen and would swap the sign-in page into a
        # fragment: have htmx load it as a page instead.
        return Response(status_code=204, headers={**headers, "hx-redirect": target})
    return RedirectResponse(target, status_code=303, headers=headers)


PUBLIC = Guard("public", "anyone")
CANDIDATE = Guard(
    "candidate",
    "a signed-in candidate; anyone else gets the sign-in page (401)",
    [Middleware(CandidateGuard)],
)
CANDIDATE_PAGE = Guard(
    "candidate",
    "a signed-in candidate, as the page's own statement finds the session; anyone else "
    "gets the sign-in page (401)",
    [Middleware(CandidateGuard, checked_by_page=True)],
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
    "API clients, each request authenticating itself (no keys are issued yet); the "
    "session cookie is never read",
)
GUARDS = (PUBLIC, CANDIDATE, CANDIDATE_PAGE, STAFF, ADMIN, API)


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


def admin_of(connection: HTTPConnection) -> Staff:
    """The signed-in admin, in the admin area."""
    actor = _admitted(connection)
    if actor is None or not is_admin(actor):
        raise OutsideArea(f"no admin let in on {connection.url.path}")
    return actor


def candidate_session(connection: HTTPConnection) -> bytes:
    """The session the `CANDIDATE_PAGE` guard saw, for the page's statement to check."""
    id_hash = session_id_hash(connection)
    if id_hash is None:
        raise OutsideArea(f"no session let in on {connection.url.path}")
    return id_hash


def candidate_found(connection: HTTPConnection, who: Actor | None) -> Candidate:
    """In the `CANDIDATE_PAGE` area: the actor the page's statement found for the
    session (None when it found no session), remembered for the rest of the request;
    a candidate is let in, anyone else gets what the guard gives them."""
    if who is not None:
        remember_actor(connection, who)
    if not isinstance(who, Candidate):
        raise SignInRequired
    _admit(connection.scope, who)
    return who


async def signed_in_candidate(connection: HTTPConnection) -> Candidate | None:
    """For public pages that adapt to a signed-in candidate."""
    actor = await current_actor(connection)
    return actor if isinstance(actor, Candidate) else None


async def signed_in_staff(connection: HTTPConnection) -> Staff | None:
    """For public pages that adapt to a signed-in staff member."""
    actor = await current_actor(connection)
    return actor if isinstance(actor, Staff) else None
