"""Benchmark: the staff queue and a thread page at 1,000 and at 100,000 threads.

    .venv/bin/python bench/queue_bench.py            # both sizes, one run
    .venv/bin/python bench/queue_bench.py --help

Seeds two PostgreSQL databases (default `afterword_queue_1k` and
`afterword_queue_100k`; never `test` or `postgres`) with one organization each:
jobs, candidates, applications, N threads (20% waiting for a reply, 3% of those
flagged, 1% with a reply waiting for approval; the rest answered, open or
closed) and three messages per thread, then `VACUUM ANALYZE`. Each database is
reused while its row counts match (`--reseed` rebuilds).

Then, in one process, the portal app (`create_app`, mail worker off) for each
size, served in-process through httpx's ASGI transport and signed in as a
recruiter, is asked `--requests` times (after a warm-up) for the queue's first
page, a deep page (a page starting in the middle of the waiting threads) and a
thread page; the two sizes take turns request by request, so that other work on
the machine slows both alike. It reports p50 and p95 per page and size.
Targets: p95 at 100,000 within 1.5x of p95 at 1,000 for each page, and the
queue's p95 under 30 ms.
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

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed import asyncpg_dsn, database_name, recreate_database  # noqa: E402
from portal import migrate  # noqa: E402
from portal.app import create_app  # noqa: E402
from portal.settings import Settings  # noqa: E402

BASE = "postgresql://postgres@127.0.0.1:5432/"
SIZES = {"1k": 1_000, "100k": 100_000}
RATIO_TARGET = 1.5
QUEUE_P95_TARGET_MS = 30.0

SEED_SQL = """
INSERT INTO organizations (id, name, slug, display_name, accent_colour, reply_promise_days,
  invitation_days, consent_text, consent_text_version, consent_durations_months,
  replies_need_approval, created_at, version)
VALUES (1, 'Acme', 'acme', 'Acme Corp', '#224466', 5, 14, '', 1, '[6, 12, 24]', false, now(), 1);

INSERT INTO staff_users (id, organization_id, email, name, role, active, created_at)
SELECT g, 1, 'staff' || g || '@acme.example', 'Recruiter ' || g,
  CASE WHEN g = 1 THEN 'admin' ELSE 'recruiter' END, true, now()
FROM generate_series(1, 8) g;

INSERT INTO jobs (id, organization_id, title, team, location, created_at)
SELECT g, 1, 'Job ' || g, 'Team', 'Remote', now() FROM generate_series(1, 40) g;

INSERT INTO candidates (id, organization_id, email, name, preferred_language, created_at)
SELECT g, 1, 'c' || g || '@example.com', 'Candidate ' || g, 'en', now()
FROM generate_series(1, $1::int) g;

INSERT INTO applications (id, organization_id, candidate_id, job_id, stage, status, decided_at,
  created_at)
SELECT g, 1, g, 1 + g % 40, 'interview', 'rejected', now() - interval '20 days', now()
FROM generate_series(1, $1::int) g;

INSERT INTO threads (id, organization_id, application_id, candidate_id, job_id, state,
  assignee_staff_id, created_at, waiting_since, due_on, last_message_at, last_staff_message_at,
  candidate_read_at, flagged, flag_reasons, pending_approval, closed_reason, closed_at,
  updated_at, version)
SELECT g, 1, g, g, 1 + g % 40,
  CASE WHEN g % 10 < 2 THEN 'waiting' WHEN g % 10 < 7 THEN 'answered'
       WHEN g % 10 < 9 THEN 'open' ELSE 'closed' END,
  CASE WHEN g % 3 = 0 THEN 1 + g % 8 END,
  now() - (g % 60) * interval '1 day',
  CASE WHEN g % 10 < 2 THEN now() - (g % 20) * interval '1 day' - g * interval '1 second' END,
  CASE WHEN g % 10 < 2 THEN (now() - (g % 20) * interval '1 day')::date + 7 END,
  now() - (g % 20) * interval '1 day' - g * interval '1 second',
  CASE WHEN g % 10 >= 2 THEN now() - (g % 20) * interval '1 day' END,
  CASE WHEN g % 4 = 0 THEN now() END,
  g % 10 < 2 AND g % 33 = 0,
  CASE WHEN g % 10 < 2 AND g % 33 = 0 THEN 'threat' ELSE '' END,
  g % 10 < 2 AND g % 101 = 0,
  CASE WHEN g % 10 = 9 THEN 'All answered.' END,
  CASE WHEN g % 10 = 9 THEN now() END,
  now(), 1
