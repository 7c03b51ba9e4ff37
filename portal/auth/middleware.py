"""Reading the session cookie once per request, and resolving the actor on demand.
(Who may enter each area is checked by `portal.auth.areas`.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam
from starlette.requests import HTTPConnection, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.auth.sessions import SESSION_ACTOR, check_session_row
from portal.db import utcnow
from portal.security.actors import ANONYMOUS, Actor
from portal.security.models import Session
from portal.security.sessions import TOUCH_SESSION, cookie_name, session_hash
from portal.settings import Settings

# Built once, as the busiest statement of all (every signed-in request).
_SESSION_ACTOR_BY_HASH = SESSION_ACTOR.where(Session.id_hash == bindparam("id_hash"))

# Keys in the request's scope["state"].
SESSION_KEY = "session_id_hash"
ACTOR_KEY = "actor"


class ActorMiddleware:
    """Puts the hash of the session cookie (or None) in the scope; nothing more, so
    requests that never ask who is there pay no query. Requests for which `ignore`
    is true (the API, exempt from CSRF checks) never count the cookie."""

    def __init__(
        self, app: ASGIApp, *, https: bool, ignore: Callable[[Scope], bool] | None = None
    ) -> None:
        self.app = app
        self.cookie = cookie_name(https)
        self.ignore = ignore

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            value = None
            if self.ignore is None or not self.ignore(scope):
                for name, header in scope["headers"]:
                    if name == b"cookie":
                        value = cookie_parser(header.decode("latin-1")).get(self.cookie)
                        break
            state = scope.setdefault("state", {})
            state[SESSION_KEY] = session_hash(value)
            state.pop(ACTOR_KEY, None)
        await self.app(scope, receive, send)


def session_id_hash(connection: HTTPConnection) -> bytes | None:
    """The hash of the session cookie the request came with (None without one)."""
    found: bytes | None = connection.scope.get("state", {}).get(SESSION_KEY)
    return found


async def current_actor(connection: HTTPConnection) -> Actor:
    """Who is asking: resolved with one statement on first use, then cached."""
    state = connection.scope.setdefault("state", {})
    actor: Actor | None = state.get(ACTOR_KEY)
    if actor is not None:
        return actor
    id_hash = state.get(SESSION_KEY)
    actor = ANONYMOUS
    if id_hash is not None:
        portal: Any = connection.app.state.portal
        # A connection of the reads engine (portal.db.reads_engine), without a
        # Session: the busiest statement of all needs no unit of work, and an ORM
        # session around it cost as much again as the statement itself.
        async with portal.reads.connect() as db:
            result = await db.execute(_SESSION_ACTOR_BY_HASH, {"id_hash": id_hash})
            row = result.mappings().first()
            if row is not None:
                now = utcnow()
                actor, touch = check_session_row(
                    row, id_hash=id_hash, now=now, settings=portal.settings
                )
                if touch:
                    await db.execute(TOUCH_SESSION, {"session_id_hash": id_hash, "now": now})
                    await db.commit()
    state[ACTOR_KEY] = actor
    return actor


def set_session_cookie(response: Response, value: str, *, settings: Settings) -> None:
    response.set_cookie(
        cookie_name(settings.https),
        value,
        max_age=settings.session_absolute_hours * 3600,
        path="/",
        secure=settings.https,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, *, settings: Settings) -> None:
    response.delete_cookie(
        cookie_name(settings.https), path="/", secure=settings.https, httponly=True, samesite="lax"
    )
