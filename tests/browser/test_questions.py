"""A question and its answer in a real browser: the candidate asks (JavaScript on and off),
a recruiter answers from the queue, the candidate reads the answer and gets the email."""

from __future__ import annotations

import re
import sqlite3
import uuid

import pytest
from playwright.sync_api import Page, expect

from portal.staff.passwords import hash_password
from tests.browser.support import (
    PHONE,
    Demo,
    DemoCandidate,
    OpenPage,
    Screenshot,
    assert_no_horizontal_scroll,
    open_feedback,
)
from tests.browser.test_candidate_journey import (
    mark_document,
    serious_violations,
    still_same_document,
    variant,
)

pytestmark = pytest.mark.browser
PASSWORD = "a long and memorable passphrase"


def _recruiter_of(demo: Demo, candidate: DemoCandidate) -> str:
    """A fresh recruiter account in the candidate's organization."""
    assert demo.database is not None
    address = f"recruiter-{uuid.uuid4().hex[:8]}@example.com"
    with sqlite3.connect(demo.database) as db:
        (organization_id,) = db.execute(
            "SELECT organization_id FROM candidates WHERE email = ? LIMIT 1", (candidate.email,)
        ).fetchone()
        db.execute(
            "INSERT INTO staff_users (organization_id, email, name, role, password_hash, active,"
            " created_at) VALUES (?, ?, 'Robin Reply', 'recruiter', ?, 1, CURRENT_TIMESTAMP)",
            (organization_id, address, hash_password(PASSWORD)),
        )
    return address


def test_a_question_is_answered_from_the_queue(
    page: Page,
    js: bool,
    open_page: OpenPage,
    candidate: DemoCandidate,
    demo: Demo,
    screenshot: Screenshot,
) -> None:
    name = variant(js)
    open_feedback(page, candidate)
    question = f"What exactly did my answer lack? ({name} {uuid.uuid4().hex[:6]})"
    box = page.locator("#body")
    box.fill("")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#body-error")).to_have_text("Write your message first.")
    if js:
        box = page.locator("#body")
        box.fill(question)
        expect(page.locator("#body-counter")).to_contain_text("characters left")
        mark_document(page)
    else:
        page.locator("#body").fill(question)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#conversation")).to_contain_text(question)
    expect(page.locator("#conversation")).to_contain_text("Waiting for a reply, expected by")
    if js:
        assert still_same_document(page), "htmx should have swapped the conversation in place"
    asked_problems = serious_violations(page, js=js, open_page=open_page)
    screenshot(page, f"question-asked-{name}")
    mails_before = len(demo.mail_to(candidate.email))

    staff = open_page(js=js)
    staff.goto("/staff/signin")
    staff.get_by_label("Email address").fill(_recruiter_of(demo, candidate))
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Sign in").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Hello Robin")
    staff.get_by_role("link", name=re.compile(r"^Queue")).first.click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Queue")
    queue_problems = serious_violations(staff, js=js, open_page=open_page)
    screenshot(staff, f"queue-{name}")
    staff.get_by_role("link", name=candidate.name).first.click()
    expect(staff.locator(".messages").first).to_contain_text(question)
    thread_problems = serious_violations(staff, js=js, open_page=open_page)
    screenshot(staff, f"thread-{name}")
    answer = f"Thank you for asking. The gap was query tuning ({name})."
    staff.get_by_label("Your reply").fill(answer)
    staff.get_by_role("button", name="Send reply").click()
    expect(staff.get_by_role("status")).to_contain_text("Reply sent")

    page.reload()
    expect(page.locator("#conversation")).to_contain_text(answer)
    expect(page.locator("#conversation")).not_to_contain_text("Waiting for a reply")
    screenshot(page, f"question-answered-{name}")
    mail = demo.wait_for_mail(candidate.email, more_than=mails_before)
    assert str(mail["Subject"]).startswith("Your question has a reply")

    phone = open_page(js=js, viewport=PHONE)
    phone.context.add_cookies(staff.context.cookies())  # type: ignore[arg-type]
    phone.goto(staff.url.split("?")[0])
    assert_no_horizontal_scroll(phone, "the thread page")
    screenshot(phone, f"thread-phone-{name}")

    found = {"asked": asked_problems, "queue": queue_problems, "thread": thread_problems}
    report = "\n".join(f"{where}:\n{lines}" for where, lines in found.items() if lines)
    assert not report, f"axe found serious or critical problems:\n{report}"
