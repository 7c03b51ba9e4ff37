"""Mail delivery benchmark: the outbox worker against a bare aiosmtplib loop.

Sends N queued emails to a local aiosmtpd server (in its own process) twice per
round: once with a bare loop over ONE aiosmtplib connection (the baseline) and
once with ``portal.jobs.worker.Worker`` draining ``mail.send`` jobs on PostgreSQL.
Both send the same messages, built with ``portal.mail.backends.build_message``
inside the timed section. Target: worker >= 0.7 x baseline messages/s.

Run from the repository root::

    .venv/bin/python bench/mail_bench.py                 # 10,000 messages, 2 rounds
    .venv/bin/python bench/mail_bench.py --messages 2000 --rounds 3 --strict

What it does:

1. Drops and recreates a dedicated database (default ``afterword_mailbench``;
   the name must contain ``bench``) and migrates it with ``portal.migrate.upgrade``.
2. Starts aiosmtpd in a separate process pinned to CPU 1 (this process is pinned
   to CPU 0) with a handler that counts messages and bytes and answers 250.
3. Renders the ``sign_in`` email per recipient (its link sealed, as the portal
   queues it) and bulk-loads N pending ``mail.send`` jobs with COPY (untimed);
   the baseline sends Envelopes read back from those rows, links unsealed.
4. Alternates baseline / worker for ``--rounds`` rounds, re-queueing between
   worker rounds (TRUNCATE ... RESTART IDENTITY + COPY + ANALYZE, untimed), and
   checks that the server got exactly N messages per phase and that all N rows
   end ``sent``.
5. Prints median messages/s for each, the ratio and PASS/FAIL, and writes
   ``bench/results/mail.json`` (per phase also the CPU seconds of this process
   and of the smtpd process: wall time well above both means waiting, e.g. on
   PostgreSQL or on other load on the machine).

Exit status: 0; 1 if a phase did not deliver exactly N messages; 2 with
``--strict`` when the ratio is below the target. PostgreSQL is not pinned: on a
two-CPU machine it shares the CPUs with the measured process and the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `portal` importable from the checkout
    sys.path.insert(0, str(ROOT))

import aiosmtplib  # noqa: E402
import asyncpg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.seed import BenchDatabaseError, asyncpg_dsn  # noqa: E402
from portal import job_kinds, migrate  # noqa: E402, F401  (job_kinds registers every kind)
from portal.db import create_engine, session_factory  # noqa: E402
from portal.jobs.worker import Worker  # noqa: E402
from portal.mail.backends import Envelope, build_message  # noqa: E402
from portal.mail.jobs import LINK_MARKER, MAIL_SEND, OutgoingEmail, envelope  # noqa: E402
from portal.mail.service import render_email  # noqa: E402
from portal.security.tokens import seal  # noqa: E402
from portal.settings import Settings  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/afterword_mailbench"
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "mail.json"
TARGET_RATIO = 0.7
NOISY_SPREAD = 0.15
HOST = "127.0.0.1"
MEASURE_CPU = 0
SERVER_CPU = 1
COLUMNS = ("kind", "payload", "state", "attempts", "run_at", "idempotency_key", "created_at")


class BenchError(RuntimeError):
    pass


# --- command line ----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/mail_bench.py",
        description=(
            "Send N queued emails to a local aiosmtpd server (separate process) with the "
            "outbox worker and with a bare aiosmtplib loop over one connection, and compare "
            f"messages/s. Target: worker >= {TARGET_RATIO:g} x baseline."
        ),
    )
    parser.add_argument(
        "--messages", type=int, default=10_000, help="emails per phase (default 10000)"
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="PostgreSQL database to DROP, recreate and use; its name must contain 'bench' "
        f"(default {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="baseline/worker rounds; medians are reported"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"JSON results (default {DEFAULT_OUTPUT.relative_to(ROOT)})",
    )
    parser.add_argument(
        "--strict", action="store_true", help=f"exit 2 if worker < {TARGET_RATIO:g} x baseline"
    )
    return parser


# --- database --------------------------------------------------------------------------


def _dsn(database_url: str, database: str | None = None) -> str:
    try:
        return asyncpg_dsn(database_url, database)
    except BenchDatabaseError as exc:
        raise BenchError(str(exc)) from None


def bench_database_name(database_url: str) -> str:
    name = make_url(database_url).database or ""
    if "bench" not in name or name == "test" or name.startswith("template"):
        raise BenchError(
            f"refusing to drop database {name!r}: the benchmark database name must contain "
            "'bench' (it is dropped and recreated)"
        )
    return name


async def recreate_database(database_url: str) -> None:
    name = bench_database_name(database_url)
    admin = await asyncpg.connect(_dsn(database_url, "postgres"))
    try:
        quoted = '"' + name.replace('"', '""') + '"'
        await admin.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {quoted}")
    finally:
        await admin.close()


def outbox_rows(count: int, now: dt.datetime) -> list[tuple[Any, ...]]:
    """N realistic sign-in emails, rendered through the real templates, links sealed."""
    rows: list[tuple[Any, ...]] = []
    secret_key = Settings().secret_key.get_secret_value()
    for i in range(count):
        name = f"Candidate Number{i:05d}"
        context = {
            "organization": "Northwind Analytics",
            "accent_colour": "#1f5f8b",
            "name": name,
            "link": LINK_MARKER,
            "minutes": 30,
        }
        subject, text, html = render_email("sign_in", context)
        email = OutgoingEmail(
            to=f"candidate{i:05d}@example.org",
            template="sign_in",
            subject=subject,
            from_address="feedback@northwind.example.com",
            from_name="Northwind Analytics Recruiting",
            text=text,
            html=html,
            sealed_link=seal(secret_key, f"https://feedback.example.com/l/{i:08d}{'x' * 35}"),
        )
        payload = json.dumps(email.model_dump(mode="json"))
        rows.append((MAIL_SEND.name, payload, "pending", 0, now, f"bench:{i}", now))
    return rows


async def queue_rows(database_url: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """Empty the outbox and load the rows (ids 1..N every time); untimed."""
    connection = await asyncpg.connect(_dsn(database_url))
    try:
        await connection.execute("TRUNCATE background_jobs RESTART IDENTITY")
        await connection.copy_records_to_table("background_jobs", records=rows, columns=COLUMNS)
        await connection.execute("ANALYZE background_jobs")
    finally:
        await connection.close()


async def load_envelopes(database_url: str) -> list[Envelope]:
    connection = await asyncpg.connect(_dsn(database_url))
    try:
        records = await connection.fetch("SELECT id, payload FROM background_jobs ORDER BY id")
    finally:
        await connection.close()
    settings = Settings()
    return [
        envelope(int(r["id"]), OutgoingEmail.model_validate_json(r["payload"]), settings)
        for r in records
    ]


async def outbox_counts(database_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(_dsn(database_url))
    try:
        records = await connection.fetch(
            "SELECT state, count(*) AS n FROM background_jobs WHERE kind = 'mail.send'"
            " GROUP BY state"
        )
    finally:
        await connection.close()
    return {str(r["state"]): int(r["n"]) for r in records}


# --- the SMTP server (its own process) -------------------------------------------------


class CountingHandler:
    """Accepts every message with 250 and counts messages and bytes."""

    def __init__(self, messages: Synchronized[int], octets: Synchronized[int]) -> None:
        self.messages = messages
        self.octets = octets

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.content
        self.octets.value += len(content) if content is not None else 0
        self.messages.value += 1
        return "250 OK"


def serve_smtp(
    port: Synchronized[int],
    messages: Synchronized[int],
    octets: Synchronized[int],
    ready: MpEvent,
    stop: MpEvent,
) -> None:
    """Process target: aiosmtpd on HOST, an ephemeral port reported through `port`."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {SERVER_CPU})
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    asyncio.run(_serve_smtp(port, messages, octets, ready, stop))


