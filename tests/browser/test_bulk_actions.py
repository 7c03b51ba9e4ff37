"""The applications list's bulk bar in a real browser, with JavaScript on and off: tick
rows, assign them to oneself, filter by assignee, and reach the publish confirmation.
axe on the list with the bar, the result and the confirmation; the bar fits a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import (
    PHONE,
    Demo,
    OpenPage,
    Screenshot,
    assert_no_horizontal_scroll,
    axe_violations,
)

pytestmark = pytest.mark.browser


def _sign_in(page: Page, demo: Demo, *, which: int) -> str:
    """Sign in as one of the demo's recruiters; their name."""
    recruiters = [s for s in demo.staff if s["role"] == "recruiter"]
    account = recruiters[which % len(recruiters)]
    page.goto("/staff/signin")
    page.get_by_label("Email address").fill(account["email"])
    page.get_by_label("Password").fill(account["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    return account["name"]


def test_recruiter_assigns_rows_to_themselves_and_reaches_the_publish_confirmation(
    page: Page, js: bool, demo: Demo, open_page: OpenPage, screenshot: Screenshot
) -> None:
    variant = "js" if js else "nojs"
    problems: dict[str, str] = {}
    name = _sign_in(page, demo, which=1 if js else 0)

    page.goto("/staff/applications?sort=name")
    bar = page.get_by_role("group", name="Act on several applications")
    expect(bar).to_be_visible()
    screenshot(page, f"staff-bulk-bar-{variant}")
    problems["list with the bulk bar"] = axe_violations(page, js=js, open_page=open_page)

    rows = page.locator("#results tbody tr")
    chosen = [rows.nth(i).locator("th[scope=row] a").inner_text() for i in range(2)]
    for who in chosen:
        page.get_by_role("checkbox", name=re.compile(f"^Choose {re.escape(who)},")).check()
    page.get_by_label("Assign to").select_option(label=f"{name} (you)")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Assigned to {name}")
    expect(page.get_by_role("status")).to_contain_text(f"now belong to {name}")
    problems["assignment result"] = axe_violations(page, js=js, open_page=open_page)

    page.get_by_role("link", name="Back to the applications").first.click()
    page.get_by_label("Assigned to").select_option("me")
    if not js:
        page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"assignee=me"))
    for who in chosen:
        expect(page.locator("#results th[scope=row]", has_text=who)).to_be_visible()

    # Publishing asks first: the confirmation lists what would be published and what not.
    page.get_by_role("radio", name=re.compile(r"^All \d+ (on this page|shown)$")).check()
    page.get_by_role("button", name="Publish their drafts…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^(Publish \d+ drafts?\?|Nothing to publish)$")
    )
    screenshot(page, f"staff-bulk-confirm-{variant}")
    problems["publish confirmation"] = axe_violations(page, js=js, open_page=open_page)
    # Leave without publishing: other tests read the demo's drafts.
    page.get_by_role("link", name="Back to the applications").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Applications")

    report = "\n".join(f"{where}:\n{lines}" for where, lines in problems.items() if lines)
    assert not report, f"axe found problems:\n{report}"


def test_the_bulk_bar_fits_a_phone(open_page: OpenPage, demo: Demo, screenshot: Screenshot) -> None:
    page = open_page(js=False, viewport=PHONE)
    _sign_in(page, demo, which=2)
    page.goto("/staff/applications")
    expect(page.get_by_role("group", name="Act on several applications")).to_be_visible()
    assert_no_horizontal_scroll(page, "the applications list with its bulk bar")
    screenshot(page, "staff-bulk-bar-phone")
