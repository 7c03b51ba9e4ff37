"""Helpers for the API's tests: keys, and requests with an Idempotency-Key."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.api import keys
from portal.api.models import ApiScope
from portal.db import unit_of_work, utcnow

ALL = tuple(scope.value for scope in ApiScope)


async def make_key(
    sessions: async_sessionmaker[AsyncSession],
    organization_id: int,
    *,
    scopes: Iterable[str] = ALL,
    name: str = "ATS",
) -> str:
    async with unit_of_work(sessions) as db:
        issued = await keys.issue_key(
            db,
            organization_id=organization_id,
            name=name,
            scopes=scopes,
            staff=None,
            now=utcnow(),
        )
    return issued.key


def auth(key: str, idempotency_key: str | None = None) -> dict[str, str]:
    headers = {"authorization": f"Bearer {key}"}
    headers["idempotency-key"] = idempotency_key or str(uuid.uuid4())
    return headers


async def post(
    client: httpx.AsyncClient, path: str, key: str, body: Any, *, idem: str | None = None
) -> httpx.Response:
    return await client.post(path, json=body, headers=auth(key, idem))


def application_body(
    *,
    external_id: str = "gh-app-1",
    job_id: int | None = None,
    email: str = "fox@example.com",
    summary: str = "Thank you for your time. The role needs deeper experiment design.",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": external_id,
        "email": email,
        "name": "Fox Mulder",
        "stage": "interview",
        "feedback": {
            "decision_summary": summary,
            "assessments": [
                {"requirement": "SQL", "rating": "met", "evidence": "Precise window functions."},
                {
                    "requirement": "Statistics",
                    "rating": "not_yet_met",
                    "evidence": "The power calculation was missing.",
                },
            ],
            "strengths": [{"body": "Clear, well-commented queries.", "requirement": "SQL"}],
            "growth_areas": [
                {
                    "body": "Designing experiments end to end.",
                    "suggestion": "Work through an experimentation textbook.",
                    "requirement": "Statistics",
                }
            ],
        },
    }
    if job_id is not None:
        body["job_id"] = job_id
    body.update(extra)
    return body
