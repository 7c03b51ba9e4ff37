"""The recruiter's journey in a real browser, with JavaScript on (htmx) and off: sign in,
find an application, write feedback, see a risky finding highlighted, fix it, preview,
publish; the candidate's emailed link then shows it. axe on every staff page."""

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
    crawl_staff_pages,
    page_kind,
    sign_in_as_admin,
)

pytestmark = pytest.mark.browser

RISKY = "We felt you would be a better culture fit elsewhere."
SAFE = "Your system design answer did not yet cover how the service recovers from failure."
NOTE = "Thank you for the time you gave us; we enjoyed meeting you."


def violations(page: Page, *, js: bool, open_page: OpenPage) -> str:
    """Every axe-core violation on the page, whatever its impact."""
    return axe_violations(page, js=js, open_page=open_page)


def sign_in(page: Page, demo: Demo, *, which: int) -> None:
    recruiters = [s for s in demo.staff if s["role"] == "recruiter"]
    account = recruiters[which % len(recruiters)]
    page.goto("/staff/signin")
    page.get_by_label("Email address").fill(account["email"])
    page.get_by_label("Password").fill(account["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Hello {account['name'].split(' ')[0]}"
    )


def test_recruiter_writes_checks_previews_and_publishes(
    page: Page, js: bool, demo: Demo, open_page: OpenPage, screenshot: Screenshot
) -> None:
    variant = "js" if js else "nojs"
    problems: dict[str, str] = {}
    sign_in(page, demo, which=0 if js else 1)
    problems["home"] = violations(page, js=js, open_page=open_page)

    page.get_by_role("link", name="Applications", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Applications")
    page.get_by_label("Feedback", exact=True).select_option("none")
    if not js:
        page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"feedback=none"))
    expect(page.locator("#results .state--none").first).to_be_visible()
    expect(page.locator("#results .state--draft")).to_have_count(0)
    screenshot(page, f"staff-applications-{variant}")
    problems["applications"] = violations(page, js=js, open_page=open_page)

    page.locator("#results th[scope=row] a").first.click()
    expect(page.get_by_role("heading", level=2, name="Feedback")).to_be_visible()
    candidate_email = page.locator("dl.account dd").first.inner_text().strip()
    problems["application"] = violations(page, js=js, open_page=open_page)

    page.get_by_role("link", name="Write feedback").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Feedback for")
    problems["editor"] = violations(page, js=js, open_page=open_page)

    page.get_by_label("Your note to the candidate").fill(NOTE)
    page.get_by_label("Rating").first.select_option("met")
    page.get_by_label("Evidence").first.fill("Your answers were precise and well argued.")
    page.get_by_role("button", name="Add a strength").click()
    page.get_by_label("What was strong").first.fill("Clear explanations of trade-offs.")
    # Typed key by key, as a person does (the live check listens to keyup).
    page.get_by_label("Decision summary").press_sequentially(RISKY)
    if not js:
        page.get_by_role("button", name="Check", exact=True).click()
    # With htmx the check runs as the recruiter types; without, on the Check button.
    highlight = page.locator("#check-decision_summary mark")
    expect(highlight).to_have_text("culture fit", timeout=15_000)
    expect(page.locator("#check-decision_summary")).to_contain_text("name the behaviour")
    screenshot(page, f"staff-editor-risky-{variant}")
    problems["editor with findings"] = violations(page, js=js, open_page=open_page) if js else ""

    page.get_by_label("Decision summary").fill("")
    page.get_by_label("Decision summary").press_sequentially(SAFE)
    if js:
        expect(highlight).to_have_count(0, timeout=15_000)
    page.get_by_role("button", name="Save and preview").click()
    expect(page.get_by_role("heading", level=2, name=re.compile("^Preview: what"))).to_be_visible()
    expect(page.locator("article.feedback")).to_contain_text(SAFE)
    expect(page.locator("article.feedback")).to_contain_text("Clear explanations of trade-offs.")
    screenshot(page, f"staff-preview-{variant}")
    problems["preview"] = violations(page, js=js, open_page=open_page)

    mails_before = len(demo.mail_to(candidate_email))
    page.get_by_role("button", name=re.compile("^Publish version")).click()
    expect(page.get_by_role("status")).to_contain_text("Published.")
    problems["application after publishing"] = violations(page, js=js, open_page=open_page)

    message = demo.wait_for_mail(candidate_email, more_than=mails_before, timeout=30)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    link = re.search(re.escape(demo.url("/l/")) + r"[A-Za-z0-9_-]+", body.get_content())
    assert link, body.get_content()
    candidate = open_page(js=js)
    candidate.goto(link.group(0))
    candidate.get_by_role("button", name="Show my feedback").click()
    expect(candidate.locator("p.decision")).to_have_text(SAFE)

    report = "\n".join(f"{where}:\n{lines}" for where, lines in problems.items() if lines)
    assert not report, f"axe found problems:\n{report}"


def test_staff_workspace_fits_a_phone(open_page: OpenPage, demo: Demo) -> None:
    page = open_page(js=False, viewport=PHONE)
    sign_in(page, demo, which=2)
    page.goto("/staff/applications")
    assert_no_horizontal_scroll(page, "the applications list")
    page.locator("#results th[scope=row] a").first.click()
    page.wait_for_url(re.compile(r"/staff/applications/[^/?]+$"))
    assert_no_horizontal_scroll(page, "an application")
    page.goto(page.url + "/feedback")
    assert_no_horizontal_scroll(page, "the feedback editor")


def test_every_staff_page_has_no_axe_violations(open_page: OpenPage, demo: Demo) -> None:
    """An admin sees every staff page there is: follow each link within /staff/ from
    the home page (one page of each kind) and run axe on each, every impact counted."""
    page = open_page(js=True)
    sign_in_as_admin(page, demo)
    problems: dict[str, str] = {}

    def check(path: str) -> None:
        found = violations(page, js=True, open_page=open_page)
        if found:
            problems[path] = found

    visited = crawl_staff_pages(page, check)
    kinds = {page_kind(path) for path in visited}
    # Every kind of staff page an admin reaches by links, not just a few.
    for expected in (
        "/staff/applications",
        "/staff/applications/N",
        "/staff/applications/N/feedback",
        "/staff/queue",
        "/staff/saved-answers",
        "/staff/people",
        "/staff/people/N",
        "/staff/audit",
        "/staff/settings",
        "/staff/pool",
        "/staff/pool/settings",
        "/staff/import",
        "/staff/profile",
        "/staff/jobs",
        "/staff/jobs/N",
        "/staff/jobs/N/edit",
        "/staff/jobs/N/requirements/N",
        "/staff/jobs/N/delete",
        "/staff/jobs/library",
    ):
        assert expected in kinds, (expected, sorted(kinds))
    report = "\n".join(f"{where}:\n{lines}" for where, lines in problems.items())
    assert not report, f"axe found problems:\n{report}"
