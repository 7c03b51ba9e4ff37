"""Outgoing webhooks per the Standard Webhooks specification.

`emit` is how any domain announces an event: inside the caller's transaction it
writes one delivery per subscribed endpoint and queues its first attempt, so an
event is sent if and only if its cause commits. Each delivery's body is
`{"type", "timestamp", "data"}`, signed with the endpoint's secret
(`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` over
`{id}.{timestamp}.{body}`, by the `standardwebhooks` library).

Attempts follow the specification's schedule (`RETRY_DELAYS`): immediately, then
5 seconds, 5 minutes, 30 minutes, 2, 5, 10 and 10 hours. A 410 Gone turns the
endpoint off; 429, 502 and 504 wait at least as long as `Retry-After` asks.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx2
from pydantic import BaseModel
from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from portal.audit import service as audit
from portal.jobs.registry import JobKind, registry
from portal.jobs.service import enqueue
from portal.security.actors import Staff
from portal.settings import Settings
from portal.webhooks.address import RefusedAddress, check_destination
from portal.webhooks.events import EVENT_TYPES
from portal.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint

# The specification's schedule: the delay before each attempt (the first at once).
RETRY_DELAYS = (
    dt.timedelta(0),
    dt.timedelta(seconds=5),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=10),
    dt.timedelta(hours=10),
)
# Answers that ask the sender to slow down: the next attempt waits for Retry-After.
SLOW_DOWN = frozenset({429, 502, 504})
# However long Retry-After asks for, the next attempt comes within a day.
RETRY_AFTER_CAP = dt.timedelta(hours=24)
# After a rotation, the old secret signs too for this long (receivers switch over).
PREVIOUS_SECRET_GRACE = dt.timedelta(hours=24)
SECRET_BYTES = 32
DELIVERIES_PER_PAGE = 25
USER_AGENT = "Afterword-Webhooks/1"


class UnknownEventType(ValueError):
    pass


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _subscribes(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return event_type in (endpoint.event_types or ())


# --- emitting ----------------------------------------------------------------


class Deliver(BaseModel):
    delivery_id: int
    # Attempts the delivery had made when this one was queued: a job whose delivery
    # has moved on since (a duplicate, a "send again") does nothing.
    attempts_before: int
    # The attempt's place in the schedule (1 for the first of a round).
    try_number: int = 1


async def emit(
    db: AsyncSession,
    *,
    organization_id: int,
    event_type: str,
    data: dict[str, Any],
    now: dt.datetime,
) -> int:
    """Announce an event to the organization's endpoints that subscribe to it, in the
    caller's transaction; returns how many deliveries were queued. `data` must be
    JSON and must never hold anything staff-only (notes, internal items, scorecards).

    Any domain may call it (`candidate.erased` is ready for the privacy work)."""
    return await emit_many(
        db, organization_id=organization_id, event_type=event_type, events=[data], now=now
    )


async def emit_many(
    db: AsyncSession,
    *,
    organization_id: int,
    event_type: str,
    events: Sequence[dict[str, Any]],
    now: dt.datetime,
) -> int:
    """`emit` for many events of one type (an import that publishes thousands): the
    endpoints are read once, and nothing more happens when none subscribes."""
    if event_type not in EVENT_TYPES:
        raise UnknownEventType(event_type)
    if not events:
        return 0
    endpoints = [
        endpoint
        for endpoint in (
            await db.scalars(
                select(WebhookEndpoint).where(
                    WebhookEndpoint.organization_id == organization_id,
                    WebhookEndpoint.enabled.is_(True),
                )
            )
        ).all()
        if _subscribes(endpoint, event_type)
    ]
    queued = 0
    for data in events:
        body = json.dumps(
            {"type": event_type, "timestamp": _timestamp(now), "data": data},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for endpoint in endpoints:
            delivery = WebhookDelivery(
                endpoint_id=endpoint.id,
                message_id=_new_message_id(),
                event_type=event_type,
                body=body,
                state=DeliveryState.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            db.add(delivery)
            await db.flush()
            await _queue(db, delivery, try_number=1, run_at=now)
            queued += 1
    return queued


async def _queue(
    db: AsyncSession, delivery: WebhookDelivery, *, try_number: int, run_at: dt.datetime
) -> None:
    await enqueue(
        db,
        DELIVER,
        Deliver(delivery_id=delivery.id, attempts_before=delivery.attempts, try_number=try_number),
        run_at=run_at,
        idempotency_key=f"webhook:{delivery.id}:{delivery.attempts}",
    )


# --- delivering --------------------------------------------------------------


def signature_header(
    endpoint: WebhookEndpoint, *, message_id: str, moment: dt.datetime, body: str, now: dt.datetime
) -> str:
    """`v1,<base64>` with the endpoint's secret, and with the previous one too while a
    rotation's grace lasts (receivers accept any signature that matches)."""
    signatures = [Webhook(endpoint.secret).sign(message_id, moment, body)]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_until is not None
        and now < endpoint.previous_secret_until
    ):
        signatures.append(Webhook(endpoint.previous_secret).sign(message_id, moment, body))
    return " ".join(signatures)


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (timeout, refused connection, refused address)
    error: str | None = None
    retry_after: dt.timedelta | None = None


