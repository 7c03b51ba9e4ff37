"""Drafting benchmark: feedback drafted from scorecards for 1,000 applications with 3
scorecards each, on PostgreSQL, through the bulk drafting job's own code.

Run from the repository root::

    .venv/bin/python bench/draft_bench.py
    .venv/bin/python bench/draft_bench.py --applications 1000 --strict

What it does:

1. Creates its own database (default ``afterword_draft_bench`` on
   ``postgresql://postgres@127.0.0.1:5432``; the name must contain "bench" and may
   not be ``bench_main``, so no one else's database is touched), applies the
   migrations, and drops it at the end (``--keep`` keeps it).
2. Seeds one organization with 10 jobs of 4 requirements, a recruiter, and the
   applications (one candidate each), each with 3 scorecards of 4 rated attributes
   (two-sentence candidate-safe notes, one private) and a private question.
3. Times drafting them all as a recruiter's bulk "Draft from scorecards" does:
   ``portal.drafting.jobs.start_run`` and then each chunk through ``run_chunk``,
   each chunk in its own committed transaction, as the worker runs them. Every
   application ends with a new saved draft version.
4. Alongside, in the same run, the bare baseline: one statement reading every
   scorecard attribute of those applications and composing the drafts in memory
   (``portal.drafting.compose``), writing nothing: the least any drafting does.
5. Prints the seconds, the ratio to the baseline, and PASS/FAIL against the target
   (under 20 s). Results go to ``bench/results/draft.json``.

Exit status: 0; 2 with ``--strict`` when the target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.import_bench import BenchError, database_name, recreate  # noqa: E402
from portal import migrate, urls  # noqa: E402
from portal import models as _models  # noqa: E402, F401  (every table known)
from portal.app import route_table  # noqa: E402
from portal.candidates.models import Application, Candidate, Job, Requirement  # noqa: E402
from portal.db import create_engine, session_factory, unit_of_work, utcnow  # noqa: E402
from portal.drafting import jobs as drafting_jobs  # noqa: E402
from portal.drafting import service as drafting  # noqa: E402
from portal.drafting.models import DraftingRun, Scorecard, ScorecardEntry  # noqa: E402
from portal.feedback.models import Feedback  # noqa: E402
from portal.orgs.models import Organization  # noqa: E402
from portal.security.actors import Staff, StaffRole  # noqa: E402
from portal.settings import Settings  # noqa: E402
from portal.staff.models import StaffUser  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/afterword_draft_bench"
TARGET_SECONDS = 20.0
JOBS = 10
REQUIREMENTS = ("SQL", "Statistics", "Communication", "Stakeholder management")
RATINGS = ("strong_yes", "yes", "mixed", "no", "definitely_not", "yes")
RESULTS = ROOT / "bench" / "results" / "draft.json"


async def seed(sessions: Any, applications: int) -> tuple[int, int, list[int]]:
    """(organization id, staff id, application ids)."""
    now = utcnow()
    async with unit_of_work(sessions) as db:
        org = Organization(name="Bench", slug="bench", display_name="Bench")
        db.add(org)
        await db.flush()
        staff = StaffUser(
            organization_id=org.id, email="r@bench.example", name="Robin", role="recruiter"
        )
        db.add(staff)
        jobs = [Job(organization_id=org.id, title=f"Analyst {j}") for j in range(JOBS)]
        db.add_all(jobs)
        await db.flush()
        db.add_all(
            Requirement(job_id=job.id, position=p, name=name, description=f"{name} at work")
            for job in jobs
            for p, name in enumerate(REQUIREMENTS)
        )
        candidate_ids = (
            await db.scalars(
                insert(Candidate).returning(Candidate.id),
                [
                    {"organization_id": org.id, "email": f"c{i}@example.com", "name": f"C {i}"}
                    for i in range(applications)
                ],
            )
        ).all()
        application_ids = (
            await db.scalars(
                insert(Application).returning(Application.id),
                [
                    {
                        "organization_id": org.id,
                        "candidate_id": candidate_id,
                        "job_id": jobs[i % JOBS].id,
                        "stage": "interview",
                        "decided_at": now,
                    }
                    for i, candidate_id in enumerate(candidate_ids)
                ],
            )
        ).all()
        card_ids = (
            await db.scalars(
                insert(Scorecard).returning(Scorecard.id),
                [
                    {
                        "application_id": application_id,
                        "source": "api",
                        "external_id": f"card-{application_id}-{n}",
                        "interviewer": f"Interviewer {n}",
                        "step": ("Screen", "Technical", "Onsite")[n],
                        "overall_recommendation": "no",
                        "created_at": now,
                    }
                    for application_id in application_ids
                    for n in range(3)
                ],
            )
        ).all()
        entries = []
        for k, card_id in enumerate(card_ids):
            for p, name in enumerate(REQUIREMENTS):
                entries.append(
                    {
                        "scorecard_id": card_id,
                        "kind": "attribute",
                        "position": p,
                        "name": name,
                        "rating": RATINGS[(k + p) % len(RATINGS)],
                        "text": f"In round {k} the {name.lower()} answer was specific and "
                        f"well argued. It covered case {k % 97} step by step",
                        "private": p == 3,
                    }
                )
            entries.append(
                {
                    "scorecard_id": card_id,
                    "kind": "question",
                    "position": 4,
                    "name": "Anything else?",
                    "rating": None,
                    "text": f"Private remark {k}.",
                    "private": True,
                }
            )
        await db.execute(insert(ScorecardEntry), entries)
        return org.id, staff.id, list(application_ids)


async def draft_all(sessions: Any, actor: Staff, application_ids: list[int]) -> float:
    started = time.perf_counter()
    async with unit_of_work(sessions) as db:
        run_id = await drafting_jobs.start_run(
            db, actor=actor, application_ids=application_ids, now=utcnow()
        )
    offset = 0
    while offset < len(application_ids):
        async with unit_of_work(sessions) as db:
            await drafting_jobs.run_chunk(db, run_id=run_id, offset=offset, now=utcnow())
        offset += drafting_jobs.CHUNK
    return time.perf_counter() - started


async def baseline(sessions: Any, organization_id: int, application_ids: list[int]) -> float:
    """Read every attribute in one statement and compose each draft in memory."""
    started = time.perf_counter()
    async with unit_of_work(sessions) as db:
        found = await drafting._entries_of(db, application_ids)
        jobs = dict(
            (
                await db.execute(
                    select(Application.id, Application.job_id).where(
                        Application.id.in_(application_ids)
                    )
                )
            ).all()
        )
        context = await drafting._context(db, organization_id, set(jobs.values()))
    for application_id in application_ids:
        drafting._compose(context, jobs[application_id], found[application_id])
    return time.perf_counter() - started


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    urls.use_routes(route_table())
    await recreate(args.database_url)
    settings = Settings(database_url=args.database_url, base_url="https://bench.example.com")
    await asyncio.to_thread(migrate.upgrade, settings)
    engine = create_engine(settings, pool_size=2)
    sessions = session_factory(engine)
    try:
        organization_id, staff_id, application_ids = await seed(sessions, args.applications)
        actor = Staff(staff_id, organization_id, StaffRole.RECRUITER, "Robin", b"")
        base = await baseline(sessions, organization_id, application_ids)
        seconds = await draft_all(sessions, actor, application_ids)
        async with unit_of_work(sessions) as db:
            drafted = await db.scalar(
                select(func.count()).select_from(Feedback).where(Feedback.state == "draft")
            )
            run = await db.scalar(select(DraftingRun))
        assert drafted == len(application_ids), drafted
        assert run is not None and run.drafted == len(application_ids) and not run.skipped
    finally:
        await engine.dispose()
        if not args.keep:
            await recreate(args.database_url, drop_only=True)
    return {
        "applications": len(application_ids),
        "scorecards": 3 * len(application_ids),
        "seconds": round(seconds, 2),
        "per_application_ms": round(1000 * seconds / len(application_ids), 2),
        "baseline_seconds": round(base, 3),
        "ratio_to_baseline": round(seconds / base, 1),
        "target_seconds": TARGET_SECONDS,
        "load": os.getloadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=1_000)
    parser.add_argument("--database-url", default=DEFAULT_URL, help=f"(default {DEFAULT_URL})")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--strict", action="store_true", help="exit 2 when the target is missed")
    args = parser.parse_args()
    try:
        database_name(args.database_url)
    except BenchError as exc:
        print(f"draft_bench: {exc}", file=sys.stderr)
        return 2
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    report = asyncio.run(main_async(args))
    ok = report["seconds"] < TARGET_SECONDS
    print(
        f"drafted {report['applications']:,} applications ({report['scorecards']:,} scorecards): "
        f"{report['seconds']} s ({report['per_application_ms']} ms each); bare baseline (read "
        f"and compose, no writes) {report['baseline_seconds']} s = "
        f"{report['ratio_to_baseline']}x; target < {TARGET_SECONDS} s: "
        f"{'PASS' if ok else 'FAIL'}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    return 2 if args.strict and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