async def _serve_smtp(
    port: Synchronized[int],
    messages: Synchronized[int],
    octets: Synchronized[int],
    ready: MpEvent,
    stop: MpEvent,
) -> None:
    from aiosmtpd.smtp import SMTP

    handler = CountingHandler(messages, octets)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="mailbench.localhost", ident="mailbench"), HOST, 0
    )
    port.value = int(server.sockets[0].getsockname()[1])
    ready.set()
    try:
        await loop.run_in_executor(None, stop.wait)
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class SmtpServer:
    process: Any
    port: int
    messages: Synchronized[int]
    octets: Synchronized[int]
    stop: MpEvent

    def counts(self) -> tuple[int, int]:
        return int(self.messages.value), int(self.octets.value)

    def cpu_seconds(self) -> float:
        """user + system CPU of the server process so far (Linux /proc; 0.0 elsewhere)."""
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return 0.0
        fields = stat.rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    ctx = mp.get_context("spawn")
    port: Synchronized[int] = ctx.Value("i", 0)
    messages: Synchronized[int] = ctx.Value("q", 0)
    octets: Synchronized[int] = ctx.Value("q", 0)
    ready, stop = ctx.Event(), ctx.Event()
    process = ctx.Process(
        target=serve_smtp, args=(port, messages, octets, ready, stop), name="mailbench-smtpd"
    )
    process.start()
    try:
        if not ready.wait(30):
            raise BenchError("the aiosmtpd server process did not start")
        yield SmtpServer(process, int(port.value), messages, octets, stop)
    finally:
        stop.set()
        process.join(10)
        if process.is_alive():
            process.terminate()
            process.join(5)


