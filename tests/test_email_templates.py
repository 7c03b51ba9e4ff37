"""The email templates: every pair renders, links are honest and present, HTML is escaped."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from jinja2.exceptions import UndefinedError

from portal.mail.service import render_email

ORGANIZATION = "Northwind Labs"
ACCENT = "#0b6e4f"
COMMON: dict[str, Any] = {
    "organization": ORGANIZATION,
    "accent_colour": ACCENT,
    "name": "Dana Whitfield",
}
LEAVE_URL = "https://feedback.example.org/pool/leave/Lv7xQ2"

# Each template's own context keys, exactly as the senders pass them.
SAMPLES: dict[str, dict[str, Any]] = {
    "invitation": {
        "job_title": "Senior Backend Engineer",
        "link": "https://feedback.example.org/l/Abc123XyzLongTokenValue0987654321",
        "link_days": 14,
        "reply_promise_days": 5,
        "can_ask_questions": True,
    },
    "staff_invitation": {
        "link": "https://feedback.example.org/staff/l/StF9tokenvalue",
        "invited_by": "Ada Admin",
        "first_admin": False,
        "expires_on": "2026-12-01 10:00 UTC",
        "single_sign_on": False,
    },
    "sign_in": {
        "link": "https://feedback.example.org/l/SgN9tokenvalue",
        "minutes": 10,
    },
    "reply": {
        "job_title": "Data Analyst",
        "reply": "Your SQL was strong.\n\nThe **indexing** question is where it fell short.",
        "link": "https://feedback.example.org/l/RpL9tokenvalue",
        "link_days": 14,
    },
    "staff_question": {
        "candidate_name": "Eve Example",
        "job_title": "Data Analyst",
        "due_on": "9 March 2026",
        "flagged": False,
        "thread_url": "https://feedback.example.org/staff/queue/7",
        "queue_url": "https://feedback.example.org/staff/queue",
        "profile_url": "https://feedback.example.org/staff/profile",
    },
    "staff_digest": {
        "entries": [
            {
                "candidate_name": "Eve Example",
                "job_title": "Data Analyst",
                "due_on": "2 March 2026",
                "overdue": True,
                "flagged": True,
                "thread_url": "https://feedback.example.org/staff/queue/7",
            }
        ],
        "overdue_count": 1,
        "count": 1,
        "more": 0,
        "daily": True,
        "queue_url": "https://feedback.example.org/staff/queue",
        "profile_url": "https://feedback.example.org/staff/profile",
    },
    "staff_untold": {
        "entries": [
            {
                "candidate_name": "Eve Example",
                "job_title": "Data Analyst",
                "waiting_days": 6,
                "scheduled_on": "9 March 2026, 09:00",
                "url": "https://feedback.example.org/staff/applications/7",
            }
        ],
        "days": 5,
        "count": 1,
        "more": 0,
        "applications_url": "https://feedback.example.org/staff/applications",
    },
    "pool_welcome": {
        "consent_text": (
            "Northwind Labs may keep your name, email address and résumé so we can contact you "
            "about future roles.\n\nYou can leave the talent pool whenever you like."
        ),
        "consent_version": 3,
        "consented_on": "1 March 2026",
        "expires_on": "1 March 2027",
        "preferences": ["Engineering", "Remote work"],
        "manage_url": "https://feedback.example.org/pool/manage",
        "leave_url": LEAVE_URL,
    },
    "pool_renewal": {
        "expires_on": "1 March 2027",
        "renew_url": "https://feedback.example.org/pool/renew/Rn4k",
        "leave_url": LEAVE_URL,
    },
    "pool_job_invitation": {
        "job_title": "Staff Platform Engineer",
        "job_location": "Remote (US time zones)",
        "message": "Hi Dana, we liked your work on queues.\nHappy to talk first if that helps.",
        "apply_url": "https://jobs.example.org/apply/991",
        "leave_url": LEAVE_URL,
    },
    "erasure_confirmation": {
        "erased_on": "3 April 2026",
    },
    "data_export": {
        "link": "https://feedback.example.org/your-data/download/DxP9tokenvalue",
        "expires_on": "10 April 2026",
    },
    "erasure_request": {
        "link": "https://feedback.example.org/your-data/erase/ErZ9tokenvalue",
        "hours": 24,
    },
}

# The links each email exists to deliver.
KEY_LINKS: dict[str, tuple[str, ...]] = {
    "invitation": ("link",),
    "staff_invitation": ("link",),
    "sign_in": ("link",),
    "reply": ("link",),
    "staff_question": ("thread_url", "queue_url", "profile_url"),
    "staff_digest": ("queue_url", "profile_url"),
    "staff_untold": ("applications_url",),
    "pool_welcome": ("manage_url", "leave_url"),
    "pool_renewal": ("renew_url", "leave_url"),
    "pool_job_invitation": ("apply_url", "leave_url"),
    "erasure_confirmation": (),
    "data_export": ("link",),
    "erasure_request": ("link",),
}
POOL_TEMPLATES = ("pool_welcome", "pool_renewal", "pool_job_invitation")
TEMPLATES = tuple(SAMPLES)


class _Anchors(HTMLParser):
    """Collects (href, text) for every <a>, plus the names of every tag seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[str | None, str]] = []
        self.tags: set[str] = set()
        self._href: str | None = None
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._text is not None:
            self.anchors.append((self._href, " ".join("".join(self._text).split())))
            self._href, self._text = None, None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def _parse(html: str) -> _Anchors:
    parser = _Anchors()
    parser.feed(html)
    parser.close()
    return parser