def _retry_after(value: str | None, now: dt.datetime) -> dt.timedelta | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return dt.timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(dt.timedelta(0), when - now)


async def send(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery, *, settings: Settings, now: dt.datetime
) -> Answer:
    """One attempt: POST the signed body, with short timeouts and no redirects."""
    try:
        await check_destination(
            endpoint.url, allow_private=settings.webhook_allow_private_addresses
        )
    except RefusedAddress as exc:
        return Answer(None, str(exc))
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature_header(
            endpoint, message_id=delivery.message_id, moment=now, body=delivery.body, now=now
        ),
    }
    timeout = httpx2.Timeout(settings.webhook_timeout_seconds)
    try:
        async with httpx2.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            response = await client.post(
                endpoint.url, content=delivery.body.encode(), headers=headers
            )
    except httpx2.TimeoutException:
        return Answer(None, "No answer in time")
    except httpx2.HTTPError as exc:
        return Answer(None, f"Could not connect: {type(exc).__name__}")
    if 200 <= response.status_code < 300:
        return Answer(response.status_code)
    return Answer(
        response.status_code,
        f"Answered {response.status_code}",
        _retry_after(response.headers.get("retry-after"), now)
        if response.status_code in SLOW_DOWN
        else None,
    )


async def attempt_delivery(
    db: AsyncSession, payload: Deliver, *, settings: Settings, now: dt.datetime
) -> None:
    """The job: one attempt of one delivery, and what follows from its answer."""
    delivery = await db.get(WebhookDelivery, payload.delivery_id, with_for_update=True)
    if (
        delivery is None
        or delivery.state != DeliveryState.PENDING
        or delivery.attempts != payload.attempts_before
    ):
        return  # done, failed, deleted, or already attempted by another job
    endpoint = await db.get(WebhookEndpoint, delivery.endpoint_id)
    assert endpoint is not None
    if not endpoint.enabled:
        delivery.state = DeliveryState.FAILED
        delivery.last_error = "The endpoint is turned off"
        delivery.next_attempt_at = None
        return
    answer = await send(endpoint, delivery, settings=settings, now=now)
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status = answer.status
    delivery.last_error = answer.error[:500] if answer.error else None
    if answer.status is not None and 200 <= answer.status < 300:
        delivery.state = DeliveryState.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        return
    if answer.status == 410:
        endpoint.enabled = False
        endpoint.disabled_reason = "The receiver answered 410 Gone"
        endpoint.updated_at = now
        delivery.state = DeliveryState.FAILED
        delivery.next_attempt_at = None
        audit.record(
            db,
            action="webhook.endpoint_gone",
            actor_kind="system",
            organization_id=endpoint.organization_id,
            details={"url": endpoint.url},
        )
        return
    if payload.try_number >= len(RETRY_DELAYS):
        delivery.state = DeliveryState.FAILED
        delivery.next_attempt_at = None
        return
    delay = RETRY_DELAYS[payload.try_number]
    if answer.retry_after is not None:
        delay = max(delay, min(answer.retry_after, RETRY_AFTER_CAP))
    delivery.next_attempt_at = now + delay
    await db.flush()
    await _queue(db, delivery, try_number=payload.try_number + 1, run_at=now + delay)


async def _run_delivery(db: AsyncSession, payload: Deliver, context: Any) -> None:
    await attempt_delivery(db, payload, settings=context.settings, now=context.now)


DELIVER = registry.add(JobKind("webhooks.deliver", Deliver, run=_run_delivery))


# --- the admins' pages -------------------------------------------------------


class EndpointNotFound(LookupError):
    pass


def readable_endpoints(actor: Staff) -> Select[WebhookEndpoint]:
    """An admin's organization's endpoints (the pages are in the admin area)."""
    return select(WebhookEndpoint).where(WebhookEndpoint.organization_id == actor.organization_id)


async def list_endpoints(db: AsyncSession, *, actor: Staff) -> list[Any]:
    failing = (
        select(func.count())
        .where(
            WebhookDelivery.endpoint_id == WebhookEndpoint.id,
            WebhookDelivery.state == DeliveryState.FAILED,
        )
        .correlate(WebhookEndpoint)
        .scalar_subquery()
    )
    statement = readable_endpoints(actor).add_columns(failing.label("failed"))
    rows = (await db.execute(statement.order_by(WebhookEndpoint.id))).all()
    return [(row[0], row.failed) for row in rows]