# --- the two phases --------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    round: int
    messages: int
    seconds: float
    cpu_seconds: float
    server_cpu_seconds: float
    server_messages: int
    server_bytes: int
    rows_sent: int | None = None

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "messages_per_second": round(self.rate, 1)}


async def run_baseline(envelopes: Sequence[Envelope], port: int) -> int:
    """Every message over ONE connection: connect, build + send each, quit."""
    client = aiosmtplib.SMTP(hostname=HOST, port=port, timeout=30)
    await client.connect()
    try:
        for envelope in envelopes:
            await client.send_message(build_message(envelope))
    finally:
        await client.quit()
    return len(envelopes)


async def run_worker(worker: Worker) -> int:
    taken = 0
    while done := await worker.run_once():
        taken += done
    return taken


async def timed(name: str, round_: int, server: SmtpServer, work: Awaitable[int]) -> Phase:
    before_messages, before_bytes = server.counts()
    server_cpu0 = server.cpu_seconds()
    cpu0, t0 = time.process_time(), time.perf_counter()
    taken = await work
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    after_messages, after_bytes = server.counts()
    server_cpu = server.cpu_seconds() - server_cpu0
    phase = Phase(
        name=name,
        round=round_,
        messages=taken,
        seconds=seconds,
        cpu_seconds=cpu,
        server_cpu_seconds=server_cpu,
        server_messages=after_messages - before_messages,
        server_bytes=after_bytes - before_bytes,
    )
    return phase


async def run_rounds(
    args: argparse.Namespace, server: SmtpServer, rows: Sequence[tuple[Any, ...]]
) -> list[Phase]:
    n = args.messages
    envelopes = await load_envelopes(args.database_url)
    settings = Settings(database_url=args.database_url, smtp_url=f"smtp://{HOST}:{server.port}")
    engine = create_engine(settings)
    phases: list[Phase] = []
    try:
        worker = Worker(settings=settings, sessions=session_factory(engine))
        for round_ in range(1, args.rounds + 1):
            if round_ > 1:
                await queue_rows(args.database_url, rows)
            base = await timed("baseline", round_, server, run_baseline(envelopes, server.port))
            report(base, n)
            phases.append(base)
            work = await timed("worker", round_, server, run_worker(worker))
            counts = await outbox_counts(args.database_url)
            work.rows_sent = counts.get("done", 0)
            report(work, n, counts)
            phases.append(work)
    finally:
        await engine.dispose()
    return phases


def report(phase: Phase, n: int, counts: dict[str, int] | None = None) -> None:
    extra = f", outbox {counts}" if counts is not None else ""
    print(
        f"  round {phase.round} {phase.name:<8} {phase.messages:>6} msgs in {phase.seconds:7.3f} s"
        f" = {phase.rate:8.1f} msgs/s (cpu {phase.cpu_seconds:.1f} s, smtpd cpu "
        f"{phase.server_cpu_seconds:.1f} s; server got "
        f"{phase.server_messages}, {phase.server_bytes / max(1, phase.server_messages):.0f} "
        f"B/msg{extra})",
        flush=True,
    )


def verify(phases: Sequence[Phase], n: int) -> list[str]:
    problems = []
    for p in phases:
        where = f"round {p.round} {p.name}"
        if p.messages != n:
            problems.append(f"{where}: took {p.messages} messages, expected {n}")
        if p.server_messages != n:
            problems.append(f"{where}: SMTP server received {p.server_messages}, expected {n}")
        if p.rows_sent is not None and p.rows_sent != n:
            problems.append(f"{where}: {p.rows_sent} mail jobs are 'done', expected {n}")
    return problems


