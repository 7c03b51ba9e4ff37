"""CSV import benchmark: `portal import` of 10,000 and 100,000 rows on PostgreSQL.

Run from the repository root::

    .venv/bin/python bench/import_bench.py                    # 10,000 and 100,000 rows
    .venv/bin/python bench/import_bench.py --rows 10000 --strict

What it does:

1. Creates its own database (default ``afterword_import_bench`` on
   ``postgresql://postgres@127.0.0.1:5432``; the name must contain "bench", so
   ``test`` is never touched), applies the migrations, and drops it at the end
   (``--keep`` keeps it).
2. For each size, seeds a fresh organization with 20 jobs of 4 requirements
   and writes a CSV of that many rows (distinct candidates, every column
   filled: four ratings with evidence, two strengths, two growth areas with
   suggestions, next steps, a note; texts varied per row so that nothing is
   checked twice).
3. Times, on the real code path of ``portal import`` (``import_csv`` in one
   transaction, committed): the import as drafts, then the same file again
   (idempotent: it must write nothing). Alongside, in the same run, the bare
   baseline: reading the file with ``csv.reader`` (the least any import does),
   and the feedback check alone on every row (pure CPU, the part that does not
   depend on the database).
4. Prints each time, the ratios import / baseline, the 100k / 10k ratio, and
   PASS/FAIL against the targets: 10,000 rows in under 15 s, 100,000 rows in
   under 11x the 10,000-row time. Results go to ``bench/results/import.json``.

Exit status: 0; 2 with ``--strict`` when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal import migrate, urls  # noqa: E402
from portal import models as _models  # noqa: E402, F401  (every table known)
from portal.app import route_table  # noqa: E402
from portal.candidates.models import Job, Requirement  # noqa: E402
from portal.db import create_engine, session_factory, unit_of_work, utcnow  # noqa: E402
from portal.feedback.check import check_feedback  # noqa: E402
from portal.imports import service  # noqa: E402
from portal.imports.format import template_columns  # noqa: E402
from portal.orgs.models import Organization  # noqa: E402
from portal.settings import Settings  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/afterword_import_bench"
TARGET_10K_SECONDS = 15.0
TARGET_RATIO = 11.0
JOBS = 20
REQUIREMENTS = ("SQL", "Statistics", "Communication", "Stakeholder management")
RESULTS = ROOT / "bench" / "results" / "import.json"

OPENINGS = (
    "Thank you for interviewing with us for the {job} role.",
    "Thank you for the time you gave to the {job} process.",
    "Thank you for applying to the {job} position and for the take-home.",
)
EVIDENCE = (
    "Your answer to question {n} used window functions precisely.",
    "The exercise {n} analysis skipped the power calculation.",
    "In the panel {n} you explained the trade-offs of two designs clearly.",
    "Your written summary {n} left the recommendation for the last page.",
)
STRENGTHS = (
    "Clear, well-commented queries in exercise {n}.",
    "A structured walkthrough of the case study {n}.",
)
GROWTH = (
    (
        "Designing experiments end to end (case {n}).",
        "Work through chapter {n} of a book on A/B tests.",
    ),
    (
        "Leading with the recommendation (memo {n}).",
        "Practise one-page memos that open with the answer, {n} of them.",
    ),
)


class BenchError(Exception):
    pass


def database_name(url: str) -> str:
    name = make_url(url).database or ""
    if (
        "bench" not in name
        or name in ("test", "postgres", "bench_main")
        or name.startswith(("template", "test_gw"))
    ):
        raise BenchError(
            f"refusing to use database {name!r}: the benchmark database is dropped and "
            "re-created, so its name must contain 'bench' and not be bench_main "
            "(bench/run.py's seeded one)"
        )
    return name


def dsn(url: str, database: str) -> str:
    parsed = make_url(url).set(drivername="postgresql", database=database)
    return parsed.render_as_string(hide_password=False)


async def recreate(url: str, *, drop_only: bool = False) -> None:
    name = database_name(url)
    admin = await asyncpg.connect(dsn(url, "postgres"))
    try:
        quoted = '"' + name.replace('"', '""') + '"'
        await admin.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        if not drop_only:
            await admin.execute(f"CREATE DATABASE {quoted}")
    finally:
        await admin.close()


def build_csv(rows: int, tag: str) -> bytes:
    header = template_columns(REQUIREMENTS)
    header += ["strength_2", "growth_area_2", "suggestion_2"]
    header = list(dict.fromkeys(header))
    ratings = ("met", "partly met", "not yet met", "met")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for i in range(rows):
        job = f"Job {i % JOBS:02d}"
        values: dict[str, str] = {
            "email": f"candidate{i:06d}@{tag}.example.org",
            "name": f"Candidate {i:06d}",
            "job": job,
            "stage": ("applied", "screen", "interview", "final")[i % 4],
            "decision_summary": OPENINGS[i % 3].format(job=job)
            + f" Your exercise {i} did not yet show end-to-end experiment design.",
            "strength_1": STRENGTHS[0].format(n=i),
            "strength_1_requirement": REQUIREMENTS[0],
            "strength_2": STRENGTHS[1].format(n=i),
            "growth_area_1": GROWTH[0][0].format(n=i),
            "suggestion_1": GROWTH[0][1].format(n=i),
            "growth_area_1_requirement": REQUIREMENTS[1],
            "growth_area_2": GROWTH[1][0].format(n=i),
            "suggestion_2": GROWTH[1][1].format(n=i),
            "reapply_after_months": str(6 + i % 7),
            "suggested_roles": "Junior Analyst\nReporting Analyst",
            "pool_invitation_offered": "yes" if i % 2 else "no",
            "personal_note": f"Thank you for your time, candidate {i}; it was a pleasure.",
        }
        for index, requirement in enumerate(REQUIREMENTS):
            values[f"rating: {requirement}"] = ratings[(i + index) % 4]
            values[f"evidence: {requirement}"] = EVIDENCE[index].format(n=i)
        writer.writerow([values.get(column, "") for column in header])
    return buffer.getvalue().encode()


async def seed_organization(sessions: Any, slug: str) -> int:
    async with unit_of_work(sessions) as db:
        org = Organization(name=slug, slug=slug, display_name=slug.title(), accent_colour="#224466")
        db.add(org)
        await db.flush()
        for j in range(JOBS):
            job = Job(organization_id=org.id, title=f"Job {j:02d}")
            db.add(job)
            await db.flush()
            for position, name in enumerate(REQUIREMENTS):
                db.add(Requirement(job_id=job.id, position=position, name=name))
        await db.flush()
        return org.id


async def timed_import(
    sessions: Any, settings: Settings, organization_id: int, data: bytes, *, publish: bool = False
) -> tuple[float, float, service.ImportResult]:
    wall, cpu = time.perf_counter(), time.process_time()
    async with unit_of_work(sessions) as db:
        result = await service.import_csv(
            db,
            data=data,
            organization_id=organization_id,
            publish=publish,
            dry_run=False,
            staff_id=None,
            settings=settings,
            now=utcnow(),
            source={"source": "benchmark"},
            max_bytes=service.MAX_COMMAND_LINE_BYTES,
        )
    return time.perf_counter() - wall, time.process_time() - cpu, result


def baseline_read(data: bytes) -> float:
    started = time.perf_counter()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows
    return time.perf_counter() - started


async def one_size(sessions: Any, settings: Settings, rows: int) -> dict[str, Any]:
    slug = f"bench-{rows}"
    organization_id = await seed_organization(sessions, slug)
    data = build_csv(rows, slug)
    baseline = baseline_read(data)
    async with sessions() as db:
        catalog = await service.load_catalog(db, organization_id=organization_id)
    started = time.perf_counter()
    checked = service.check_file(
        data, catalog, publish=False, max_bytes=service.MAX_COMMAND_LINE_BYTES
    )
    check_only = time.perf_counter() - started
    assert checked.ok, checked.problems[:5]
    started = time.perf_counter()
    for row in checked.rows:
        check_feedback(row.draft)
    feedback_check = time.perf_counter() - started

    wall, cpu, result = await timed_import(sessions, settings, organization_id, data)
    assert result.written and result.outcome is not None
    assert result.outcome.new_versions == rows, result.outcome
    again_wall, _, again = await timed_import(sessions, settings, organization_id, data)
    assert again.outcome is not None and again.outcome.new_versions == 0
    return {
        "rows": rows,
        "megabytes": round(len(data) / 1024 / 1024, 2),
        "import_seconds": round(wall, 2),
        "import_cpu_seconds": round(cpu, 2),
        "reimport_seconds": round(again_wall, 2),
        "read_and_check_seconds": round(check_only, 2),
        "feedback_check_seconds": round(feedback_check, 2),
        "baseline_csv_read_seconds": round(baseline, 3),
        "import_over_baseline": round(wall / baseline, 1),
        "rows_per_second": round(rows / wall),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    # The published import writes invitation emails, whose links come from the routes.
    urls.use_routes(route_table())
    await recreate(args.database_url)
    settings = Settings(database_url=args.database_url, base_url="https://bench.example.com")
    await asyncio.to_thread(migrate.upgrade, settings)
    engine = create_engine(settings, pool_size=2)
    sessions = session_factory(engine)
    results: list[dict[str, Any]] = []
    publish: dict[str, Any] = {}
    try:
        for rows in args.rows:
            print(f"importing {rows:,} rows ...", flush=True)
            result = await one_size(sessions, settings, rows)
            results.append(result)
            print(
                f"  {rows:>7,} rows ({result['megabytes']} MB): import {result['import_seconds']} s"
                f" ({result['rows_per_second']:,} rows/s, {result['import_cpu_seconds']} s CPU), "
                f"again {result['reimport_seconds']} s; read+check alone "
                f"{result['read_and_check_seconds']} s (feedback check "
                f"{result['feedback_check_seconds']} s); bare csv.reader "
                f"{result['baseline_csv_read_seconds']} s = {result['import_over_baseline']}x",
                flush=True,
            )
        if args.publish_rows:
            rows = args.publish_rows
            slug = f"bench-publish-{rows}"
            organization_id = await seed_organization(sessions, slug)
            wall, _, published = await timed_import(
                sessions, settings, organization_id, build_csv(rows, slug), publish=True
            )
            assert published.outcome is not None and published.outcome.emails_queued == rows
            publish = {
                "rows": rows,
                "seconds": round(wall, 2),
                "rows_per_second": round(rows / wall),
            }
            print(
                f"  {rows:>7,} rows published, each invitation email queued: {wall:.2f} s "
                f"({publish['rows_per_second']:,} rows/s)",
                flush=True,
            )
    finally:
        await engine.dispose()
        if not args.keep:
            await recreate(args.database_url, drop_only=True)
    return {"load": os.getloadavg(), "results": results, "publish": publish}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[10_000, 100_000],
        help="comma-separated sizes (default 10000,100000)",
    )
    parser.add_argument("--database-url", default=DEFAULT_URL, help=f"(default {DEFAULT_URL})")
    parser.add_argument(
        "--publish-rows",
        type=int,
        default=1_000,
        help="also time an import that publishes this many rows and queues their invitation "
        "emails (default 1000; 0 skips it)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args()
    try:
        database_name(args.database_url)
    except BenchError as exc:
        print(f"import_bench: {exc}", file=sys.stderr)
        return 2
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    report = asyncio.run(main_async(args))
    by_size = {result["rows"]: result for result in report["results"]}
    verdicts: list[bool] = []
    if 10_000 in by_size:
        small = by_size[10_000]["import_seconds"]
        ok = small < TARGET_10K_SECONDS
        verdicts.append(ok)
        print(
            f"10,000 rows: {small} s (target < {TARGET_10K_SECONDS} s): {'PASS' if ok else 'FAIL'}"
        )
        if 100_000 in by_size:
            ratio = by_size[100_000]["import_seconds"] / small
            ok = ratio < TARGET_RATIO
            verdicts.append(ok)
            report["ratio_100k_10k"] = round(ratio, 2)
            print(
                f"100,000 rows: {by_size[100_000]['import_seconds']} s = {ratio:.2f}x the "
                f"10,000-row time (target < {TARGET_RATIO}x): {'PASS' if ok else 'FAIL'}"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    return 2 if args.strict and not all(verdicts) else 0


if __name__ == "__main__":
    raise SystemExit(main())