FROM generate_series(1, $1::int) g;

INSERT INTO thread_messages (thread_id, author_kind, author_staff_id, body, markdown, state,
  closing, created_at, sent_at, flagged, flag_reasons)
SELECT t, CASE WHEN k = 2 THEN 'staff' ELSE 'candidate' END, CASE WHEN k = 2 THEN 2 END,
  CASE WHEN k = 2 THEN 'Thank you for asking. The gap was in query tuning: see the course.'
       ELSE 'Could you tell me more about what my statistics answer lacked? Thanks.' END,
  false, 'sent', false, now() - (4 - k) * interval '1 day', now() - (4 - k) * interval '1 day',
  false, ''
FROM generate_series(1, $1::int) t, generate_series(1, 3) k;
"""


def say(text: str = "") -> None:
    print(text, flush=True)


async def _count(url: str) -> int | None:
    try:
        connection = await asyncpg.connect(asyncpg_dsn(url))
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        found: int = await connection.fetchval("SELECT count(*) FROM threads")
        return found
    except asyncpg.PostgresError:
        return None
    finally:
        await connection.close()


async def prepare(url: str, threads: int, *, reseed: bool) -> None:
    database_name(url)  # refuses postgres, test, templates
    if not reseed and await _count(url) == threads:
        say(f"  {database_name(url)}: reusing {threads:,} threads")
        return
    started = time.perf_counter()
    await recreate_database(url)
    await asyncio.to_thread(migrate.upgrade, Settings(database_url=url))
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for statement in SEED_SQL.split(";\n"):
            if statement.strip():
                args = [threads] if "$1" in statement else []
                await connection.execute(statement, *args)
        for table in ("staff_users", "jobs", "candidates", "applications", "threads"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    took = time.perf_counter() - started
    say(f"  {database_name(url)}: seeded {threads:,} threads in {took:.0f} s")


async def staff_session(url: str) -> str:
    token = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute(
            "INSERT INTO sessions (id_hash, candidate_id, staff_user_id, created_at, "
            "last_seen_at, expires_at, revoked_at) VALUES ($1, NULL, 2, $2, $2, $3, NULL)",
            hashlib.sha256(token.encode()).digest(),
            now,
            now + dt.timedelta(hours=12),
        )
        # The deep page: starts at the middle of the waiting threads, unflagged part.
        middle = await connection.fetchrow(
            "SELECT id, waiting_since FROM threads WHERE organization_id = 1 AND state = "
            "'waiting' AND NOT flagged ORDER BY waiting_since, id OFFSET "
            "(SELECT count(*) / 2 FROM threads WHERE state = 'waiting' AND NOT flagged) LIMIT 1"
        )
        thread = await connection.fetchval(
            "SELECT id FROM threads WHERE state = 'waiting' ORDER BY id LIMIT 1"
        )
    finally:
        await connection.close()
    micros = int(middle["waiting_since"].timestamp() * 1_000_000)
    return f"{token}|0_{micros}_{middle['id']}|{thread}"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def measure(
    urls: dict[str, str], requests: int, warmup: int
) -> dict[str, dict[str, dict[str, float]]]:
    """p50 and p95 per size and page. The sizes take turns request by request, so that
    whatever else the machine does slows both alike."""
    clients: dict[str, httpx.AsyncClient] = {}
    pages: dict[str, dict[str, str]] = {}
    apps = []
    for size, url in urls.items():
        token, cursor, thread = (await staff_session(url)).split("|")
        app = create_app(
            Settings(database_url=url, base_url="http://bench", run_worker=False),
            run_worker=False,
        )
        apps.append(app)
        clients[size] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench",
            cookies={"afterword_session": token},
        )
        pages[size] = {
            "queue first page": "/staff/queue",
            "queue deep page": f"/staff/queue?after={cursor}",
            "thread page": f"/staff/queue/{thread}",
        }
    timings: dict[str, dict[str, list[float]]] = {
        size: {name: [] for name in pages[size]} for size in urls
    }
    cpu: dict[str, dict[str, list[float]]] = {size: {n: [] for n in pages[size]} for size in urls}
    try:
        for size, client in clients.items():
            for name, path in pages[size].items():
                response = await client.get(path)
                if response.status_code != 200 or "Candidate " not in response.text:
                    raise SystemExit(f"{size} {name}: {response.status_code}")
        for round_ in range(warmup + requests):
            for name in timings[next(iter(urls))]:
                for size, client in clients.items():
                    started, cpu_started = time.perf_counter(), time.process_time()
                    response = await client.get(pages[size][name])
                    elapsed = (time.perf_counter() - started) * 1000
                    assert response.status_code == 200
                    if round_ >= warmup:
                        timings[size][name].append(elapsed)
                        cpu[size][name].append((time.process_time() - cpu_started) * 1000)
    finally:
        for client in clients.values():
            await client.aclose()
        for app in apps:
            await app.state.portal.engine.dispose()
    return {
        size: {
            name: {
                "p50": statistics.median(v),
                "p95": percentile(v, 0.95),
                "cpu_p50": statistics.median(cpu[size][name]),
            }
            for name, v in by_page.items()
        }
        for size, by_page in timings.items()
    }


async def run(args: argparse.Namespace) -> int:
    urls = {size: args.base_url + f"afterword_queue_{size}" for size in SIZES}
    say("Seeding (or reusing) the benchmark databases:")
    for size, threads in SIZES.items():
        await prepare(urls[size], threads, reseed=args.reseed)
    say(f"Measuring both sizes, taking turns ({args.requests} requests per page and size)...")
    results = await measure(urls, args.requests, args.warmup)
    say()
    say(
        f"{'page':<18}{'p50 1k':>9}{'p95 1k':>9}{'p50 100k':>10}{'p95 100k':>10}{'ratio':>7}"
        f"{'CPU 1k':>9}{'CPU 100k':>10}"
    )
    ok = True
    for name in results["1k"]:
        small, large = results["1k"][name], results["100k"][name]
        ratio = large["p95"] / small["p95"]
        verdict = ratio <= RATIO_TARGET
        if name.startswith("queue"):
            verdict = verdict and large["p95"] < QUEUE_P95_TARGET_MS
        ok = ok and verdict
        say(
            f"{name:<18}{small['p50']:>8.1f} {small['p95']:>8.1f} {large['p50']:>9.1f} "
            f"{large['p95']:>9.1f} {ratio:>6.2f}x {small['cpu_p50']:>8.1f} "
            f"{large['cpu_p50']:>9.1f}  {'PASS' if verdict else 'FAIL'}"
        )
    say(f"targets: p95(100k) <= {RATIO_TARGET}x p95(1k); queue p95 < {QUEUE_P95_TARGET_MS:.0f} ms")
    say("times in ms; CPU: the median CPU time of this process per request (the app's own")
    say("work, whatever else the machine does; PostgreSQL's is not included)")
    load = os.getloadavg()[0]
    say(f"load average during the run: {load:.1f} on {os.cpu_count()} CPUs")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "queue_latest.json").write_text(json.dumps({"load": load, **results}, indent=2))
    return 0 if ok or not args.strict else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", default=BASE, help="PostgreSQL server URL, ending in /")
    parser.add_argument("--requests", type=int, default=300, help="measured requests per page")
    parser.add_argument("--warmup", type=int, default=30, help="warm-up requests per page")
    parser.add_argument("--reseed", action="store_true", help="rebuild both databases")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
