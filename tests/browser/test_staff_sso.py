"""Staff single sign-on in a real browser, against the real test OpenID provider
(tests/oidc_provider.py), with JavaScript on and off.

The demo runs in a server of its own here, configured for single sign-on: the
provider must know the portal's redirect URI before either starts, so the
portal's port is chosen first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DEMO_COMMAND, REPO_ROOT, _wait_for_announcement
from tests.browser.htmlcheck import HtmlCollector
from tests.browser.support import PHONE, assert_no_horizontal_scroll
from tests.browser.test_candidate_journey import serious_violations
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, require_provider, start_provider
from tests.processes import stop

pytestmark = pytest.mark.browser
TIMEOUT = 20_000  # per step: the provider, the portal and the browser share two cores
PROVIDER_NAME = "Test Identity"


@dataclass(frozen=True)
class SsoDemo:
    base_url: str
    issuer: str
    database: Path

    def link(self, subject: str) -> str:
        """Link the demo's first staff account to `subject`; its name."""
        with sqlite3.connect(self.database) as db:
            staff_id, name = db.execute(
                "SELECT id, name FROM staff_users ORDER BY id LIMIT 1"
            ).fetchone()
            db.execute(
                "UPDATE staff_users SET oidc_issuer = ?, oidc_subject = ? WHERE id = ?",
                (self.issuer, subject, staff_id),
            )
        return str(name)

    def invite(self, name: str) -> str:
        """An invited colleague of the first organization: their invitation link's path."""
        token, now = secrets.token_urlsafe(32), dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with sqlite3.connect(self.database) as db:
            (organization_id,) = db.execute("SELECT min(id) FROM organizations").fetchone()
            cursor = db.execute(
                "INSERT INTO staff_users (organization_id, email, name, role, active, created_at)"
                " VALUES (?, ?, ?, 'recruiter', 1, ?)",
                (organization_id, f"{secrets.token_hex(4)}@northwind.example", name, now),
            )
            db.execute(
                "INSERT INTO staff_invitations (staff_user_id, token_hash, created_at, expires_at)"
                " VALUES (?, ?, ?, ?)",
                (
                    cursor.lastrowid,
                    hashlib.sha256(token.encode()).digest(),
                    now,
                    now + dt.timedelta(days=7),
                ),
            )
        return f"/staff/l/{token}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def sso_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SsoDemo]:
    require_provider()
    workdir = tmp_path_factory.mktemp("sso-demo")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    provider_process, provider = start_provider(
        workdir, redirect_uri=f"{base_url}/staff/oidc/callback"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update(
        PORTAL_DATABASE_URL=f"sqlite:///{workdir / 'demo.db'}",
        PORTAL_MAIL_DIR=str(workdir / "mail"),
        PORTAL_OIDC_ISSUER=provider.issuer,
        PORTAL_OIDC_CLIENT_ID=CLIENT_ID,
        PORTAL_OIDC_CLIENT_SECRET=CLIENT_SECRET,
        PORTAL_OIDC_PROVIDER_NAME=PROVIDER_NAME,
        PYTHONUNBUFFERED="1",
    )
    stdout_path, stderr_path = workdir / "stdout.txt", workdir / "stderr.txt"
    command = [*DEMO_COMMAND[:-1], str(port), "--json"]
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        demo = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr
        )
    try:
        announced = _wait_for_announcement(demo, stdout_path, stderr_path)
        assert announced["base_url"] == base_url
        yield SsoDemo(base_url, provider.issuer, workdir / "demo.db")
    finally:
        stop(demo)
        stop(provider_process)


def _open(browser: Browser, demo: SsoDemo, *, js: bool, phone: bool = False) -> Page:
    width, height = PHONE if phone else (1280, 900)
    context = browser.new_context(
        java_script_enabled=js, viewport={"width": width, "height": height}, base_url=demo.base_url
    )
    context.set_default_timeout(TIMEOUT)
    return context.new_page()


def _axe(browser: Browser, demo: SsoDemo, page: Page, *, js: bool) -> str:
    def twin(*, js: bool, viewport: tuple[int, int] = PHONE) -> Page:
        return _open(browser, demo, js=js)

    return serious_violations(page, js=js, open_page=twin)


def _at_provider(page: Page, demo: SsoDemo, login: str) -> None:
    """Sign in at the provider's (development) login form and consent."""
    page.wait_for_url(f"{demo.issuer}/**", timeout=TIMEOUT)
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password will do")
    page.locator("button[type=submit]").click()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{demo.base_url}/**", timeout=TIMEOUT)


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def js(request: pytest.FixtureRequest) -> bool:
    enabled: bool = request.param
    return enabled


def test_single_sign_on_from_the_sign_in_page(
    browser: Browser, sso_demo: SsoDemo, js: bool, html_pages: HtmlCollector
) -> None:
    page = _open(browser, sso_demo, js=js)
    html_pages.watch(page, sso_demo.base_url)

    def axe(where: Page) -> str:
        return serious_violations(
            where,
            js=js,
            open_page=lambda *, js, viewport=(1280, 900): _open(browser, sso_demo, js=js),
        )

    page.goto("/staff/signin")
    found = {"sign-in": axe(page)}
    # Someone the portal does not know: asked to get an invitation, nothing created.
    page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()
    _at_provider(page, sso_demo, f"stranger-{js}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Ask your admin to invite you", timeout=TIMEOUT
    )
    expect(page.locator("main")).to_contain_text(f"stranger-{js}@example.com", timeout=TIMEOUT)
    found["unknown"] = axe(page)

    # A linked colleague lands on the staff home page, signed in.
    name = sso_demo.link(f"colleague-{js}")
    page.get_by_role("link", name="Back to sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff sign-in", timeout=TIMEOUT)
    # The provider would remember the stranger: a new person at the same browser.
    page.context.clear_cookies()
    page.reload()
    page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()
    _at_provider(page, sso_demo, f"colleague-{js}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Hello {name.split()[0]}", timeout=TIMEOUT
    )
    report = "\n".join(f"{where}:\n{lines}" for where, lines in found.items() if lines)
    assert not report, f"axe found serious or critical problems:\n{report}"


def test_an_invitation_links_single_sign_on_on_a_phone(
    browser: Browser, sso_demo: SsoDemo, js: bool, html_pages: HtmlCollector
) -> None:
    page = _open(browser, sso_demo, js=js, phone=True)
    html_pages.watch(page, sso_demo.base_url)
    page.goto(sso_demo.invite(f"Nia Newbie {js}"))
    assert_no_horizontal_scroll(page, "the invitation page")
    problems = _axe(browser, sso_demo, page, js=js)
    page.get_by_role("button", name=f"Use {PROVIDER_NAME}").click()
    _at_provider(page, sso_demo, f"nia-{js}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Nia", timeout=TIMEOUT)
    assert_no_horizontal_scroll(page, "the staff home page")
    assert not problems, f"axe found serious or critical problems:\n{problems}"
