"""Benchmark: the insights dashboard at 100,000 applications on PostgreSQL.

    .venv/bin/python bench/insights_bench.py            # about 2 minutes; more to seed
    .venv/bin/python bench/insights_bench.py --help

Builds (or reuses, while its mark matches) a PostgreSQL database (default
`afterword_insights_bench`; never `test`, `postgres` or a template) with the data
set of `bench/run.py` (`bench/seed.py`: 5 organizations, 120 jobs, 100,000
applications with published feedback), and adds what the dashboard reads: an
invitation link for nine applications in ten (two thirds of them used), survey
answers for one application in four, and a feedback-check tally per published
version (with its rules). Then it works out every organization's monthly figures once
(`insights.refresh`, timed) and `VACUUM ANALYZE`.

In one process it serves, through httpx's ASGI transport, signed in as an admin of
the first organization (about 20,000 applications):

- (real) the portal app (`create_app`, worker off): `/staff/insights` for the whole
  organization over the last twelve months, and for one job;
- (baseline) a bare Starlette app that renders the same template
  (`staff/insights.html`) with the same figures, built once: fixed numbers, no
  database, no middleware.

The four take turns request by request, so that other work on the machine slows
them alike. It reports p50 and p95 of each, and the ratio of the real page's p95
to the baseline's. Target: p95 under 100 ms for both real pages.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import seed as benchdb  # noqa: E402
from bench.dataset import Dataset  # noqa: E402
from portal import migrate  # noqa: E402
from portal.app import create_app, route_table  # noqa: E402
from portal.db import create_engine, session_factory, unit_of_work  # noqa: E402
from portal.insights import refresh, service  # noqa: E402
from portal.insights.anonymity import COMMENTS_MINIMUM, RATINGS_MINIMUM  # noqa: E402
from portal.security.actors import Staff, StaffRole  # noqa: E402
from portal.settings import Settings  # noqa: E402
from portal.urls import use_routes  # noqa: E402
from portal.web import make_templates  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/afterword_insights_bench"
APPLICATIONS = 100_000
P95_TARGET_MS = 100.0
MARK = "insights v3"

EXTRA_SQL = """
INSERT INTO staff_users (organization_id, email, name, role, active, created_at)
SELECT o.id, 'admin@' || o.slug || '.example', 'Admin of ' || o.name, 'admin', true, now()
FROM organizations o;

INSERT INTO access_links (candidate_id, application_id, purpose, token_hash, created_at,
  expires_at, used_at)
SELECT a.candidate_id, a.id, 'invitation', sha256(('bench' || a.id)::bytea),
  a.decided_at + (a.id % 97) * interval '1 hour',
  a.decided_at + interval '14 days',
  CASE WHEN a.id % 3 = 0 THEN NULL ELSE a.decided_at + interval '2 days' END
FROM applications a WHERE a.id % 10 <> 0;

INSERT INTO survey_answers (organization_id, job_id, period, helpfulness, fairness, comment,
  wording_version, answer_key)
SELECT a.organization_id, a.job_id, date_trunc('month', a.decided_at)::date,
  1 + a.id % 5, 1 + (a.id / 7) % 5,
  CASE WHEN a.id % 12 = 0 THEN 'Comment number ' || a.id ELSE NULL END, 0,
  encode(sha256(('answer' || a.id)::bytea), 'hex')
FROM applications a WHERE a.id % 4 = 0;

INSERT INTO check_tallies (feedback_id, organization_id, staff_id, published_at, risky, vague,
  tone)
SELECT f.id, a.organization_id,
  (SELECT s.id FROM staff_users s WHERE s.organization_id = a.organization_id LIMIT 1),
  f.published_at, 0, f.id % 3, f.id % 2
FROM feedback f JOIN applications a ON a.id = f.application_id;

