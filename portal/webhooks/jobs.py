"""The webhooks' job kind: one delivery attempt (declared beside `emit`, which queues it)."""

from portal.webhooks.service import DELIVER

__all__ = ["DELIVER"]
