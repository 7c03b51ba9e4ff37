"""The candidate's first five minutes in a real browser, JavaScript on and off: opening the
link again, signing out and coming back, a 404 while signed in, asking for a sign-in link,
the focus ring on the organization's colour; axe finds nothing on any of these pages.

Run: PORTAL_REQUIRE_BROWSER=1 .venv/bin/pytest tests/browser/test_journey.py
(PORTAL_SCREENSHOT_DIR=dir saves screenshots)
"""

from __future__ import annotations

import hashlib
import re
import sqlite3

import pytest
from playwright.sync_api import Page, expect

from portal.demo.content import DEMO_STAFF_PASSWORD
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

NORTHWIND = "Northwind Analytics"
LIVE_MARK = "window.__afterwordLiveRegion"


def variant(js: bool, viewport: tuple[int, int] | None = None) -> str:
    return ("js" if js else "nojs") + ("-phone" if viewport == PHONE else "")


@pytest.fixture
def someone(demo: Demo) -> DemoCandidate:
    """A fresh link of a Northwind candidate with one application."""
    base = next(
        c for c in demo.candidates if c.organization == NORTHWIND and c.email != PRIYA_EMAIL
    )
    return demo.fresh_link(base)


def assert_axe_clean(page: Page, *, js: bool, open_page: OpenPage, where: str) -> None:
    found = axe_violations(page, js=js, open_page=open_page)
    assert not found, f"axe found problems on {where}:\n{found}"


def test_second_open_of_a_used_link_without_a_session(
    page: Page, js: bool, open_page: OpenPage, someone: DemoCandidate, screenshot: Screenshot
) -> None:
    open_feedback(open_page(js=js), someone)  # used in another browser

    response = page.goto(someone.link)

    assert response is not None and response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    expect(page.get_by_role("button", name="Show my feedback")).to_have_count(0)
    expect(page.locator(".brand")).to_have_text(someone.organization)
    assert_axe_clean(page, js=js, open_page=open_page, where="the spent-link page")
    screenshot(page, f"journey-spent-{variant(js)}")

    page.get_by_role("button", name="Email me a new link").click()
    expect(page.get_by_role("status")).to_contain_text("we have sent a new sign-in link")
    assert_axe_clean(page, js=js, open_page=open_page, where="the renewed spent-link page")


def test_second_open_of_a_used_link_with_a_session(
    page: Page, js: bool, someone: DemoCandidate
) -> None:
    open_feedback(page, someone)
    page.goto("/signin")

    page.goto(someone.link)

    expect(page).to_have_url(FEEDBACK_URL)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Thank you, {someone.first_name}")


def test_sign_out_then_back(
    page: Page, js: bool, open_page: OpenPage, someone: DemoCandidate, screenshot: Screenshot
) -> None:
    open_feedback(page, someone)

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/signin\?signed_out=1$"))
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    expect(page.locator(".brand")).to_have_text(someone.organization)
    assert_axe_clean(page, js=js, open_page=open_page, where="the signed-out page")
    screenshot(page, f"journey-signed-out-{variant(js)}")

    page.go_back()

    expect(page.get_by_role("heading", level=1)).to_have_text("Get a sign-in link")
    expect(page.get_by_role("status")).to_contain_text("Please sign in to see your feedback")
    expect(page.get_by_text("signed out after")).to_have_count(0)
    expect(page.get_by_text(f"Thank you, {someone.first_name}")).to_have_count(0)
    expect(page.locator(".brand")).to_have_text(someone.organization)
    assert_axe_clean(page, js=js, open_page=open_page, where="the sign-in page after going back")


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_not_found_while_signed_in(
    open_page: OpenPage,
    js: bool,
    viewport: tuple[int, int] | None,
    someone: DemoCandidate,
    screenshot: Screenshot,
) -> None:
    page = open_page(js=js, viewport=viewport) if viewport else open_page(js=js)
    open_feedback(page, someone)

    response = page.goto("/no-such-page")

    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator(".brand")).to_have_text(someone.organization)
    nav = page.get_by_role("navigation", name="Your account")
    expect(nav.get_by_role("link", name="Your feedback")).to_be_visible()
    expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
    assert_no_horizontal_scroll(page, "the 404 page")
    assert_axe_clean(page, js=js, open_page=open_page, where="the 404 page, signed in")
    screenshot(page, f"journey-404-{variant(js, viewport)}")

    nav.get_by_role("link", name="Your feedback").click()
    expect(page).to_have_url(FEEDBACK_URL)
    # The start page sends a signed-in candidate to their feedback too.
    page.goto("/")
    expect(page).to_have_url(FEEDBACK_URL)


