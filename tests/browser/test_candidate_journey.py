"""The candidate's journey in a real browser, with JavaScript on (htmx) and off.

Run: .venv/bin/pytest tests/browser -m browser -q  (PORTAL_SCREENSHOT_DIR=dir saves screenshots)
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Error, Page, expect

from tests.browser.support import (
    FEEDBACK_URL,
    PHONE,
    PRIYA_EMAIL,
    Demo,
    DemoCandidate,
    OpenPage,
    Screenshot,
    assert_no_horizontal_scroll,
    axe_violations,
    open_feedback,
)

pytestmark = pytest.mark.browser

AGENCY_NAME = "Harbourline Recruitment"
SWAP_MARK = "window.__afterwordNoReload"


def variant(js: bool) -> str:
    return "js" if js else "nojs"


def mark_document(page: Page) -> None:
    """Remember this document: `still_same_document` is true until a full page load."""
    page.evaluate(f"() => {{ {SWAP_MARK} = true; }}")


def still_same_document(page: Page) -> bool:
    same: bool = page.evaluate(f"() => {SWAP_MARK} === true")
    return same


def test_link_shows_feedback_and_drops_the_token(
    page: Page, js: bool, candidate: DemoCandidate, screenshot: Screenshot
) -> None:
    page.goto(candidate.link)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Your feedback on your {candidate.job} application is ready"
    )
    expect(page.locator(".brand")).to_have_text(candidate.organization)
    screenshot(page, f"link-page-{variant(js)}")

    page.get_by_role("button", name="Show my feedback").click()

    expect(page).to_have_url(FEEDBACK_URL)
    assert "/l/" not in page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Thank you, {candidate.first_name}")
    expect(page.locator(".eyebrow")).to_contain_text(candidate.job)

    table = page.get_by_role("table")
    expect(table).to_be_visible()
    for column in ("Requirement", "Assessment", "What we saw"):
        expect(table.get_by_role("columnheader", name=column)).to_be_visible()
    rows = table.locator("tbody tr")
    assert rows.count() >= 2
    expect(rows.first.locator(".rating")).to_be_visible()

    for heading in (
        "How you matched the role's requirements",
        "What was strong",
        "Where to grow, and how",
        "What happens next",
        "A note from the recruiter",
    ):
        expect(page.get_by_role("heading", level=2, name=heading)).to_be_visible()
    suggestions = page.locator(".points--growth .suggestion")
    assert suggestions.count() >= 1
    expect(suggestions.first).to_contain_text("Try this:")
    screenshot(page, f"feedback-desktop-{variant(js)}")


def test_spent_link_offers_a_new_one(
    page: Page,
    js: bool,
    open_page: OpenPage,
    demo: Demo,
    candidate: DemoCandidate,
    screenshot: Screenshot,
) -> None:
    open_feedback(open_page(js=js), candidate)

    # Another browser (no session): the link says at once that it no longer works.
    response = page.goto(candidate.link)
    assert response is not None and response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    expect(page.get_by_role("button", name="Show my feedback")).to_have_count(0)
    screenshot(page, f"link-spent-{variant(js)}")

    mails_before = len(demo.mail_to(candidate.email))
    if js:
        mark_document(page)
    page.get_by_role("button", name="Email me a new link").click()

    expect(page.get_by_role("status")).to_contain_text("we have sent a new sign-in link")
    expect(page.get_by_role("button", name="Email me a new link")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    if js:
        assert still_same_document(page), "with JavaScript, htmx should swap in the answer"
        assert not page.url.endswith("/renew")
    else:
        assert page.url.endswith("/renew"), page.url
    screenshot(page, f"link-renewed-{variant(js)}")

    message = demo.wait_for_mail(candidate.email, more_than=mails_before)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert demo.url("/l/") in body.get_content()


def test_signin_validates_then_confirms(
    page: Page, js: bool, demo: Demo, screenshot: Screenshot
) -> None:
    # A different known address per run: sign-in requests are rate limited per address.
    address = demo.candidates[-1 if js else -2].email
    page.goto("/signin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Get a sign-in link")
    screenshot(page, f"signin-{variant(js)}")
    field = page.get_by_label("Your email address")

    field.fill("not-an-email")
    page.get_by_role("button", name="Email me a link").click()

    error = page.locator("#email-error")
    expect(
        error, "the 422 answer should show the error (with JavaScript: swapped in by htmx)"
    ).to_have_text("Enter an email address like name@example.com.")
    field = page.get_by_label("Your email address")
    expect(field).to_have_value("not-an-email")
    expect(field).to_have_attribute("aria-invalid", "true")
    screenshot(page, f"signin-error-{variant(js)}")

    mails_before = len(demo.mail_to(address))
    if js:
        mark_document(page)
    field.fill(address)
    page.get_by_role("button", name="Email me a link").click()

    expect(page.get_by_role("status")).to_contain_text("Check your email.")
    expect(page.get_by_role("status")).to_contain_text(address)
    if js:
        assert still_same_document(page), "with JavaScript, htmx should swap in the answer"
    demo.wait_for_mail(address, more_than=mails_before)


def test_candidate_with_two_applications_sees_both(
    page: Page, demo: Demo, priya: DemoCandidate
) -> None:
    (other_job,) = {c.job for c in demo.candidates if c.email == PRIYA_EMAIL} - {priya.job}
    open_feedback(page, priya)
    expect(page.locator(".eyebrow")).to_contain_text(priya.job)

    page.get_by_role("link", name="All your applications").click()

    expect(page).to_have_url(demo.url("/feedback"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Priya")
    items = page.locator(".application-list li")
    expect(items).to_have_count(2)
    expect(items.filter(has_text=priya.job)).to_have_count(1)
    expect(items.filter(has_text=other_job)).to_have_count(1)

    page.get_by_role("link", name=other_job).click()

    expect(page).to_have_url(FEEDBACK_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, Priya")
    expect(page.locator(".eyebrow")).to_contain_text(other_job)


def test_sign_out_ends_the_session(page: Page, candidate: DemoCandidate) -> None:
    open_feedback(page, candidate)
    feedback_url = page.url

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/signin\?signed_out=1$"))
    expect(page.get_by_role("status")).to_have_text("You have signed out.")

    response = page.goto(feedback_url)
    assert response is not None
    assert response.status == 401
    expect(page.get_by_role("heading", level=1)).to_have_text("Get a sign-in link")
    expect(page.get_by_role("status")).to_contain_text("Please sign in to see your feedback")
    expect(page.get_by_text(f"Thank you, {candidate.first_name}")).to_have_count(0)


def test_phone_layout_does_not_scroll_sideways(
    open_page: OpenPage, js: bool, candidate: DemoCandidate, screenshot: Screenshot
) -> None:
    page = open_page(js=js, viewport=PHONE)
    page.goto("/signin")
    assert_no_horizontal_scroll(page, "the sign-in page")
    page.goto(candidate.link)
    assert_no_horizontal_scroll(page, "the link page")

    page.get_by_role("button", name="Show my feedback").click()
    expect(page).to_have_url(FEEDBACK_URL)
    expect(page.get_by_role("table")).to_be_visible()

    assert_no_horizontal_scroll(page, "the feedback page")
    screenshot(page, f"feedback-phone-{variant(js)}")


def serious_violations(page: Page, *, js: bool, open_page: OpenPage) -> str:
    """axe-core's serious and critical findings on the page, one line per element."""
    return axe_violations(page, js=js, open_page=open_page, impacts=("serious", "critical"))


