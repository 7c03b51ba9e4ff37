"""Queueing email in the outbox, in the same transaction as the change that causes it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2_fragments import render_block
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.mail.models import OutboxEmail
from portal.web import TEMPLATES_DIR

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATES_DIR)),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str, str]:
    """(subject, text, html) from templates/email/<template>.txt and .html."""
    text_name = f"email/{template}.txt"
    subject = render_block(_env, text_name, "subject", context).strip()
    text = render_block(_env, text_name, "body", context).strip() + "\n"
    html = _env.get_template(f"email/{template}.html").render(context)
    return subject, text, html


async def enqueue_email(
    db: AsyncSession,
    *,
    to_address: str,
    template: str,
    context: dict[str, Any],
    idempotency_key: str,
    now: dt.datetime,
    organization_id: int | None = None,
) -> None:
    """Queue one email; a second call with the same key queues nothing."""
    existing = await db.scalar(
        select(OutboxEmail.id).where(OutboxEmail.idempotency_key == idempotency_key)
    )
    if existing is not None:
        return
    subject, text, html = render_email(template, context)
    db.add(
        OutboxEmail(
            organization_id=organization_id,
            to_address=to_address,
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
