"""Outgoing webhooks: the endpoints an admin configures and each event's delivery."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import Base, enum_column, utcnow


class WebhookEndpoint(Base):
    """Where an organization's events go. The secret (`whsec_` and base64) is kept as
    it is: signing needs it. After a rotation the previous secret also signs, until
    `previous_secret_until`, so that receivers can switch without losing a message."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    # The event types it receives (portal.webhooks.events.EVENT_TYPES).
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_until: Mapped[dt.datetime | None]
    enabled: Mapped[bool] = mapped_column(default=True)
    # Why it was turned off: by an admin, or by the receiver answering 410 Gone.
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # every attempt failed, or the endpoint was disabled


class WebhookDelivery(Base):
    """One event for one endpoint: the exact body sent (its `webhook-id` stays the
    same across retries and "send again", so receivers can drop duplicates)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    # The JSON body, {type, timestamp, data}, as text: it is signed byte for byte.
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[DeliveryState] = enum_column(DeliveryState, default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_attempt_at: Mapped[dt.datetime | None]
    next_attempt_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
