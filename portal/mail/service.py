"""Queueing email (a `mail.send` job), in the same transaction as the change that causes it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2_fragments import render_block
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.characters import as_one_line
from portal.forms import web_link
from portal.jobs import service as jobs
from portal.jobs.models import BackgroundJob, JobState
from portal.mail.jobs import LINK_MARKER, MAIL_SEND, OutgoingEmail, secret_marker
from portal.orgs.models import Organization
from portal.paths import TEMPLATES_DIR
from portal.security.tokens import seal
from portal.settings import Settings
from portal.urls import absolute_url

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
DEFAULT_ACCENT = "#1f5f8b"


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) from templates/email/<template>.txt and .html."""
    text_name = f"email/{template}.txt"
    subject = " ".join(render_block(_env, text_name, "subject", context).split())
    text = render_block(_env, text_name, "body", context).strip() + "\n"
    html = _env.get_template(f"email/{template}.html").render(context)
    return subject, text, html


@dataclass(frozen=True)
class Sender:
    address: str
    name: str
    organization: str
    accent_colour: str
    privacy_url: str | None = None


async def sender_for(
    db: AsyncSession, *, organization_id: int | None, settings: Settings
) -> Sender:
    """Who an organization's email comes from: its own address, or the installation's."""
    row = None
    if organization_id is not None:
        row = (
            await db.execute(
                select(
                    Organization.mail_from_address,
                    Organization.mail_from_name,
                    Organization.display_name,
                    Organization.accent_colour,
                    Organization.privacy_url,
                ).where(Organization.id == organization_id)
            )
        ).one_or_none()
    if row is None:
        return Sender(
            settings.mail_from, settings.mail_from_name or "Afterword", "Afterword", DEFAULT_ACCENT
        )
    # The settings form refuses line breaks in these names; one saved before it did
    # would otherwise fail every message of the organization.
    return Sender(
        row.mail_from_address or settings.mail_from,
        as_one_line(row.mail_from_name or settings.mail_from_name or row.display_name),
        as_one_line(row.display_name),
        row.accent_colour,
        web_link(row.privacy_url),
    )


async def enqueue_email(
    db: AsyncSession,
    *,
    settings: Settings,
    to_address: str,
    template: str,
    context: dict[str, Any],
    idempotency_key: str,
    now: dt.datetime,
    organization_id: int | None = None,
    link: str | None = None,
    secrets: Sequence[str] = (),
    unsubscribe_url: str | None = None,
    forget_recipient: bool = False,
) -> bool:
    """Queue one email; a second call with the same key queues nothing (returns False).

    `context` gets the organization's name and accent colour added. A `link`
    that lets someone in is sealed, never stored in clear (see `portal.mail.jobs`);
    templates see it as `link`. Or `secrets` (tokens inside the email's links,
    such as a talent-pool member's leave and renewal tokens): wherever one appears
    in the rendered bodies or the headers it is replaced by a marker of its own
    and sealed the same way. Talent-pool mail passes `unsubscribe_url`, which
    becomes the RFC 8058 one-click headers.
    """
    if link is not None and secrets:
        raise ValueError("give an email a link or secrets, not both")
    sender = await sender_for(db, organization_id=organization_id, settings=settings)
    full_context = {
        "organization": sender.organization,
        "accent_colour": sender.accent_colour,
        **context,
    }
    if link is not None:
        full_context["link"] = LINK_MARKER
    candidate_mail = (
        organization_id is not None
        and not template.startswith("staff_")
        and template != "erasure_confirmation"  # nothing is left to see
    )
    if candidate_mail:
        # Beside the privacy notice in every candidate's email: their data, to see,
        # download or erase (portal.privacy).
        full_context["your_data_url"] = absolute_url(settings, "candidate.data")
        full_context["privacy_url"] = sender.privacy_url
    subject, text, html = render_email(template, full_context)
    if candidate_mail:
        text += your_data_footer(
            organization=sender.organization,
            your_data_url=full_context["your_data_url"],
            privacy_url=sender.privacy_url,
        )
    headers: dict[str, str] = {}
    if unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for position, secret in enumerate(secrets):
        marker = secret_marker(position)
        text = text.replace(secret, marker)
        html = html.replace(str(escape(secret)), marker)
        headers = {name: value.replace(secret, marker) for name, value in headers.items()}
    sealed = link if link is not None else (secrets[0] if secrets else None)
    email = OutgoingEmail(
        to=to_address,
        template=template,
        subject=subject,
        from_address=sender.address,
        from_name=sender.name,
        text=text,
        html=html,
        headers=headers,
        sealed_link=_sealed(settings, sealed),
        sealed_more=[seal(settings.secret_key.get_secret_value(), s) for s in secrets[1:]],
        organization_id=organization_id,
        forget_recipient=forget_recipient,
    )
    queued = await jobs.enqueue(db, MAIL_SEND, email, run_at=now, idempotency_key=idempotency_key)
    return queued is not None


def your_data_footer(*, organization: str, your_data_url: str, privacy_url: str | None) -> str:
    """The plain-text email's footer: where the candidate's data and the notice are."""
    lines = ["", "--", f"Your data with {organization}: {your_data_url}"]
    if privacy_url:
        lines.append(f"Privacy notice: {privacy_url}")
    return "\n".join(lines) + "\n"


def _sealed(settings: Settings, value: str | None) -> str | None:
    return None if value is None else seal(settings.secret_key.get_secret_value(), value)


# --- operations: `portal mail status` and `portal mail retry` ----------------


@dataclass(frozen=True)
class OutboxStatus:
    counts: dict[str, int]
    recent_errors: list[tuple[int, str, int, str]]  # id, to, attempts, error


async def outbox_status(db: AsyncSession, *, errors: int = 10) -> OutboxStatus:
    by_state = await jobs.count_by_state(db, kind=MAIL_SEND.name)
    counts = {
        "pending": by_state[JobState.PENDING],
        "sent": by_state[JobState.DONE],
        "failed": by_state[JobState.FAILED],
    }
    rows = await db.execute(
        select(
            BackgroundJob.id,
            BackgroundJob.payload,
            BackgroundJob.attempts,
            BackgroundJob.last_error,
        )
        .where(BackgroundJob.kind == MAIL_SEND.name, BackgroundJob.last_error.is_not(None))
        .order_by(BackgroundJob.id.desc())
        .limit(errors)
    )
    return OutboxStatus(
        counts,
        [
            (row.id, str(row.payload.get("to", "")), row.attempts, row.last_error or "")
            for row in rows
        ],
    )


async def requeue(
    db: AsyncSession, *, now: dt.datetime, email_id: int | None = None, failed: bool = False
) -> int:
    """Put a failed (or stuck) email back in the queue with fresh attempts."""
    return await jobs.requeue(db, kind=MAIL_SEND.name, now=now, job_id=email_id, failed=failed)
