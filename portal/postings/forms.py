"""What staff may type into the job pages and the requirement library."""

from __future__ import annotations

import enum
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from portal.forms import URL_MAX, Id, InputModel, OneLine, Say

TITLE_MAX = 200
NAME_MAX = 100
DESCRIPTION_MAX = 1_000

# An https address with a host: it becomes a link on the job's page.
_HTTPS = re.compile(r"^https://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def _posting_url(value: str) -> str:
    if value and not _HTTPS.match(value):
        raise PydanticCustomError(
            "url",
            "Enter the posting's full address, starting with https://, like "
            "https://example.com/jobs/data-analyst.",
        )
    return value


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class JobForm(InputModel):
    """A job's details, as created or edited."""

    title: Annotated[
        str,
        Field(min_length=1, max_length=TITLE_MAX),
        OneLine,
        Say(missing="Enter the job's title, like Data Analyst."),
    ]
    team: Annotated[str, Field(max_length=TITLE_MAX), OneLine] = ""
    location: Annotated[str, Field(max_length=TITLE_MAX), OneLine] = ""
    posting_url: Annotated[str, Field(max_length=URL_MAX), AfterValidator(_posting_url)] = ""


class JobEditForm(JobForm):
    """The same, with the version of the job the person saw (portal.concurrency)."""

    version: Id


JOB_LABELS = {
    "title": "Title",
    "team": "Team",
    "location": "Location",
    "posting_url": "Job posting (web address)",
}


class RequirementForm(InputModel):
    """A requirement of a job, or of the library: a short name and what it means."""

    name: Annotated[
        str,
        Field(min_length=1, max_length=NAME_MAX),
        OneLine,
        Say(missing="Enter a short name, like SQL."),
    ]
    description: Annotated[str, Field(max_length=DESCRIPTION_MAX)] = ""


class Direction(enum.StrEnum):
    UP = "up"
    DOWN = "down"


class MoveForm(InputModel):
    direction: Direction


class RestoreForm(InputModel):
    """Undo a removal: the record of it (an audit event of the job's)."""

    removal: Id


class LibraryChoiceForm(InputModel):
    requirement: Annotated[Id, Say(missing="Choose a requirement from the library.")]


class CopyForm(InputModel):
    from_job: Annotated[Id, Say(missing="Choose the job to copy from.")]


class JobListQuery(InputModel):
    """The job list's filter and page, from its query string."""

    show: Annotated[
        Literal["active", "archived"], BeforeValidator(lambda v: _blank_is_none(v) or "active")
    ] = "active"
    page: Annotated[int, Field(ge=1, le=100_000)] = 1


class LibraryQuery(InputModel):
    q: Annotated[str, Field(max_length=100)] = ""
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