def test_pages_pass_axe(
    page: Page, js: bool, open_page: OpenPage, candidate: DemoCandidate
) -> None:
    page.goto(candidate.link)
    link_page = serious_violations(page, js=js, open_page=open_page)

    page.get_by_role("button", name="Show my feedback").click()
    expect(page).to_have_url(FEEDBACK_URL)
    feedback_page = serious_violations(page, js=js, open_page=open_page)

    page.goto("/signin")
    signin_page = serious_violations(page, js=js, open_page=open_page)

    found = {"link page": link_page, "feedback page": feedback_page, "sign-in page": signin_page}
    report = "\n".join(f"{where}:\n{lines}" for where, lines in found.items() if lines)
    assert not report, f"axe found serious or critical problems:\n{report}"


def test_the_agencys_branded_pages_pass_axe(
    page: Page, js: bool, open_page: OpenPage, demo: Demo
) -> None:
    # The second demo organization has its own accent colour: it must keep the contrast.
    candidate = demo.take(organization=AGENCY_NAME, other_than=PRIYA_EMAIL)
    page.goto(candidate.link)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Your feedback on your {candidate.job} application is ready"
    )
    expect(page.locator(".brand")).to_have_text(AGENCY_NAME)
    link_page = serious_violations(page, js=js, open_page=open_page)
    page.get_by_role("button", name="Show my feedback").click()
    expect(page).to_have_url(FEEDBACK_URL)
    feedback_page = serious_violations(page, js=js, open_page=open_page)
    report = "\n".join(lines for lines in (link_page, feedback_page) if lines)
    assert not report, f"axe found serious or critical problems:\n{report}"


# The spent-link page answers 410 on purpose; Chromium logs that as a failed load.
EXPECTED_CONSOLE = ("Failed to load resource: the server responded with a status of 410",)


def test_no_console_errors_or_csp_violations_and_htmx_loads(
    open_page: OpenPage, candidate: DemoCandidate
) -> None:
    page = open_page(js=True)
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        relevant = message.type == "error" or "Refused to" in message.text
        if relevant and not message.text.startswith(EXPECTED_CONSOLE):
            problems.append(f"{page.url}: console {message.type}: {message.text}")

    def on_page_error(error: Error) -> None:
        problems.append(f"{page.url}: uncaught {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)

    def htmx_loaded(where: str) -> None:
        loaded: bool = page.evaluate("() => typeof window.htmx === 'object' && !!window.htmx")
        assert loaded, f"htmx did not load on {where}"

    page.goto(candidate.link)
    htmx_loaded("the link page")
    page.get_by_role("button", name="Show my feedback").click()
    expect(page).to_have_url(FEEDBACK_URL)
    htmx_loaded("the feedback page")

    page.goto("/signin")
    htmx_loaded("the sign-in page")

    spent = open_page(js=True)
    spent.on("console", on_console)
    spent.on("pageerror", on_page_error)
    page = spent
    page.goto(candidate.link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    htmx_loaded("the spent-link page")
    mark_document(page)
    page.get_by_role("button", name="Email me a new link").click()
    expect(page.get_by_role("status")).to_contain_text("we have sent a new sign-in link")
    assert still_same_document(page), "htmx did not swap in the renewal answer"

    assert not problems, "\n".join(problems)
