"""The job pages in a real browser, with JavaScript on and off: create a job, list its
requirements, reorder one, remove it and undo, save one to the library and add it
to another job; axe on every page, and the job's page on a phone."""

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
)

pytestmark = pytest.mark.browser


def _sign_in(page: Page, demo: Demo, role: str) -> None:
    account = next(s for s in demo.staff if s["role"] == role)
    page.goto("/staff/signin")
    page.get_by_label("Email address").fill(account["email"])
    page.get_by_label("Password").fill(account["password"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def _requirements(page: Page) -> list[str]:
    return [name.strip() for name in page.locator(".requirement-list .req-name").all_inner_texts()]


def test_a_recruiter_sets_up_a_job_and_its_requirements(
    page: Page, js: bool, demo: Demo, open_page: OpenPage, screenshot: Screenshot
) -> None:
    variant = "js" if js else "nojs"
    problems: dict[str, str] = {}

    def check(where: str) -> None:
        found = axe_violations(page, js=js, open_page=open_page)
        if found:
            problems[where] = found

    _sign_in(page, demo, "recruiter")
    page.get_by_role("link", name="Jobs", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jobs")
    check("jobs")

    page.get_by_role("link", name="Create a job").click()
    page.get_by_role("button", name="Create job").click()
    expect(page.locator("#title-error")).to_contain_text("Enter the job's title")
    page.get_by_label("Job posting (web address)").fill("http://example.com/jobs/1")
    page.get_by_role("button", name="Create job").click()
    check("job form with errors")
    title = f"Browser job {variant}"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Team", exact=True).fill("Platform")
    page.get_by_label("Job posting (web address)").fill("https://example.com/jobs/1")
    page.get_by_role("button", name="Create job").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("status")).to_contain_text("Job created")

    # Names of this run's own: the demo's library is shared by both runs.
    linux, networking, go = (f"{name} {variant}" for name in ("Linux", "Networking", "Go"))
    for name in (linux, networking, go):
        page.get_by_label("Short name").fill(name)
        page.get_by_label("What it means").fill(f"Works with {name} every day")
        page.get_by_role("button", name="Add requirement").click()
        expect(page.get_by_role("status")).to_contain_text("Requirement added")
    assert _requirements(page) == [linux, networking, go]
    screenshot(page, f"staff-job-{variant}")
    check("job")

    page.get_by_role("button", name=f"Move up {go}").click()
    expect(page.get_by_role("status")).to_contain_text("Requirement moved")
    assert _requirements(page) == [linux, go, networking]

    page.get_by_role("button", name=f"Remove {networking}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Removed “{networking}”")
    assert _requirements(page) == [linux, go]
    check("job after a removal")
    page.get_by_role("button", name=re.compile("^Undo")).click()
    expect(page.get_by_role("status")).to_contain_text("Requirement restored")
    assert _requirements(page) == [linux, go, networking]

    page.get_by_role("link", name=f"Edit {linux}").click()
    page.wait_for_url(re.compile(r"/requirements/\d+"))
    check("requirement")
    page.get_by_label("Short name").fill(f"{linux} administration")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Requirement saved")

    page.get_by_role("button", name=f"Save to library {go}").click()
    expect(page.get_by_role("status")).to_contain_text("Saved to the requirement library")
    page.get_by_role("link", name="Edit details").click()
    page.wait_for_url(re.compile(r"/staff/jobs/\d+/edit$"))
    check("job details")
    page.get_by_role("link", name=f"Back to {title}").click()

    page.get_by_role("link", name="Open the requirement library").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Requirement library")
    check("library")
    page.get_by_role("link", name=go, exact=True).click()
    check("library requirement")

    page.goto("/staff/jobs/new")
    page.get_by_label("Title").fill(f"Second job {variant}")
    page.get_by_role("button", name="Create job").click()
    page.get_by_label("Library requirement").select_option(label=go)
    page.get_by_role("button", name="Add to this job").click()
    page.get_by_label("Job to copy from").select_option(label=title)
    page.get_by_role("button", name="Copy all its requirements").click()
    expect(page.get_by_role("status")).to_contain_text("Requirements copied")
    assert _requirements(page) == [go, f"{linux} administration", networking]

    page.get_by_role("button", name="Archive this job").click()
    expect(page.get_by_role("status")).to_contain_text("Job archived")
    page.goto("/staff/jobs?show=archived")
    expect(page.get_by_role("link", name=f"Second job {variant}")).to_be_visible()
    check("archived jobs")

    report = "\n".join(f"{where}:\n{lines}" for where, lines in problems.items())
    assert not report, f"axe found problems:\n{report}"


def test_an_admin_deletes_a_job_after_confirming(open_page: OpenPage, demo: Demo) -> None:
    page = open_page(js=False, viewport=PHONE)
    _sign_in(page, demo, "admin")
    page.goto("/staff/jobs/new")
    page.get_by_label("Title").fill("Job to delete")
    page.get_by_role("button", name="Create job").click()
    page.get_by_label("Short name").fill("A requirement with a rather long name to wrap")
    page.get_by_role("button", name="Add requirement").click()
    expect(page.get_by_role("status")).to_have_text("Requirement added.")
    assert_no_horizontal_scroll(page, "a job's page")
    page.get_by_role("link", name="Delete this job…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete “Job to delete”?")
    assert_no_horizontal_scroll(page, "the confirmation")
    found = axe_violations(page, js=False, open_page=open_page)
    assert not found, found
    page.get_by_role("button", name="Delete the job").click()
    expect(page.get_by_role("status")).to_have_text("Job deleted.")
    page.goto("/staff/jobs")
    assert_no_horizontal_scroll(page, "the job list")
    expect(page.get_by_role("link", name="Job to delete")).to_have_count(0)
