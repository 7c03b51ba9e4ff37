"""The queue's counts in every staff page's navigation.

`NavCountsMiddleware` sits in the staff and admin areas, after their guards:
for each page a signed-in staff member opens (a GET that is not an htmx
fragment) it counts the threads waiting, overdue, flagged and waiting for
approval, once, with the queue's bounded statement, and leaves them in the
request's state, where the templates find them (`portal.web`'s context
processor). Fragments and form posts are not
counted: they either redirect or replace part of a page that already shows them.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from portal.auth.areas import staff_of
from portal.db import utcnow
from portal.security.actors import Staff
from portal.threads import queue

NAV_COUNTS_KEY = "nav_counts"


async def nav_counts(connection: HTTPConnection, actor: Staff) -> queue.QueueCounts:
    """The queue's counts for `actor`, counted at most once per request."""
    state = connection.scope.setdefault("state", {})
    found: queue.QueueCounts | None = state.get(NAV_COUNTS_KEY)
    if found is None:
        portal: Any = connection.app.state.portal
        async with portal.sessions() as db:
            found = await queue.queue_counts(db, actor=actor, today=utcnow().date())
        state[NAV_COUNTS_KEY] = found
    return found


class NavCountsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            connection = HTTPConnection(scope, receive)
            if connection.headers.get("hx-request") != "true":
                await nav_counts(connection, staff_of(connection))
        await self.app(scope, receive, send)