# --- main ------------------------------------------------------------------------------


@dataclass
class Summary:
    baseline_rate: float
    worker_rate: float
    ratio: float
    passed: bool
    round_ratios: list[float]
    spread: float  # (max - min) / median of each phase's rates, the larger of the two
    problems: list[str] = field(default_factory=list)


def summarise(phases: Sequence[Phase], n: int) -> Summary:
    baseline = statistics.median(p.rate for p in phases if p.name == "baseline")
    worker = statistics.median(p.rate for p in phases if p.name == "worker")
    ratio = worker / baseline
    by_round = {(p.round, p.name): p.rate for p in phases}
    rounds = sorted({p.round for p in phases})
    round_ratios = [by_round[r, "worker"] / by_round[r, "baseline"] for r in rounds]
    spread = max(
        (max(rates) - min(rates)) / statistics.median(rates)
        for rates in ([p.rate for p in phases if p.name == name] for name in ("baseline", "worker"))
    )
    return Summary(
        baseline,
        worker,
        ratio,
        ratio >= TARGET_RATIO,
        round_ratios,
        spread,
        verify(phases, n),
    )


def pin_self() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "unsupported"
    available = os.sched_getaffinity(0)
    if {MEASURE_CPU, SERVER_CPU} <= available:
        os.sched_setaffinity(0, {MEASURE_CPU})
        return f"bench cpu {MEASURE_CPU}, smtpd cpu {SERVER_CPU}"
    return f"not pinned (cpus {sorted(available)})"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.messages < 1 or args.rounds < 1:
        raise SystemExit("--messages and --rounds must be at least 1")
    n: int = args.messages
    try:
        bench_database_name(args.database_url)
    except BenchError as exc:
        raise SystemExit(str(exc)) from None

    print(f"mail benchmark: {n} messages x {args.rounds} round(s), target {TARGET_RATIO:g}x")
    with smtp_server() as server:  # spawned before pinning: it pins itself to SERVER_CPU
        pinning = pin_self()
        print(f"  smtpd on {HOST}:{server.port} (pid {server.process.pid}); {pinning}")
        settings = Settings(database_url=args.database_url)
        asyncio.run(recreate_database(args.database_url))
        migrate.upgrade(settings)  # blocking; runs its own event loop
        t0 = time.perf_counter()
        rows = outbox_rows(n, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        asyncio.run(queue_rows(args.database_url, rows))
        size = sum(len(r[1]) for r in rows) / n
        print(
            f"  queued {n} rows ({size:.0f} chars of payload each) in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        phases = asyncio.run(run_rounds(args, server, rows))

    summary = summarise(phases, n)
    verdict = "PASS" if summary.passed else "FAIL"
    print(
        f"median baseline {summary.baseline_rate:.1f} msgs/s, worker {summary.worker_rate:.1f} "
        f"msgs/s, ratio {summary.ratio:.3f} (target >= {TARGET_RATIO:g}): {verdict}"
    )
    print("  per-round ratios: " + ", ".join(f"{r:.3f}" for r in summary.round_ratios))
    if summary.spread > NOISY_SPREAD:
        print(
            f"  WARNING: rates vary by {summary.spread:.0%} between rounds; the machine is "
            "busy or throttled, so rerun on a quiet machine or with more --rounds"
        )
    for problem in summary.problems:
        print(f"  INVALID: {problem}")

    result = {
        "benchmark": "mail",
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "messages": n,
        "rounds": args.rounds,
        "database": bench_database_name(args.database_url),
        "target_ratio": TARGET_RATIO,
        "baseline_messages_per_second": round(summary.baseline_rate, 1),
        "worker_messages_per_second": round(summary.worker_rate, 1),
        "ratio": round(summary.ratio, 4),
        "round_ratios": [round(r, 4) for r in summary.round_ratios],
        "rate_spread": round(summary.spread, 4),
        "noisy": summary.spread > NOISY_SPREAD,
        "verdict": verdict,
        "valid": not summary.problems,
        "problems": summary.problems,
        "phases": [p.as_json() for p in phases],
        "environment": {
            "python": platform.python_version(),
            "aiosmtplib": aiosmtplib.__version__,
            "cpus": os.cpu_count(),
            "pinning": pinning,
            "machine": platform.machine(),
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")
    if summary.problems:
        return 1
    if args.strict and not summary.passed:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