def test_signed_out_after_inactivity_is_said_to_who_was_signed_in(
    page: Page, js: bool, demo: Demo, someone: DemoCandidate
) -> None:
    open_feedback(page, someone)
    feedback_url = page.url
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "afterword_session"]
    assert demo.database is not None
    with sqlite3.connect(demo.database) as connection:
        changed = connection.execute(
            "UPDATE sessions SET last_seen_at = datetime('now', '-31 minutes') WHERE id_hash = ?",
            (hashlib.sha256(cookie["value"].encode()).digest(),),
        ).rowcount
    assert changed == 1

    page.goto(feedback_url)

    expect(page.get_by_role("status")).to_contain_text("you were signed out after 30 minutes")
    expect(page.locator(".brand")).to_have_text(someone.organization)
    page.reload()
    expect(page.get_by_role("status")).to_contain_text("Please sign in to see your feedback")
    expect(page.get_by_text("signed out after")).to_have_count(0)


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_sign_in_states_and_focus(
    open_page: OpenPage, js: bool, viewport: tuple[int, int] | None, screenshot: Screenshot
) -> None:
    page = open_page(js=js, viewport=viewport) if viewport else open_page(js=js)
    address = f"newcomer-{variant(js, viewport)}@example.com"
    page.goto("/signin")
    live = page.locator("#signin-status")
    expect(live).to_have_attribute("role", "status")
    if js:
        page.evaluate(f"() => {{ {LIVE_MARK} = document.getElementById('signin-status'); }}")

    page.get_by_label("Your email address").fill(address)
    page.get_by_role("button", name="Email me a link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_role("status")).to_contain_text(address)
    expect(page.locator("#signin-notice")).to_be_focused()
    if js:
        same: bool = page.evaluate(
            f"() => {LIVE_MARK} === document.getElementById('signin-status')"
        )
        assert same, "the live region should be the one there since the page loaded"
    assert_no_horizontal_scroll(page, "the sign-in page")
    assert_axe_clean(page, js=js, open_page=open_page, where="'Check your email'")
    screenshot(page, f"journey-check-email-{variant(js, viewport)}")

    page.get_by_role("link", name="Send the link again").click()
    expect(page.get_by_label("Your email address")).to_have_value(address)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")

    page.get_by_role("link", name="Use a different address").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Get a sign-in link")
    expect(page.get_by_label("Your email address")).to_have_value("")
    assert_axe_clean(page, js=js, open_page=open_page, where="the sign-in page")


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _rgb(css: str) -> tuple[float, float, float]:
    r, g, b = (float(v) for v in re.findall(r"[\d.]+", css)[:3])
    return r, g, b


def test_the_header_focus_ring_shows_on_the_accent(
    page: Page, js: bool, someone: DemoCandidate
) -> None:
    open_feedback(page, someone)
    button = page.get_by_role("button", name="Sign out")
    for _ in range(6):
        page.keyboard.press("Tab")
        if button.evaluate("element => element === document.activeElement"):
            break
    expect(button).to_be_focused()

    ring, style, width, header = button.evaluate(
        """element => {
            const own = getComputedStyle(element);
            const bar = getComputedStyle(element.closest('.site-header'));
            return [own.outlineColor, own.outlineStyle, own.outlineWidth, bar.backgroundColor];
        }"""
    )
    assert style != "none" and float(width.removesuffix("px")) >= 2, (style, width)
    lighter, darker = sorted((_luminance(_rgb(ring)), _luminance(_rgb(header))), reverse=True)
    ratio = (lighter + 0.05) / (darker + 0.05)
    assert ratio >= 3, f"the focus ring ({ring}) shows {ratio:.2f}:1 on the header ({header})"


AGENCY_ADMIN = "ruth.okonkwo@harbourline.example"
AGENCY_ACCENT = "#0f5c55"


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_an_accent_colour_too_light_for_white_text_is_refused(
    open_page: OpenPage, js: bool, viewport: tuple[int, int] | None, screenshot: Screenshot
) -> None:
    page = open_page(js=js, viewport=viewport) if viewport else open_page(js=js)
    page.goto("/staff/signin")
    page.get_by_label("Email address").fill(AGENCY_ADMIN)
    page.get_by_label("Password").fill(DEMO_STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organization settings")
    assert_axe_clean(page, js=js, open_page=open_page, where="the settings page")

    colour = page.get_by_label("Accent colour")
    colour.fill("#7fd1c8")
    page.get_by_role("button", name="Save settings").click()

    error = page.locator("#accent_colour-error")
    expect(error).to_contain_text("White text on #7fd1c8 is too faint to read")
    expect(error).to_contain_text("at least 4.5:1")
    expect(error).to_contain_text("Choose a darker colour, such as #")
    colour = page.get_by_label("Accent colour")
    expect(colour).to_have_value("#7fd1c8")
    expect(colour).to_have_attribute("aria-invalid", "true")
    # Focus on the summary of what to fix; its link leads to the field.
    expect(page.locator("#settings-errors")).to_be_focused()
    page.locator("#settings-errors").get_by_role("link", name="Accent colour").click()
    expect(colour).to_be_focused()
    assert_no_horizontal_scroll(page, "the settings page")
    assert_axe_clean(page, js=js, open_page=open_page, where="the refused settings")
    screenshot(page, f"journey-accent-refused-{variant(js, viewport)}")

    # Back to the organization's own colour (the demo is shared): saved, nothing changed.
    colour.fill(AGENCY_ACCENT)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Settings saved.")
