"""Answering a PDF download of a feedback view: the candidate's and the staff's alike."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from portal.db import utcnow
from portal.feedback.view import FeedbackView
from portal.pdf.renderer import RenderBusy, RenderTimeout, etag_matches, summary_filename
from portal.web import error_page, portal

RETRY_AFTER_SECONDS = 60  # "try again in a minute"


async def summary_download(request: Request, page: FeedbackView) -> Response:
    """The summary of `page` as an attachment; revalidated on every download (ETag),
    never stored by a shared cache."""
    renderer = portal(request).pdf
    today = utcnow().date()
    etag = renderer.etag_for(page, generated_on=today)
    headers = {"etag": etag, "cache-control": "private, no-cache"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    try:
        pdf = await renderer.summary(page, generated_on=today, etag=etag)
    except RenderBusy:
        return _try_again_later(
            request,
            "Many PDFs are being made right now",
            "We could not start on your PDF just now. Please try again in a minute; the "
            "feedback is still on its page.",
        )
    except RenderTimeout:
        return _try_again_later(
            request,
            "Your PDF is taking too long",
            "We could not prepare the PDF in time. Please try again in a minute; the "
            "feedback is still on its page.",
        )
    filename = summary_filename(page, generated_on=today)
    headers["content-disposition"] = f'attachment; filename="{filename}"'
    return Response(pdf.body, media_type="application/pdf", headers=headers)


def _try_again_later(request: Request, title: str, message: str) -> Response:
    response = error_page(request, 503, title, message)
    response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
    return response
