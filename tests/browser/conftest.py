"""Browser tests: the real demo server in a subprocess, driven by Chromium through Playwright.

The demo prints one fresh, single-use link per demo application. Each test takes its own
links from the `candidate` / `priya` fixtures, so tests never share a link (or a session).

Each test also acts as a different client address (an `X-Forwarded-For` header, which the
demo's uvicorn trusts from 127.0.0.1 as it would from a reverse proxy): the portal rate
limits link confirmations and sign-in requests per address, and a whole suite coming from
one address would otherwise run into them.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Error, Page, Playwright, sync_playwright

from tests.browser.htmlcheck import HtmlCollector, run_check
from tests.browser.support import (
    DESKTOP,
    PRIYA_EMAIL,
    RESERVED_EMAILS,
    Demo,
    DemoCandidate,
    OpenPage,
    Screenshot,
)
from tests.processes import stop

REPO_ROOT = Path(__file__).resolve().parents[2]
BROWSER_DIR = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT = 180.0  # seconds; generous: a busy machine starts Python slowly


# --- skipping without a browser -----------------------------------------------------------


def _browser_required() -> bool:
    return os.environ.get("PORTAL_REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """No Chromium: skip the browser tests, unless PORTAL_REQUIRE_BROWSER=1 (then they fail)."""
    if CHROMIUM.exists() or _browser_required():
        return
    skip = pytest.mark.skip(
        reason=f"{CHROMIUM} not found (install Debian's chromium, or set "
        "PORTAL_REQUIRE_BROWSER=1 to make this a failure)"
    )
    for item in items:
        if item.path.is_relative_to(BROWSER_DIR):
            item.add_marker(skip)


# --- the demo server ----------------------------------------------------------------------


DEMO_COMMAND = [sys.executable, "-m", "portal.cli", "demo", "--host", "127.0.0.1", "--port", "0"]


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _wait_for_announcement(
    process: subprocess.Popen[bytes], stdout: Path, stderr: Path
) -> dict[str, Any]:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        text = stdout.read_text(encoding="utf-8", errors="replace")
        if "\n" in text:
            line = text.split("\n", 1)[0]
            try:
                data: dict[str, Any] = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AssertionError(
                    f"the demo printed something else than JSON: {line!r}"
                ) from exc
            return data
        if process.poll() is not None:
            raise AssertionError(
                f"the demo exited with {process.returncode} before it was ready:\n{_tail(stderr)}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the demo printed no JSON line in {STARTUP_TIMEOUT:.0f}s:\n{_tail(stderr)}"
            )
        time.sleep(0.05)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """`portal demo --json` on a fresh SQLite database, for the whole session."""
    workdir = tmp_path_factory.mktemp("demo")
    mail_dir = workdir / "mail"
    stdout_path, stderr_path = workdir / "stdout.txt", workdir / "stderr.txt"
    # The demo's own settings only: no PORTAL_BASE_URL etc. leaking in from the caller.
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=f"sqlite:///{workdir / 'demo.db'}",
        PORTAL_MAIL_DIR=str(mail_dir),
        PORTAL_RATE_LIMIT_STORAGE="memory://",
        FORWARDED_ALLOW_IPS="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    # Files rather than pipes: nothing to drain while the server runs, nothing left open.
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [*DEMO_COMMAND, "--json"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        data = _wait_for_announcement(process, stdout_path, stderr_path)
        candidates = [DemoCandidate(**entry) for entry in data["candidates"]]
        demo = Demo(
            base_url=data["base_url"],
            mail_dir=mail_dir,
            candidates=candidates,
            unused=list(candidates),
            database=workdir / "demo.db",
            staff=data["staff"],
        )
        # The demo emails every printed candidate an invitation. Wait for them, so that a
        # test counting a candidate's mail before and after its own step is not confused by
        # an invitation arriving in between.
        invitations = Counter(c.email for c in candidates)
        for address, count in invitations.items():
            demo.wait_for_mail(address, more_than=count - 1, timeout=STARTUP_TIMEOUT)
        yield demo
    finally:
        stop(process)


@pytest.fixture
def candidate(demo: Demo) -> DemoCandidate:
    """An unused link of a candidate with one application (Priya has two: see `priya`)."""
    return demo.take(other_than=RESERVED_EMAILS)


@pytest.fixture
def priya(demo: Demo) -> DemoCandidate:
    """An unused link to one of Priya Raman's two applications."""
    return demo.take(address=PRIYA_EMAIL)


# --- the browser --------------------------------------------------------------------------


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    # Package scope: the sync API marks its event loop as running while it lives, which
    # would break asyncio-based tests elsewhere in the same pytest session.
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"PORTAL_REQUIRE_BROWSER=1 but {CHROMIUM} does not exist")
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


_client_numbers = itertools.count(1)


_unchecked: list[int] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _unchecked:
        terminalreporter.write_line(
            f"The Nu HTML Checker is not installed (cd tests/htmlcheck && npm ci): "
            f"{sum(_unchecked)} pages were not validated."
        )


@pytest.fixture(scope="session")
def html_pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HtmlCollector]:
    """Every page the browser tests load, checked by the Nu HTML Checker at the session's end
    (tests/browser/htmlcheck.py): an error there fails the session's last browser test."""
    collector = HtmlCollector()
    yield collector
    report = run_check(collector, tmp_path_factory.mktemp("htmlcheck"))
    if report is None:
        _unchecked.append(len(collector.pages))
    elif report:
        pytest.fail(f"the Nu HTML Checker found errors in the pages:\n{report}", pytrace=False)


@pytest.fixture
def open_page(browser: Browser, demo: Demo, html_pages: HtmlCollector) -> Iterator[OpenPage]:
    """Pages in fresh browser contexts; all of one test come from one client address."""
    number = next(_client_numbers)
    client_address = f"198.51.100.{number % 250 + 1}"
    contexts: list[BrowserContext] = []

    def open_page(*, js: bool, viewport: tuple[int, int] = DESKTOP) -> Page:
        width, height = viewport
        context = browser.new_context(
            java_script_enabled=js,
            viewport={"width": width, "height": height},
            base_url=demo.base_url,
            extra_http_headers={"X-Forwarded-For": client_address},
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        context.on("page", lambda opened: html_pages.watch(opened, demo.base_url))
        return context.new_page()

    yield open_page
    for context in contexts:
        for page in context.pages:
            # Let the last page's capture (an event handler, see html_pages) finish first.
            with contextlib.suppress(Error):
                page.evaluate("1")
        context.close()


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def js(request: pytest.FixtureRequest) -> bool:
    enabled: bool = request.param
    return enabled


@pytest.fixture
def page(open_page: OpenPage, js: bool) -> Page:
    """A desktop-sized page, with JavaScript on and (a second run) off."""
    return open_page(js=js)


# --- screenshots --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def screenshot_dir() -> Path | None:
    value = os.environ.get("PORTAL_SCREENSHOT_DIR")
    if not value:
        return None
    path = Path(value)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def screenshot(screenshot_dir: Path | None) -> Screenshot:
    """`screenshot(page, "name", full_page=True)`: saved only when PORTAL_SCREENSHOT_DIR is set."""

    def take(page: Page, name: str, *, full_page: bool = True) -> None:
        if screenshot_dir is not None:
            page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=full_page)

    return take
