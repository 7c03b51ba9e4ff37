"""mkdocs hook: the settings reference is generated from `portal/settings.py` at build
time, so the documentation and the code cannot disagree."""

from __future__ import annotations

from typing import Any

from portal.settings import settings_reference

MARKER = "<!-- settings-reference"


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    lines = markdown.split("\n")
    return "\n".join(settings_reference() if line.startswith(MARKER) else line for line in lines)
