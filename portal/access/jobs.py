"""Sign-in requests, answered by the worker.

They are answered outside the request so that a known and an unknown address
cost the request exactly the same (DESIGN §4.8).
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from portal.access import service
from portal.jobs import service as jobs
from portal.jobs.registry import JobContext, JobKind, registry
from portal.security.tokens import token_digest


class SignInRequest(BaseModel):
    email: str


class FreshLinkRequest(BaseModel):
    token_hash: str  # hex SHA-256 of the spent link's token, never the token


async def _answer_sign_in(db: AsyncSession, request: SignInRequest, context: JobContext) -> None:
    await service.answer_sign_in_request(
        db, email=request.email, settings=context.settings, now=context.now
    )


async def _answer_fresh_link(
    db: AsyncSession, request: FreshLinkRequest, context: JobContext
) -> None:
    await service.answer_fresh_link_request(
        db, token_hash=request.token_hash, settings=context.settings, now=context.now
    )


SIGN_IN = registry.add(JobKind("access.sign_in", SignInRequest, run=_answer_sign_in))
FRESH_LINK = registry.add(JobKind("access.fresh_link", FreshLinkRequest, run=_answer_fresh_link))


async def request_sign_in(db: AsyncSession, *, email: str, now: dt.datetime) -> None:
    """Queue a sign-in request. Identical work whether or not the address is known."""
    await jobs.enqueue(db, SIGN_IN, SignInRequest(email=email), run_at=now)


async def request_fresh_link(db: AsyncSession, *, token: str, now: dt.datetime) -> None:
    """Queue a fresh sign-in link for the owner of a spent link, if it is one of ours."""
    if len(token) > service.MAX_TOKEN_LENGTH:
        return
    payload = FreshLinkRequest(token_hash=token_digest(token).hex())
    await jobs.enqueue(db, FRESH_LINK, payload, run_at=now)
