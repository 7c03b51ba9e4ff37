"""Where keyboard focus lands after each in-place update, with JavaScript (htmx swaps)
and without (the whole page comes back): on the confirmation, or on a summary of what
to fix; and the page's live region is there from the start. The staff preview shows
the candidate's page word for word.

Leila Haddad (Harbourline) has feedback that offers the talent pool and is no demo
member; her link is issued straight into the demo's database, as test_pool does. She
joins and leaves again, so the pool is as the demo left it.
"""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import Demo, OpenPage
from tests.browser.test_candidate_journey import (
    mark_document,
    serious_violations,
    still_same_document,
)
from tests.browser.test_pool import open_own_link

pytestmark = pytest.mark.browser

LEILA = "leila.haddad@example.com"
GRACE = "grace.adeyemi@example.com"
HARBOURLINE_ADMIN = "ruth.okonkwo@harbourline.example"


def focused(page: Page) -> dict[str, str]:
    """The focused element: its id, tag and words."""
    found: dict[str, str] = page.evaluate(
        """() => { const e = document.activeElement;
                   return {id: e.id, tag: e.tagName.toLowerCase(),
                           name: e.getAttribute('name') || '',
                           text: (e.innerText || '').replace(/\\s+/g, ' ').trim()}; }"""
    )
    return found


def assert_live_region(page: Page) -> None:
    """The live region the in-place updates speak in, in the page as it loaded."""
    region = page.locator("#live-status")
    expect(region).to_have_count(1)
    # A polite live region without role=status: the page's own status messages keep
    # that role, and "the status" of a page stays the one message it shows.
    assert region.get_attribute("aria-live") == "polite"
    assert region.inner_text() == ""


def assert_swapped_in_place(page: Page, js: bool) -> None:
    if js:
        assert still_same_document(page), "htmx did not swap it in place"


def application_id(demo: Demo, address: str) -> int:
    assert demo.database is not None
    with sqlite3.connect(demo.database) as db:
        (found,) = db.execute(
            "SELECT min(applications.id) FROM applications JOIN candidates"
            " ON candidates.id = applications.candidate_id WHERE candidates.email = ?",
            (address,),
        ).fetchone()
    return int(found)


def staff_sign_in(page: Page, email: str) -> None:
    page.goto("/staff/signin")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill("afterword-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Staff")).to_be_visible()


def test_focus_after_a_question_and_its_error(open_page: OpenPage, js: bool, demo: Demo) -> None:
    page = open_page(js=js)
    open_own_link(page, demo, GRACE)
    assert_live_region(page)
    conversation = page.locator("#conversation")
    if js:
        mark_document(page)
    # An empty question: focus on the summary, which links to the field.
    conversation.get_by_role("button", name="Send").click()
    expect(page.locator("#ask-errors")).to_be_visible()
    expect(page.locator("#ask-errors")).to_be_focused()
    assert page.locator("#ask-errors a").get_attribute("href") == "#body"
    assert_swapped_in_place(page, js)
    violations = serious_violations(page, js=js, open_page=open_page)
    assert not violations, violations

    page.locator("#body").fill(f"Which course would you suggest? ({'js' if js else 'nojs'})")
    page.locator("#conversation").get_by_role("button", name="Send").click()
    expect(page.locator("#conversation-message")).to_contain_text("Your message is sent.")
    expect(page.locator("#conversation-message")).to_be_focused()
    assert "Waiting for a reply, expected by" in focused(page)["text"]
    assert_swapped_in_place(page, js)
    if js:
        expect(page.locator("#live-status")).to_contain_text("Your message is sent.")


