"""Where outgoing email goes. Development: `.eml` files under PORTAL_MAIL_DIR."""

from __future__ import annotations

import asyncio
import email.utils
import logging
from email.message import EmailMessage
from pathlib import Path

from portal.mail.models import OutboxEmail
from portal.settings import Settings

log = logging.getLogger("portal.mail")


def build_message(settings: Settings, row: OutboxEmail, *, sender_name: str) -> EmailMessage:
    message = EmailMessage()
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    message["From"] = email.utils.formataddr((sender_name, settings.mail_from))
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = email.utils.make_msgid(idstring=f"outbox{row.id}", domain=domain)
    message.set_content(row.text_body)
    message.add_alternative(row.html_body, subtype="html")
    return message


class FileMailBackend:
    """Writes each message as an .eml file, and logs where."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage, *, outbox_id: int) -> None:
        path = self.directory / f"{outbox_id:08d}.eml"
        await asyncio.to_thread(self._write, path, message.as_bytes())
        log.info("wrote email %d to %s", outbox_id, path)

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
