"""Benchmark the PDF summary: rendering cost, the cache, and its effect on the feedback page.

Run from the repository root:  .venv/bin/python bench/pdf_bench.py  (see --help, bench/README.md)

In one run:
  (a) bare WeasyPrint rendering the summary's HTML in this (warm) process;
  (b) GET /feedback/<id>/summary.pdf on a real server that renders every time (cache off);
  (c) the same on a real server serving its cached copy;
  (d) the feedback page's p99 under wrk, without and with 2 PDF downloads a second
      (each one rendered) running in parallel against the same server.
Targets: median (b) <= 1.15 x median (a); median (c) <= median (b) / 50;
p99 (d) with PDFs <= 2 x p99 (d) without.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

from bench import run as feedback_bench  # noqa: E402
from bench import seed as benchdb  # noqa: E402
from bench.dataset import Dataset  # noqa: E402
from bench.run import HOST, BenchError, Server, fetch, running, say, wrk  # noqa: E402
from portal.pdf.document import render_pdf, summary_html  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/afterword_pdfbench"
TARGET_RENDER_RATIO = 1.15
TARGET_CACHE_SPEEDUP = 50.0
TARGET_P99_RATIO = 2.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/pdf_bench.py",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help="PostgreSQL URL of the benchmark database; DROPPED and re-created when (re)seeding "
        f"(default {DEFAULT_DATABASE_URL})",
    )
    parser.add_argument("--applications", type=int, default=100_000, help="applications to seed")
    parser.add_argument("--reseed", action="store_true", help="re-create and re-seed the database")
    parser.add_argument("--renders", type=int, default=30, help="timed renders for (a) and (b)")
    parser.add_argument("--cached", type=int, default=300, help="timed cached downloads for (c)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run in (d)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of wrk warm-up in (d)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections in (d)")
    parser.add_argument("--pdf-rate", type=float, default=2.0, help="PDF downloads/s in (d)")
    parser.add_argument("--server-cpu", type=int, default=0, help="CPU the servers run on")
    parser.add_argument("--client-cpu", type=int, default=1, help="CPU wrk and the client use")
    parser.add_argument(
        "--output",
        type=Path,
        default=feedback_bench.RESULTS_DIR / "pdf.json",
        help="where to write the results as JSON",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser


def timed(call: Callable[[], Any], times: int) -> list[float]:
    """Milliseconds of each of `times` calls."""
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 3),
        "min_ms": round(ordered[0], 3),
    }


def pdf_text(pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        done = subprocess.run(
            ["pdftotext", file.name, "-"], capture_output=True, text=True, check=True
        )
    return " ".join(done.stdout.split())


class PdfLoad:
    """Downloads a PDF at a steady rate in a thread, until stopped."""

    def __init__(self, port: int, path: str, headers: dict[str, str], rate: float) -> None:
        self.port, self.path, self.headers, self.interval = port, path, headers, 1.0 / rate
        self.latencies: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                got = fetch(self.port, self.path, self.headers)
                if got.status == 200 and got.body.startswith(b"%PDF-"):
                    self.latencies.append((time.perf_counter() - started) * 1000)
                else:
                    self.failures += 1
            except OSError:
                self.failures += 1
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def __enter__(self) -> PdfLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def run(args: argparse.Namespace) -> int:
    args.rounds = 1  # check_tools reads the page benchmark's options
    feedback_bench.check_tools(args)
    dataset = Dataset(args.applications)
    database = feedback_bench.prepare_database(args, dataset)
    subject = feedback_bench.choose_subject(dataset)
    token = asyncio.run(benchdb.open_candidate_session(args.database_url, subject.candidate_id))
    headers = {"Cookie": f"afterword_session={token}; afterword_csrf={feedback_bench.CSRF_TOKEN}"}
    page_path = f"/feedback/{subject.application_id}"
    pdf_path = f"{page_path}/summary.pdf"
    say(f"Subject: application {subject.application_id} ({subject.job_title}).")

    # (a) in this process, on the servers' CPU, after a warm-up.
    view = dataset.feedback_page(subject.index)
    html = summary_html(view, generated_on=dt.datetime.now(dt.UTC).date())
    os.sched_setaffinity(0, {args.server_cpu})
    bare_pdf = render_pdf(html)
    timed(lambda: render_pdf(html), 3)
    bare = timed(lambda: render_pdf(html), args.renders)
    os.sched_setaffinity(0, {args.client_cpu})
    say(f"(a) bare WeasyPrint: median {statistics.median(bare):.1f} ms over {args.renders}")

    env = {"PORTAL_DATABASE_URL": args.database_url, "PORTAL_RUN_WORKER": "false"}
    rendering = Server(
        "pdf-render", "bench.real_app:app", {**env, "PORTAL_PDF_CACHE_MB": "0"}, args.server_cpu
    )
    caching = Server("pdf-cached", "bench.real_app:app", env, args.server_cpu)
    with running([rendering, caching]):
        for server in (rendering, caching):
            server.wait_ready("/healthz")
        got = fetch(rendering.port, pdf_path, headers)
        if got.status != 200 or not got.body.startswith(b"%PDF-"):
            raise BenchError(f"the PDF answered {got.status}: {got.body[:300]!r}")
        same = pdf_text(got.body) == pdf_text(bare_pdf)
        if not same:
            say("warning: the endpoint's PDF text differs from the bare render's")

        # (b) every request renders; (c) every request after the first is a cache hit.
        timed(lambda: fetch(rendering.port, pdf_path, headers), 3)
        generating = timed(lambda: fetch(rendering.port, pdf_path, headers), args.renders)
        say(f"(b) endpoint rendering: median {statistics.median(generating):.1f} ms")
        timed(lambda: fetch(caching.port, pdf_path, headers), 20)
        cached = timed(lambda: fetch(caching.port, pdf_path, headers), args.cached)
        say(f"(c) endpoint from cache: median {statistics.median(cached):.2f} ms")

        # (d) the page under load on the rendering server, then with PDFs alongside.
        url = f"http://{HOST}:{rendering.port}{page_path}"
        cookie = headers["Cookie"]
        if args.warmup > 0:
            wrk(args, rendering, url, cookie, args.warmup)
        alone = wrk(args, rendering, url, cookie, args.duration)
        say(f"(d) page alone: p99 {alone.latency_ms['p99']:.2f} ms")
        with PdfLoad(rendering.port, pdf_path, headers, args.pdf_rate) as load:
            with_pdfs = wrk(args, rendering, url, cookie, args.duration)
        say(
            f"(d) page with {len(load.latencies)} PDFs in {args.duration} s: p99 "
            f"{with_pdfs.latency_ms['p99']:.2f} ms; PDFs median "
            f"{statistics.median(load.latencies or [0]):.0f} ms"
        )

    a, b, c = summary(bare), summary(generating), summary(cached)
    render_ratio = b["median_ms"] / a["median_ms"]
    speedup = b["median_ms"] / c["median_ms"]
    p99_ratio = with_pdfs.latency_ms["p99"] / alone.latency_ms["p99"]
    errors = alone.errors + with_pdfs.errors + load.failures
    checks = {
        f"(b)/(a) <= {TARGET_RENDER_RATIO:g}": render_ratio <= TARGET_RENDER_RATIO,
        f"(b)/(c) >= {TARGET_CACHE_SPEEDUP:g}": speedup >= TARGET_CACHE_SPEEDUP,
        f"(d) p99 with/without <= {TARGET_P99_RATIO:g}": p99_ratio <= TARGET_P99_RATIO,
        "no errors": errors == 0,
    }
    passed = all(checks.values())
    say()
    say(f"  (a) bare WeasyPrint      median {a['median_ms']:9.2f} ms  p90 {a['p90_ms']:9.2f} ms")
    say(f"  (b) endpoint, rendering  median {b['median_ms']:9.2f} ms  p90 {b['p90_ms']:9.2f} ms")
    say(f"  (c) endpoint, cached     median {c['median_ms']:9.2f} ms  p90 {c['p90_ms']:9.2f} ms")
    say(
        f"  (d) page p99 {alone.latency_ms['p99']:.2f} ms alone "
        f"({alone.requests_per_second:.0f} req/s), {with_pdfs.latency_ms['p99']:.2f} ms with "
        f"{args.pdf_rate:g} PDFs/s ({with_pdfs.requests_per_second:.0f} req/s)"
    )
    say(f"  ratios: (b)/(a) {render_ratio:.3f}, (b)/(c) {speedup:.0f}x, (d) {p99_ratio:.2f}")
    noisy = max(alone.other_cpu, with_pdfs.other_cpu)
    if noisy > feedback_bench.NOISY_CPU:
        say(f"  warning: other work used {noisy:.0%} of a CPU; re-run on a quiet machine")
    for name, ok in checks.items():
        say(f"  {'PASS' if ok else 'FAIL'}  {name}")
    say(f"Overall: {'PASS' if passed else 'FAIL'}")

    report = {
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join([".venv/bin/python", "bench/pdf_bench.py", *sys.argv[1:]]),
        "database": database,
        "subject": {"application_id": subject.application_id, "job_title": subject.job_title},
        "pdf_bytes": len(got.body),
        "same_text_as_bare_render": same,
        "bare": a,
        "rendering": b,
        "cached": c,
        "page_alone": dataclasses.asdict(alone),
        "page_with_pdfs": dataclasses.asdict(with_pdfs),
        "pdf_downloads_during_load": summary(load.latencies) if load.latencies else None,
        "ratios": {
            "rendering_over_bare": round(render_ratio, 3),
            "rendering_over_cached": round(speedup, 1),
            "p99_with_over_without": round(p99_ratio, 3),
        },
        "checks": checks,
        "pass": passed,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    say(f"Results written to {args.output}")
    return 1 if args.strict and not passed else 0


def main(argv: list[str] | None = None) -> int:
    return feedback_bench.run_guarded(run, build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
