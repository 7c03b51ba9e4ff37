"""Nothing typed is lost, in a real browser: a candidate's question sent after their
session ended is in the box again after the emailed sign-in link (JavaScript on and
off); the feedback editor saves by itself while the recruiter types, and keeps the
draft over an ended session. Every page touched passes axe with no violations."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import (
    Demo,
    DemoCandidate,
    OpenPage,
    Screenshot,
    axe_violations,
    open_feedback,
)
from tests.browser.test_candidate_journey import mark_document, still_same_document, variant

pytestmark = pytest.mark.browser


def _end_session(page: Page, demo: Demo) -> None:
    """The browser's session has been idle for 31 minutes: past the limit."""
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "afterword_session"]
    assert demo.database is not None
    with sqlite3.connect(demo.database) as connection:
        changed = connection.execute(
            "UPDATE sessions SET last_seen_at = datetime('now', '-31 minutes') WHERE id_hash = ?",
            (hashlib.sha256(cookie["value"].encode()).digest(),),
        ).rowcount
    assert changed == 1


def _no_violations(page: Page, *, js: bool, open_page: OpenPage, where: str) -> None:
    found = axe_violations(page, js=js, open_page=open_page)
    assert not found, f"axe on {where}:\n{found}"


def test_a_question_sent_after_the_session_ended_waits_in_its_box(
    page: Page,
    js: bool,
    open_page: OpenPage,
    candidate: DemoCandidate,
    demo: Demo,
    screenshot: Screenshot,
) -> None:
    name = variant(js)
    open_feedback(page, candidate)
    question = f"Could you say more about the SQL requirement? ({name} {uuid.uuid4().hex[:6]})"
    page.locator("#body").fill(question)
    _end_session(page, demo)
    if js:
        mark_document(page)
    page.get_by_role("button", name="Send", exact=True).click()

    if js:
        # In place: the message beside the form, the question still in its box.
        notice = page.locator("#session-message")
        expect(notice).to_contain_text("We kept what you typed.")
        assert still_same_document(page), "htmx should have said so in place"
        expect(page.locator("#body")).to_have_value(question)
        expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Thank you, {candidate.first_name}"
        )
        _no_violations(page, js=js, open_page=open_page, where="the feedback page, signed out")
        screenshot(page, f"kept-question-message-{name}")
        notice.get_by_role("link", name="Get a sign-in link").click()
    else:
        expect(page.get_by_role("status")).to_contain_text("We kept what you typed.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Get a sign-in link")
    _no_violations(page, js=js, open_page=open_page, where="the sign-in page")
    screenshot(page, f"kept-question-signin-{name}")

    page.get_by_label("Your email address").fill(candidate.email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    # Any link of theirs brings the question back. The one just asked for is not waited
    # for: a candidate another test signed in within five minutes gets no second email
    # (the portal's own limit), so a link is issued as an operator would.
    page.goto(demo.fresh_link(candidate).link)
    page.get_by_role("button", name="Show my feedback").click()
    expect(page).to_have_url(re.compile(r"/feedback/\d+\?kept=1#ask$"))
    expect(page.locator("#body")).to_have_value(question)
    expect(page.locator("#ask-restored")).to_contain_text("We kept the question you typed")
    _no_violations(page, js=js, open_page=open_page, where="the feedback page, restored")
    screenshot(page, f"kept-question-restored-{name}")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#conversation")).to_contain_text(question)


def _recruiter_and_application(demo: Demo) -> tuple[dict[str, str], int]:
    """The last demo recruiter, and an application of their organization no other test
    edits (the newest)."""
    recruiter = [s for s in demo.staff if s["role"] == "recruiter"][-1]
    assert demo.database is not None
    with sqlite3.connect(demo.database) as connection:
        (application_id,) = connection.execute(
            "SELECT applications.id FROM applications JOIN staff_users"
            " ON staff_users.organization_id = applications.organization_id"
            " WHERE staff_users.email = ? ORDER BY applications.id DESC LIMIT 1",
            (recruiter["email"],),
        ).fetchone()
    return recruiter, int(application_id)


def _versions(demo: Demo, application_id: int) -> int:
    assert demo.database is not None
    with sqlite3.connect(demo.database) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM feedback WHERE application_id = ?", (application_id,)
        ).fetchone()
    return int(count)


def _staff_sign_in(page: Page, recruiter: dict[str, str]) -> None:
    page.get_by_label("Email address").fill(recruiter["email"])
    page.get_by_label("Password").fill(recruiter["password"])
    page.get_by_role("button", name="Sign in").click()


def test_the_editor_saves_by_itself_and_keeps_the_draft_over_an_ended_session(
    open_page: OpenPage, demo: Demo, screenshot: Screenshot
) -> None:
    page = open_page(js=True)
    recruiter, application_id = _recruiter_and_application(demo)
    page.goto("/staff/signin")
    _staff_sign_in(page, recruiter)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Hello {recruiter['name'].split(' ')[0]}"
    )
    editor_url = f"/staff/applications/{application_id}/feedback"
    page.goto(editor_url)
    _no_violations(page, js=True, open_page=open_page, where="the editor")
    before = _versions(demo, application_id)

    note = f"Thank you for your time and care. ({uuid.uuid4().hex[:6]})"
    page.get_by_label("Your note to the candidate").fill(note)
    status = page.locator("#autosave-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_contain_text(re.compile(r"Saved at \d\d:\d\d"), timeout=15_000)
    assert _versions(demo, application_id) == before + 1
    version = page.locator("#editor-version").get_attribute("value")
    _no_violations(page, js=True, open_page=open_page, where="the editor, autosaved")
    screenshot(page, "editor-autosaved")

    # Save draft after an autosave posts the newest version: no conflict, nothing new.
    page.get_by_role("button", name="Save draft").click()
    expect(page).to_have_url(re.compile(r"\?done=unchanged$"))
    expect(page.get_by_text("Someone else changed this")).to_have_count(0)
    expect(page.get_by_label("Your note to the candidate")).to_have_value(note)
    assert _versions(demo, application_id) == before + 1
    assert page.locator("#editor-version").get_attribute("value") == version

    # The session ends while the recruiter types: told in place, the draft kept.
    _end_session(page, demo)
    later = note + " We hope to hear from you again."
    page.get_by_label("Your note to the candidate").fill(later)
    message = page.locator("#session-message")
    expect(message).to_contain_text("We kept what you typed.", timeout=15_000)
    expect(page.get_by_label("Your note to the candidate")).to_have_value(later)
    _no_violations(page, js=True, open_page=open_page, where="the editor, signed out")
    screenshot(page, "editor-session-ended")
    message.get_by_role("link", name="Sign in again").click()
    # The editor has status lines of its own: read the sign-in page's once it is there.
    expect(page).to_have_url(re.compile(r"/staff/signin"))
    expect(page.get_by_role("status")).to_contain_text("We kept what you typed.")
    _staff_sign_in(page, recruiter)
    expect(page).to_have_url(re.compile(re.escape(editor_url) + "$"))
    expect(page.get_by_text("We restored what you typed")).to_be_visible()
    expect(page.get_by_label("Your note to the candidate")).to_have_value(later)
    _no_violations(page, js=True, open_page=open_page, where="the editor, restored")
