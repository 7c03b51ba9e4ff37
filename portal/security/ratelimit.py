"""Rate limits on the routes an attacker would hammer (links, sign-in requests)."""

from __future__ import annotations

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

# name -> limit; keys are per client address unless the caller adds more.
LIMITS: dict[str, RateLimitItem] = {
    "link_confirm": parse("10/minute"),
    "signin_ip": parse("5/minute"),
    "signin_email": parse("3/15minutes"),
}


class RateLimiter:
    def __init__(self, storage_uri: str) -> None:
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        self._limiter = MovingWindowRateLimiter(storage_from_string(uri))

    async def allow(self, name: str, *keys: str) -> bool:
        """Count one hit; False once the limit for (name, keys) is spent."""
        return await self._limiter.hit(LIMITS[name], name, *keys)
