"""What the commands share: a short-lived engine, and a public address for links."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from portal import urls
from portal.cli import DEFAULT_HOST, DEFAULT_PORT
from portal.db import create_engine, session_factory
from portal.settings import Settings

log = logging.getLogger("portal")
T = TypeVar("T")


def with_engine(settings: Settings, work: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
    """Run `work(sessions)` on a short-lived engine, outside any server (email it
    writes links to the app's routes, by name)."""
    from portal.app import route_table  # the whole app: only for commands that run

    urls.use_routes(route_table())

    async def run() -> T:
        engine = create_engine(settings, pool_size=1)
        try:
            return await work(session_factory(engine))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def for_links(settings: Settings, *, warn: bool = True) -> Settings:
    """Links printed or emailed from the command line need a public address (a
    command whose errors must be one line warns itself, once it has succeeded)."""
    if settings.base_url:
        return settings
    settings = settings.with_base_url(f"http://{DEFAULT_HOST}:{DEFAULT_PORT}")
    if warn:
        log.warning("PORTAL_BASE_URL is not set; links use %s", settings.base_url)
    return settings