def _context(template: str, **overrides: Any) -> dict[str, Any]:
    return {**COMMON, **SAMPLES[template], **overrides}


def _looks_like_an_address(text: str) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in ("http", "www.", ".com"))


@pytest.mark.parametrize("template", TEMPLATES)
def test_subject_is_short_and_plain(template: str) -> None:
    subject, _, _ = render_email(template, _context(template))
    assert subject
    assert len(subject) < 70
    assert "\n" not in subject and "\r" not in subject
    assert not subject.isupper()
    assert "!" not in subject


@pytest.mark.parametrize("template", TEMPLATES)
def test_long_names_still_give_a_short_single_line_subject(template: str) -> None:
    long_values = {
        "organization": "The Extremely Long Named Organization For Testing\nPurposes Incorporated",
        "job_title": "Principal Distributed Systems Engineer, Payments and Ledger Infrastructure",
    }
    context = _context(
        template, **{k: v for k, v in long_values.items() if k in COMMON | SAMPLES[template]}
    )
    subject, _, _ = render_email(template, context)
    assert subject
    assert len(subject) < 70
    assert "\n" not in subject


@pytest.mark.parametrize("template", TEMPLATES)
def test_both_parts_carry_the_key_links(template: str) -> None:
    context = _context(template)
    _, text, html = render_email(template, context)
    hrefs = {href for href, _ in _parse(html).anchors}
    words = set(text.split())
    for key in KEY_LINKS[template]:
        url = context[key]
        assert url in words, f"{key} is not a raw link in the text part"
        assert url in hrefs, f"{key} is not linked in the HTML part"


@pytest.mark.parametrize("template", TEMPLATES)
def test_html_carries_the_branding(template: str) -> None:
    _, text, html = render_email(template, _context(template))
    assert ORGANIZATION in html
    assert ACCENT in html
    assert ORGANIZATION in text
    assert "Dana Whitfield" in text and "Dana Whitfield" in html


@pytest.mark.parametrize("template", TEMPLATES)
def test_html_is_plain_safe_markup(template: str) -> None:
    _, _, html = render_email(template, _context(template))
    tags = _parse(html).tags
    assert not tags & {"img", "script", "style", "iframe", "form", "link", "object", "embed"}
    lowered = html.lower()
    assert "javascript:" not in lowered
    assert "onclick" not in lowered and "onload" not in lowered
    assert "max-width: 560px" in html


@pytest.mark.parametrize("template", TEMPLATES)
def test_link_text_never_hides_its_target(template: str) -> None:
    _, _, html = render_email(template, _context(template))
    for href, text in _parse(html).anchors:
        assert href, f"an anchor without href: {text!r}"
        assert href.startswith("https://"), href
        assert text, f"an anchor without text: {href}"
        assert text == href or not _looks_like_an_address(text), (href, text)


