"""What a recruiter may ask of the applications list, and type into the feedback editor."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from portal.candidates.decisions import parse_day
from portal.candidates.models import Stage
from portal.feedback.roles import SuggestedRoles
from portal.forms import DbInt, Email, Id, InputModel, OneLine, Say, WebAddress

TEXT_MAX = 2_000
ITEM_MAX = 1_000
ROWS_MAX = 30
ASSESSMENTS_MAX = 50


class FeedbackFilter(enum.StrEnum):
    """Where an application's feedback stands, as the list filters it: by its newest version."""

    NONE = "none"
    DRAFT = "draft"
    PUBLISHED = "published"


class Sort(enum.StrEnum):
    NEWEST = "newest"  # decision date, newest first
    OLDEST = "oldest"
    NAME = "name"
    JOB = "job"


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


OptionalId = Annotated[
    Id | None,
    BeforeValidator(_blank_is_none),
    Say(invalid="Choose one."),
]


class ApplicationFilter(InputModel):
    """The list's search, filters, order and page, from its query string."""

    q: Annotated[str, Field(max_length=200)] = ""
    job: OptionalId = None
    stage: Annotated[Stage | None, BeforeValidator(_blank_is_none)] = None
    feedback: Annotated[FeedbackFilter | None, BeforeValidator(_blank_is_none)] = None
    sort: Annotated[Sort, BeforeValidator(lambda v: _blank_is_none(v) or Sort.NEWEST)] = Sort.NEWEST
    page: Annotated[int, Field(ge=1, le=100_000)] = 1


def _roles(value: str) -> str:
    problem = SuggestedRoles.read(value).problem
    if problem:
        raise PydanticCustomError("roles", problem)
    return value


Text = Annotated[str, Field(max_length=TEXT_MAX)]
# A checkbox: sent as "on" when ticked, absent (or, from a kept form, empty) when not.
Checkbox = Annotated[bool, BeforeValidator(lambda v: False if v == "" else v)]
ItemText = Annotated[str, Field(max_length=ITEM_MAX)]
Rating = Literal["", "met", "partly_met", "not_yet_met"]


class AssessmentRow(InputModel):
    requirement: Id
    rating: Annotated[Rating, Say(invalid="Choose a rating.")] = ""
    evidence: ItemText = ""
    visible: Checkbox = False


class StrengthRow(InputModel):
    body: ItemText = ""
    requirement: OptionalId = None
    visible: Checkbox = False


class GrowthRow(InputModel):
    body: ItemText = ""
    suggestion: ItemText = ""
    suggestion_url: WebAddress = ""
    requirement: OptionalId = None
    visible: Checkbox = False


class EditorForm(InputModel):
    """The structured feedback of DESIGN §3 as the editor posts it.

    Rows are posted as ``strengths-0-body``, ``growth_areas-1-suggestion`` and so
    on (see `portal.forms.validate_rows`). `version` is the version the
    recruiter started from (0 when there was none).
    """

    version: DbInt
    decision_summary: Text = ""
    personal_note: Text = ""
    reapply_after_months: Annotated[
        Annotated[int, Field(ge=0, le=60)] | None,
        BeforeValidator(_blank_is_none),
        Say(invalid="Enter a number of months from 0 to 60, or leave it empty."),
    ] = None
    suggested_roles: Annotated[str, Field(max_length=ITEM_MAX), AfterValidator(_roles)] = ""
    pool_invitation_offered: Checkbox = False
    assessments: Annotated[
        list[AssessmentRow], Field(default_factory=list, max_length=ASSESSMENTS_MAX)
    ]
    strengths: Annotated[list[StrengthRow], Field(default_factory=list, max_length=ROWS_MAX)]
    growth_areas: Annotated[list[GrowthRow], Field(default_factory=list, max_length=ROWS_MAX)]
    action: Annotated[str, Field(max_length=40)] = "save"

    # Scalar fields, list rows (each with its fields): what the parser may accept.
    MAX_FIELDS: ClassVar[int] = 10 + ASSESSMENTS_MAX * 4 + ROWS_MAX * 3 + ROWS_MAX * 5


class PublishForm(InputModel):
    """Publish a version; `reason` is a second recruiter's override of risky findings."""

    version: Id
    reason: Annotated[str, Field(max_length=TEXT_MAX)] = ""


class LinkForm(InputModel):
    link: Id


# --- a rejection added by hand --------------------------------------------------------


def _day(value: Any) -> Any:
    """A decision date as typed: empty is None (the default, today), YYYY-MM-DD a date."""
    if isinstance(value, str):
        if not value.strip():
            return None
        day = parse_day(value.strip())
        if day is None:
            raise PydanticCustomError("date_parsing", "not a date")
        return day
    return value


class RejectionForm(InputModel):
    """A rejection recorded by hand: the candidate (found by email address, or new), the
    job, how far they got and when they were turned down (empty: today)."""

    name: Annotated[
        str,
        Field(min_length=1, max_length=200),
        OneLine,
        Say(missing="Enter the candidate's name."),
    ]
    email: Annotated[Email, Say(missing="Enter the candidate's email address.")]
    job: Annotated[Id, Say(missing="Choose the job.", invalid="Choose the job.")]
    stage: Annotated[
        Stage,
        Say(
            missing="Choose how far the application got.",
            invalid="Choose how far the application got.",
        ),
    ]
    decided_on: Annotated[dt.date | None, BeforeValidator(_day)] = None
