"""Adding a rejection by hand in a real browser, with JavaScript on and off, and on a
phone: the form, a refused date kept as typed, then the feedback editor; axe throughout."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser import test_staff_entrance
from tests.browser.support import (
    PHONE,
    OpenPage,
    Screenshot,
    assert_no_horizontal_scroll,
    axe_violations,
)
from tests.browser.test_import_page import _sign_in

pytestmark = pytest.mark.browser
# A fresh staff account of the demo's first organization, as for the staff entrance.
staff_email = test_staff_entrance.staff_email


def test_a_recruiter_adds_a_rejection_and_lands_in_the_editor(
    page: Page, js: bool, open_page: OpenPage, staff_email: str, screenshot: Screenshot
) -> None:
    variant = "js" if js else "nojs"
    _sign_in(page, staff_email)
    page.get_by_role("link", name="Applications", exact=True).first.click()
    page.get_by_role("link", name="Add a rejection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a rejection")
    problems = {"form": axe_violations(page, js=js, open_page=open_page)}
    screenshot(page, f"rejection-form-{variant}")

    email = f"hand-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_label("Candidate's name").fill("Robin Hand")
    page.get_by_label("Candidate's email address").fill(email.upper())
    page.get_by_label("Job").select_option(index=1)
    page.get_by_label("Stage reached").select_option("interview")
    tomorrow = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
    page.get_by_label("Decision date").fill(tomorrow)
    page.get_by_role("button", name="Add and write the feedback").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was added")
    expect(page.locator("#decided_on-error")).to_contain_text("is in the future")
    expect(page.get_by_label("Candidate's name")).to_have_value("Robin Hand")
    problems["refused"] = axe_violations(page, js=js, open_page=open_page)
    screenshot(page, f"rejection-refused-{variant}")

    page.get_by_label("Decision date").fill("")
    page.get_by_role("button", name="Add and write the feedback").click()
    expect(page).to_have_url(re.compile(r"/staff/applications/\d+/feedback\?done=added$"))
    expect(page.get_by_role("status").filter(has_text="Rejection added.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Feedback for Robin Hand")

    report = "\n".join(f"{where}:\n{lines}" for where, lines in problems.items() if lines)
    assert not report, f"axe found problems:\n{report}"


def test_the_rejection_form_fits_a_phone(
    open_page: OpenPage, staff_email: str, screenshot: Screenshot
) -> None:
    page = open_page(js=False, viewport=PHONE)
    _sign_in(page, staff_email)
    page.goto("/staff/applications/new")
    assert_no_horizontal_scroll(page, "the rejection form")
    page.get_by_role("button", name="Add and write the feedback").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was added")
    assert_no_horizontal_scroll(page, "the rejection form with its messages")
    screenshot(page, "rejection-form-phone")
