"""The bare render's cost before and after the feedback page's template work.

CPU milliseconds per render of `candidate/feedback.html` for the benchmarked
application, rendered in this process exactly as bench/baseline_app.py renders
it (the same view, panel, routes and CSRF token), pinned to one CPU:

- **before**: the templates as they were at `TEMPLATES_BEFORE_COMMIT`, taken from
  git at run time (`git archive`) into a temporary directory, with the Jinja
  settings `portal.web.make_templates()` had then;
- **after**: the templates and `make_templates()` as they are now.

Rounds alternate before and after: each round's ratio compares two runs made
one after the other, and the medians (ms per render, and the ratio) are
reported. CPU time of this process, not wall time, so that other work on a
shared machine counts less (it still slows a CPU shared with it).
"""

from __future__ import annotations

import gc
import importlib
import io
import os
import re
import statistics
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2_fragments.starlette import Jinja2Blocks
from starlette.requests import Request
from starlette.responses import Response

from portal.formats import long_date
from portal.web import HTMX_JS, make_templates, url_for
from portal.web.templates import _request_context

ROOT = Path(__file__).resolve().parent.parent
# The last commit before the template work (Jinja's auto_reload off outside
# development, macros imported without context, the pool panel's option lists
# built once in Python): its templates are "before".
TEMPLATES_BEFORE_COMMIT = "4655cd8714f52e80b0361324f8f06be907b1abef"
TEMPLATE = "candidate/feedback.html"


class RenderCostError(RuntimeError):
    """The render cost could not be measured; the message says why."""


def templates_then(directory: Path) -> Jinja2Blocks:
    """The environment `make_templates()` built at `TEMPLATES_BEFORE_COMMIT`, on the
    templates in `directory`: Jinja's defaults (auto_reload on) but for these."""
    templates = Jinja2Blocks(directory=str(directory), context_processors=[_request_context])
    templates.env.globals["url_for"] = url_for
    templates.env.globals["htmx_js"] = HTMX_JS
    templates.env.filters["long_date"] = long_date
    templates.env.trim_blocks = True
    templates.env.lstrip_blocks = True
    return templates


def extract_templates(commit: str, into: Path) -> Path:
    """`templates/` as it was at `commit`, written under `into`."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", commit, "templates"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise RenderCostError(
            f"cannot read the templates of commit {commit[:12]} from git (a clone without "
            f"that history?): {archive.stderr.decode(errors='replace').strip()}"
        )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into / "templates"


def _renderer(templates: Jinja2Blocks, baseline: Any) -> Callable[[], Response]:
    """One render as bench/baseline_app.py's endpoint does it."""
    app = baseline.app
    path = f"/feedback/{baseline.PAGE.application_id}"

    def render() -> Response:
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [],
            "app": app,
            "router": app.router,
            "root_path": "",
            "state": {"csrf_token": baseline.CSRF_TOKEN},
        }
        return templates.TemplateResponse(
            Request(scope),
            TEMPLATE,
            {"page": baseline.PAGE, "pool": baseline.POOL},
            headers=baseline.PRIVATE,
        )

    return render


def _ms_per_render(render: Callable[[], Response], renders: int) -> float:
    gc.collect()
    started = time.process_time()
    for _ in range(renders):
        render()
    return (time.process_time() - started) / renders * 1000


# The PDF link, renamed since the templates' rework ("Download this feedback as a
# PDF") and shown twice (with the page's actions at the top, and at the end).
PDF_LINKS = re.compile(r"Download (?:this feedback as a PDF|a PDF summary)")
# The footer's link to the candidate's data (portal.privacy), added since, with the
# separator it brought (one "·" stays between the links on either side of it).
YOUR_DATA = re.compile(r'(·\s*)?<a href="[^"]*">Your data</a>(\s*·)?')


def _without_your_data(html: str) -> str:
    return YOUR_DATA.sub(lambda m: "·" if m.group(1) and m.group(2) else "", html)


def _words(body: bytes | memoryview) -> str:
    """The words the page says, its markup aside: later work adds attributes and empty
    elements (ids to focus, live regions, the area where htmx says a session ended)
    without changing what the page shows, and the comparison is of the same page's
    cost, not of its markup. The PDF link's words and the footer's "Your data" are left
    out (see PDF_LINKS and YOUR_DATA)."""
    html = _without_your_data(bytes(body).decode())
    text = PDF_LINKS.sub(" ", re.sub(r"<[^>]*>", " ", html))
    return re.sub(r"\s+", " ", text).strip()


def measure(
    *,
    applications: int,
    index: int,
    csrf_token: str,
    cpu: int,
    rounds: int = 9,
    renders: int = 300,
) -> dict[str, Any]:
    """Median CPU ms per render before and after, their ratio, and whether both
    render the same page (the same words, markup aside)."""
    os.environ.update(
        BENCH_APPLICATIONS=str(applications),
        BENCH_APPLICATION_INDEX=str(index),
        BENCH_CSRF_TOKEN=csrf_token,
    )
    baseline = importlib.import_module("bench.baseline_app")
    affinity = os.sched_getaffinity(0)
    with tempfile.TemporaryDirectory(prefix="afterword-templates-") as tmp:
        before = _renderer(
            templates_then(extract_templates(TEMPLATES_BEFORE_COMMIT, Path(tmp))), baseline
        )
        after = _renderer(make_templates(), baseline)
        same_page = _words(before().body) == _words(after().body)
        os.sched_setaffinity(0, {cpu})
        try:
            for render in (before, after):  # warm: templates loaded, code paths hot
                _ms_per_render(render, renders // 4)
            runs: dict[str, list[float]] = {"before": [], "after": []}
            for _ in range(rounds):
                runs["before"].append(_ms_per_render(before, renders))
                runs["after"].append(_ms_per_render(after, renders))
        finally:
            os.sched_setaffinity(0, affinity)
    ratios = [a / b for b, a in zip(runs["before"], runs["after"], strict=True) if b > 0]
    if not ratios:
        raise RenderCostError("too few renders per round to time them; raise --renders")
    return {
        "commit_before": TEMPLATES_BEFORE_COMMIT,
        "renders_per_round": renders,
        "rounds": rounds,
        "runs_ms": {name: [round(ms, 4) for ms in values] for name, values in runs.items()},
        "before_ms": round(statistics.median(runs["before"]), 4),
        "after_ms": round(statistics.median(runs["after"]), 4),
        "ratio": round(statistics.median(ratios), 3),
        "same_page": same_page,
    }
