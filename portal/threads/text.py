"""Rendering a message body (a candidate's question, a recruiter's reply) as safe HTML.

Plain text keeps its line breaks. Markdown is rendered by markdown-it-py with raw HTML
off, then sanitized by nh3 to a short list of tags, as a second wall in case the first
one has a gap. Two rules protect the reader:

- A link always shows where it goes: `[click here](https://example.com)` becomes
  "click here (https://example.com)" with only the address linked, so a message cannot
  hide a destination behind friendly words. Links open with
  `rel="noopener noreferrer nofollow"`.
- Images are never loaded (a loaded image tells its sender who read the message, and
  when): `![alt](src)` becomes the words "image: alt" and a link to the address.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup, escape

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer nofollow"
ALLOWED_TAGS = frozenset(
    {"p", "br", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "hr"}
)

_BLANK_LINES = re.compile(r"\n[ \t]*\n+")


def render_message(body: str, *, markdown: bool = False) -> Markup:
    """The message as HTML that is safe to put in a page as it is."""
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    html = _markdown.render(body).strip() if markdown else _plain(body)
    return Markup(  # noqa: S704 - nh3 has just removed everything but ALLOWED_TAGS
        nh3.clean(
            html,
            tags=set(ALLOWED_TAGS),
            attributes={"a": {"href"}},
            url_schemes=set(LINK_SCHEMES),
            link_rel=LINK_REL,
            strip_comments=True,
        )
    )


def plain_message(body: str) -> str:
    """The message as plain text, for email: as it was written (Markdown markers and
    all, never turned into HTML), line endings made one, outer blank lines dropped."""
    return body.replace("\r\n", "\n").replace("\r", "\n").strip()


def _plain(body: str) -> str:
    paragraphs = (part for part in _BLANK_LINES.split(body) if part.strip())
    return "".join(
        f"<p>{Markup('<br>').join(escape(line) for line in paragraph.split(chr(10)))}</p>"
        for paragraph in paragraphs
    )


def _may_link(url: str) -> bool:
    """Absolute http(s) and mailto addresses only: no javascript:, data:, file: or paths."""
    scheme = urlsplit(url.strip()).scheme.lower()
    if scheme not in LINK_SCHEMES:
        return False
    return scheme == "mailto" or url.strip().lower().startswith(f"{scheme}://")


def _link(href: str, shown: str) -> list[Token]:
    opening = Token("link_open", "a", 1, attrs={"href": href})
    text = Token("text", "", 0, content=shown)
    return [opening, text, Token("link_close", "a", -1)]


def _text(content: str) -> Token:
    return Token("text", "", 0, content=content)


def _visible_text(tokens: list[Token]) -> str:
    return "".join(t.content for t in tokens if t.type in ("text", "code_inline"))


def _show_addresses(state: StateCore) -> None:
    """Rewrite links and images so every address is visible and nothing is loaded."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        tokens = block.children
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.type == "image":
                src = str(token.attrs.get("src", ""))
                alt = token.content.strip()
                children.append(_text(f"image: {alt} " if alt else "image: "))
                shown = state.md.normalizeLinkText(src)
                children += _link(src, shown) if _may_link(src) else [_text(shown)]
                i += 1
            elif token.type == "link_open":
                close = next(j for j in range(i + 1, len(tokens)) if tokens[j].type == "link_close")
                inner = tokens[i + 1 : close]
                href = str(token.attrs.get("href", ""))
                shown = state.md.normalizeLinkText(href)
                if _visible_text(inner) in (shown, shown.removeprefix("mailto:")):
                    children += [token, *inner, tokens[close]]
                else:
                    children += [*inner, _text(" ("), *_link(href, shown), _text(")")]
                i = close + 1
            else:
                children.append(token)
                i += 1
        block.children = children


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False})
    # Headings in a message shout; a line starting with "#" stays text.
    md.disable(["heading", "lheading"])
    md.validateLink = _may_link  # type: ignore[method-assign]
    md.core.ruler.push("show_addresses", _show_addresses)
    return md


_markdown = _build()
