"""The actor: who is asking, resolved once per request.

`ActorMiddleware` reads the session cookie (the only code that does) and keeps
its hash in the request scope. `current_actor` turns it into an actor on first
use and caches it for the rest of the request, so pages that never ask cost no
query.
"""

from __future__ import annotations

from portal.auth.middleware import (
    ActorMiddleware,
    clear_session_cookie,
    current_actor,
    session_id_hash,
    set_session_cookie,
)
from portal.auth.sessions import TOUCH_INTERVAL, check_session_row
from portal.security.actors import ANONYMOUS, Actor, Anonymous, ApiKey, Candidate, Staff, StaffRole

__all__ = [
    "ANONYMOUS",
    "TOUCH_INTERVAL",
    "Actor",
    "ActorMiddleware",
    "Anonymous",
    "ApiKey",
    "Candidate",
    "Staff",
    "StaffRole",
    "check_session_row",
    "clear_session_cookie",
    "current_actor",
    "session_id_hash",
    "set_session_cookie",
]
