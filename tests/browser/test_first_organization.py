"""An employer starts without the demo, in a real browser: `portal db upgrade` and
`portal org create` on a fresh database, `portal serve`, then the first admin follows the
printed invitation, sets a password, creates a job with its requirements, adds a
rejection by hand, writes and publishes the feedback; the candidate's emailed link
shows it. axe on every page on the way, with JavaScript on and off."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import REPO_ROOT
from tests.browser.support import DESKTOP, Screenshot, axe_violations
from tests.processes import stop

pytestmark = pytest.mark.browser
TIMEOUT = 20_000  # per step: the server and the browser share two cores
PASSWORD = "four unrelated words together"
ADMIN_EMAIL = "ada@acme-robotics.example"
SUMMARY = "Your design review was thorough, but the role needs more hands-on PLC work."


@dataclass(frozen=True)
class FreshPortal:
    base_url: str
    mail_dir: Path
    invitation_url: str

    def mail_to(self, address: str) -> list[EmailMessage]:
        found = []
        for path in sorted(self.mail_dir.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            if str(message["To"]).lower() == address.lower():
                found.append(message)
        return found

    def wait_for_mail(self, address: str, *, timeout: float = 30.0) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while not (messages := self.mail_to(address)):
            if time.monotonic() > deadline:
                raise AssertionError(f"no email to {address} in {self.mail_dir}")
            time.sleep(0.1)
        return messages[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _portal(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _start(tmp: Path, variant: str) -> Iterator[FreshPortal]:
    """The README's production path on SQLite: settings, upgrade, org create, serve."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=f"sqlite:///{tmp / 'portal.db'}",
        PORTAL_MAIL_DIR=str(tmp / "mail"),
        PORTAL_BASE_URL=base_url,
        PYTHONUNBUFFERED="1",
    )
    _portal(env, "db", "upgrade")
    create = ["org", "create", "--name", "Acme Robotics", "--admin-email", ADMIN_EMAIL]
    created = json.loads(_portal(env, *create, "--admin-name", "Ada Lovelace", "--json"))
    assert created["organization"]["slug"] == "acme-robotics"
    log = (tmp / f"serve-{variant}.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, (tmp / f"serve-{variant}.log").read_text()
            assert time.monotonic() < deadline, "portal serve did not get ready"
            time.sleep(0.2)
        yield FreshPortal(base_url, tmp / "mail", created["invitation_url"])
    finally:
        stop(server)
        log.close()


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def js(request: pytest.FixtureRequest) -> bool:
    enabled: bool = request.param
    return enabled


@pytest.fixture
def fresh(tmp_path: Path, js: bool) -> Iterator[FreshPortal]:
    yield from _start(tmp_path, "js" if js else "nojs")


def _open(browser: Browser, portal: FreshPortal, *, js: bool) -> Page:
    context = browser.new_context(
        java_script_enabled=js,
        viewport={"width": DESKTOP[0], "height": DESKTOP[1]},
        base_url=portal.base_url,
    )
    context.set_default_timeout(TIMEOUT)
    return context.new_page()


def test_from_org_create_to_a_published_feedback(
    browser: Browser, fresh: FreshPortal, js: bool, screenshot: Screenshot
) -> None:
    variant = "js" if js else "nojs"
    page = _open(browser, fresh, js=js)
    problems: dict[str, str] = {}

    def check(where: str) -> None:
        problems[where] = axe_violations(
            page, js=js, open_page=lambda *, js, viewport=DESKTOP: _open(browser, fresh, js=js)
        )
        screenshot(page, f"first-org-{where.replace(' ', '-')}-{variant}")

    # The first admin follows the printed invitation and chooses a password.
    page.goto(fresh.invitation_url)
    expect(page.get_by_text("Acme Robotics").first).to_be_visible()
    check("invitation")
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("The same password again").fill(PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page).to_have_url(re.compile(r"/staff/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada")
    check("staff home")

    # Their first job, from the empty jobs page, with two requirements.
    page.get_by_role("link", name="Jobs", exact=True).click()
    expect(page.get_by_role("link", name="Create your first job")).to_be_visible()
    check("jobs empty")
    page.get_by_role("link", name="Create your first job").click()
    check("new job")
    page.get_by_label("Title").fill("Controls Engineer")
    page.get_by_label("Team", exact=True).fill("Automation")
    page.get_by_role("button", name="Create job").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Controls Engineer")
    for name, meaning in (
        ("PLC programming", "Writes and debugs ladder logic and structured text"),
        ("Safety standards", "Applies IEC 61508 in designs"),
    ):
        page.get_by_label("Short name").fill(name)
        page.get_by_label("What it means").fill(meaning)
        page.get_by_role("button", name="Add requirement").click()
        expect(page.get_by_role("status")).to_contain_text("Requirement added")
    check("job")

    # A rejection by hand, which opens the editor on the new application.
    page.get_by_role("link", name="Applications", exact=True).first.click()
    check("applications empty")
    page.get_by_role("link", name="Add a rejection").click()
    check("add a rejection")
    candidate_email = f"sam.lee.{variant}@example.com"
    page.get_by_label("Candidate's name").fill("Sam Lee")
    page.get_by_label("Candidate's email address").fill(candidate_email)
    page.get_by_label("Job").select_option(label="Controls Engineer")
    page.get_by_label("Stage reached").select_option("interview")
    page.get_by_role("button", name="Add and write the feedback").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Feedback for Sam Lee")
    check("editor")

    # The feedback, previewed and published.
    page.get_by_label("Decision summary").fill(SUMMARY)
    page.get_by_label("Rating").first.select_option("partly_met")
    page.get_by_label("Evidence").first.fill("You explained the scan cycle clearly.")
    page.get_by_role("button", name="Add a strength").click()
    page.get_by_label("What was strong").first.fill("A careful, well-structured design review.")
    page.get_by_role("button", name="Save and preview").click()
    expect(page.get_by_role("heading", level=2, name=re.compile("^Preview: what"))).to_be_visible()
    check("preview")
    page.get_by_role("button", name=re.compile("^Publish version")).click()
    expect(page.get_by_role("status")).to_contain_text("Published.")
    check("published")

    # A new organization tells candidates within its default send window (Monday to
    # Thursday, 09:00 to 16:00 in its time zone): outside it, the application page
    # says when the email goes, and the recruiter may send it now, saying why.
    assert re.search(r"/staff/applications/\d+\?done=published$", page.url), page.url
    sending = page.locator("#sending")
    expect(sending).to_be_visible()
    if sending.get_by_role("button", name="Send now").count():
        expect(sending).to_contain_text("when the send window opens")
        check("email scheduled")
        sending.get_by_label("Send it now instead: why?").fill("Sam asked to hear today.")
        sending.get_by_role("button", name="Send now").click()
    expect(page.locator("#sending")).to_contain_text("The invitation email went on")

    # The candidate's email (sent by the server's own worker) opens the feedback.
    message = fresh.wait_for_mail(candidate_email)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    link = re.search(re.escape(fresh.base_url) + r"/l/[A-Za-z0-9_-]+", body.get_content())
    assert link, body.get_content()
    candidate = _open(browser, fresh, js=js)
    candidate.goto(link.group(0))
    candidate.get_by_role("button", name="Show my feedback").click()
    expect(candidate.get_by_role("heading", level=1)).to_have_text("Thank you, Sam")
    expect(candidate.locator("p.decision")).to_have_text(SUMMARY)
    expect(candidate.get_by_text("PLC programming").first).to_be_visible()
    screenshot(candidate, f"first-org-candidate-{variant}")

    report = "\n".join(f"{where}:\n{lines}" for where, lines in problems.items() if lines)
    assert not report, f"axe found problems:\n{report}"
