"""The summary document: the feedback view as HTML, then as a tagged PDF.

Imported only by the render pool's processes (see portal.pdf.renderer), which
keeps WeasyPrint out of the app process. Nothing here touches the database, the
request or an event loop. The view is what the feedback page shows
(`portal.feedback.view.FeedbackView`); two optional attributes appear when
the view carries them: `answered_questions` (items with `question`, `answer`
and `answered_at`) and `pool_status` (a sentence).
"""

from __future__ import annotations

import datetime as dt
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from types import FrameType
from typing import Any

import jinja2
from weasyprint import HTML

from portal.formats import long_date
from portal.paths import STATIC_DIR, TEMPLATES_DIR
from portal.pdf.fetcher import ASSET_ORIGIN, StaticAssetFetcher
from portal.pdf.renderer import STYLESHEET, TEMPLATE, RenderTimeout

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_ACCENT = "#1f5f8b"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["long_date"] = long_date
    return env


def summary_html(view: Any, *, generated_on: dt.date) -> str:
    accent = view.branding.accent_colour
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            page=view,
            generated_on=generated_on,
            accent=accent if COLOUR.match(accent or "") else DEFAULT_ACCENT,
            stylesheet=f"{ASSET_ORIGIN}/static/{STYLESHEET}",
        )
    )


def render_pdf(html: str) -> bytes:
    """A tagged PDF/UA-1 document; only the static files can be read while making it."""
    document = HTML(
        string=html, base_url=f"{ASSET_ORIGIN}/", url_fetcher=StaticAssetFetcher(STATIC_DIR)
    )
    pdf: bytes = document.write_pdf(pdf_variant="pdf/ua-1")
    return pdf


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Stop the render after `seconds` (a pool process runs one task, in its main thread).

    The alarm's exception is raised wherever the render is, and library code may catch
    it and raise another (Jinja turns it into a TemplateSyntaxError) or carry on: once
    the time is up, the render ends in RenderTimeout whatever came of it."""
    expired = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal expired
        expired = True
        raise RenderTimeout

    previous = signal.signal(signal.SIGALRM, stop)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        except Exception as error:
            if expired and not isinstance(error, RenderTimeout):
                raise RenderTimeout from error
            raise
        if expired:
            raise RenderTimeout
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def render_summary(view: Any, generated_on: dt.date, seconds: float) -> bytes:
    """The view's summary as PDF bytes, or RenderTimeout after `seconds`."""
    with time_limit(seconds):
        return render_pdf(summary_html(view, generated_on=generated_on))


def warm_up() -> None:
    """Load fonts, layout code and the template once per pool process, before its first
    real render."""
    _environment().get_template(TEMPLATE)
    # Latin, Greek and Cyrillic letters, so that every font a name may need is loaded.
    render_pdf('<html lang="en"><title>warm-up</title><p>Aa \u0391\u03b1 \u0410\u0430</p></html>')
