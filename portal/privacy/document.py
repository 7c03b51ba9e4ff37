"""The export as the candidate downloads it: one ZIP holding the JSON document and the
same data as a readable HTML page (a file of its own, which needs nothing online)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from portal.paths import TEMPLATES_DIR

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# How the readable page names each table, in the document's order.
SECTIONS: dict[str, str] = {
    "candidates": "About you",
    "applications": "Your applications",
    "feedback": "Feedback, as published to you",
    "feedback_items": "The parts of that feedback",
    "threads": "Your conversations",
    "thread_messages": "Your questions and the replies you were shown",
    "pool_memberships": "Talent pool memberships",
    "pool_consent_events": "Your consent, change by change",
    "pool_contacts": "Invitations sent to you from the talent pool",
    "candidate_blocks": "Restrictions on sending messages",
    "access_links": "Links emailed to you (without the links themselves)",
    "sessions": "Your sign-ins",
    "kept_forms": "Text kept for you after a sign-in ended",
    "background_jobs": "Email sent to you",
    "audit_events": "The audit trail's records about you",
    "data_requests": "Your requests about your data",
}


def readable_page(document: dict[str, Any]) -> str:
    return _env.get_template("privacy/export.html").render(doc=document, sections=SECTIONS)


def export_zip(document: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("your-data.json", json.dumps(document, ensure_ascii=False, indent=2))
        archive.writestr("your-data.html", readable_page(document))
    return buffer.getvalue()
