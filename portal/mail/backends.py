"""Where outgoing email goes: SMTP (aiosmtplib), or `.eml` files in development."""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import email.utils
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from portal.settings import Settings

log = logging.getLogger("portal.mail")


@dataclass(frozen=True)
class Envelope:
    """An outbox row as the backends need it."""

    id: int
    to_address: str
    from_address: str
    from_name: str
    subject: str
    text_body: str
    html_body: str
    headers: dict[str, str]


# RFC 5322's limit for a line of a message.
MAX_LINE = 998


class OneLineHeader(UnstructuredHeader, BaseHeader):
    """A header holding an ASCII URL that mail providers read as is (RFC 2369/8058
    `List-Unsubscribe`): written on one line, never folded or encoded.

    The default policy folds at 78 characters, and a URL has no whitespace to fold
    at, so it turned the whole value into an RFC 2047 encoded-word
    (``=?utf-8?q?=3Chttps...``), which no provider reads as a one-click link.
    """

    def fold(self, *, policy: email.policy.Policy) -> str:
        value = str(self)
        line = f"{self.name}: {value}"
        if value.isascii() and value.isprintable() and len(line) <= MAX_LINE:
            return line + policy.linesep
        return super().fold(policy=policy)


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", OneLineHeader)
_HEADERS.map_to_type("list-unsubscribe-post", OneLineHeader)
# Every other header, and the bodies, as the default policy writes them. The header
# objects keep their class whichever policy later writes the message (aiosmtplib
# flattens it with email.policy.SMTP).
POLICY = email.policy.default.clone(header_factory=_HEADERS)


def build_message(envelope: Envelope) -> EmailMessage:
    message = EmailMessage(policy=POLICY)
    domain = envelope.from_address.rpartition("@")[2] or "localhost"
    message["From"] = email.utils.formataddr((envelope.from_name, envelope.from_address))
    message["To"] = envelope.to_address
    message["Subject"] = envelope.subject
    message["Date"] = email.utils.formatdate(localtime=False)
    # Stable per outbox row: a retried send keeps its Message-ID.
    message["Message-ID"] = f"<outbox.{envelope.id}@{domain}>"
    for name, value in envelope.headers.items():
        message[name] = value
    message.set_content(envelope.text_body)
    message.add_alternative(envelope.html_body, subtype="html")
    return message


class Connection(Protocol):
    async def send(self, message: EmailMessage, *, outbox_id: int) -> None: ...


class MailBackend(Protocol):
    def connect(self) -> contextlib.AbstractAsyncContextManager[Connection]: ...


class FileMailBackend:
    """Writes each message as an .eml file under PORTAL_MAIL_DIR, and logs where."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Connection]:
        yield self

    async def send(self, message: EmailMessage, *, outbox_id: int) -> None:
        path = self.directory / f"{outbox_id:08d}.eml"
        await asyncio.to_thread(self._write, path, message.as_bytes())
        log.info("wrote email %d to %s", outbox_id, path)

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    def forget(self, outbox_ids: Iterable[int], *, mentioning: Sequence[str] = ()) -> int:
        """Delete the files of these messages; with `mentioning`, only those whose
        headers or decoded text contain one of the words (an erased person's copies).
        Returns how many went."""
        removed = 0
        for outbox_id in outbox_ids:
            path = self.directory / f"{outbox_id:08d}.eml"
            if not path.is_file():
                continue
            if mentioning and not _mentions(path.read_bytes(), mentioning):
                continue
            path.unlink(missing_ok=True)
            removed += 1
        return removed


def _mentions(data: bytes, words: Sequence[str]) -> bool:
    message = email.message_from_bytes(data, policy=email.policy.default)
    texts = [str(value) for value in message.values()]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            texts.append(str(part.get_content()))
    return any(word in text for text in texts for word in words)


class SmtpConnection:
    def __init__(self, client: aiosmtplib.SMTP) -> None:
        self.client = client

    async def send(self, message: EmailMessage, *, outbox_id: int) -> None:
        await self.client.send_message(message)


class SmtpMailBackend:
    """One SMTP connection per batch, reused for every message in it."""

    def __init__(self, settings: Settings) -> None:
        url = urlsplit(settings.smtp_url)
        self.hostname = url.hostname or "localhost"
        self.use_tls = url.scheme == "smtps"
        self.start_tls = url.scheme == "smtp+starttls"
        self.port = url.port or (465 if self.use_tls else 587 if self.start_tls else 25)
        self.username = unquote(url.username or "") or settings.smtp_username
        self.password = unquote(url.password or "") or settings.smtp_password.get_secret_value()
        self.timeout = settings.smtp_timeout_seconds

    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Connection]:
        client = aiosmtplib.SMTP(
            hostname=self.hostname,
            port=self.port,
            use_tls=self.use_tls,
            start_tls=self.start_tls,
            timeout=self.timeout,
        )
        await client.connect()
        try:
            if self.username:
                await client.login(self.username, self.password)
            yield SmtpConnection(client)
        finally:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()


def mail_backend(settings: Settings) -> MailBackend:
    if settings.smtp_url:
        return SmtpMailBackend(settings)
    return FileMailBackend(settings.mail_path)


def is_permanent(exc: BaseException) -> bool:
    """5xx for this message (recipient, sender or content refused): retrying cannot help."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= refused.code < 600 for refused in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 500 <= exc.code < 600
    return False
