"""The audit log and the profile page in a real browser: JavaScript on and off, axe on
every state of them (the technical details open too), and a phone's width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser import test_staff_entrance
from tests.browser.support import PHONE, OpenPage, Screenshot, assert_no_horizontal_scroll
from tests.browser.test_staff_entrance import PASSWORD, TIMEOUT
from tests.browser.test_staff_journey import violations

pytestmark = pytest.mark.browser
# A fresh admin of the demo's first organization ("Morgan Lee"), one per test.
staff_email = test_staff_entrance.staff_email


def _sign_in(page: Page, email: str) -> None:
    page.set_default_timeout(TIMEOUT)
    page.goto("/staff/signin")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def test_an_admin_sets_their_time_zone_and_reads_the_audit_log(
    page: Page, js: bool, open_page: OpenPage, staff_email: str, screenshot: Screenshot
) -> None:
    _sign_in(page, staff_email)
    variant = "js" if js else "nojs"
    page.get_by_role("link", name="Your profile").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")
    problems = {"profile": violations(page, js=js, open_page=open_page)}

    page.get_by_label("Time zone").fill("Atlantis/Lost_City")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#time_zone-error")).to_contain_text("Enter a time zone")
    expect(page.get_by_label("Time zone")).to_have_value("Atlantis/Lost_City")
    problems["profile with an error"] = violations(page, js=js, open_page=open_page)
    screenshot(page, f"profile-error-{variant}")

    page.get_by_label("Time zone").fill("europe/berlin")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status")).to_have_text("Profile saved.")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")

    page.goto("/staff/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    expect(page.locator(".hint").first).to_contain_text("Times are in Europe/Berlin")
    changed = page.locator(".audit-event").filter(has_text="Morgan Lee changed their profile")
    expect(changed.first).to_be_visible()
    expect(changed.first.locator("time")).to_have_text(re.compile(r" CES?T$"))
    problems["audit log"] = violations(page, js=js, open_page=open_page)

    changed.first.locator("summary").click()
    expect(changed.first.locator("code").first).to_have_text("staff.profile_changed")
    problems["audit log, details open"] = violations(page, js=js, open_page=open_page)
    screenshot(page, f"audit-log-{variant}")

    page.get_by_label("What").select_option(label="Staff profile changed")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_label("What")).to_have_value("staff.profile_changed")
    shown = page.locator(".audit-event__what").all_inner_texts()
    assert shown and all("changed their profile" in text for text in shown), shown
    page.get_by_label("From").fill("2000-01-01")
    page.get_by_label("To").fill("2000-01-02")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("main")).to_contain_text("No events match these filters.")
    problems["audit log, nothing found"] = violations(page, js=js, open_page=open_page)

    report = "\n".join(f"{where}:\n{lines}" for where, lines in problems.items() if lines)
    assert not report, f"axe found problems:\n{report}"


def test_the_audit_log_and_the_profile_fit_a_phone(
    open_page: OpenPage, staff_email: str, screenshot: Screenshot
) -> None:
    page = open_page(js=False, viewport=PHONE)
    _sign_in(page, staff_email)
    page.goto("/staff/audit")
    page.locator(".audit-event summary").first.click()
    assert_no_horizontal_scroll(page, "the audit log")
    screenshot(page, "audit-log-phone")
    page.goto("/staff/profile")
    assert_no_horizontal_scroll(page, "the profile page")
