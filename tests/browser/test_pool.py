"""The talent pool in a real browser: joining with JavaScript on and off, leaving from
the emailed link without a session, and the recruiters' pool pages.

Wei Zhang (Northwind) and Rafael Ortiz (Harbourline) have feedback that offers the
pool and are not demo members. Each gets a link of their own, issued straight into
the demo's database, so that the printed links stay for the other tests and no
sign-in limit (one email every 5 minutes per candidate) gets in the way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import sqlite3

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import PHONE, Demo, OpenPage, Screenshot, assert_no_horizontal_scroll
from tests.browser.test_candidate_journey import (
    mark_document,
    serious_violations,
    still_same_document,
    variant,
)

pytestmark = pytest.mark.browser

JOINERS = {True: "wei.zhang@example.com", False: "rafael.ortiz@example.com"}
LEAVE = re.compile(r"https?://\S+/pool/leave/[0-9]+\.[A-Za-z0-9_-]+")


def open_own_link(page: Page, demo: Demo, address: str) -> None:
    """Issue an invitation link to the candidate's application, as the portal does
    (only the token's SHA-256 is stored), open it and press its button."""
    assert demo.database is not None
    token = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    stamp = "%Y-%m-%d %H:%M:%S.%f"
    with sqlite3.connect(demo.database) as db:
        (candidate_id, application_id) = db.execute(
            "SELECT candidates.id, min(applications.id) FROM candidates"
            " JOIN applications ON applications.candidate_id = candidates.id"
            " WHERE candidates.email = ? GROUP BY candidates.id",
            (address,),
        ).fetchone()
        db.execute(
            "INSERT INTO access_links (candidate_id, application_id, purpose, token_hash,"
            " created_at, expires_at) VALUES (?, ?, 'invitation', ?, ?, ?)",
            (
                candidate_id,
                application_id,
                hashlib.sha256(token.encode()).digest(),
                now.strftime(stamp),
                (now + dt.timedelta(days=1)).strftime(stamp),
            ),
        )
    page.goto(f"/l/{token}")
    page.get_by_role("button", name="Show my feedback").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Thank you")


def test_join_the_pool_then_leave_from_the_emailed_link(
    open_page: OpenPage, js: bool, demo: Demo, screenshot: Screenshot
) -> None:
    address = JOINERS[js]
    page = open_page(js=js)
    open_own_link(page, demo, address)
    before = len(demo.mail_to(address))
    panel = page.locator("#pool")
    expect(panel.get_by_role("heading", name="Talent pool")).to_be_visible()
    expect(panel.get_by_text("What you agree to (version 1)")).to_be_visible()
    for box in panel.locator("input[type=checkbox], input[type=radio]").all():
        expect(box).not_to_be_checked()
    # The PDF is offered with the page's actions at the top, not only under the form.
    top_pdf = page.locator("header.feedback__intro").get_by_role(
        "link", name="Download a PDF summary"
    )
    expect(top_pdf).to_be_visible()
    violations = serious_violations(page, js=js, open_page=open_page)
    assert not violations, violations
    screenshot(page, f"pool-panel-{variant(js)}")

    # Forgetting to agree is explained, and the choices stay.
    panel.get_by_label("Data and analytics").check()
    panel.get_by_label("Where would you like to work?").fill("Lisbon, Remote in the EU")
    panel.get_by_label("Remote or on site").check()
    panel.get_by_role("group", name="Which roles may we tell you about?").get_by_label(
        "Any role that may suit me"
    ).check()
    panel.get_by_label("At most once a quarter").check()
    panel.get_by_label("1 year").check()
    if js:
        mark_document(page)
    panel.get_by_role("button", name="Join the talent pool").click()
    expect(page.locator("#pool-consent-error")).to_contain_text("Tick the box to agree")
    expect(page.locator("#pool").get_by_label("Data and analytics")).to_be_checked()
    expect(page.locator("#pool").get_by_label("Where would you like to work?")).to_have_value(
        "Lisbon, Remote in the EU"
    )
    if js:
        assert still_same_document(page), "htmx did not swap the panel in place"

    page.locator("#pool").get_by_label("I agree to the statement above").check()
    page.locator("#pool").get_by_role("button", name="Join the talent pool").click()
    expect(page.locator("#pool").get_by_role("status")).to_contain_text("You have joined the")
    if js:
        assert still_same_document(page), "htmx did not swap the panel in place"
    expect(
        page.locator("#pool").get_by_role("button", name="Leave the talent pool")
    ).to_be_visible()
    screenshot(page, f"pool-joined-{variant(js)}")

    # How long they stay can be changed; the page tells them the new end date.
    duration = page.locator("#pool").get_by_role(
        "group", name="How long may we keep you in the talent pool?"
    )
    expect(duration.get_by_role("radio", name=re.compile(r"^1 year, until "))).to_be_checked()
    duration.get_by_role("radio", name=re.compile(r"^6 months, until ")).check()
    page.locator("#pool").get_by_role("button", name="Change how long I stay").click()
    expect(page.locator("#pool").get_by_role("status")).to_contain_text("Saved: you are now in the")
    if js:
        assert still_same_document(page), "htmx did not swap the panel in place"
    violations = serious_violations(page, js=js, open_page=open_page)
    assert not violations, violations
    page.reload()
    expect(page.locator("section[aria-labelledby=next-heading]")).to_contain_text(
        re.compile(r"You are in the .* talent pool until")
    )

    # The welcome email carries the one-click way out; it works without a session.
    welcome = demo.wait_for_mail(address, more_than=before, timeout=30)
    assert "talent pool" in str(welcome["Subject"])
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = LEAVE.search(str(welcome["List-Unsubscribe"]))
    text = welcome.get_body(preferencelist=("plain",))
    assert header and text is not None
    leave_url = header.group(0)
    assert leave_url in text.get_content()

    stranger = open_page(js=js, viewport=PHONE)
    stranger.goto(leave_url)
    expect(stranger.get_by_role("heading", level=1)).to_contain_text("Leave the")
    assert_no_horizontal_scroll(stranger, "the leave page")
    violations = serious_violations(stranger, js=js, open_page=open_page)
    assert not violations, violations
    screenshot(stranger, f"pool-leave-phone-{variant(js)}")
    # Opening it changed nothing: the member's own page still says so.
    page.reload()
    expect(page.locator("#pool")).to_contain_text("You are in the")
    stranger.get_by_role("button", name="Leave the talent pool").click()
    expect(stranger.get_by_role("heading", level=1)).to_have_text("You have left the talent pool")
    expect(stranger.get_by_role("link", name="Back to your feedback")).to_be_visible()
    expect(stranger.locator("footer")).to_contain_text("uses Afterword")
    violations = serious_violations(stranger, js=js, open_page=open_page)
    assert not violations, violations
    page.reload()
    expect(page.locator("#pool").get_by_role("button", name="Join the talent pool")).to_be_visible()


def test_recruiters_pool_pages(open_page: OpenPage, js: bool, screenshot: Screenshot) -> None:
    page = open_page(js=js)
    page.goto("/staff/signin")
    page.get_by_label("Email address").fill("joana.ferreira@northwind.example")
    page.get_by_label("Password").fill("afterword-demo")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Talent pool").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Talent pool")
    expect(page.get_by_role("link", name="Amara Okafor")).to_be_visible()
    violations = serious_violations(page, js=js, open_page=open_page)
    assert not violations, violations
    screenshot(page, f"staff-pool-{variant(js)}")

    page.get_by_label("Choose Amara Okafor").check()
    page.get_by_role("button", name="Invite the chosen members to apply…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invite to apply")
    page.get_by_label("Job").select_option(index=1)
    page.get_by_label("Kind of role").select_option("data")
    page.get_by_label("Where to apply").fill("https://careers.example/jobs/1")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    expect(page.get_by_text("Will be sent to 1: Amara Okafor.")).to_be_visible()
    violations = serious_violations(page, js=js, open_page=open_page)
    assert not violations, violations
    screenshot(page, f"staff-pool-invite-{variant(js)}")

    page.goto("/staff/pool")
    page.get_by_role("link", name="Hana Kobayashi").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hana Kobayashi")
    expect(page.get_by_text("Agreed to version 1 of the statement")).to_be_visible()
    violations = serious_violations(page, js=js, open_page=open_page)
    assert not violations, violations
    screenshot(page, f"staff-pool-member-{variant(js)}")

    phone = open_page(js=js, viewport=PHONE)
    phone.context.add_cookies(page.context.cookies())  # type: ignore[arg-type]
    phone.goto("/staff/pool")
    assert_no_horizontal_scroll(phone, "the pool page")
    screenshot(phone, f"staff-pool-phone-{variant(js)}")
    phone.goto("/staff/pool/settings")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Talent pool settings")
    assert_no_horizontal_scroll(phone, "the pool settings page")