@pytest.mark.parametrize("template", TEMPLATES)
def test_names_are_escaped_in_html_and_literal_in_text(template: str) -> None:
    _, text, html = render_email(template, _context(template, name="<b>Eve</b>"))
    assert "<b>Eve</b>" not in html
    assert "&lt;b&gt;Eve&lt;/b&gt;" in html
    assert "<b>Eve</b>" in text


def test_free_text_is_escaped_in_html() -> None:
    _, _, html = render_email(
        "pool_job_invitation",
        _context("pool_job_invitation", message='<a href="https://evil.example">x</a>'),
    )
    assert "https://evil.example" not in {href for href, _ in _parse(html).anchors}
    assert "&lt;a href=" in html
    _, _, html = render_email(
        "pool_welcome", _context("pool_welcome", consent_text="<script>alert(1)</script>")
    )
    assert "script" not in _parse(html).tags


@pytest.mark.parametrize("template", POOL_TEMPLATES)
def test_pool_emails_offer_a_visible_way_out(template: str) -> None:
    _, text, html = render_email(template, _context(template))
    assert LEAVE_URL in text
    assert "Leave the talent pool" in text
    assert (LEAVE_URL, "Leave the talent pool") in _parse(html).anchors


@pytest.mark.parametrize("template", [t for t in TEMPLATES if t not in POOL_TEMPLATES])
def test_emails_outside_the_pool_do_not_mention_leaving_it(template: str) -> None:
    _, text, html = render_email(template, _context(template))
    assert "Leave the talent pool" not in text
    assert "Leave the talent pool" not in html


def test_a_reply_arrives_whole_as_plain_escaped_text() -> None:
    reply = "<script>alert(1)</script> Thanks!\n\n**Indexing** was the gap."
    _, text, html = render_email("reply", _context("reply", reply=reply))
    assert "<script>alert(1)</script> Thanks!" in text
    assert "**Indexing** was the gap." in text
    assert "script" not in _parse(html).tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Thanks!" in html
    assert "<strong>Indexing</strong>" not in html and "**Indexing** was the gap." in html


def test_optional_content_may_be_empty() -> None:
    _, text, html = render_email("pool_welcome", _context("pool_welcome", preferences=[]))
    assert "<li" not in html
    assert "did not choose any preferences" in text
    _, text, html = render_email(
        "pool_job_invitation", _context("pool_job_invitation", message="", job_location="")
    )
    assert "note from our recruiter" not in text
    assert "note from our recruiter" not in html


def test_invitation_says_it_plainly() -> None:
    _, text, _ = render_email("invitation", _context("invitation", reply_promise_days=1))
    assert "Senior Backend Engineer" in text
    assert "not been selected" in text
    assert "within 1 business day." in text
    # How the link behaves, not a date it "works until".
    assert "opens your feedback once, on one device" in text
    assert "after 14 days, one click on the same link emails you a fresh one" in text
    assert "works until" not in text


def test_sign_in_works_with_the_keys_its_sender_passes() -> None:
    context = {
        "name": "Dana Whitfield",
        "organization": ORGANIZATION,
        "link": "https://feedback.example.org/l/SgN9tokenvalue",
        "minutes": 10,
    }
    _, text, html = render_email("sign_in", context)
    assert "10 minutes" in text
    assert "#1f5f8b" in html  # the default accent when none is given


@pytest.mark.parametrize("bad", ['red;background:url("https://t.example/p")', "#12345g", "#fff"])
def test_an_unexpected_accent_colour_falls_back_to_the_default(bad: str) -> None:
    _, _, html = render_email("invitation", _context("invitation", accent_colour=bad))
    assert "t.example" not in html
    assert "#1f5f8b" in html


@pytest.mark.parametrize(
    ("template", "key"),
    [
        (template, key)
        for template in TEMPLATES
        for key in ["organization", "name", *SAMPLES[template]]
    ],
)
def test_a_missing_key_is_an_error(template: str, key: str) -> None:
    context = _context(template)
    del context[key]
    with pytest.raises(UndefinedError):
        render_email(template, context)
