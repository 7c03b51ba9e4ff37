"""Links in email are built from route names (portal.urls), never by hand."""

from __future__ import annotations

import re
from pathlib import Path

from portal.settings import Settings
from portal.urls import absolute_url

ROOT = Path(__file__).resolve().parent.parent
# A base URL followed by a path written out: "{settings.base_url}/feedback/...".
HAND_BUILT = re.compile(r"base_url\}/")


def test_no_module_writes_a_link_path_by_hand() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "portal").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if HAND_BUILT.search(line)
    ]
    assert not found, "build links with portal.urls.absolute_url: " + ", ".join(found)


def test_a_link_follows_its_route() -> None:
    settings = Settings(base_url="https://feedback.example.com")
    assert absolute_url(settings, "candidate.link", token="abc") == (
        "https://feedback.example.com/l/abc"
    )
    assert absolute_url(
        settings, "candidate.feedback", application_id=12, fragment="conversation"
    ) == ("https://feedback.example.com/feedback/12#conversation")
    assert absolute_url(settings, "staff.invitation", token="t") == (
        "https://feedback.example.com/staff/l/t"
    )
