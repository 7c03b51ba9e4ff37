"""Retention: who is due (the dry run) is exactly who the daily run erases; pool
members are kept; legal holds end; the admins' settings and dry-run pages."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select, update
from starlette.applications import Starlette

from portal.audit.models import AuditEvent
from portal.candidates.models import Application, Candidate
from portal.db import unit_of_work, utcnow
from portal.jobs.registry import JobContext
from portal.orgs.models import Organization
from portal.pool.models import PoolMembership
from portal.privacy import retention
from portal.privacy.jobs import RETENTION, Retention
from portal.privacy.models import LegalHold
from portal.settings import Settings
from tests.factories import World, csrf_token, make_staff, make_world, staff_sign_in
from tests.pool_support import add_member
from tests.privacy_support import Sessions

ADMIN = "ada@acme.example"


async def _candidate(
    sessions: Sessions, name: str, *, decided_days_ago: int, slug: str = "acme"
) -> World:
    world = await make_world(
        sessions, slug=slug, email=f"{name.lower()}@example.com", name=f"{name} Example"
    )
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(Application)
            .where(Application.id == world.application_id)
            .values(decided_at=utcnow() - dt.timedelta(days=decided_days_ago))
        )
    return world


async def _end_membership(sessions: Sessions, membership_id: int, *, days_ago: int) -> None:
    async with unit_of_work(sessions) as db:
        await db.execute(
            update(PoolMembership)
            .where(PoolMembership.id == membership_id)
            .values(state="left", left_at=utcnow() - dt.timedelta(days=days_ago))
        )


async def _seed(sessions: Sessions) -> dict[str, World]:
    """Candidates on both sides of a 6-month retention period."""
    worlds = {
        "old": await _candidate(sessions, "Olga", decided_days_ago=200),
        "member": await _candidate(sessions, "Mona", decided_days_ago=200),
        "recent": await _candidate(sessions, "Rita", decided_days_ago=30),
        "left_lately": await _candidate(sessions, "Lena", decided_days_ago=400),
        "left_long_ago": await _candidate(sessions, "Lars", decided_days_ago=400),
        "undecided": await _candidate(sessions, "Ugo", decided_days_ago=300),
        "other_org": await _candidate(sessions, "Otto", decided_days_ago=200, slug="globex"),
    }
    await add_member(sessions, worlds["member"], joined_at=utcnow() - dt.timedelta(days=150))
    lately = await add_member(
        sessions, worlds["left_lately"], joined_at=utcnow() - dt.timedelta(days=390)
    )
    await _end_membership(sessions, lately, days_ago=30)
    long_ago = await add_member(
        sessions, worlds["left_long_ago"], joined_at=utcnow() - dt.timedelta(days=390)
    )
    await _end_membership(sessions, long_ago, days_ago=300)
    async with unit_of_work(sessions) as db:
        undecided = worlds["undecided"]
        job_id = await db.scalar(
            select(Application.job_id).where(Application.id == undecided.application_id)
        )
        db.add(
            Application(
                organization_id=undecided.organization_id,
                candidate_id=undecided.candidate_id,
                job_id=job_id,
                status="open",
                decided_at=None,
            )
        )
        await db.execute(
            update(Organization).where(Organization.slug == "globex").values(retention_months=12)
        )
    return worlds


async def test_the_dry_run_lists_exactly_whom_the_run_erases(
    sessions: Sessions, settings: Settings
) -> None:
    worlds = await _seed(sessions)
    now = utcnow()
    async with unit_of_work(sessions) as db:
        acme = worlds["old"].organization_id
        dry, total = await retention.due(db, organization_id=acme, months=6, now=now, limit=None)
    expected = {worlds["old"].candidate_id, worlds["left_long_ago"].candidate_id}
    assert {row.candidate_id for row in dry} == expected
    assert total == 2
    async with unit_of_work(sessions) as db:
        before = set((await db.scalars(select(Candidate.id))).all())
        erased, _ = await retention.run_retention(db, settings=settings, now=now)
    async with unit_of_work(sessions) as db:
        after = set((await db.scalars(select(Candidate.id))).all())
        holds = (await db.scalars(select(LegalHold))).all()
        runs = (
            await db.scalars(select(AuditEvent).where(AuditEvent.action == "privacy.retention_run"))
        ).all()
    assert erased == 2
    assert before - after == expected
    assert sorted(hold.cause.value for hold in holds) == ["retention", "retention"]
    assert all(hold.organization_id == acme for hold in holds)
    # Every organization's run is on record, with how many it erased.
    assert sorted((run.organization_id, run.details["erased"]) for run in runs) == sorted(
        [(acme, 2), (worlds["other_org"].organization_id, 0)]
    )
    # A second run finds nobody: the dry run agrees.
    async with unit_of_work(sessions) as db:
        again, total = await retention.due(db, organization_id=acme, months=6, now=now, limit=None)
    assert again == [] and total == 0


async def test_the_daily_job_runs_retention_and_ends_legal_holds(
    sessions: Sessions, settings: Settings
) -> None:
    worlds = await _seed(sessions)
    assert RETENTION.every == dt.timedelta(days=1)
    now = utcnow()
    async with unit_of_work(sessions) as db:
        assert RETENTION.run is not None
        await RETENTION.run(db, Retention(), JobContext(settings=settings, now=now))
    async with unit_of_work(sessions) as db:
        holds = (await db.scalars(select(LegalHold))).all()
        assert len(holds) == 2
        keep_until = holds[0].keep_until
        first = {hold.id for hold in holds}
        assert await db.get(Candidate, worlds["old"].candidate_id) is None
    # Past the legal-hold period (12 months by default) those holds go too (that run
    # erases everyone else by then, whose holds start their own period).
    async with unit_of_work(sessions) as db:
        await RETENTION.run(
            db, Retention(), JobContext(settings=settings, now=keep_until + dt.timedelta(days=1))
        )
    async with unit_of_work(sessions) as db:
        left = {hold.id for hold in (await db.scalars(select(LegalHold))).all()}
    assert left and not left & first


async def _admin(client: httpx.AsyncClient, sessions: Sessions, world: World) -> None:
    await make_staff(sessions, organization_id=world.organization_id, email=ADMIN, role="admin")
    assert (await staff_sign_in(client, ADMIN)).status_code == 303


async def test_admins_see_the_dry_run_and_the_last_run(
    app: Starlette, client: httpx.AsyncClient, sessions: Sessions, settings: Settings
) -> None:
    worlds = await _seed(sessions)
    await _admin(client, sessions, worlds["old"])
    page = await client.get("/staff/privacy")
    assert page.status_code == 200
    assert "Retention has not run yet" in page.text
    assert "No legal holds are kept" in page.text
    dry = await client.get("/staff/privacy/retention/dry-run")
    assert dry.status_code == 200
    assert "Would erase 2 candidates" in dry.text
    assert "Olga Example" in dry.text and "Lars Example" in dry.text
    for kept in ("Mona", "Rita", "Lena", "Ugo", "Otto"):
        assert kept not in dry.text
    async with unit_of_work(sessions) as db:
        await retention.run_retention(db, settings=settings, now=utcnow())
    page = await client.get("/staff/privacy")
    assert "2 candidates erased" in page.text
    dry = await client.get("/staff/privacy/retention/dry-run")
    assert "Would erase 0 candidates" in dry.text


async def test_admins_set_the_retention_periods(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    worlds = await _seed(sessions)
    await _admin(client, sessions, worlds["old"])
    token = await csrf_token(client, "/staff/privacy")
    async with unit_of_work(sessions) as db:
        version = await db.scalar(select(Organization.version).where(Organization.slug == "acme"))
    assert version is not None
    bad = await client.post(
        "/staff/privacy/retention",
        data={
            "csrftoken": token,
            "retention_months": "0",
            "legal_hold_months": "<script>",
            "version": str(version),
        },
    )
    assert bad.status_code == 422
    assert "from 1 to 120" in bad.text
    assert 'value="&lt;script&gt;"' in bad.text
    saved = await client.post(
        "/staff/privacy/retention",
        data={
            "csrftoken": token,
            "retention_months": "7",
            "legal_hold_months": "24",
            "version": str(version),
        },
    )
    assert saved.status_code == 303
    stale = await client.post(
        "/staff/privacy/retention",
        data={
            "csrftoken": token,
            "retention_months": "9",
            "legal_hold_months": "24",
            "version": str(version),
        },
    )
    assert stale.status_code == 409
    assert "Someone else changed" in stale.text and 'value="9"' in stale.text
    async with unit_of_work(sessions) as db:
        org = await db.scalar(select(Organization).where(Organization.slug == "acme"))
        assert org is not None
        assert (org.retention_months, org.legal_hold_months) == (7, 24)
        changed = await db.scalar(
            select(AuditEvent).where(AuditEvent.action == "privacy.retention_changed")
        )
        assert changed is not None and changed.details["after"]["retention_months"] == 7
    # Without the CSRF token: refused.
    refused = await client.post(
        "/staff/privacy/retention",
        data={"retention_months": "1", "legal_hold_months": "1", "version": str(version + 1)},
    )
    assert refused.status_code == 403


async def test_recruiters_cannot_reach_the_privacy_pages(
    client: httpx.AsyncClient, sessions: Sessions
) -> None:
    world = await make_world(sessions)
    await make_staff(sessions, organization_id=world.organization_id)
    assert (await staff_sign_in(client)).status_code == 303
    for path in ("/staff/privacy", "/staff/privacy/retention/dry-run"):
        assert (await client.get(path)).status_code == 404, path
    path = f"/staff/privacy/candidates/{world.candidate_id}"
    assert (await client.get(path)).status_code == 404
