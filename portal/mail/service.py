"""Queueing email in the outbox, in the same transaction as the change that causes it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2_fragments import render_block
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.mail.models import OutboxEmail
from portal.orgs.models import Organization
from portal.paths import TEMPLATES_DIR
from portal.settings import Settings

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
                ).where(Organization.id == organization_id)
            )
        ).one_or_none()
    if row is None:
        return Sender(
            settings.mail_from, settings.mail_from_name or "Afterword", "Afterword", DEFAULT_ACCENT
        )
    address, name, display_name, accent = row
    return Sender(
        address or settings.mail_from,
        name or settings.mail_from_name or display_name,
        display_name,
        accent,
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
    unsubscribe_url: str | None = None,
) -> bool:
    """Queue one email; a second call with the same key queues nothing (returns False).

    `context` gets the organization's name and accent colour added. Talent-pool
    mail passes `unsubscribe_url`, which becomes the RFC 8058 one-click headers.
    """
    existing = await db.scalar(
        select(OutboxEmail.id).where(OutboxEmail.idempotency_key == idempotency_key)
    )
    if existing is not None:
        return False
    sender = await sender_for(db, organization_id=organization_id, settings=settings)
    full_context = {
        "organization": sender.organization,
        "accent_colour": sender.accent_colour,
        **context,
    }
    subject, text, html = render_email(template, full_context)
    headers: dict[str, str] = {}
    if unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    db.add(
        OutboxEmail(
            organization_id=organization_id,
            to_address=to_address,
            from_address=sender.address,
            from_name=sender.name,
            headers=headers,
            template=template,
            subject=subject,
            text_body=text,
            html_body=html,
            idempotency_key=idempotency_key,
            next_attempt_at=now,
            created_at=now,
        )
    )
    await db.flush()
    return True


# --- operations: `portal mail status` and `portal mail retry` ----------------


@dataclass(frozen=True)
class OutboxStatus:
    counts: dict[str, int]
    recent_errors: list[tuple[int, str, int, str]]  # id, to, attempts, error


async def outbox_status(db: AsyncSession, *, errors: int = 10) -> OutboxStatus:
    counts = {state: 0 for state in ("pending", "sent", "failed")}
    for state, count in await db.execute(
        select(OutboxEmail.state, func.count()).group_by(OutboxEmail.state)
    ):
        counts[state] = count
    rows = await db.execute(
        select(OutboxEmail.id, OutboxEmail.to_address, OutboxEmail.attempts, OutboxEmail.last_error)
        .where(OutboxEmail.last_error.is_not(None))
        .order_by(OutboxEmail.id.desc())
        .limit(errors)
    )
    return OutboxStatus(counts, [(i, to, n, err or "") for i, to, n, err in rows])


async def requeue(
    db: AsyncSession, *, now: dt.datetime, email_id: int | None = None, failed: bool = False
) -> int:
    """Put a failed (or stuck) email back in the queue with fresh attempts."""
    statement = update(OutboxEmail).values(
        state="pending", attempts=0, next_attempt_at=now, locked_until=None
    )
    if email_id is not None:
        statement = statement.where(OutboxEmail.id == email_id, OutboxEmail.state != "sent")
    elif failed:
        statement = statement.where(OutboxEmail.state == "failed")
    else:
        raise ValueError("name an email id or ask for all failed ones")
    result = await db.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)
