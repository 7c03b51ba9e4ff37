"""The HTML check itself: vnu.jar finds a real error, and lets the documented exceptions by."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.htmlcheck import HtmlCollector, run_check

pytestmark = pytest.mark.browser

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>t</title></head>
<body><main>
<form hx-post="/x" hx-target="#x"><label for="d">Day</label>
<input type="date" id="d" name="d"{extra}></form>
<table role="table"><thead role="rowgroup"><tr role="row"><th role="columnheader">A</th></tr>
</thead><tbody role="rowgroup"><tr role="row"><td role="cell">1</td></tr></tbody></table>
<p><time datetime="{when}">5 December</time></p>
</main></body></html>"""


def test_htmx_attributes_and_table_roles_pass(tmp_path: Path) -> None:
    collector = HtmlCollector(pages={"http://x/ok": [PAGE.format(extra="", when="2026-12-05")]})
    report = run_check(collector, tmp_path)
    if report is None:
        pytest.skip("the Nu HTML Checker is not installed (cd tests/htmlcheck && npm ci)")
    assert report == ""


def test_an_error_names_the_page_and_the_problem(tmp_path: Path) -> None:
    bad = PAGE.format(extra=' maxlength="10"', when="2026-12-05T18:50:39.184063+00:00")
    collector = HtmlCollector(pages={"http://x/bad": [bad]})
    report = run_check(collector, tmp_path)
    if report is None:
        pytest.skip("the Nu HTML Checker is not installed (cd tests/htmlcheck && npm ci)")
    lines = report.splitlines()
    assert any(line.startswith("http://x/bad line 5: Attribute “maxlength”") for line in lines)
    assert "fraction of a second must be one, two, or three digits" in report
