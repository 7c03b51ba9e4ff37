"""What an admin may change in their organization's settings."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from portal.forms import InputModel, Say

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _colour(value: str) -> str:
    if not COLOUR.match(value):
        raise PydanticCustomError("colour", "Enter a colour as # and six hex digits, like #1f5f8b.")
    return value.lower()


class OrganizationSettingsForm(InputModel):
    """The settings page's fields, and the version of the settings the admin saw."""

    display_name: Annotated[
        str,
        Field(min_length=1, max_length=200),
        Say(missing="Enter the name candidates see, like Acme Corp."),
    ]
    accent_colour: Annotated[str, Field(max_length=7), AfterValidator(_colour)]
    reply_promise_days: Annotated[int, Field(ge=1, le=60)]
    invitation_days: Annotated[int, Field(ge=1, le=90)]
    consent_text: Annotated[str, Field(max_length=10_000)] = ""
    mail_from_name: Annotated[str, Field(max_length=200)] = ""
    version: int


LABELS = {
    "display_name": "Name shown to candidates",
    "accent_colour": "Accent colour",
    "reply_promise_days": "Reply promise (working days)",
    "invitation_days": "Invitation links last (days)",
    "consent_text": "Talent-pool consent text",
    "mail_from_name": "Sender name of emails",
}
