"""The ATS webhooks' job kind: processing one received event (declared beside `receive`,
which queues it)."""

from portal.ats.service import PROCESS

__all__ = ["PROCESS"]
