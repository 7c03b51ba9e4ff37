"""What an admin may change in their organization's settings."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator
from pydantic_core import PydanticCustomError

from portal.formats import DEFAULT_TIME_ZONE
from portal.forms import (
    Email,
    Id,
    InputModel,
    OneLine,
    OptionalEmail,
    Say,
    TimeZone,
    WebAddress,
)
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


# An organization's short name in addresses (its branding stylesheet, the cookie that
# remembers it): lower-case ASCII letters and digits, in words joined by single
# hyphens, 63 characters at most (the column's length, and a DNS label's).
SLUG_MAX = 63
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_RULE = (
    "That is not a valid slug: use lower-case letters a-z and digits, in words joined by "
    f"single hyphens, at most {SLUG_MAX} characters, like acme-corp."
)


def is_slug(value: str) -> bool:
    return len(value) <= SLUG_MAX and SLUG.match(value) is not None


def _slug(value: str) -> str:
    if not is_slug(value):
        raise PydanticCustomError("slug", SLUG_RULE)
    return value


NAME_MAX = 200


class NewOrganizationForm(InputModel):
    """A new organization and the address of its first admin (`portal org create`)."""

    name: Annotated[
        str,
        Field(min_length=1, max_length=NAME_MAX),
        OneLine,  # the name shown to candidates, and the sender name of its emails
        Say(missing="Give the organization's name, like Acme Corp."),
    ]
    slug: Annotated[
        str,
        Field(min_length=1, max_length=SLUG_MAX),
        AfterValidator(_slug),
        Say(missing="Give a slug, like acme-corp."),
    ]
    admin_email: Annotated[Email, Say(missing="Give the first admin's email address.")]
    admin_name: Annotated[
        str,
        Field(min_length=1, max_length=NAME_MAX),
        OneLine,
        Say(missing="Give the first admin's name, like Ada Lovelace."),
    ]

    @field_validator("admin_email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class AdminInvitationForm(InputModel):
    """An admin to invite (again) into an existing organization (`portal org
    invite-admin`)."""

    slug: Annotated[
        str,
        Field(min_length=1, max_length=SLUG_MAX),
        AfterValidator(_slug),
        Say(missing="Give the organization's slug (portal org list shows them)."),
    ]
    admin_email: Annotated[Email, Say(missing="Give the admin's email address.")]
    admin_name: Annotated[
        str,
        Field(min_length=1, max_length=NAME_MAX),
        OneLine,
        Say(missing="Give the admin's name, like Ada Lovelace."),
    ]

    @field_validator("admin_email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


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
