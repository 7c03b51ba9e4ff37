"""What the browser tests share: the running demo, its candidates, page and screenshot helpers."""

from __future__ import annotations

import email
import email.policy
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from playwright.sync_api import Page

DESKTOP = (1280, 800)
PHONE = (390, 844)
PRIYA_EMAIL = "priya.raman@example.com"


@dataclass(frozen=True)
class DemoCandidate:
    name: str
    email: str
    job: str
    organization: str
    link: str

    @property
    def first_name(self) -> str:
        return self.name.split(" ")[0]


@dataclass
class Demo:
    base_url: str
    mail_dir: Path
    candidates: list[DemoCandidate]
    unused: list[DemoCandidate] = field(default_factory=list)
    database: Path | None = None  # the demo's SQLite file

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def take(
        self,
        *,
        address: str | None = None,
        other_than: str | None = None,
        organization: str | None = None,
    ) -> DemoCandidate:
        """A link nobody has used yet (each works once), to `address` or to anyone else, of
        `organization` or of any."""
        for i, candidate in enumerate(self.unused):
            if (
                (address is None or candidate.email == address)
                and candidate.email != other_than
                and (organization is None or candidate.organization == organization)
            ):
                return self.unused.pop(i)
        raise LookupError(
            f"the demo has no unused link left for {address or 'another candidate'}; "
            "each link works once, so a new test needs a demo candidate of its own"
        )

    def mail_to(self, address: str) -> list[EmailMessage]:
        messages = []
        for path in sorted(self.mail_dir.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            if str(message["To"]).lower() == address.lower():
                messages.append(message)
        return messages

    def wait_for_mail(self, address: str, *, more_than: int, timeout: float = 15.0) -> EmailMessage:
        """The newest message to `address`, once there are more than `more_than` of them."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.mail_to(address)
            if len(messages) > more_than:
                return messages[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no new email to {address} in {self.mail_dir} in {timeout}s")
            time.sleep(0.1)


class OpenPage(Protocol):
    def __call__(self, *, js: bool, viewport: tuple[int, int] = DESKTOP) -> Page: ...


class Screenshot(Protocol):
    def __call__(self, page: Page, name: str, *, full_page: bool = True) -> None: ...
