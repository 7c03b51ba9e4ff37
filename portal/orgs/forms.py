"""What an admin may change in their organization's settings."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from portal.formats import DEFAULT_TIME_ZONE
from portal.forms import Id, InputModel, OneLine, OptionalEmail, Say, TimeZone, WebAddress
from portal.orgs.colours import COLOUR, MIN_CONTRAST, WHITE, contrast_ratio, darker_shade


def _colour(value: str) -> str:
    if not COLOUR.match(value):
        raise PydanticCustomError("colour", "Enter a colour as # and six hex digits, like #1f5f8b.")
    value = value.lower()
    ratio = contrast_ratio(value, WHITE)
    if ratio < MIN_CONTRAST:
        # The header, its buttons and the focus ring put white on this colour.
        raise PydanticCustomError(
            "colour",
            "White text on {colour} is too faint to read ({ratio}:1; candidates need at "
            "least {minimum}:1). Choose a darker colour, such as {suggestion}.",
            {
                "colour": value,
                "ratio": f"{int(ratio * 10) / 10:.1f}",
                "minimum": MIN_CONTRAST,
                "suggestion": darker_shade(value),
            },
        )
    return value


class OrganizationSettingsForm(InputModel):
    """The settings page's fields, and the version of the settings the admin saw."""

    display_name: Annotated[
        str,
        Field(min_length=1, max_length=200),
        OneLine,  # also the sender name of its emails, unless one is set
        Say(missing="Enter the name candidates see, like Acme Corp."),
    ]
    accent_colour: Annotated[str, Field(max_length=7), AfterValidator(_colour)]
    reply_promise_days: Annotated[int, Field(ge=1, le=60)]
    invitation_days: Annotated[int, Field(ge=1, le=90)]
    consent_text: Annotated[str, Field(max_length=10_000)] = ""
    # Goes into the From header of every email: one line.
    mail_from_name: Annotated[str, Field(max_length=200), OneLine] = ""
    # Shown in the footer of every page of the organization's candidates.
    privacy_url: WebAddress = ""
    contact_email: OptionalEmail = ""
    # What staff read times in, unless they chose their own zone.
    time_zone: Annotated[TimeZone, Say(missing="Enter a time zone, like Europe/Berlin or UTC.")] = (
        DEFAULT_TIME_ZONE
    )
    version: Id


LABELS = {
    "display_name": "Name shown to candidates",
    "accent_colour": "Accent colour",
    "reply_promise_days": "Reply promise (working days)",
    "invitation_days": "Invitation links last (days)",
    "consent_text": "Talent-pool consent text",
    "mail_from_name": "Sender name of emails",
    "privacy_url": "Privacy notice (web address)",
    "contact_email": "Contact for candidates (email address)",
    "time_zone": "Time zone",
}
