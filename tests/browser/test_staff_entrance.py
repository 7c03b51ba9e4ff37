"""The staff entrance in a real browser, with JavaScript on (htmx) and off."""

from __future__ import annotations

import re
import sqlite3
import uuid

import pytest
from playwright.sync_api import Page, expect

from portal.staff.passwords import hash_password
from tests.browser.support import PHONE, Demo, OpenPage, assert_no_horizontal_scroll
from tests.browser.test_candidate_journey import serious_violations

pytestmark = pytest.mark.browser
PASSWORD = "a long and memorable passphrase"
# Generous: each step waits on an argon2 check, on a machine other tests keep busy.
TIMEOUT = 20_000


@pytest.fixture
def staff_email(demo: Demo) -> str:
    """A fresh staff account of the demo organization (each test its own)."""
    assert demo.database is not None
    email = f"staff-{uuid.uuid4().hex[:8]}@northwind.example"
    with sqlite3.connect(demo.database) as db:
        (organization_id,) = db.execute("SELECT min(id) FROM organizations").fetchone()
        db.execute(
            "INSERT INTO staff_users (organization_id, email, name, role, password_hash, active,"
            " created_at) VALUES (?, ?, 'Morgan Lee', 'admin', ?, 1, CURRENT_TIMESTAMP)",
            (organization_id, email, hash_password(PASSWORD)),
        )
    return email


def test_staff_sign_in_and_out(page: Page, js: bool, staff_email: str, open_page: OpenPage) -> None:
    page.set_default_timeout(TIMEOUT)
    page.goto("/staff/")
    expect(page).to_have_url(re.compile(r"/staff/signin$"), timeout=TIMEOUT)
    signin_problems = serious_violations(page, js=js, open_page=open_page)

    page.get_by_label("Email address").fill(staff_email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "do not match an active staff account", timeout=TIMEOUT
    )
    expect(page.get_by_label("Email address")).to_have_value(staff_email, timeout=TIMEOUT)
    failed_problems = serious_violations(page, js=js, open_page=open_page) if js else ""

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Morgan", timeout=TIMEOUT)
    expect(page.locator(".site-header")).to_contain_text("Northwind", timeout=TIMEOUT)
    expect(page.locator("main")).to_contain_text(staff_email, timeout=TIMEOUT)
    home_problems = serious_violations(page, js=js, open_page=open_page)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You have signed out.", timeout=TIMEOUT)
    page.goto("/staff/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff sign-in", timeout=TIMEOUT)

    found = {"sign-in": signin_problems, "failed": failed_problems, "home": home_problems}
    report = "\n".join(f"{where}:\n{lines}" for where, lines in found.items() if lines)
    assert not report, f"axe found serious or critical problems:\n{report}"


def test_staff_pages_fit_a_phone(open_page: OpenPage, staff_email: str) -> None:
    page = open_page(js=False, viewport=PHONE)
    page.set_default_timeout(TIMEOUT)
    page.goto("/staff/signin")
    assert_no_horizontal_scroll(page, "the staff sign-in page")
    page.get_by_label("Email address").fill(staff_email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Morgan", timeout=TIMEOUT)
    assert_no_horizontal_scroll(page, "the staff home page")
