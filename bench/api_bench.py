"""API benchmark: rejections with feedback created through /api/v1 on PostgreSQL by 4
concurrent clients with idempotency keys, then replayed; compared with the CSV import
of the same rows.

Run from the repository root::

    .venv/bin/python bench/api_bench.py                   # 10,000 rejections
    .venv/bin/python bench/api_bench.py --rows 1000       # a smaller run
    .venv/bin/python bench/api_bench.py --strict          # exit 2 when a target is missed
    .venv/bin/python bench/api_bench.py --database-url postgresql://…/my_bench

What it does:

1. Creates its own database (default ``afterword_api_bench`` on
   ``postgresql://postgres@127.0.0.1:5432``; the name must contain "bench"), applies
   the migrations, seeds two organizations with 20 jobs of 4 requirements each (as
   ``bench/import_bench.py`` does), and an API key for the first.
2. Starts ``portal serve --no-worker --workers 2`` (``--workers``: one process per
   core, as production runs) on a free port, and waits for ``/readyz``.
3. One per request: sends ``--single-rows`` rejections (default 2,000;
   ``POST /api/v1/applications``: a new candidate and application with a full
   feedback draft: four assessments with evidence, two strengths, two growth areas
   with suggestions, next steps, a note; the texts of the CSV benchmark's rows) from
   4 concurrent clients (httpx, one connection each), each with its own
   ``Idempotency-Key``. Every answer must be 201. Then sends them again with the same
   keys: every answer must be a replay (``Idempotent-Replayed: true``, the same
   status and body) and the database must hold exactly as many applications and
   feedback versions as before: the replay creates nothing.
4. In batches: the same for ``--rows`` other rejections, 100 per
   ``POST /api/v1/applications/batch`` (one ``Idempotency-Key`` per batch), as an ATS
   pushing many rejections does. Every item must be created; the replay too must
   create nothing.
5. Imports the same rows as a CSV into the second organization
   (``portal import``'s code path, in-process) and reports the ratios.

Targets: the ``--rows`` rejections in under 30 s (for 10,000; scaled for other
counts), and replays that create nothing. The one-per-request rate is reported
beside it, per 10,000. Results go to ``bench/results/api.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_bench import (  # noqa: E402
    EVIDENCE,
    GROWTH,
    JOBS,
    OPENINGS,
    REQUIREMENTS,
    STRENGTHS,
    BenchError,
    build_csv,
    database_name,
    recreate,
    seed_organization,
    timed_import,
)
from portal import migrate, urls  # noqa: E402
from portal import models as _models  # noqa: E402, F401  (every table known)
from portal.api import keys  # noqa: E402
from portal.app import route_table  # noqa: E402
from portal.candidates.models import Application, Job  # noqa: E402
from portal.db import create_engine, session_factory, unit_of_work, utcnow  # noqa: E402
from portal.feedback.models import Feedback  # noqa: E402
from portal.settings import Settings  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/afterword_api_bench"
TARGET_SECONDS_PER_10K = 30.0
CLIENTS = 4
BATCH = 100  # items per POST /api/v1/applications/batch
RESULTS = ROOT / "bench" / "results" / "api.json"
RATINGS = ("met", "partly_met", "not_yet_met", "met")


def rejection(i: int, tag: str, job_ids: dict[str, int]) -> dict[str, Any]:
    """Row `i` of the CSV benchmark's file, as the API takes it."""
    job = f"Job {i % JOBS:02d}"
    return {
        "external_id": f"{tag}-{i:06d}",
        "job_id": job_ids[job],
        "email": f"candidate{i:06d}@{tag}.example.org",
        "name": f"Candidate {i:06d}",
        "stage": ("applied", "screen", "interview", "final")[i % 4],
        "feedback": {
            "decision_summary": OPENINGS[i % 3].format(job=job)
            + f" Your exercise {i} did not yet show end-to-end experiment design.",
            "assessments": [
                {
                    "requirement": requirement,
                    "rating": RATINGS[(i + index) % 4],
                    "evidence": EVIDENCE[index].format(n=i),
                }
                for index, requirement in enumerate(REQUIREMENTS)
            ],
            "strengths": [
                {"body": STRENGTHS[0].format(n=i), "requirement": REQUIREMENTS[0]},
                {"body": STRENGTHS[1].format(n=i)},
            ],
            "growth_areas": [
                {
                    "body": GROWTH[0][0].format(n=i),
                    "suggestion": GROWTH[0][1].format(n=i),
                    "requirement": REQUIREMENTS[1],
                },
                {"body": GROWTH[1][0].format(n=i), "suggestion": GROWTH[1][1].format(n=i)},
            ],
            "reapply_after_months": 6 + i % 7,
            "suggested_roles": ["Junior Analyst", "Reporting Analyst"],
            "pool_invitation_offered": bool(i % 2),
            "personal_note": f"Thank you for your time, candidate {i}; it was a pleasure.",
        },
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(port: int, env: dict[str, str], *, workers: int) -> subprocess.Popen[bytes]:
    """`portal serve --workers N` in a process of its own, its logs discarded."""
    command = [sys.executable, "-m", "portal.cli", "serve", "--host", "127.0.0.1"]
    return subprocess.Popen(
        [*command, "--port", str(port), "--no-worker", "--workers", str(workers)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(600):
            if process.poll() is not None:
                raise BenchError(f"the server exited with status {process.returncode}")
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise BenchError("the server did not become ready in 60 s")


async def send_all(
    base: str, key: str, requests: list[tuple[str, Any]], *, tag: str
) -> tuple[float, dict[int, int], int, list[Any]]:
    """Send every (path, body) from CLIENTS concurrent clients, each with its own
    Idempotency-Key (`tag` and its index); (seconds, statuses, replays, answers)."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(requests)):
        queue.put_nowait(index)
    statuses: dict[int, int] = {}
    answers: list[Any] = [None] * len(requests)
    replays = 0

    async def client_loop() -> None:
        nonlocal replays
        limits = httpx.Limits(max_connections=1)
        headers = {"authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(
            base_url=base, limits=limits, headers=headers, timeout=120
        ) as client:
            while True:
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                path, body = requests[index]
                answer = await client.post(
                    path, json=body, headers={"idempotency-key": f"{tag}-{index}"}
                )
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                answers[index] = answer.json()
                if answer.headers.get("idempotent-replayed") == "true":
                    replays += 1

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(CLIENTS)))
    return time.perf_counter() - started, statuses, replays, answers


async def run_phase(
    name: str,
    base: str,
    key: str,
    requests: list[tuple[str, Any]],
    rows: int,
    expect: int,
    sessions: Any,
    organization_id: int,
) -> dict[str, Any]:
    """Send the requests, check that each answers `expect` and that every row was
    created; send them again with the same keys, check that every answer is a replay
    and that nothing was created."""
    before = await counts(sessions, organization_id)
    print(f"{name}: {rows:,} rejections in {len(requests):,} requests from {CLIENTS} clients")
    seconds, statuses, _, answers = await send_all(base, key, requests, tag=name)
    if statuses != {expect: len(requests)}:
        raise BenchError(f"expected {len(requests)} answers {expect}, got {statuses}")
    if name == "batch" and any(a["created"] != len(a["items"]) for a in answers):
        raise BenchError("a batch did not create every item")
    created = await counts(sessions, organization_id)
    if (created[0] - before[0], created[1] - before[1]) != (rows, rows):
        raise BenchError(f"applications and versions {before} then {created}")
    print(
        f"  {seconds:.2f} s ({rows / seconds:,.0f} rejections/s, "
        f"{len(requests) / seconds:,.1f} requests/s)",
        flush=True,
    )
    replay_seconds, replay_statuses, replays, replayed = await send_all(
        base, key, requests, tag=name
    )
    after = await counts(sessions, organization_id)
    if replay_statuses != {expect: len(requests)} or replays != len(requests):
        raise BenchError(f"the replay answered {replay_statuses}, {replays} replays")
    if replayed != answers:
        raise BenchError("a replay answered another body")
    if after != created:
        raise BenchError(f"the replay wrote: {created} then {after}")
    print(f"  replay {replay_seconds:.2f} s, every answer replayed, nothing created", flush=True)
    return {
        "rows": rows,
        "requests": len(requests),
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "seconds_per_10k": round(seconds * 10_000 / rows, 1),
        "replay_seconds": round(replay_seconds, 2),
        "replay_created": [after[0] - created[0], after[1] - created[1]],
    }


async def counts(sessions: Any, organization_id: int) -> tuple[int, int]:
    async with sessions() as db:
        applications = await db.scalar(
            select(func.count())
            .select_from(Application)
            .where(Application.organization_id == organization_id)
        )
        versions = await db.scalar(
            select(func.count())
            .select_from(Feedback)
            .join(Application, Application.id == Feedback.application_id)
            .where(Application.organization_id == organization_id)
        )
    return int(applications or 0), int(versions or 0)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    urls.use_routes(route_table())
    await recreate(args.database_url)
    settings = Settings(database_url=args.database_url, base_url="https://bench.example.com")
    await asyncio.to_thread(migrate.upgrade, settings)
    engine = create_engine(settings, pool_size=2)
    sessions = session_factory(engine)
    process: subprocess.Popen[bytes] | None = None
    try:
        api_org = await seed_organization(sessions, "bench-api")
        csv_org = await seed_organization(sessions, "bench-csv")
        async with unit_of_work(sessions) as db:
            issued = await keys.issue_key(
                db,
                organization_id=api_org,
                name="bench",
                scopes=["applications:write", "applications:read"],
                staff=None,
                now=utcnow(),
            )
            job_ids = {
                row.title: row.id
                for row in await db.execute(
                    select(Job.title, Job.id).where(Job.organization_id == api_org)
                )
            }
        single_rows = min(args.single_rows, args.rows)
        singles = [
            ("/api/v1/applications", rejection(i, "bench-one", job_ids)) for i in range(single_rows)
        ]
        bodies = [rejection(i, "bench-api", job_ids) for i in range(args.rows)]
        batches = [
            ("/api/v1/applications/batch", {"items": bodies[start : start + BATCH]})
            for start in range(0, len(bodies), BATCH)
        ]
        port = free_port()
        env = {
            **os.environ,
            "PORTAL_DATABASE_URL": args.database_url,
            "PORTAL_BASE_URL": "https://bench.example.com",
            "PORTAL_RUN_WORKER": "false",
        }
        process = start_server(port, env, workers=args.workers)
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base, process)
        single = await run_phase(
            "single", base, issued.key, singles, single_rows, 201, sessions, api_org
        )
        batched = await run_phase(
            "batch", base, issued.key, batches, args.rows, 200, sessions, api_org
        )
        print(f"importing the same {args.rows:,} rows as a CSV ...", flush=True)
        csv_seconds, _, result = await timed_import(
            sessions, settings, csv_org, build_csv(args.rows, "bench-csv")
        )
        assert result.outcome is not None and result.outcome.new_versions == args.rows
        print(f"  {csv_seconds:.2f} s", flush=True)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        await engine.dispose()
        if not args.keep:
            await recreate(args.database_url, drop_only=True)
    csv_per_10k = csv_seconds * 10_000 / args.rows
    return {
        "rows": args.rows,
        "clients": CLIENTS,
        "server_workers": args.workers,
        "batch_size": BATCH,
        "single": single | {"over_csv": round(single["seconds_per_10k"] / csv_per_10k, 1)},
        "batch": batched | {"over_csv": round(batched["seconds_per_10k"] / csv_per_10k, 2)},
        "csv_import_seconds": round(csv_seconds, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rejections (default 10000)")
    parser.add_argument("--database-url", default=DEFAULT_URL, help=f"(default {DEFAULT_URL})")
    parser.add_argument(
        "--single-rows",
        type=int,
        default=2_000,
        help="rejections sent one per request first (default 2000; timed per 10,000)",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="server processes (default 2, one per core)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args()
    try:
        database_name(args.database_url)
    except BenchError as exc:
        print(f"api_bench: {exc}", file=sys.stderr)
        return 2
    load_before = os.getloadavg()[0]
    print(f"load average before: {load_before:.2f}", flush=True)
    report = asyncio.run(main_async(args))
    target = TARGET_SECONDS_PER_10K * args.rows / 10_000
    batch, single = report["batch"], report["single"]
    ok = batch["seconds"] < target
    print(
        f"{args.rows:,} rejections through the API in batches of {BATCH}: {batch['seconds']} s "
        f"(target < {target:.1f} s): {'PASS' if ok else 'FAIL'}; replay "
        f"{batch['replay_seconds']} s, created nothing: PASS; {batch['over_csv']}x the CSV "
        f"import of the same rows ({report['csv_import_seconds']} s)"
    )
    print(
        f"one rejection per request: {single['rows']:,} in {single['seconds']} s "
        f"({single['rows_per_second']}/s, {single['seconds_per_10k']} s per 10,000, "
        f"{single['over_csv']}x the CSV import); replay created nothing"
    )
    report["load"] = [load_before, os.getloadavg()[0]]
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    return 2 if args.strict and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
