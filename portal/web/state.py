"""What every handler reaches through the app: its state (`Portal`), the unit of
work, the client's identity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jinja2_fragments.starlette import Jinja2Blocks
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request

from portal.db import (
    read_session,
    unit_of_work,
)
from portal.security.ratelimit import RateLimiter
from portal.security.tokens import keyed_hash
from portal.settings import Settings

if TYPE_CHECKING:
    from portal.pdf.renderer import PdfRenderer
    from portal.staff.oidc import SingleSignOn


@dataclass
class Portal:
    """What every handler needs, kept on `app.state.portal`."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # For reads (portal.db.reads_engine): the engine, and sessions bound to it.
    reads: AsyncEngine
    read_sessions: async_sessionmaker[AsyncSession]
    templates: Jinja2Blocks
    limiter: RateLimiter
    wake_worker: Any  # () -> None, nudges the in-process worker after a commit
    pdf: PdfRenderer
    oidc: SingleSignOn | None = None  # staff single sign-on, when PORTAL_OIDC_ISSUER is set


def portal(request: Request) -> Portal:
    state: Portal = request.app.state.portal
    return state


@asynccontextmanager
async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: services flush, this commits (or rolls back)."""
    async with unit_of_work(portal(request).sessions) as db:
        yield db


@asynccontextmanager
async def db_reads(request: Request) -> AsyncIterator[AsyncSession]:
    """For a request that only reads (`portal.db.read_session`): no BEGIN and COMMIT
    round trips on PostgreSQL."""
    async with read_session(portal(request).read_sessions) as db:
        yield db


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def client_ip_hash(request: Request) -> str:
    return keyed_hash(portal(request).settings.secret_key.get_secret_value(), client_ip(request))


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