async def load_endpoint(db: AsyncSession, *, actor: Staff, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await db.scalar(readable_endpoints(actor).where(WebhookEndpoint.id == endpoint_id))
    if endpoint is None:
        raise EndpointNotFound(endpoint_id)
    return endpoint


async def create_endpoint(
    db: AsyncSession,
    *,
    actor: Staff,
    url: str,
    description: str,
    event_types: list[str],
    now: dt.datetime,
    ip_hash: str | None = None,
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        organization_id=actor.organization_id,
        url=url,
        description=description,
        event_types=sorted(event_types),
        secret=new_secret(),
        enabled=True,
        created_at=now,
        updated_at=now,
    )
    db.add(endpoint)
    await db.flush()
    _audit(db, actor, endpoint, action="webhook.endpoint_added", ip_hash=ip_hash)
    return endpoint


async def update_endpoint(
    db: AsyncSession,
    *,
    actor: Staff,
    endpoint_id: int,
    url: str,
    description: str,
    event_types: list[str],
    enabled: bool,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> WebhookEndpoint:
    endpoint = await load_endpoint(db, actor=actor, endpoint_id=endpoint_id)
    endpoint.url = url
    endpoint.description = description
    endpoint.event_types = sorted(event_types)
    if enabled and not endpoint.enabled:
        endpoint.disabled_reason = None
    elif not enabled and endpoint.enabled:
        endpoint.disabled_reason = "Turned off by an admin"
    endpoint.enabled = enabled
    endpoint.updated_at = now
    _audit(db, actor, endpoint, action="webhook.endpoint_changed", ip_hash=ip_hash, enabled=enabled)
    return endpoint


async def rotate_secret(
    db: AsyncSession,
    *,
    actor: Staff,
    endpoint_id: int,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> WebhookEndpoint:
    """A new secret; the old one goes on signing (beside it) for a day."""
    endpoint = await load_endpoint(db, actor=actor, endpoint_id=endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + PREVIOUS_SECRET_GRACE
    endpoint.secret = new_secret()
    endpoint.updated_at = now
    _audit(db, actor, endpoint, action="webhook.secret_rotated", ip_hash=ip_hash)
    return endpoint


@dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[WebhookDelivery]
    page: int
    pages: int
    total: int


async def list_deliveries(
    db: AsyncSession, *, actor: Staff, endpoint_id: int, page: int
) -> DeliveryPage:
    endpoint = await load_endpoint(db, actor=actor, endpoint_id=endpoint_id)
    total = (
        await db.scalar(select(func.count()).where(WebhookDelivery.endpoint_id == endpoint.id)) or 0
    )
    pages = max(1, -(-total // DELIVERIES_PER_PAGE))
    page = min(max(1, page), pages)
    deliveries = (
        await db.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(DELIVERIES_PER_PAGE)
            .offset((page - 1) * DELIVERIES_PER_PAGE)
        )
    ).all()
    return DeliveryPage(list(deliveries), page, pages, total)


class CannotResend(ValueError):
    pass


async def resend(
    db: AsyncSession,
    *,
    actor: Staff,
    endpoint_id: int,
    delivery_id: int,
    now: dt.datetime,
    ip_hash: str | None = None,
) -> WebhookDelivery:
    """Send a delivered or failed message again (same `webhook-id`), a new round of
    attempts. Refused while it is still pending, or while the endpoint is off."""
    endpoint = await load_endpoint(db, actor=actor, endpoint_id=endpoint_id)
    delivery = await db.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id
        )
    )
    if delivery is None:
        raise EndpointNotFound(delivery_id)
    if not endpoint.enabled:
        raise CannotResend("Turn the endpoint on first: it is off.")
    if delivery.state == DeliveryState.PENDING:
        raise CannotResend("This message is still being delivered.")
    await db.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id)
        .values(state=DeliveryState.PENDING, next_attempt_at=now)
        .execution_options(synchronize_session="fetch")
    )
    await db.refresh(delivery)
    await _queue(db, delivery, try_number=1, run_at=now)
    audit.record(
        db,
        action="webhook.delivery_resent",
        actor_kind="staff",
        actor_id=actor.staff_id,
        organization_id=actor.organization_id,
        ip_hash=ip_hash,
        details={"url": endpoint.url, "event": delivery.event_type, "id": delivery.message_id},
    )
    return delivery


def _audit(
    db: AsyncSession,
    actor: Staff,
    endpoint: WebhookEndpoint,
    *,
    action: str,
    ip_hash: str | None,
    **more: Any,
) -> None:
    audit.record(
        db,
        action=action,
        actor_kind="staff",
        actor_id=actor.staff_id,
        organization_id=actor.organization_id,
        ip_hash=ip_hash,
        details={"url": endpoint.url, "events": list(endpoint.event_types), **more},
    )
