"""What an admin fills in on the ATS page: a webhook secret, and a job's mapping."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from portal.forms import DbInt, InputModel, Say


class SecretForm(InputModel):
    secret: Annotated[
        str,
        Field(min_length=12, max_length=200),
        Say(
            missing="Paste the secret from the ATS's webhook settings.",
            invalid="Use the whole secret: 12 to 200 characters.",
        ),
    ]


class AttributeRow(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    # A requirement of the chosen job; 0 leaves the attribute out of drafts.
    requirement: DbInt = 0


class MappingForm(InputModel):
    # 0: not mapped (its events keep waiting).
    job: DbInt = 0
    attributes: list[AttributeRow] = Field(default_factory=list)
    MAX_FIELDS: ClassVar[int] = 1 + 2 * 200


class CredentialsForm(InputModel):
    """The credentials of an ATS's API (Greenhouse: `CLIENT_ID:CLIENT_SECRET`)."""

    credentials: Annotated[
        str,
        Field(min_length=8, max_length=500),
        Say(
            missing="Paste the API credentials from the system's developer settings.",
            invalid="Use the whole key: 8 to 500 characters.",
        ),
    ]
