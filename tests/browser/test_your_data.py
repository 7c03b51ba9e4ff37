"""A candidate's data in a real browser: from the footer to the downloaded file, and the
erasure's first step, with JavaScript on and off, on a phone."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.support import PHONE, Demo, DemoCandidate, OpenPage, open_feedback

pytestmark = pytest.mark.browser

LINK = re.compile(r"https?://\S+/your-data/(?:download|erase)/[A-Za-z0-9_-]+")


def _link_in(demo: Demo, address: str, *, more_than: int) -> str:
    message = demo.wait_for_mail(address, more_than=more_than)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    match = LINK.search(str(body.get_content()))
    assert match, body.get_content()
    return match.group(0)


def test_download_everything_from_the_footer(
    open_page: OpenPage,
    js: bool,
    demo: Demo,
    candidate: DemoCandidate,
    tmp_path: Path,
) -> None:
    page = open_page(js=js, viewport=PHONE)
    open_feedback(page, candidate)
    page.get_by_role("contentinfo").get_by_role("link", name="Your data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Your data with {candidate.organization}"
    )
    before = len(demo.mail_to(candidate.email))
    page.get_by_role("button", name="Email me my data").click()
    expect(page.get_by_role("status")).to_contain_text("download link")
    link = _link_in(demo, candidate.email, more_than=before)
    page.goto(link)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download my data").click()
    path = tmp_path / "your-data.zip"
    download.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        document = json.loads(archive.read("your-data.json"))
        assert candidate.name in archive.read("your-data.html").decode()
    assert document["tables"]["candidates"][0]["email"] == candidate.email
    # Once: the same link now says so.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")


def test_erasure_asks_for_the_box_then_emails_a_link(
    open_page: OpenPage, js: bool, demo: Demo, candidate: DemoCandidate
) -> None:
    page = open_page(js=js)
    open_feedback(page, candidate)
    page.goto("/your-data")
    page.get_by_role("link", name="Erase my data…").click()
    page.get_by_role("button", name="Email me the confirmation link").click()
    expect(page.locator("#error-summary")).to_contain_text("Tick the box")
    before = len(demo.mail_to(candidate.email))
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Email me the confirmation link").click()
    expect(page.get_by_role("status")).to_contain_text("confirmation link")
    link = _link_in(demo, candidate.email, more_than=before)
    # Opening it erases nothing: its page waits for the button, which this test leaves
    # alone (other tests use this demo candidate).
    page.goto(link)
    expect(page.get_by_role("button", name="Erase my data")).to_be_visible()
    page.goto("/your-data")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your data with")
