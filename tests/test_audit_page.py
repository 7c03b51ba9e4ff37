"""The audit log page: an admin reads their organization's trail, filtered and
paginated; recruiters, other organizations and strangers see nothing of it."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.audit.models import AuditEvent
from portal.db import unit_of_work
from tests.factories import make_staff, make_world, staff_sign_in

Sessions = async_sessionmaker[AsyncSession]
DAY = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


async def _events(sessions: Sessions, *events: AuditEvent) -> None:
    async with unit_of_work(sessions) as db:
        db.add_all(events)


def _event(
    organization_id: int, action: str, *, actor_id: int | None = None, **extra: object
) -> AuditEvent:
    return AuditEvent(
        organization_id=organization_id,
        actor_kind="staff" if actor_id else "anonymous",
        actor_id=actor_id,
        action=action,
        details=extra.pop("details", {}),
        created_at=extra.pop("created_at", DAY),
        **extra,
    )


async def _admin_and_recruiter(sessions: Sessions) -> tuple[int, int, int, int]:
    acme = await make_world(sessions)
    globex = await make_world(sessions, slug="globex", email="bo@example.com")
    admin = await make_staff(
        sessions,
        organization_id=acme.organization_id,
        email="ada@acme.example",
        name="Ada Admin",
        role="admin",
    )
    recruiter = await make_staff(
        sessions, organization_id=acme.organization_id, name="Sam Recruiter"
    )
    return acme.organization_id, globex.organization_id, admin, recruiter


async def test_admin_reads_their_organizations_trail_and_nothing_else(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    acme, globex, _, recruiter = await _admin_and_recruiter(sessions)
    await _events(
        sessions,
        _event(
            acme, "feedback.published", actor_id=recruiter, subject_type="application", subject_id=7
        ),
        _event(acme, "staff.sign_in_failed", details={"reason": "<b>wrong_password</b>"}),
        _event(globex, "globex.secret_action"),
    )
    await staff_sign_in(client, "ada@acme.example")
    page = await client.get("/staff/audit")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "feedback.published" in page.text and "Sam Recruiter" in page.text
    assert "application #7" in page.text
    assert "&lt;b&gt;wrong_password&lt;/b&gt;" in page.text  # markup shown as text
    assert "globex.secret_action" not in page.text
    assert 'href="/staff/audit"' in (await client.get("/staff/")).text  # in the navigation


async def test_recruiters_and_strangers_do_not_find_the_audit_log(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _admin_and_recruiter(sessions)
    stranger = await other_client.get("/staff/audit")
    assert stranger.status_code == 303 and stranger.headers["location"].endswith("/staff/signin")
    await staff_sign_in(client)  # the recruiter
    assert (await client.get("/staff/audit")).status_code == 404
    assert 'href="/staff/audit"' not in (await client.get("/staff/")).text


async def test_filters_by_person_action_and_dates(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    acme, _, admin, recruiter = await _admin_and_recruiter(sessions)
    await _events(
        sessions,
        _event(acme, "alpha.done", actor_id=recruiter, created_at=DAY - dt.timedelta(days=5)),
        _event(acme, "beta.done", actor_id=recruiter, created_at=DAY),
        _event(acme, "gamma.done", actor_id=admin, created_at=DAY + dt.timedelta(days=5)),
    )
    await staff_sign_in(client, "ada@acme.example")

    async def shown(**params: str) -> set[str]:
        page = await client.get("/staff/audit", params=params)
        assert page.status_code == 200, page.text
        return {
            a for a in ("alpha.done", "beta.done", "gamma.done") if f"<td>{a}</td>" in page.text
        }

    assert await shown() == {"alpha.done", "beta.done", "gamma.done"}
    assert await shown(actor=str(recruiter)) == {"alpha.done", "beta.done"}
    assert await shown(action="gamma.done") == {"gamma.done"}
    assert await shown(since="2026-03-10", until="2026-03-10") == {"beta.done"}
    assert await shown(since="2026-03-10") == {"beta.done", "gamma.done"}
    assert await shown(until="2026-03-09", actor="", action="") == {"alpha.done"}
    assert await shown(action="nothing.like.this") == set()


async def test_bad_filters_are_explained_and_kept(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    await _admin_and_recruiter(sessions)
    await staff_sign_in(client, "ada@acme.example")
    page = await client.get("/staff/audit", params={"since": "31/03/2026"})
    assert page.status_code == 422
    assert "Enter a date like 2026-03-31." in page.text and 'value="31/03/2026"' in page.text
    page = await client.get("/staff/audit", params={"since": "2026-03-10", "until": "2026-03-01"})
    assert page.status_code == 422 and "The end date comes before the start date." in page.text
    page = await client.get("/staff/audit", params={"action": "x" * 5000, "page": "-1"})
    assert page.status_code == 422 and "Keep it to 60 characters" in page.text


async def test_long_trails_are_paginated(client: httpx.AsyncClient, sessions: Sessions) -> None:
    acme, _, _, _ = await _admin_and_recruiter(sessions)
    await _events(
        sessions,
        *(
            _event(acme, f"step.{n:03d}", created_at=DAY + dt.timedelta(minutes=n))
            for n in range(120)
        ),
    )
    await staff_sign_in(client, "ada@acme.example")
    first = await client.get("/staff/audit", params={"action": ""})
    # The 120 steps, and the admin's own sign-in, newest.
    assert "121 events" in first.text and "page 1 of 3" in first.text
    assert "staff.signed_in" in first.text
    assert "<td>step.071</td>" in first.text and "<td>step.070</td>" not in first.text
    assert 'href="/staff/audit?page=2"' in first.text
    third = await client.get("/staff/audit", params={"page": "3"})
    assert "<td>step.020</td>" in third.text and "<td>step.021</td>" not in third.text
    assert "Older" not in third.text and "Newer" in third.text
    beyond = await client.get("/staff/audit", params={"page": "99"})
    assert beyond.status_code == 200 and "<td>step.000</td>" in beyond.text
