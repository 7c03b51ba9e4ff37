"""Drafting from scorecards on a phone with JavaScript off: a scorecard typed on the
application page, "Draft from scorecards", the draft's sources under the editor, preview
and publish; axe and the page width on every step."""

from __future__ import annotations

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
staff_email = test_staff_entrance.staff_email

GOOD = "Wrote the retention query with a window function on the first try."
WEAK = "Could not say how long the experiment would need to run."
PRIVATE = "Seemed tired during the whole interview."
SUGGESTION = "Work through a power calculation for a conversion test by hand."


def test_a_recruiter_drafts_from_a_scorecard_on_a_phone_without_javascript(
    open_page: OpenPage, staff_email: str, screenshot: Screenshot
) -> None:
    page = open_page(js=False, viewport=PHONE)
    problems: dict[str, str] = {}

    def step(name: str, page: Page) -> None:
        assert_no_horizontal_scroll(page, name)
        found = axe_violations(page, js=False, open_page=open_page)
        if found:
            problems[name] = found

    _sign_in(page, staff_email)
    # A rejection of its own, so that no other test's feedback is in the way.
    page.goto("/staff/applications/new")
    page.get_by_label("Candidate's name").fill("Sam Draft")
    page.get_by_label("Candidate's email address").fill(f"draft-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Job").select_option(label="Senior Data Analyst")
    page.get_by_label("Stage reached").select_option("interview")
    page.get_by_role("button", name="Add and write the feedback").click()
    expect(page).to_have_url(re.compile(r"/staff/applications/\d+/feedback\?done=added$"))
    application = page.url.split("/feedback", 1)[0]

    page.goto(application)
    expect(page.get_by_role("button", name="Draft from scorecards")).to_have_count(0)
    page.locator("summary", has_text="Add a scorecard").click()
    page.get_by_label("Interviewer", exact=True).fill("Inês Carvalho")
    page.get_by_label("Interview step").fill("Technical screen")
    # Each row's fields are named by their row, for someone who cannot see the layout.
    first = page.get_by_label("Attribute 1", exact=True).input_value()
    second = page.get_by_label("Attribute 2", exact=True).input_value()
    assert first and second  # the job's requirements, filled in
    page.get_by_label("Rating of attribute 1", exact=True).select_option("strong_yes")
    page.get_by_label("Note on attribute 1", exact=True).fill(GOOD)
    page.get_by_label("Rating of attribute 2", exact=True).select_option("no")
    page.get_by_label("Note on attribute 2", exact=True).fill(WEAK)
    page.get_by_label("Attribute 3", exact=True).fill("Presence")
    page.get_by_label("Rating of attribute 3", exact=True).select_option("mixed")
    page.get_by_label("Note on attribute 3", exact=True).fill(PRIVATE)
    page.get_by_label("Private note on attribute 3", exact=True).check()
    step("the scorecard form", page)
    page.get_by_role("button", name="Add the scorecard").click()
    expect(page.get_by_role("heading", name=re.compile("^Inês Carvalho"))).to_be_visible()
    step("the application with a scorecard", page)

    page.get_by_role("button", name="Draft from scorecards").click()
    expect(page).to_have_url(re.compile(r"/feedback\?done=drafted$"))
    sources = page.locator(".draft-sources")
    expect(sources.get_by_role("heading", name="Where this draft came from")).to_be_visible()
    expect(sources).to_contain_text(GOOD)
    expect(sources).to_contain_text("Inês Carvalho, Technical screen")
    expect(page.get_by_label("Decision summary")).to_have_value(
        re.compile(rf"the main reason was {re.escape(second)}, described below\.$")
    )
    assert PRIVATE not in page.content()
    # No suggestion library here: the recruiter writes the suggestion the draft left empty.
    suggestion = page.get_by_label("A concrete suggestion").first
    expect(suggestion).to_have_value("")
    suggestion.fill(SUGGESTION)
    screenshot(page, "drafting-editor-phone-nojs")
    step("the editor with the draft's sources", page)

    page.get_by_role("button", name="Save and preview").click()
    expect(page.get_by_role("heading", level=2, name=re.compile("^Preview: what"))).to_be_visible()
    article = page.locator("article.feedback")
    expect(article).to_contain_text(GOOD)
    expect(article).to_contain_text(SUGGESTION)
    expect(page.locator(".preview-banner ul.findings")).to_have_count(0)
    step("the preview", page)

    page.get_by_role("button", name=re.compile(r"^Publish version \d+$")).click()
    expect(page.get_by_role("status").first).to_contain_text("Published.")
    counts = page.locator("table:has(caption:text('Drafted sentences kept')) tbody tr").first
    expect(counts.locator("td[data-label='Kept']")).not_to_have_text("0")
    screenshot(page, "drafting-published-phone-nojs")
    step("the application after publishing", page)

    report = "\n".join(f"{where}:\n{lines}" for where, lines in problems.items())
    assert not report, f"axe found problems:\n{report}"
