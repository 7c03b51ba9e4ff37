"""Rate limits on the routes an attacker would hammer (links, sign-in requests).

Sign-in and fresh-link requests over a limit get the usual answer and send
nothing, so a limit never tells a stranger anything. The last word on email is
per candidate, where the worker answers (`access.service`): at most one
sign-in link every few minutes, and never while the last one still works, so
requests made by strangers cannot keep a candidate from signing in.

Where the counters live (`PORTAL_RATE_LIMIT_STORAGE`): by default in the
portal's own PostgreSQL database (`ratelimit_storage.PostgresStorage`), so that
every app process counts against the same limits; in process memory on SQLite
(one process); or anywhere `limits` can keep them (`redis://…`).
"""

from __future__ import annotations

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.security.ratelimit_storage import PostgresStorage

# name -> limit, counted per key the caller gives (client address, email, link).
LIMITS: dict[str, RateLimitItem] = {
    "link_confirm": parse("10/minute"),  # per client address
    "signin_ip": parse("5/minute"),  # sign-in and fresh-link requests, per client address
    # Per email address and per spent link. A short window on purpose: when it
    # drops a request, the link answering the earlier ones still works.
    "signin_email": parse("3/minute"),
    "renew_link": parse("3/minute"),
    # Staff password sign-in, per client address (attempts at any addresses). Failed
    # passwords are also counted per address and client: `portal.staff.lockout`.
    "staff_signin_ip": parse("10/minute"),
    # Candidates' questions and follow-ups, per candidate.
    "question": parse("5/10minutes"),
    # Staff single sign-on: starting a sign-in and returning from the provider, per
    # client address.
    "staff_sso_ip": parse("20/minute"),
}


# `PORTAL_RATE_LIMIT_STORAGE` for the portal's own database (the default on PostgreSQL).
IN_DATABASE = "database"


def storage_for(storage_uri: str, engine: AsyncEngine) -> Storage:
    """The counters' storage a `PORTAL_RATE_LIMIT_STORAGE` value names: the database
    (`database`, and the default on PostgreSQL) through `engine`, process memory (the
    default on SQLite), or any `limits` storage URI (`redis://…`, `postgresql://…`)."""
    uri = storage_uri or (IN_DATABASE if engine.dialect.name == "postgresql" else "memory://")
    if uri == IN_DATABASE:
        return PostgresStorage(engine=engine)
    uri = uri if uri.startswith("async+") else f"async+{uri}"
    storage = storage_from_string(uri)
    assert isinstance(storage, Storage)
    return storage


class RateLimiter:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._limiter = MovingWindowRateLimiter(storage)

    async def allow(self, name: str, *keys: str) -> bool:
        """Count one hit; False once the limit for (name, keys) is spent."""
        return await self._limiter.hit(LIMITS[name], name, *keys)
