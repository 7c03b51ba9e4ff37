"""Email as a job kind: `mail.send`, delivered in batches over one SMTP connection.

The job's payload is the rendered message. A link in it (a sign-in or
invitation link, or the token in a talent-pool member's links) is in neither
the text nor the headers: they hold a marker, and the link (or token) waits
sealed with a key derived from PORTAL_SECRET_KEY, so a copy of the database
holds no usable link. Once sent, only what `portal mail status`
shows stays (to, template, subject); the bodies and the sealed link go.
"""

from __future__ import annotations

from typing import Any

import aiosmtplib
from markupsafe import escape
from pydantic import BaseModel, ConfigDict

from portal.jobs.registry import JobKind, registry
from portal.jobs.worker import Batch
from portal.mail.backends import Envelope, build_message, is_permanent, mail_backend
from portal.security.tokens import unseal
from portal.settings import Settings

# Stands in for the link in the rendered bodies until the moment of sending.
LINK_MARKER = "[[afterword:link]]"


def secret_marker(position: int) -> str:
    """What stands in for an email's sealed secrets: the first (or its link) is
    LINK_MARKER, the others are numbered from 1 (a pool renewal email's leave token)."""
    return LINK_MARKER if position == 0 else f"[[afterword:link:{position}]]"


class OutgoingEmail(BaseModel):
    model_config = ConfigDict(frozen=True)

    to: str
    template: str
    subject: str
    from_address: str = ""
    from_name: str = ""
    text: str = ""
    html: str = ""
    headers: dict[str, str] = {}
    sealed_link: str | None = None
    # Further secrets of the same email, sealed the same way (secret_marker(1), ...).
    sealed_more: list[str] = []
    organization_id: int | None = None
    # Once sent, keep no trace of the address: the notice that someone was erased.
    forget_recipient: bool = False


def record_of(email: OutgoingEmail) -> dict[str, Any]:
    """What stays of a sent email: enough for `portal mail status`, no body, no link."""
    return {
        "to": "[erased]" if email.forget_recipient else email.to,
        "template": email.template,
        "subject": email.subject,
        "organization_id": email.organization_id,
    }


def envelope(job_id: int, email: OutgoingEmail, settings: Settings) -> Envelope:
    text, html, headers = email.text, email.html, email.headers
    sealed = [] if email.sealed_link is None else [(0, email.sealed_link)]
    sealed += list(enumerate(email.sealed_more, 1))
    for position, value in sealed:
        link = unseal(settings.secret_key.get_secret_value(), value)
        marker = secret_marker(position)
        text = text.replace(marker, link)
        html = html.replace(marker, str(escape(link)))
        headers = {name: value.replace(marker, link) for name, value in headers.items()}
    return Envelope(
        job_id,
        email.to,
        email.from_address,
        email.from_name,
        email.subject,
        text,
        html,
        headers,
    )


async def deliver(batch: Batch[OutgoingEmail]) -> None:
    """Send a batch over one connection. A refused message fails alone; a broken
    connection (the exception escapes) sends the rest of the batch back to the queue."""
    async with mail_backend(batch.settings).connect() as connection:
        async for job in batch:
            try:
                message = build_message(envelope(job.id, job.payload, batch.settings))
            except Exception as exc:  # e.g. CR/LF in a header: no retry can fix it
                batch.fail(job, exc, permanent=True)
                continue
            try:
                await connection.send(message, outbox_id=job.id)
            except (aiosmtplib.SMTPException, OSError) as exc:
                if not is_permanent(exc):
                    raise
                batch.fail(job, exc, permanent=True)
            else:
                batch.done(job)


def _max_attempts(settings: Settings) -> int:
    return settings.mail_max_attempts


MAIL_SEND = registry.add(
    JobKind(
        "mail.send",
        OutgoingEmail,
        run_batch=deliver,
        max_attempts=_max_attempts,
        keep=record_of,
    )
)
