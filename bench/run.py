"""Benchmark the candidate feedback page against a template-only baseline, and the
template's own cost before and after its rework (bench/render_cost.py).

Run from the repository root:  .venv/bin/python bench/run.py  (see --help and bench/README.md)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import http.client
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from alembic.script import ScriptDirectory  # noqa: E402
from markupsafe import escape  # noqa: E402

from bench import render_cost  # noqa: E402
from bench import seed as benchdb  # noqa: E402
from bench.dataset import Dataset  # noqa: E402
from portal import migrate  # noqa: E402
from portal.settings import Settings  # noqa: E402

RESULTS_DIR = ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/afterword_bench"
CSRF_TOKEN = "bench" + "x" * 38  # the length of a real token (token_urlsafe(32))
TARGET_RATIO = 0.4  # real requests/s at least this multiple of the bare render's
TARGET_P99_RATIO = 1.25  # real p99 within this multiple of the baseline's own p99
TARGET_RENDER_RATIO = 0.6  # the bare render's CPU per page, after / before the template work
# The real app runs as in production (templates loaded once, no auto-reload), so its
# cookies carry the __Host- prefix (https base URL; the benchmark itself speaks http).
REAL_BASE_URL = "https://127.0.0.1"
NOISY_CPU = 0.15  # CPUs used by other work above which a run is flagged as noisy
HOST = "127.0.0.1"


# --- command line ---------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description=(
            "Load-test GET /feedback/<id> of the real portal (PostgreSQL, 100k applications) "
            "against a baseline that only renders the same template from memory, and check "
            f"the targets: real >= {TARGET_RATIO:g} x baseline requests/s and real p99 <= "
            f"{TARGET_P99_RATIO:g} x the baseline's p99 in the same run. Each server is one "
            "uvicorn process pinned to one CPU; wrk runs pinned to another. Then measure the "
            "bare render's CPU per page with the templates of before their rework and now: "
            f"now <= {TARGET_RENDER_RATIO:g} x before."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="PostgreSQL URL of the benchmark database; it is DROPPED and re-created when "
        "(re)seeding (created through the 'postgres' or 'test' database)",
    )
    parser.add_argument("--applications", type=int, default=100_000, help="applications to seed")
    parser.add_argument("--reseed", action="store_true", help="re-create and re-seed the database")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up before each run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds of (baseline, real) runs; medians reported"
    )
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU the servers are pinned to")
    parser.add_argument("--client-cpu", type=int, default=1, help="CPU wrk is pinned to")
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_DIR / "latest.json",
        help="where to write the results as JSON",
    )
    parser.add_argument(
        "--quiet-wait",
        type=int,
        default=0,
        help="on a shared machine, wait up to this many seconds for other work to stop "
        "using the CPUs before loading (0: only warn)",
    )
    parser.add_argument(
        "--renders",
        type=int,
        default=300,
        help="renders per round of the render-cost measurement (rounds: --render-rounds)",
    )
    parser.add_argument("--render-rounds", type=int, default=9, help="render-cost rounds")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser


def say(message: str = "") -> None:
    print(message, flush=True)


class BenchError(RuntimeError):
    """The benchmark could not run; the message says why."""


# --- database ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """The benchmarked application and the candidate signed in to read it."""

    index: int
    application_id: int
    candidate_id: int
    candidate_name: str
    job_title: str
    assessments: int
    strengths: int
    growth_areas: int
    has_other_applications: bool
    organization_slug: str


def alembic_head(settings: Settings) -> str:
    head = ScriptDirectory.from_config(migrate.alembic_config(settings)).get_current_head()
    if head is None:
        raise BenchError("no Alembic head revision found")
    return head


def prepare_database(args: argparse.Namespace, dataset: Dataset) -> dict[str, Any]:
    settings = Settings(database_url=args.database_url, run_worker=False)
    expected = benchdb.marker(dataset.applications, alembic_head(settings))
    found = asyncio.run(benchdb.seeded_marker(args.database_url))
    reuse = False
    if not args.reseed and found == expected:
        counts = asyncio.run(benchdb.row_counts(args.database_url))
        reuse = (
            counts["applications"] == dataset.applications
            and counts["feedback"] == dataset.applications
        )
    started = time.perf_counter()
    if reuse:
        say(f"Reusing the seeded database ({expected}); --reseed to rebuild it.")
    else:
        why = "--reseed" if args.reseed else ("not seeded" if not found else "stale seed")
        say(f"Creating and seeding the benchmark database ({why}) ...")
        asyncio.run(benchdb.recreate_database(args.database_url))
        migrate.upgrade(settings)  # blocking; runs its own event loop
        asyncio.run(benchdb.seed(args.database_url, dataset, say))
        asyncio.run(benchdb.set_marker(args.database_url, expected))
        counts = asyncio.run(benchdb.row_counts(args.database_url))
        say(f"Seeded in {time.perf_counter() - started:.1f} s.")
    counts = asyncio.run(benchdb.row_counts(args.database_url))
    say("Rows: " + ", ".join(f"{table} {count:,}" for table, count in counts.items()))
    return {"reused": reuse, "seconds": round(time.perf_counter() - started, 1), "rows": counts}


def choose_subject(dataset: Dataset) -> Subject:
    index = dataset.applications // 2  # the middle of the data set
    application = dataset.application(index)
    page = dataset.feedback_page(index)
    return Subject(
        index=index,
        application_id=application.id,
        candidate_id=application.candidate + 1,
        candidate_name=page.candidate_name,
        job_title=page.job_title,
        assessments=len(page.assessments),
        strengths=len(page.strengths),
        growth_areas=len(page.growth_areas),
        has_other_applications=page.has_other_applications,
        organization_slug=page.branding.slug,
    )


# --- servers ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    module: str
    env: dict[str, str]
    cpu: int
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    _log: IO[bytes] | None = None

    def start(self) -> None:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = RESULTS_DIR / f"server-{self.name}.log"
        self._log = self.log_path.open("wb")
        command = [
            "taskset", "-c", str(self.cpu),
            sys.executable, "-m", "uvicorn", self.module,
            "--host", HOST, "--port", str(self.port),
            "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole
        )

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise BenchError(f"the {self.name} server exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                fetch(self.port, path, {})
                return
            time.sleep(0.1)
        raise BenchError(f"the {self.name} server did not answer in {timeout:g} s")

    def cpu_seconds(self) -> float:
        if self.process is None:
            return 0.0
        return process_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), 0 if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def postgres_cpu(database: str) -> dict[int, float]:
    """CPU time of each PostgreSQL backend serving `database` (found by its process title)."""
    found: dict[int, float] = {}
    needle = f" {database} ".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if (entry / "comm").read_bytes().strip() != b"postgres":
                continue
            if needle in (entry / "cmdline").read_bytes().replace(b"\0", b" "):
                found[int(entry.name)] = process_cpu_seconds(int(entry.name))
    return found


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two samples by the processes alive at the second one."""
    return sum(max(0.0, seconds - before.get(pid, 0.0)) for pid, seconds in after.items())


