"""The Nu HTML Checker over every page the browser tests reach.

Each page a browser test opens is collected once it has loaded (`page.content()`, keyed by
its address; a page seen again with other markup, after a form's answer say, is kept too).
At the end of the session all of them go to one run of vnu.jar (one JVM: a few seconds for
a hundred pages), and any error it reports, other than the documented exceptions below,
fails the session with one line per error.

vnu.jar comes from npm (tests/htmlcheck/package.json, `npm ci` there) and runs on Java 17.
Without it the check is skipped with a warning, unless PORTAL_REQUIRE_HTML_CHECK=1 (as in
CI), which makes a missing checker a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Error, Page

REPO_ROOT = Path(__file__).resolve().parents[2]
VNU_JAR = (
    REPO_ROOT / "tests" / "htmlcheck" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
)
CHECK_TIMEOUT = 600.0  # seconds, for the whole run
MAX_VERSIONS_PER_ADDRESS = 5

# What vnu reports that the portal means, each with its reason. Keep this list short.
EXCEPTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^Attribute “hx-[a-z:-]+” not allowed on element "),
        "htmx's attributes (hx-get, hx-post, hx-target, ...): htmx reads them by that name; "
        "HTML has no place for them, and the data-hx-* spelling would change every template "
        "for no reader's benefit.",
    ),
    (
        re.compile(
            r"^The “role” attribute must not be used on a “(tr|th|td|thead|tbody)” element "
            r"which has a “table” ancestor"
        ),
        "ARIA table roles on a table's rows and cells (the candidate's requirement table, "
        "templates/macros/feedback.html): stacked on phones (display: block), a table "
        "loses its semantics in browsers without them.",
    ),
)


def html_check_required() -> bool:
    return os.environ.get("PORTAL_REQUIRE_HTML_CHECK") == "1"


def excepted(message: str) -> bool:
    return any(pattern.search(message) for pattern, _ in EXCEPTIONS)


@dataclass
class HtmlCollector:
    """The pages the browser tests saw: address -> the distinct documents found there."""

    pages: dict[str, list[str]] = field(default_factory=dict)

    def watch(self, page: Page, base_url: str) -> None:
        """Collect `page`'s documents from the portal at `base_url` (not another site's)."""
        page.on("load", lambda loaded: self._capture(loaded, base_url))

    def _capture(self, page: Page, base_url: str) -> None:
        try:
            url = page.url
            if not url.startswith(base_url.rstrip("/") + "/"):
                return
            html = page.content()
        except Error:
            return  # closed or navigating away before its markup could be read
        versions = self.pages.setdefault(url, [])
        if html not in versions and len(versions) < MAX_VERSIONS_PER_ADDRESS:
            versions.append(html)

    def check(self, workdir: Path) -> str:
        """vnu's errors on every collected page, one line each ("" when there are none)."""
        files: dict[str, str] = {}
        for number, (url, versions) in enumerate(sorted(self.pages.items())):
            for version, html in enumerate(versions):
                path = workdir / f"page-{number:04d}-{version}.html"
                path.write_text(html, encoding="utf-8")
                files[path.name] = url
        if not files:
            return ""
        java = shutil.which("java") or "java"
        completed = subprocess.run(
            [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", "--exit-zero-always"]
            + [str(workdir / name) for name in files],
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT,
            check=False,
        )
        try:
            messages = json.loads(completed.stderr or completed.stdout)["messages"]
        except (json.JSONDecodeError, KeyError) as exc:
            raise AssertionError(
                f"vnu.jar answered something else than JSON (exit {completed.returncode}):\n"
                f"{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}"
            ) from exc
        lines = []
        for message in messages:
            text = message.get("message", "")
            if message.get("type") not in ("error", "non-document-error") or excepted(text):
                continue
            source = message.get("url", "?")
            url = files.get(source.rsplit("/", 1)[-1], source)
            extract = " ".join(message.get("extract", "").split())
            lines.append(f"{url} line {message.get('lastLine', '?')}: {text}\n    {extract}")
        return "\n".join(lines)


def run_check(collector: HtmlCollector, workdir: Path) -> str | None:
    """The report of errors, "" for none, None when the checker is not installed."""
    if not VNU_JAR.exists() or shutil.which("java") is None:
        if html_check_required():
            raise AssertionError(
                f"PORTAL_REQUIRE_HTML_CHECK=1 but {VNU_JAR} or java is missing "
                "(cd tests/htmlcheck && npm ci; apt-get install default-jre-headless)"
            )
        return None
    return collector.check(workdir)
