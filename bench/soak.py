"""A mixed-traffic soak: two `portal serve` processes and one `portal worker` on
PostgreSQL, under a fixed request rate for a set time.

    .venv/bin/python bench/soak.py                          # 10 minutes at 40 requests/s
    .venv/bin/python bench/soak.py --duration 120 --rate 15 # a short proof run
    .venv/bin/python bench/soak.py --help

The load is open-loop: requests start on a fixed schedule whether or not earlier
ones have answered (so a slow server cannot slow the load down and hide its own
latency), spread over the two app processes in turn. The mix, by share of starts:
candidates opening their emailed link (the link page, then "Show my feedback"),
reading their feedback page, downloading their PDF, asking a question, and staff
reading the moderation queue. Each link is used once, by a "new" candidate from
an address of their own (X-Forwarded-For, which the processes trust from
loopback as they would from their proxy), as after a bulk rejection.

It reports errors (any 5xx, unexpected status or failed connection), p50/p99
latency for pages and, apart, for PDFs, each process's RSS over time (it should
be flat after the warm-up), and whether the worker drained the outbox (the
staff's question notifications) by the end. Exit status 1 when a target is
missed: no errors, page p99 under 100 ms, RSS growth after warm-up under 10%,
the outbox drained.

Needs PostgreSQL: the database (default `afterword_soak`) is dropped and
re-created, then seeded with the demo organizations. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, make_url, select, text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal import migrate  # noqa: E402
from portal.access.service import issue_invitation_link  # noqa: E402
from portal.candidates.models import Application  # noqa: E402
from portal.db import create_engine, session_factory, unit_of_work, utcnow  # noqa: E402
from portal.demo.content import DEMO_STAFF_PASSWORD  # noqa: E402
from portal.demo.seed import demo_staff_accounts, seed_demo_organizations  # noqa: E402
from portal.feedback.models import Feedback, FeedbackState  # noqa: E402
from portal.jobs.models import BackgroundJob, JobState  # noqa: E402
from portal.settings import Settings  # noqa: E402

SERVING = re.compile(r"serving on (http://127\.0\.0\.1:\d+)")
CSRF_FIELD = re.compile(r'name="csrftoken" value="([^"]+)"')
REFUSED_DATABASES = {"postgres", "test", "template0", "template1"}
# Shares of request starts (questions are capped below by the question limit).
MIX = {"feedback": 45, "link": 15, "queue": 20, "pdf": 10, "question": 10}
TARGET_P99_MS = 100.0
RETURNING = 20
# Idle connections are closed before uvicorn's keep-alive timeout (5 s) closes them
# from its side, as a proxy in front must do too (docs/admin/deployment.md):
# otherwise a request sent on a connection at the moment the server closes it fails.
KEEP_ALIVE = httpx.Limits(keepalive_expiry=4)
TARGET_RSS_GROWTH = 0.10


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Mixed-traffic soak against two app processes and a worker on PostgreSQL."
    )
    parser.add_argument(
        "--database-url",
        default="postgresql://postgres@127.0.0.1:5432/afterword_soak",
        help="a database to drop, re-create and seed (default: %(default)s)",
    )
    parser.add_argument("--duration", type=float, default=600, help="seconds (default 600)")
    parser.add_argument("--rate", type=float, default=40, help="request starts/s (default 40)")
    parser.add_argument(
        "--warm-up", type=float, default=30, help="seconds left out of RSS growth (default 30)"
    )
    parser.add_argument(
        "--sample-every", type=float, default=10, help="seconds between RSS samples (default 10)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    return parser


def say(message: str = "") -> None:
    print(message, flush=True)


# -- the database --------------------------------------------------------------


async def prepare_database(url: str) -> None:
    name = make_url(url).database
    if not name or name in REFUSED_DATABASES or name.startswith("test"):
        raise SystemExit(f"soak: refusing to drop the database {name!r}; name another one")
    admin = create_async_engine(
        make_url(url).set(drivername="postgresql+asyncpg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()


@dataclass
class World:
    application_ids: list[int]  # published feedback, one per candidate
    staff: list[tuple[str, str]]  # (email, password)


async def seed(settings: Settings) -> World:
    engine = create_engine(settings)
    try:
        async with unit_of_work(session_factory(engine)) as db:
            await seed_demo_organizations(db, now=utcnow())
        async with unit_of_work(session_factory(engine)) as db:
            rows = await db.execute(
                select(func.min(Application.id))
                .join(Feedback, Feedback.application_id == Application.id)
                .where(Feedback.state == FeedbackState.PUBLISHED)
                .group_by(Application.candidate_id)
            )
            ids = sorted(row[0] for row in rows)
    finally:
        await engine.dispose()
    staff = [(account.email, DEMO_STAFF_PASSWORD) for account in demo_staff_accounts()]
    return World(ids, staff)


async def issue_links(settings: Settings, application_ids: list[int], count: int) -> list[str]:
    engine = create_engine(settings)
    links = []
    try:
        async with unit_of_work(session_factory(engine)) as db:
            for n in range(count):
                application_id = application_ids[n % len(application_ids)]
                token = await issue_invitation_link(db, application_id=application_id, now=utcnow())
                links.append(f"/l/{token}")
    finally:
        await engine.dispose()
    return links


async def outbox_waiting(settings: Settings) -> int:
    engine = create_engine(settings, pool_size=1)
    try:
        async with engine.connect() as connection:
            waiting = await connection.scalar(
                select(func.count())
                .select_from(BackgroundJob)
                .where(BackgroundJob.kind == "mail.send", BackgroundJob.state == JobState.PENDING)
            )
    finally:
        await engine.dispose()
    return int(waiting or 0)


# -- the processes -------------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def rss_mb(self) -> float:
        try:
            status = Path(f"/proc/{self.popen.pid}/status").read_text()
        except OSError:
            return 0.0
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(found.group(1)) / 1024 if found else 0.0


def start(name: str, command: list[str], env: dict[str, str], workdir: Path) -> Process:
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", *command],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    return Process(name, popen, log)


async def wait_for_url(process: Process, deadline: float) -> str:
    while True:
        found = SERVING.search(process.log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.popen.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"soak: {process.name} did not start:\n{process.log.read_text()}")
        await asyncio.sleep(0.1)


# -- the load ------------------------------------------------------------------


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rss: list[dict[str, float]] = field(default_factory=list)
    late_starts: int = 0

    def record(self, kind: str, started: float, response: httpx.Response, ok: set[int]) -> None:
        self.latencies[kind].append((time.perf_counter() - started) * 1000)
        self.statuses[f"{kind} {response.status_code}"] += 1
        if response.status_code not in ok:
            self.errors.append(f"{kind}: {response.status_code} {response.url.path}")


class Load:
    def __init__(self, apps: list[str], links: list[str], world: World, results: Results) -> None:
        self.apps = apps
        self.links = links
        self.world = world
        self.results = results
        self.turn = 0
        self.candidates: list[tuple[httpx.AsyncClient, int, str]] = []  # client, app id, csrf
        self.staff: list[httpx.AsyncClient] = []
        self.asked: dict[int, list[float]] = defaultdict(list)
        self.address = 0

    def app(self) -> str:
        self.turn += 1
        return self.apps[self.turn % len(self.apps)]

    def client(self) -> httpx.AsyncClient:
        self.address += 1
        # A new candidate, from an address of their own.
        forwarded = (
            f"10.{(self.address >> 16) & 255}.{(self.address >> 8) & 255}.{self.address & 255}"
        )
        return httpx.AsyncClient(
            timeout=30, headers={"x-forwarded-for": forwarded}, limits=KEEP_ALIVE
        )

    async def timed(
        self, kind: str, client: httpx.AsyncClient, method: str, url: str, ok: set[int], **kw: Any
    ) -> httpx.Response:
        started = time.perf_counter()
        response = await client.request(method, url, **kw)
        self.results.record(kind, started, response, ok)
        return response

    async def sign_in_staff(self) -> None:
        for email, password in self.world.staff[:2]:
            client = httpx.AsyncClient(timeout=30, limits=KEEP_ALIVE)
            page = await client.get(f"{self.apps[0]}/staff/signin")
            token = CSRF_FIELD.search(page.text)
            assert token, page.text[:300]
            answer = await client.post(
                f"{self.apps[0]}/staff/signin",
                data={"csrftoken": token.group(1), "email": email, "password": password},
            )
            if answer.status_code != 303:
                raise SystemExit(f"soak: staff sign-in failed: {answer.status_code}")
            self.staff.append(client)

    async def open_link(self) -> None:
        if not self.links:
            self.results.statuses["link (none left)"] += 1
            return
        link = self.links.pop()
        client = self.client()
        page = await self.timed("link page", client, "GET", f"{self.app()}{link}", {200})
        token = CSRF_FIELD.search(page.text)
        if token is None:
            return
        answer = await self.timed(
            "link confirm",
            client,
            "POST",
            f"{self.app()}{link}",
            {303},
            data={"csrftoken": token.group(1)},
        )
        location = answer.headers.get("location", "")
        found = re.search(r"/feedback/(\d+)", location)
        if found:
            page = await self.timed(
                "feedback page", client, "GET", f"{self.app()}{location}", {200}
            )
            csrf = CSRF_FIELD.search(page.text)
            self.candidates.append((client, int(found.group(1)), csrf.group(1) if csrf else ""))
        else:
            await client.aclose()

    async def read_feedback(self) -> None:
        client, application_id, _ = random.choice(self.candidates)
        await self.timed(
            "feedback page", client, "GET", f"{self.app()}/feedback/{application_id}", {200}
        )

    async def pdf(self) -> None:
        client, application_id, _ = random.choice(self.candidates)
        await self.timed(
            "pdf", client, "GET", f"{self.app()}/feedback/{application_id}/summary.pdf", {200}
        )

    async def ask(self) -> None:
        # Within the question limit (5 in 10 minutes per candidate): a candidate who
        # asked five times lately is not the one asking.
        now = time.monotonic()
        ready = [
            entry
            for entry in self.candidates
            if len([t for t in self.asked[entry[1]] if now - t < 600]) < 5 and entry[2]
        ]
        if not ready:
            return await self.read_feedback()
        client, application_id, csrf = random.choice(ready)
        self.asked[application_id].append(now)
        await self.timed(
            "question",
            client,
            "POST",
            f"{self.app()}/feedback/{application_id}/questions",
            {303},
            data={"csrftoken": csrf, "body": "Could you say more about the SQL exercise?"},
        )

    async def queue(self) -> None:
        client = random.choice(self.staff)
        await self.timed("queue page", client, "GET", f"{self.app()}/staff/queue", {200})

    async def one(self, action: Callable[[], Awaitable[None]]) -> None:
        try:
            await action()
        except Exception as error:  # a failed connection, or an answer it could not use
            self.results.errors.append(f"{action.__name__}: {type(error).__name__}: {error}")

    async def run(self, rate: float, duration: float) -> None:
        actions = {
            "feedback": self.read_feedback,
            "link": self.open_link,
            "queue": self.queue,
            "pdf": self.pdf,
            "question": self.ask,
        }
        kinds = list(MIX)
        weights = [MIX[kind] for kind in kinds]
        tasks: set[asyncio.Task[None]] = set()
        started = time.monotonic()
        n = 0
        while (due := started + n / rate) < started + duration:
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.05:
                self.results.late_starts += 1
            task = asyncio.create_task(self.one(actions[random.choices(kinds, weights)[0]]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        await asyncio.gather(*tasks)

    async def close(self) -> None:
        for client, _, _ in self.candidates:
            await client.aclose()
        for client in self.staff:
            await client.aclose()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def sample_rss(
    processes: list[Process], results: Results, every: float, began: float
) -> None:
    while True:
        results.rss.append(
            {"t": round(time.monotonic() - began, 1)}
            | {process.name: round(process.rss_mb(), 1) for process in processes}
        )
        await asyncio.sleep(every)


async def soak(args: argparse.Namespace) -> int:
    settings = Settings(database_url=args.database_url)
    say(f"soak: preparing {make_url(args.database_url).database} (dropped, migrated, seeded)")
    await prepare_database(args.database_url)
    await asyncio.to_thread(migrate.upgrade, settings)
    world = await seed(settings)
    links_needed = (
        int(args.rate * args.duration * MIX["link"] / sum(MIX.values()) * 1.2) + RETURNING + 20
    )
    links = await issue_links(settings, world.application_ids, links_needed)
    say(f"soak: {len(world.application_ids)} candidates with feedback, {len(links)} links issued")

    workdir = Path(tempfile.mkdtemp(prefix="afterword-soak-"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=args.database_url,
        PORTAL_MAIL_DIR=str(workdir / "mail"),
        PORTAL_RUN_WORKER="false",
        PORTAL_LOG_FORMAT="json",
        PYTHONUNBUFFERED="1",
    )
    processes = [
        start("app1", ["serve", "--port", "0", "--no-worker"], env, workdir),
        start("app2", ["serve", "--port", "0", "--no-worker"], env, workdir),
        start("worker", ["worker"], env, workdir),
    ]
    results = Results()
    load: Load | None = None
    try:
        deadline = time.monotonic() + 120
        apps = [await wait_for_url(process, deadline) for process in processes[:2]]
        async with httpx.AsyncClient(timeout=5) as probe:
            for app in apps:
                while (await probe.get(f"{app}/readyz")).status_code != 200:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
        load = Load(apps, links, world, results)
        await load.sign_in_staff()
        # Candidates who came back before the soak began: the feedback, PDF and
        # question traffic is theirs (and that of those who open links during it).
        for _ in range(min(RETURNING, len(links))):
            await load.open_link()
        if not load.candidates:
            raise SystemExit("soak: no candidate could sign in")
        results.latencies.clear()
        results.statuses.clear()
        say(f"soak: {args.rate:g} requests/s for {args.duration:g} s against {', '.join(apps)}")
        began = time.monotonic()
        sampler = asyncio.create_task(sample_rss(processes, results, args.sample_every, began))
        await load.run(args.rate, args.duration)
        sampler.cancel()
        results.rss.append(
            {"t": round(time.monotonic() - began, 1)}
            | {process.name: round(process.rss_mb(), 1) for process in processes}
        )
        drain_deadline = time.monotonic() + 60
        waiting = await outbox_waiting(settings)
        while waiting and time.monotonic() < drain_deadline:
            await asyncio.sleep(1)
            waiting = await outbox_waiting(settings)
    finally:
        if load is not None:
            await load.close()
        for process in processes:
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.popen.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.popen.kill()
    return report(args, results, waiting)


def report(args: argparse.Namespace, results: Results, waiting: int) -> int:
    pages = [
        value for kind, values in results.latencies.items() if kind != "pdf" for value in values
    ]
    pdfs = results.latencies.get("pdf", [])
    after_warm_up = [sample for sample in results.rss if sample["t"] >= args.warm_up]
    growth: dict[str, float] = {}
    for name in ("app1", "app2", "worker"):
        series = [sample[name] for sample in after_warm_up if sample.get(name)]
        if len(series) >= 2:
            growth[name] = (series[-1] - series[0]) / series[0]
    summary = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rate": args.rate,
        "duration_s": args.duration,
        "requests": len(pages) + len(pdfs),
        "errors": len(results.errors),
        "error_examples": results.errors[:10],
        "late_starts": results.late_starts,
        "pages": {
            "count": len(pages),
            "p50_ms": round(percentile(pages, 0.50), 1),
            "p99_ms": round(percentile(pages, 0.99), 1),
        },
        "by_kind": {
            kind: {
                "count": len(values),
                "p50_ms": round(percentile(values, 0.50), 1),
                "p99_ms": round(percentile(values, 0.99), 1),
            }
            for kind, values in sorted(results.latencies.items())
        },
        "pdfs": {
            "count": len(pdfs),
            "p50_ms": round(percentile(pdfs, 0.50), 1),
            "p99_ms": round(percentile(pdfs, 0.99), 1),
        },
        "statuses": dict(sorted(results.statuses.items())),
        "rss_mb": results.rss,
        "rss_growth_after_warm_up": {name: round(value, 3) for name, value in growth.items()},
        "outbox_waiting_at_end": waiting,
        "load_average": os.getloadavg(),
    }
    checks = {
        "no errors": not results.errors,
        f"page p99 under {TARGET_P99_MS:g} ms": summary["pages"]["p99_ms"] < TARGET_P99_MS,
        f"RSS growth after warm-up under {TARGET_RSS_GROWTH:.0%}": all(
            value < TARGET_RSS_GROWTH for value in growth.values()
        ),
        "outbox drained": waiting == 0,
    }
    summary["checks"] = checks
    say()
    say(
        f"requests        {summary['requests']} ({len(results.errors)} errors, "
        f"{results.late_starts} started late)"
    )
    say(f"pages           p50 {summary['pages']['p50_ms']} ms, p99 {summary['pages']['p99_ms']} ms")
    for kind, figures in summary["by_kind"].items():
        say(
            f"  {kind:<14}{figures['count']:>6}  "
            f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms"
        )
    say(f"PDFs            p50 {summary['pdfs']['p50_ms']} ms, p99 {summary['pdfs']['p99_ms']} ms")
    say(
        "RSS (MB)        "
        + "; ".join(
            f"{sample['t']:g}s " + " ".join(f"{k}={v:g}" for k, v in sample.items() if k != "t")
            for sample in results.rss
        )
    )
    say(f"RSS growth      {summary['rss_growth_after_warm_up']} (after {args.warm_up:g} s)")
    say(f"outbox waiting  {waiting} at the end")
    say(f"load average    {' '.join(f'{value:.1f}' for value in os.getloadavg())}")
    for example in results.errors[:10]:
        say(f"  error: {example}")
    for name, passed in checks.items():
        say(f"{'PASS' if passed else 'FAIL'}  {name}")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if all(checks.values()) else 1


def main() -> int:
    args = build_parser().parse_args()
    return asyncio.run(soak(args))


if __name__ == "__main__":
    raise SystemExit(main())