def test_focus_after_joining_and_leaving_the_pool(
    open_page: OpenPage, js: bool, demo: Demo
) -> None:
    page = open_page(js=js)
    open_own_link(page, demo, LEILA)
    assert_live_region(page)
    panel = page.locator("#pool")
    expect(panel.get_by_role("heading", name="Talent pool")).to_be_visible()
    if js:
        mark_document(page)

    # Forgetting to agree: focus on the summary, whose link leads to the box.
    panel.get_by_role("button", name="Join the talent pool").click()
    expect(page.locator("#pool-errors")).to_be_visible()
    expect(page.locator("#pool-errors")).to_be_focused()
    links = page.locator("#pool-errors a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert "#pool-consent" in hrefs, hrefs
    for href in hrefs:
        assert href is not None
        expect(page.locator(href)).to_have_count(1)
    assert_swapped_in_place(page, js)
    violations = serious_violations(page, js=js, open_page=open_page)
    assert not violations, violations

    panel = page.locator("#pool")
    panel.get_by_label("Remote or on site").check()
    panel.get_by_label("Any role that may suit me").check()
    panel.get_by_label("At most once a quarter").check()
    panel.get_by_label("1 year").check()
    panel.get_by_label("I agree to the statement above").check()
    panel.get_by_role("button", name="Join the talent pool").click()
    expect(page.locator("#pool-message")).to_contain_text("You have joined")
    expect(page.locator("#pool-message")).to_be_focused()
    assert_swapped_in_place(page, js)

    page.locator("#pool").get_by_role("button", name="Save my preferences").click()
    expect(page.locator("#pool-message")).to_contain_text("Your preferences are saved.")
    expect(page.locator("#pool-message")).to_be_focused()

    page.locator("#pool").get_by_role("button", name="Leave the talent pool").click()
    expect(page.locator("#pool-message")).to_contain_text("You have left")
    expect(page.locator("#pool-message")).to_be_focused()
    assert_swapped_in_place(page, js)
    violations = serious_violations(page, js=js, open_page=open_page)
    assert not violations, violations


def test_focus_after_adding_a_strength_and_saving_settings(
    open_page: OpenPage, js: bool, demo: Demo
) -> None:
    page = open_page(js=js)
    staff_sign_in(page, HARBOURLINE_ADMIN)
    page.goto(f"/staff/applications/{application_id(demo, GRACE)}/feedback")
    assert_live_region(page)
    strengths = page.locator("textarea[name$='-body'][name^='strengths-']")
    before = strengths.count()
    if js:
        mark_document(page)
    page.get_by_role("button", name="Add a strength").click()
    expect(strengths).to_have_count(before + 1)
    expect(strengths.last).to_be_focused()
    now = focused(page)
    assert (now["tag"], now["name"]) == ("textarea", f"strengths-{before}-body"), now
    assert_swapped_in_place(page, js)
    page.get_by_role("button", name="Add a growth area").click()
    expect(page.locator("textarea[name^='growth_areas-'][name$='-body']").last).to_be_focused()
    violations = serious_violations(page, js=js, open_page=open_page)
    assert not violations, violations

    page.goto("/staff/settings")
    assert_live_region(page)
    page.get_by_label("Accent colour").fill("nope")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#settings-errors")).to_be_visible()
    expect(page.locator("#settings-errors")).to_be_focused()
    assert page.locator("#settings-errors a").first.get_attribute("href") == "#accent_colour"
    violations = serious_violations(page, js=js, open_page=open_page)
    assert not violations, violations
    page.get_by_label("Accent colour").fill("#0b3d5c")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#settings-message")).to_have_text("Settings saved.")
    expect(page.locator("#settings-message")).to_be_focused()


def test_the_preview_shows_the_candidates_page_word_for_word(
    open_page: OpenPage, demo: Demo
) -> None:
    candidate = open_page(js=True)
    open_own_link(candidate, demo, LEILA)
    staff = open_page(js=True)
    staff_sign_in(staff, HARBOURLINE_ADMIN)
    staff.goto(f"/staff/applications/{application_id(demo, LEILA)}/preview")
    expect(staff.locator(".preview-banner")).to_contain_text("Preview")
    # The candidate's page as they read it; the preview's main less its banner.
    theirs = candidate.locator("main").inner_text()
    shown = staff.evaluate(
        """() => { const main = document.querySelector('main').cloneNode(true);
                   main.querySelector('.preview-banner').remove();
                   document.body.appendChild(main);
                   const words = main.innerText; main.remove(); return words; }"""
    )
    assert " ".join(shown.split()) == " ".join(theirs.split())
    expect(staff.locator("#pool")).to_be_visible()
    expect(staff.locator("#ask")).to_be_visible()
    # There to read, not to use.
    assert staff.locator("#pool").evaluate("e => e.closest('[inert]') !== null")
    assert staff.locator("#ask").evaluate("e => e.closest('[inert]') !== null")
    violations = serious_violations(staff, js=True, open_page=open_page)
    assert not violations, violations
