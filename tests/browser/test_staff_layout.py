"""The staff workspace's layout on every staff page an admin reaches by links: on a 1280 px
screen the pages use the width, the navigation is one row and no email address, badge or
date breaks over two lines; on a 390 px phone no page scrolls sideways (tables stack)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.support import (
    DESKTOP,
    PHONE,
    Demo,
    OpenPage,
    Screenshot,
    crawl_staff_pages,
    page_kind,
    sign_in_as_admin,
)

pytestmark = pytest.mark.browser

# Each piece of text in <main> that must stay on one line: every email address in a table
# cell, a definition or a list item (running prose may break one at its hyphen), and the
# whole text of a date, badge or state. The text of each is measured as a DOM Range: one
# that wraps has client rectangles on more than one line.
WRAPPED_TEXT = """() => {
  const email = /[^\\s@<>()",;:]+@[^\\s@<>()",;:]+\\.[a-z]{2,}/gi;
  const whole = "time, .badge, .state, .rating, .flag, .tag, .count, .overdue";
  const lines = range => new Set(
    [...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))
  ).size;
  const found = [];
  for (const element of document.querySelectorAll(`main :is(${whole})`)) {
    const range = document.createRange();
    range.selectNodeContents(element);
    if (element.offsetParent !== null && lines(range) > 1) {
      const name = `${element.tagName.toLowerCase()}.${element.className}`;
      found.push(`${name}: ${element.textContent.trim()}`);
    }
  }
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.closest("td, th, dd, li")) continue;
    if (node.parentElement.closest("p, pre, .email-preview, details:not([open])")) continue;
    for (const match of node.data.matchAll(email)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      if (lines(range) > 1) found.push(`address: ${match[0]}`);
    }
  }
  return found;
}"""

# The staff navigation is one row when every item overlaps every other vertically.
NAV_ROWS = """() => {
  const items = [...document.querySelectorAll(".staff-nav li")]
    .map(li => li.getBoundingClientRect());
  if (!items.length) return 0;
  const top = Math.max(...items.map(r => r.top)), bottom = Math.min(...items.map(r => r.bottom));
  return top < bottom ? 1 : 2;
}"""

SIDEWAYS = """() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"""


def _name(path: str) -> str:
    return page_kind(path).strip("/").replace("/", "-") or "staff"


def test_staff_pages_use_the_screen_and_fit_a_phone(
    open_page: OpenPage, demo: Demo, screenshot: Screenshot
) -> None:
    page = open_page(js=True, viewport=DESKTOP)
    sign_in_as_admin(page, demo)
    wrapped: dict[str, list[str]] = {}
    nav_rows: dict[str, int] = {}
    sideways: dict[str, Any] = {}
    widths: dict[str, int] = {}

    def check(path: str) -> None:
        page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
        if found := page.evaluate(WRAPPED_TEXT):
            wrapped[path] = found
        # The preview is the candidate's page, in the candidate's reading column and
        # without the staff navigation: only its sideways scroll on a phone is checked.
        preview = path.endswith("/preview")
        if (rows := page.evaluate(NAV_ROWS)) != 1 and not preview:
            nav_rows[path] = rows
        if not preview:
            widths[path] = page.evaluate("() => document.querySelector('main').clientWidth")
        screenshot(page, f"layout-1280-{_name(path)}")
        page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        scroll_width, client_width = page.evaluate(SIDEWAYS)
        if scroll_width > client_width:
            sideways[path] = f"{scroll_width}px wide in {client_width}px"
        screenshot(page, f"layout-390-{_name(path)}")
        page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})

    visited = crawl_staff_pages(page, check)
    assert len(visited) > 15, visited
    assert not wrapped, f"text that breaks over two lines at 1280px: {wrapped}"
    assert not nav_rows, f"the staff navigation takes more than one row at 1280px: {nav_rows}"
    assert not sideways, f"pages that scroll sideways at 390px: {sideways}"
    # The workspace uses the screen: no staff page in a narrow reading column.
    narrow = {path: width for path, width in widths.items() if width < 1100}
    assert not narrow, f"staff pages narrower than the screen at 1280px: {narrow}"


def test_the_sign_in_page_keeps_a_reading_width(page: Page) -> None:
    """Forms and text stay at a reading width on the wide staff layout."""
    page.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    page.goto("/staff/signin")
    width = page.get_by_label("Email address").evaluate("e => e.getBoundingClientRect().width")
    assert width < 800, width
