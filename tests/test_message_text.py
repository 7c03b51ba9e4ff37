"""Message bodies as safe HTML: plain text with line breaks, or sanitized Markdown."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

import pytest

from portal.threads.text import LINK_REL, render_message

REL = f'rel="{LINK_REL}"'


@pytest.mark.parametrize("markdown", [False, True])
def test_script_and_html_are_shown_as_text(markdown: bool) -> None:
    html = render_message(
        '<script>alert("x")</script><img src=x onerror=alert(1)><b>bold?</b>', markdown=markdown
    )
    assert "<script" not in html
    assert "<img" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_plain_text_keeps_line_breaks_and_paragraphs() -> None:
    html = render_message("Hello,\r\nthanks for the feedback.\n\n\nOne question: why?\n")
    assert html == "<p>Hello,<br>thanks for the feedback.</p><p>One question: why?</p>"


def test_plain_text_shows_markdown_as_typed() -> None:
    assert render_message("**not bold** [a](https://example.com)") == (
        "<p>**not bold** [a](https://example.com)</p>"
    )


def test_markdown_formatting_is_kept() -> None:
    html = render_message("Some **bold**, *emphasis* and `code`.\n\n- one\n- two", markdown=True)
    assert "<strong>bold</strong>" in html
    assert "<em>emphasis</em>" in html
    assert "<code>code</code>" in html
    assert "<ul>\n<li>one</li>" in html


def test_a_link_shows_its_address_next_to_its_words() -> None:
    html = render_message("Read [my portfolio](https://example.com/work?x=1&y=2)", markdown=True)
    assert html == (
        f'<p>Read my portfolio (<a href="https://example.com/work?x=1&amp;y=2" {REL}>'
        "https://example.com/work?x=1&amp;y=2</a>)</p>"
    )


def test_a_link_cannot_pose_as_another_address() -> None:
    html = render_message("[https://bank.example](https://evil.example/login)", markdown=True)
    assert ">https://evil.example/login</a>" in html
    assert '<a href="https://bank.example"' not in html


def test_an_address_as_its_own_words_is_linked_once() -> None:
    html = render_message("<https://example.com/a> and <someone@example.com>", markdown=True)
    assert html == (
        f'<p><a href="https://example.com/a" {REL}>https://example.com/a</a> and '
        f'<a href="mailto:someone@example.com" {REL}>someone@example.com</a></p>'
    )


@pytest.mark.parametrize(
    "source",
    [
        "[click](javascript:alert(1))",
        "[click](JAVASCRIPT:alert(1))",
        "[click](  javascript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        "[click](vbscript:msgbox)",
        "[click](file:///etc/passwd)",
        "<javascript:alert(1)>",
    ],
)
def test_dangerous_links_are_not_links(source: str) -> None:
    html = render_message(source, markdown=True)
    assert "<a" not in html
    assert "href" not in html


def test_relative_links_are_not_links() -> None:
    # A message must not send a reader to one of our own pages (a sign-out, a form).
    assert "<a" not in render_message("[settings](/staff/settings)", markdown=True)


def test_images_are_never_loaded() -> None:
    html = render_message(
        "![tracking pixel](https://tracker.example/p.gif?who=me)\n\n"
        "![](data:image/png;base64,iVBORw0KGgo=)",
        markdown=True,
    )
    assert "<img" not in html
    assert "image: tracking pixel " in html
    assert f'<a href="https://tracker.example/p.gif?who=me" {REL}>' in html
    assert "data:image/png" in html  # shown as text, not linked
    assert html.count("<a ") == 1


def test_headings_and_code_block_languages_are_not_carried_over() -> None:
    html = render_message("# SHOUTING\n\n```html\n<b>x</b>\n```", markdown=True)
    assert "<h1" not in html
    assert "# SHOUTING" in html
    assert 'class="' not in html
    assert "<pre><code>&lt;b&gt;x&lt;/b&gt;\n</code></pre>" in html


def _calls(work: Callable[[], object]) -> int:
    """Python function calls made by `work`: a count of the work, not a clock."""
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        work()
    finally:
        sys.setprofile(None)
    return calls


def _unbalanced(n: int, markdown: bool) -> str:
    return render_message("[" * n + "*" * n, markdown=markdown)


@pytest.mark.parametrize("markdown", [False, True])
def test_very_long_lines_are_kept_whole_and_render_fast(markdown: bool) -> None:
    word = "a" * 5_000
    url = "https://example.com/" + "b" * 3_000
    html = render_message(f"{word} {url}\n" + "[" * 2_000 + "*" * 2_000, markdown=markdown)
    assert word in html
    assert url in html
    # Unbalanced brackets and emphasis cost work in proportion to their length, not
    # to its square: twice as many cost about twice the calls.
    calls = {n: _calls(functools.partial(_unbalanced, n, markdown)) for n in (1_000, 2_000)}
    assert calls[2_000] <= 2.5 * calls[1_000] + 100