INSERT INTO check_tally_rules (feedback_id, rule, findings)
SELECT t.feedback_id, r.rule, 1
FROM check_tallies t, (VALUES ('generic_comparison'), ('no_thanks')) AS r(rule)
WHERE t.vague > 0 OR r.rule = 'no_thanks' AND t.tone > 0
"""


def say(text: str = "") -> None:
    print(text, flush=True)


async def _mark(url: str) -> str | None:
    return await benchdb.seeded_marker(url)


async def prepare(url: str, *, reseed: bool) -> None:
    benchdb.database_name(url)  # refuses postgres, test, templates
    if not reseed and await _mark(url) == MARK:
        say("Reusing the seeded database; --reseed to rebuild it.")
        return
    started = time.perf_counter()
    say("Creating and seeding the benchmark database ...")
    await benchdb.recreate_database(url)
    await asyncio.to_thread(migrate.upgrade, Settings(database_url=url))
    await benchdb.seed(url, Dataset(APPLICATIONS), say)
    connection = await asyncpg.connect(benchdb.asyncpg_dsn(url))
    try:
        for statement in EXTRA_SQL.split(";\n"):
            if statement.strip():
                await connection.execute(statement)
    finally:
        await connection.close()
    settings = Settings(database_url=url, run_worker=False)
    use_routes(route_table())
    engine = create_engine(settings)
    try:
        began = time.perf_counter()
        async with unit_of_work(session_factory(engine)) as db:
            await refresh.refresh_all(db, now=dt.datetime.now(dt.UTC))
        say(f"  insights.refresh, every organization: {time.perf_counter() - began:.1f} s")
    finally:
        await engine.dispose()
    connection = await asyncpg.connect(benchdb.asyncpg_dsn(url))
    try:
        await connection.execute("VACUUM (ANALYZE)")
    finally:
        await connection.close()
    await benchdb.set_marker(url, MARK)
    say(f"Seeded in {time.perf_counter() - started:.0f} s.")


async def admin_session(url: str) -> tuple[str, int, int, int]:
    """A session for the first organization's admin: (token, staff id, organization id,
    the job with the most applications)."""
    token = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    connection = await asyncpg.connect(benchdb.asyncpg_dsn(url))
    try:
        staff = await connection.fetchrow(
            "SELECT id, organization_id FROM staff_users WHERE role = 'admin' "
            "ORDER BY organization_id LIMIT 1"
        )
        await connection.execute(
            "INSERT INTO sessions (id_hash, candidate_id, staff_user_id, created_at, "
            "last_seen_at, expires_at, revoked_at) VALUES ($1, NULL, $2, $3, $3, $4, NULL)",
            hashlib.sha256(token.encode()).digest(),
            staff["id"],
            now,
            now + dt.timedelta(hours=12),
        )
        job = await connection.fetchval(
            "SELECT job_id FROM applications WHERE organization_id = $1 GROUP BY job_id "
            "ORDER BY count(*) DESC LIMIT 1",
            staff["organization_id"],
        )
    finally:
        await connection.close()
    return token, staff["id"], staff["organization_id"], job


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def baseline_app(settings: Settings, actor: Staff) -> Starlette:
    """The same template with the same figures, computed once: no database per request."""
    engine = create_engine(settings)
    try:
        async with unit_of_work(session_factory(engine)) as db:
            board = await service.dashboard(
                db, actor=actor, job_id=None, period="12m", now=dt.datetime.now(dt.UTC)
            )
    finally:
        await engine.dispose()
    assert board is not None
    templates = make_templates(auto_reload=False)
    from portal.forms import FormState

    async def page(request: Request) -> Response:
        context: dict[str, Any] = {
            "staff": actor,
            "board": board,
            "form": FormState(),
            "query": "",
            "ratings_minimum": RATINGS_MINIMUM,
            "comments_minimum": COMMENTS_MINIMUM,
            "csrf_token": "x" * 43,
        }
        return templates.TemplateResponse(request, "staff/insights.html", context)

    return Starlette(routes=[Route("/staff/insights", page), *route_table()])


async def measure(url: str, requests: int, warmup: int) -> dict[str, dict[str, float]]:
    token, staff_id, organization_id, job_id = await admin_session(url)
    settings = Settings(database_url=url, base_url="http://bench", run_worker=False)
    real = create_app(settings, run_worker=False)
    actor = Staff(staff_id, organization_id, StaffRole.ADMIN, "Admin", b"")
    bare = await baseline_app(settings, actor)
    clients = {
        "real": httpx.AsyncClient(
            transport=httpx.ASGITransport(app=real),
            base_url="http://bench",
            cookies={"afterword_session": token},
        ),
        "baseline": httpx.AsyncClient(
            transport=httpx.ASGITransport(app=bare), base_url="http://bench"
        ),
    }
    pages = {
        "organization": ("real", "/staff/insights"),
        "one job": ("real", f"/staff/insights?job={job_id}"),
        "baseline": ("baseline", "/staff/insights"),
    }
    timings: dict[str, list[float]] = {name: [] for name in pages}
    try:
        for name, (which, path) in pages.items():
            response = await clients[which].get(path)
            if response.status_code != 200 or "Insights" not in response.text:
                raise SystemExit(f"{name}: {response.status_code}")
        for round_ in range(warmup + requests):
            for name, (which, path) in pages.items():
                started = time.perf_counter()
                response = await clients[which].get(path)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 200
                if round_ >= warmup:
                    timings[name].append(elapsed)
    finally:
        for client in clients.values():
            await client.aclose()
        await real.state.portal.engine.dispose()
    return {
        name: {"p50": statistics.median(v), "p95": percentile(v, 0.95)}
        for name, v in timings.items()
    }


async def run(args: argparse.Namespace) -> int:
    await prepare(args.database_url, reseed=args.reseed)
    say(f"Measuring, taking turns ({args.requests} requests per page) ...")
    results = await measure(args.database_url, args.requests, args.warmup)
    base = results["baseline"]["p95"]
    say()
    say(f"{'page':<28}{'p50 ms':>9}{'p95 ms':>9}{'p95 / baseline':>16}")
    ok = True
    for name, figures in results.items():
        ratio = figures["p95"] / base
        verdict = ""
        if name != "baseline":
            passed = figures["p95"] < P95_TARGET_MS
            ok = ok and passed
            verdict = "  PASS" if passed else "  FAIL"
        label = {"organization": "whole organization", "one job": "one job"}.get(
            name, "baseline (same template, fixed numbers)"
        )
        say(f"{label:<28}{figures['p50']:>9.1f}{figures['p95']:>9.1f}{ratio:>15.2f}x{verdict}")
    load = os.getloadavg()[0]
    say(f"target: p95 < {P95_TARGET_MS:.0f} ms at {APPLICATIONS:,} applications")
    say(f"load average during the run: {load:.1f} on {os.cpu_count()} CPUs")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "insights_latest.json").write_text(json.dumps({"load": load, **results}, indent=2))
    return 0 if ok or not args.strict else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="the benchmark database")
    parser.add_argument("--requests", type=int, default=200, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up requests per page")
    parser.add_argument("--reseed", action="store_true", help="rebuild the database")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