def system_busy_seconds() -> float:
    """CPU time spent by the whole machine, all CPUs together (Linux /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def children_cpu_seconds() -> float:
    """CPU time of this process's finished children (wrk)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def background_cpu(seconds: float = 2.0) -> float:
    """CPUs kept busy by other work on the machine while nothing of ours runs."""
    before, started = system_busy_seconds(), time.monotonic()
    time.sleep(seconds)
    return (system_busy_seconds() - before) / (time.monotonic() - started)


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def fetch(port: int, path: str, headers: dict[str, str]) -> Fetched:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return Fetched(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


@contextlib.contextmanager
def running(servers: Sequence[Server]) -> Iterator[None]:
    try:
        for server in servers:
            server.start()
        yield
    finally:
        for server in servers:
            server.stop()


# --- wrk --------------------------------------------------------------------------------

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


@dataclass(frozen=True)
class WrkResult:
    requests_per_second: float
    requests: int
    latency_ms: dict[str, float]  # "avg", "max", "p50", "p75", "p90", "p99"
    non_2xx: int
    socket_errors: dict[str, int]
    server_cpu: float  # fraction of one CPU used by the server process during the run
    postgres_cpu: float  # the same for the PostgreSQL backends serving the bench database
    wrk_cpu: float
    other_cpu: float  # everything else on the machine: high means a noisy run

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if match is None:
        raise BenchError(f"unexpected wrk latency {value!r}")
    return float(match.group(1)) * UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> tuple[float, int, dict[str, float], int, dict[str, int]]:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s*(\d+) requests in", output, re.M)
    thread = re.search(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)", output, re.M)
    if rps is None or total is None or thread is None:
        raise BenchError(f"cannot parse wrk output:\n{output}")
    latency = {"avg": _ms(thread.group(1)), "max": _ms(thread.group(3))}
    for percent, value in re.findall(r"^\s*(50|75|90|99)%\s+(\S+)\s*$", output, re.M):
        latency[f"p{percent}"] = _ms(value)
    if "p99" not in latency:
        raise BenchError(f"no latency distribution in wrk output (needs --latency):\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    socket_errors = dict.fromkeys(("connect", "read", "write", "timeout"), 0)
    if sockets is not None:
        socket_errors = dict(zip(socket_errors, map(int, sockets.groups()), strict=True))
    return (
        float(rps.group(1)),
        int(total.group(1)),
        latency,
        int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors,
    )


def wrk(args: argparse.Namespace, server: Server, url: str, cookie: str, seconds: int) -> WrkResult:
    command = [
        "taskset", "-c", str(args.client_cpu),
        "wrk", "-t1", f"-c{args.connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
        "-H", f"Cookie: {cookie}", url,
    ]  # fmt: skip
    database = benchdb.database_name(args.database_url)
    server_before, pg_before = server.cpu_seconds(), postgres_cpu(database)
    wrk_before, busy_before = children_cpu_seconds(), system_busy_seconds()
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    busy = system_busy_seconds() - busy_before
    server_cpu = server.cpu_seconds() - server_before
    pg_cpu = cpu_delta(pg_before, postgres_cpu(database))
    wrk_cpu = children_cpu_seconds() - wrk_before
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    rps, total, latency, non_2xx, socket_errors = parse_wrk(done.stdout)
    return WrkResult(
        requests_per_second=rps,
        requests=total,
        latency_ms=latency,
        non_2xx=non_2xx,
        socket_errors=socket_errors,
        server_cpu=round(server_cpu / elapsed, 3),
        postgres_cpu=round(pg_cpu / elapsed, 3),
        wrk_cpu=round(wrk_cpu / elapsed, 3),
        other_cpu=round(max(0.0, busy - server_cpu - pg_cpu - wrk_cpu) / elapsed, 3),
    )


# --- the benchmark ----------------------------------------------------------------------


def check_tools(args: argparse.Namespace) -> None:
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise BenchError(f"{tool} is not installed")
    cpus = os.sched_getaffinity(0)
    for cpu in (args.server_cpu, args.client_cpu):
        if cpu not in cpus:
            raise BenchError(f"CPU {cpu} is not available (have {sorted(cpus)})")
    if args.server_cpu == args.client_cpu:
        say("warning: the servers and wrk share one CPU; figures will be pessimistic")
    if min(args.duration, args.rounds, args.connections, args.applications) < 1:
        raise BenchError("--duration, --rounds, --connections and --applications must be >= 1")
    if min(args.renders, args.render_rounds) < 1:
        raise BenchError("--renders and --render-rounds must be >= 1")


def first_difference(a: bytes, b: bytes) -> str:
    at = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    return (
        f"first difference at byte {at}:\n  baseline: {a[max(0, at - 60) : at + 60]!r}\n"
        f"  real:     {b[max(0, at - 60) : at + 60]!r}"
    )


def verify(
    baseline: Server, real: Server, path: str, cookie: str, subject: Subject
) -> dict[str, Any]:
    """Both pages answer 200 for our subject; the real one exactly as a browser would get it."""
    # url_for makes absolute URLs: the same Host for both, so that the HTML can be compared.
    headers = {"Cookie": cookie, "Host": f"{HOST}:8000"}
    got_real = fetch(real.port, path, headers)
    title = str(escape(subject.job_title)).encode()
    if got_real.status != 200 or title not in got_real.body:
        raise BenchError(
            f"the real app answered {got_real.status} for {path} without the job title "
            f"{subject.job_title!r}; the session or the seed is wrong:\n"
            f"{got_real.body[:800].decode(errors='replace')}"
        )
    if any(name.lower() == "set-cookie" for name, _ in got_real.headers):
        raise BenchError("the real app set a cookie; the benchmark request is not steady-state")
    got_base = fetch(baseline.port, path, headers)
    if got_base.status != 200 or title not in got_base.body:
        raise BenchError(f"the baseline answered {got_base.status} without the job title")
    identical = got_base.body == got_real.body
    if not identical:
        say("warning: the baseline page differs from the real page; the ratio is less meaningful")
        say(first_difference(got_base.body, got_real.body))
    return {
        "baseline_bytes": len(got_base.body),
        "real_bytes": len(got_real.body),
        "identical_html": identical,
    }


def median_of(runs: list[WrkResult]) -> dict[str, float]:
    return {
        "requests_per_second": round(statistics.median(r.requests_per_second for r in runs), 1),
        "p50_ms": round(statistics.median(r.latency_ms["p50"] for r in runs), 2),
        "p99_ms": round(statistics.median(r.latency_ms["p99"] for r in runs), 2),
        "server_cpu": round(statistics.median(r.server_cpu for r in runs), 2),
        "postgres_cpu": round(statistics.median(r.postgres_cpu for r in runs), 2),
        "other_cpu": round(statistics.median(r.other_cpu for r in runs), 2),
    }


def wait_for_quiet(args: argparse.Namespace) -> float:
    """Wait up to --quiet-wait seconds for other work to leave the CPUs; the load
    that stays (CPUs busy with other work)."""
    idle_load = background_cpu()
    deadline = time.monotonic() + args.quiet_wait
    while idle_load > NOISY_CPU and time.monotonic() < deadline:
        say(f"Other work keeps {idle_load:.0%} of a CPU busy; waiting for quiet ...")
        time.sleep(5)
        idle_load = background_cpu()
    if idle_load > NOISY_CPU:
        say(f"warning: other work keeps {idle_load:.0%} of a CPU busy; expect noisy figures")
    return idle_load


def run(args: argparse.Namespace) -> int:
    check_tools(args)
    dataset = Dataset(args.applications)
    database = prepare_database(args, dataset)
    subject = choose_subject(dataset)
    token = asyncio.run(benchdb.open_candidate_session(args.database_url, subject.candidate_id))
    # A returning reader's cookies: the session, the CSRF token and the organization
    # the browser remembers (portal.web.remember_organization), so nothing is set.
    cookie = (
        f"__Host-afterword_session={token}; __Host-afterword_csrf={CSRF_TOKEN}; "
        f"afterword_org={subject.organization_slug}"
    )
    path = f"/feedback/{subject.application_id}"
    say(
        f"Subject: application {subject.application_id} ({subject.job_title}) of candidate "
        f"{subject.candidate_id} ({subject.candidate_name}); {subject.assessments} assessments, "
        f"{subject.strengths} strengths, {subject.growth_areas} growth areas."
    )

    baseline = Server(
        "baseline",
        "bench.baseline_app:app",
        {
            "BENCH_APPLICATIONS": str(args.applications),
            "BENCH_APPLICATION_INDEX": str(subject.index),
            "BENCH_CSRF_TOKEN": CSRF_TOKEN,
        },
        args.server_cpu,
    )
    real = Server(
        "real",
        "bench.real_app:app",
        {
            "PORTAL_DATABASE_URL": args.database_url,
            "PORTAL_RUN_WORKER": "false",
            "PORTAL_ENV": "production",
            "PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
            "PORTAL_BASE_URL": REAL_BASE_URL,
        },
        args.server_cpu,
    )
    runs: dict[str, list[WrkResult]] = {"baseline": [], "real": []}
    with running([baseline, real]):
        baseline.wait_ready(path)
        real.wait_ready("/healthz")
        pages = verify(baseline, real, path, cookie, subject)
        idle_load = wait_for_quiet(args)
        say(
            f"Pages: baseline {pages['baseline_bytes']:,} B, real {pages['real_bytes']:,} B, "
            f"identical HTML: {pages['identical_html']}."
        )
        say(
            f"Load: wrk -t1 -c{args.connections} -d{args.duration}s on CPU {args.client_cpu}, "
            f"servers on CPU {args.server_cpu}, {args.rounds} rounds, {args.warmup} s warm-up."
        )
        for round_number in range(1, args.rounds + 1):
            for server in (baseline, real):
                url = f"http://{HOST}:{server.port}{path}"
                if args.warmup > 0:
                    wrk(args, server, url, cookie, args.warmup)
                result = wrk(args, server, url, cookie, args.duration)
                runs[server.name].append(result)
                say(
                    f"  round {round_number} {server.name:<8} "
                    f"{result.requests_per_second:9.1f} req/s  "
                    f"p50 {result.latency_ms['p50']:7.2f} ms  "
                    f"p99 {result.latency_ms['p99']:7.2f} ms  "
                    f"server CPU {result.server_cpu:4.0%}  "
                    f"postgres CPU {result.postgres_cpu:4.0%}  "
                    f"other CPU {result.other_cpu:4.0%}"
                    + (f"  ERRORS {result.errors}" if result.errors else "")
                )

    say(
        f"Render cost: {args.render_rounds} rounds of {args.renders} renders, templates of "
        f"{render_cost.TEMPLATES_BEFORE_COMMIT[:12]} (before) and now (after), on CPU "
        f"{args.server_cpu} ..."
    )
    render_idle_load = wait_for_quiet(args)
    render = render_cost.measure(
        applications=args.applications,
        index=subject.index,
        csrf_token=CSRF_TOKEN,
        cpu=args.server_cpu,
        rounds=args.render_rounds,
        renders=args.renders,
    )
    render["background_cpu_before"] = round(render_idle_load, 3)
    if not render["same_page"]:
        say("warning: the templates of before and after render different pages")

    base, real_m = median_of(runs["baseline"]), median_of(runs["real"])
    ratio = real_m["requests_per_second"] / base["requests_per_second"]
    p99_ratio = real_m["p99_ms"] / base["p99_ms"]
    errors = sum(r.errors for results in runs.values() for r in results)
    checks = {
        f"bare render <= {TARGET_RENDER_RATIO:g} x its cost before": render["ratio"]
        <= TARGET_RENDER_RATIO,
        f"ratio >= {TARGET_RATIO:g}": ratio >= TARGET_RATIO,
        f"real p99 <= {TARGET_P99_RATIO:g} x baseline p99": p99_ratio <= TARGET_P99_RATIO,
        "no errors": errors == 0,
    }
    passed = all(checks.values())

    say()
    say(f"Medians of {args.rounds} rounds, {args.connections} connections, {args.duration} s each:")
    say(
        f"  {'':<10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}"
        f"{'server CPU':>12}{'PG CPU':>9}{'other CPU':>11}"
    )
    for name, m in (("(a) base", base), ("(b) real", real_m)):
        say(
            f"  {name:<10}{m['requests_per_second']:>10.1f}{m['p50_ms']:>10.2f}"
            f"{m['p99_ms']:>10.2f}{m['server_cpu']:>12.0%}{m['postgres_cpu']:>9.0%}"
            f"{m['other_cpu']:>11.0%}"
        )
    say(f"  ratio b/a: {ratio:.3f}   p99 b/a: {p99_ratio:.3f}")
    say(
        f"  bare render, CPU per page: before {render['before_ms']:.3f} ms, after "
        f"{render['after_ms']:.3f} ms, after/before {render['ratio']:.3f} (median of the "
        "rounds' ratios)"
    )
    noisy = [r for results in runs.values() for r in results if r.other_cpu > NOISY_CPU]
    if noisy or idle_load > NOISY_CPU:
        say(
            f"  warning: other work used CPU during {len(noisy)} of {2 * args.rounds} runs "
            f"(idle before the runs: {idle_load:.0%}); re-run on a quiet machine"
        )
    for name, ok in checks.items():
        say(f"  {'PASS' if ok else 'FAIL'}  {name}")
    say(f"Overall: {'PASS' if passed else 'FAIL'}")

    report = {
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/run.py", *sys.argv[1:]]),
        "settings": {
            key: (str(value) if isinstance(value, Path) else value)
            for key, value in vars(args).items()
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgres": asyncio.run(benchdb.server_version(args.database_url)),
            "wrk": subprocess.run(
                ["wrk", "--version"], capture_output=True, text=True, check=False
            ).stdout.splitlines()[:1],
        },
        "database": database,
        "subject": dataclasses.asdict(subject),
        "url_path": path,
        "pages": pages,
        "background_cpu_before_runs": round(idle_load, 3),
        "runs": {name: [dataclasses.asdict(r) for r in results] for name, results in runs.items()},
        "median": {"baseline": base, "real": real_m},
        "ratio": round(ratio, 3),
        "p99_ratio": round(p99_ratio, 3),
        "render_cost": render,
        "targets": {
            "ratio": TARGET_RATIO,
            "p99_ratio": TARGET_P99_RATIO,
            "render_ratio": TARGET_RENDER_RATIO,
        },
        "checks": checks,
        "pass": passed,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    say(f"Results written to {args.output}")
    return 1 if args.strict and not passed else 0


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # so that the servers are stopped on the way out


def run_guarded(bench: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a benchmark, its servers stopped on any way out, its failures as exit statuses."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return bench(args)
    except (BenchError, benchdb.BenchDatabaseError, render_cost.RenderCostError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    return run_guarded(run, build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
