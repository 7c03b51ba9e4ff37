"""What the browser tests share: the running demo, its candidates, page and screenshot helpers."""

from __future__ import annotations

import email
import email.policy
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

FEEDBACK_URL = re.compile(r"/feedback/\d+$")
DESKTOP = (1280, 800)
PHONE = (390, 844)
PRIYA_EMAIL = "priya.raman@example.com"
# Candidates whose tests open their own links (their talent-pool and focus tests change
# their state): never handed to a test that asks for any candidate.
RESERVED_EMAILS = frozenset(
    {
        PRIYA_EMAIL,
        "leila.haddad@example.com",
        "grace.adeyemi@example.com",
        "wei.zhang@example.com",
        "rafael.ortiz@example.com",
    }
)


@dataclass(frozen=True)
class DemoCandidate:
    name: str
    email: str
    job: str
    organization: str
    link: str

    @property
    def first_name(self) -> str:
        return self.name.split(" ")[0]


@dataclass
class Demo:
    base_url: str
    mail_dir: Path
    candidates: list[DemoCandidate]
    unused: list[DemoCandidate] = field(default_factory=list)
    database: Path | None = None  # the demo's SQLite file
    # The demo's staff accounts: {"email", "password", "name", "role", "organization"}.
    staff: list[dict[str, str]] = field(default_factory=list)
    # How many links of each candidate tests have taken.
    handed_out: Counter[str] = field(default_factory=Counter)

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def take(
        self,
        *,
        address: str | None = None,
        other_than: str | Collection[str] | None = None,
        organization: str | None = None,
    ) -> DemoCandidate:
        """A link nobody has used yet (each works once), to `address` or to anyone else, of
        `organization` or of any. When the printed links of anyone else have all been
        taken, a fresh link of the candidate handed out least often (`fresh_link`)."""
        excluded = {other_than} if isinstance(other_than, str) else set(other_than or ())
        fits = [
            candidate
            for candidate in self.candidates
            if (address is None or candidate.email == address)
            and candidate.email not in excluded
            and (organization is None or candidate.organization == organization)
        ]
        for i, candidate in enumerate(self.unused):
            if candidate in fits:
                self.handed_out[candidate.email] += 1
                return self.unused.pop(i)
        if address is None and fits:
            again = min(fits, key=lambda candidate: self.handed_out[candidate.email])
            self.handed_out[again.email] += 1
            return self.fresh_link(again)
        raise LookupError(
            f"the demo has no unused link left for {address or 'another candidate'}; "
            "each link works once, so a new test needs a demo candidate of its own"
        )

    def fresh_link(self, who: DemoCandidate) -> DemoCandidate:
        """Another unused link to the same application, issued as an operator would
        (`portal links issue`), for tests that need more links than the demo prints."""
        assert self.database is not None
        with sqlite3.connect(self.database) as connection:
            (application_id,) = connection.execute(
                "SELECT applications.id FROM applications"
                " JOIN candidates ON candidates.id = applications.candidate_id"
                " JOIN jobs ON jobs.id = applications.job_id"
                " WHERE candidates.email = ? AND jobs.title = ?",
                (who.email, who.job),
            ).fetchone()
        env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
        env.update(PORTAL_DATABASE_URL=f"sqlite:///{self.database}", PORTAL_BASE_URL=self.base_url)
        printed = subprocess.run(
            [
                sys.executable,
                "-m",
                "portal.cli",
                "links",
                "issue",
                "--application",
                str(application_id),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return DemoCandidate(who.name, who.email, who.job, who.organization, printed.stdout.strip())

    def mail_to(self, address: str) -> list[EmailMessage]:
        messages = []
        for path in sorted(self.mail_dir.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            if str(message["To"]).lower() == address.lower():
                messages.append(message)
        return messages

    def wait_for_mail(self, address: str, *, more_than: int, timeout: float = 15.0) -> EmailMessage:
        """The newest message to `address`, once there are more than `more_than` of them."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.mail_to(address)
            if len(messages) > more_than:
                return messages[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no new email to {address} in {self.mail_dir} in {timeout}s")
            time.sleep(0.1)


class OpenPage(Protocol):
    def __call__(self, *, js: bool, viewport: tuple[int, int] = DESKTOP) -> Page: ...


class Screenshot(Protocol):
    def __call__(self, page: Page, name: str, *, full_page: bool = True) -> None: ...


def axe_violations(
    page: Page, *, js: bool, open_page: OpenPage, impacts: tuple[str, ...] | None = None
) -> str:
    """axe-core's findings on the page (of `impacts` only, or all), one line per element."""
    # A click that followed a link or submitted a form may still be loading the page.
    page.wait_for_load_state()
    if not js:
        # With JavaScript off, axe's timers never fire and it would wait forever. Check
        # the same document in a twin whose page scripts are all empty: the DOM and
        # styles are those of the page without JavaScript, and axe can run there.
        # The twin is served this very document (the answer to a POST, say, which
        # loading the address again would not give).
        html, url = page.content(), page.url
        twin = open_page(js=True)
        twin.context.add_cookies(page.context.cookies())  # type: ignore[arg-type]
        twin.route("**/*.js", lambda route: route.fulfill(content_type="text/javascript", body=""))
        twin.route(url, lambda route: route.fulfill(content_type="text/html", body=html))
        twin.goto(url)
        page = twin
    results = Axe().run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    lines = []
    for violation in violations:
        if impacts is not None and violation.get("impact") not in impacts:
            continue
        for node in violation["nodes"]:
            lines.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']} at "
                f"{', '.join(map(str, node['target']))}: {node.get('failureSummary', '')}"
            )
    return "\n".join(lines)


def open_feedback(page: Page, who: DemoCandidate) -> None:
    """Open the emailed link and press its one button."""
    page.goto(who.link)
    page.get_by_role("button", name="Show my feedback").click()
    expect(page).to_have_url(FEEDBACK_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Thank you, {who.first_name}")


# Links a crawl of the staff pages does not follow: downloads, and what signs out or leaves.
NOT_PAGES = re.compile(r"\.(pdf|csv)(\?|$)|/signout|/staff/l/|/oidc/")


def sign_in_as_admin(page: Page, demo: Demo) -> None:
    admin = next(s for s in demo.staff if s["role"] == "admin")
    page.goto("/staff/signin")
    page.get_by_label("Email address").fill(admin["email"])
    page.get_by_label("Password").fill(admin["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def page_kind(path: str) -> str:
    """A staff page's kind: its path with each id as N, without the query."""
    return re.sub(r"\d+", "N", path.split("?", 1)[0])


def crawl_staff_pages(page: Page, visit: Callable[[str], None], *, limit: int = 60) -> list[str]:
    """Follow each link within /staff/ from the home page, one page of each kind; `visit`
    is called on each page once it has loaded. The paths visited, in order."""
    seen_kinds: set[str] = set()
    queue = ["/staff/"]
    visited: list[str] = []
    while queue and len(visited) < limit:
        path = queue.pop(0)
        kind = page_kind(path)
        if kind in seen_kinds:
            continue
        seen_kinds.add(kind)
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        visited.append(path)
        visit(path)
        hrefs = page.eval_on_selector_all(
            "a[href]", "links => links.map(a => a.getAttribute('href'))"
        )
        for href in hrefs:
            if href.startswith("/staff/") and not NOT_PAGES.search(href) and "#" not in href:
                queue.append(href)
    return visited


def assert_no_horizontal_scroll(page: Page, what: str) -> None:
    # A click that submits a form may still be loading the next page.
    page.wait_for_load_state()
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, (
        f"{what} scrolls sideways at {inner_width}px wide: the page is {scroll_width}px wide"
    )
