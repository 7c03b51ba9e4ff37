"""The staff import page in a real browser: template, check, import; JS on and off, a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from portal.imports.forms import EXAMPLE_EMAIL
from tests.browser import test_staff_entrance
from tests.browser.support import PHONE, OpenPage, Screenshot, assert_no_horizontal_scroll
from tests.browser.test_candidate_journey import serious_violations
from tests.browser.test_staff_entrance import PASSWORD

pytestmark = pytest.mark.browser
# A fresh staff account of the demo's first organization, as for the staff entrance.
staff_email = test_staff_entrance.staff_email


def _sign_in(page: Page, email: str) -> None:
    page.goto("/staff/signin")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def test_a_recruiter_imports_a_template_and_reads_the_problems_of_a_bad_file(
    page: Page,
    js: bool,
    open_page: OpenPage,
    staff_email: str,
    screenshot: Screenshot,
) -> None:
    _sign_in(page, staff_email)
    page.get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import feedback from a CSV")
    form_problems = serious_violations(page, js=js, open_page=open_page)
    screenshot(page, f"import-form-{'js' if js else 'nojs'}")

    template_link = page.get_by_role("link", name=re.compile(r"^Template for ")).first
    href = template_link.get_attribute("href")
    assert href
    template = page.request.get(href)
    assert template.ok and template.headers["content-type"].startswith("text/csv")
    email = f"import-{'js' if js else 'nojs'}@example.com"
    # The template's example row is refused as it is: written over, it imports.
    body = template.text().replace(EXAMPLE_EMAIL, email)

    page.get_by_label("CSV file").set_input_files(
        {"name": "from-ats.csv", "mimeType": "text/csv", "buffer": body.encode()}
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("from-ats.csv")
    expect(page.locator("main")).to_contain_text("Every row passed its check")
    ready_problems = serious_violations(page, js=js, open_page=open_page)
    screenshot(page, f"import-ready-{'js' if js else 'nojs'}")
    page.get_by_role("button", name="Import as drafts").click()
    expect(page.get_by_role("status")).to_contain_text("Imported")

    bad = body.replace(email, "not-an-address") + body.splitlines()[1].replace(email, "x") + "\n"
    page.get_by_role("link", name="Import another file").click()
    page.get_by_label("CSV file").set_input_files(
        {"name": "broken.csv", "mimeType": "text/csv", "buffer": bad.encode()}
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("alert")).to_contain_text("nothing can be imported")
    expect(page.get_by_role("table")).to_contain_text("is not an email address")
    problems_page = serious_violations(page, js=js, open_page=open_page)
    screenshot(page, f"import-problems-{'js' if js else 'nojs'}")

    found = {"form": form_problems, "ready": ready_problems, "problems": problems_page}
    report = "\n".join(f"{where}:\n{lines}" for where, lines in found.items() if lines)
    assert not report, f"axe found serious or critical problems:\n{report}"


def test_the_import_page_fits_a_phone(
    open_page: OpenPage,
    staff_email: str,
    screenshot: Screenshot,
) -> None:
    page = open_page(js=False, viewport=PHONE)
    _sign_in(page, staff_email)
    page.goto("/staff/import")
    assert_no_horizontal_scroll(page, "the import page")
    screenshot(page, "import-form-phone")
    page.get_by_label("CSV file").set_input_files(
        {"name": "odd.csv", "mimeType": "text/csv", "buffer": b"email,colour\nx,y\n"}
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("table")).to_contain_text("Unknown column")
    assert_no_horizontal_scroll(page, "the import result page")
    screenshot(page, "import-problems-phone")
