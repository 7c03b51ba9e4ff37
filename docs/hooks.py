"""mkdocs hook: the settings reference is generated from `portal/settings.py`, and the
API reference from the API's OpenAPI document, at build time, so the documentation
and the code cannot disagree."""

from __future__ import annotations

from typing import Any

from portal.api import routes as api
from portal.api.openapi import openapi_document, reference_markdown
from portal.settings import settings_reference

MARKER = "<!-- settings-reference"
API_MARKER = "<!-- api-reference"


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    lines = markdown.split("\n")
    if any(line.startswith(MARKER) for line in lines):
        lines = [settings_reference() if line.startswith(MARKER) else line for line in lines]
    if any(line.startswith(API_MARKER) for line in lines):
        document = openapi_document(api.routes, prefix=api.PREFIX, version="current")
        reference = reference_markdown(document)
        lines = [reference if line.startswith(API_MARKER) else line for line in lines]
    return "\n".join(lines)
