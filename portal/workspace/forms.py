"""What a recruiter may ask of the applications list (its filters and bulk actions),
and type into the feedback editor."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from portal.candidates.decisions import parse_day
from portal.candidates.models import Stage
from portal.feedback.roles import SuggestedRoles
from portal.forms import DbInt, Email, Id, InputModel, OneLine, Say, WebAddress, parse_number

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
    # Whose: anyone's (empty), the recruiter's own ("me"), nobody's ("none"), a colleague's.
    assignee: Annotated[
        Literal["me", "none"] | Id | None,
        BeforeValidator(_blank_is_none),
        Say(invalid="Choose one."),
    ] = None
    sort: Annotated[Sort, BeforeValidator(lambda v: _blank_is_none(v) or Sort.NEWEST)] = Sort.NEWEST
    page: Annotated[int, Field(ge=1, le=100_000)] = 1

    def query(self) -> dict[str, str]:
        """The filters and order (not the page) as the list's query string has them."""
        given = self.model_dump(mode="json", include=set(FILTER_FIELDS), exclude_defaults=True)
        return {name: str(value) for name, value in given.items()}


# The list's filters and order, which a bulk action's forms carry back to the list.
FILTER_FIELDS = frozenset({"q", "job", "stage", "feedback", "assignee", "sort"})

# The most applications one bulk action takes (docs/staff/bulk-actions.md): every one
# is read, checked and written in one request, and a confirmation page lists them all.
BULK_MAX = 500


class Scope(enum.StrEnum):
    """Which applications a bulk action is for."""

    TICKED = "ticked"  # the rows ticked on the page
    PAGE = "page"  # every row of the page
    MATCHES = "matches"  # every application matching the filters, on every page


class BulkAction(enum.StrEnum):
    PUBLISH = "publish"
    ASSIGN = "assign"
    DRAFT = "draft"  # draft from scorecards, in a background job


def _id_list(value: str) -> str:
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if any(parse_number(part) is None for part in parts):
        raise PydanticCustomError("choice", "Choose applications from the list.")
    return ",".join(parts)


def _ids(value: str) -> list[int]:
    return list(dict.fromkeys(int(part) for part in value.split(",") if part))


# Ids posted once per checkbox (or hidden field), joined with commas by `joined_ids`.
IdList = Annotated[str, Field(max_length=BULK_MAX * 12), AfterValidator(_id_list)]
ID_LISTS = ("application", "shown")


def joined_ids(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The posted values (`read_form`'s `values`): a checkbox group's ids joined, the
    last value of any other field."""
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in ID_LISTS and values.get(name):
            values[name] += "," + value
        else:
            values[name] = value
    return values


class BulkForm(ApplicationFilter):
    """The bulk bar under the list's filters: which applications (the ticked ones, the
    page's, or every match of the filters posted with it) and what to do with them."""

    scope: Annotated[Scope, BeforeValidator(lambda v: _blank_is_none(v) or Scope.TICKED)] = (
        Scope.TICKED
    )
    application: IdList = ""  # the ticked rows
    shown: IdList = ""  # every row the page showed
    action: Annotated[BulkAction, Say(missing="Choose what to do.", invalid="Choose what to do.")]
    # For assigning: "none" (nobody) or a colleague's id; empty when not chosen.
    assign_to: Annotated[
        Literal["", "none"] | Id, Say(invalid="Choose a colleague from the list.")
    ] = ""

    # The ticked ids (a page holds far fewer, but a form may post up to the cap), the
    # page's, the filters and the buttons.
    MAX_FIELDS: ClassVar[int] = BULK_MAX + 60

    @property
    def ticked_ids(self) -> list[int]:
        return _ids(self.application)

    @property
    def shown_ids(self) -> list[int]:
        return _ids(self.shown)


def _versions(value: str) -> str:
    pairs = [part.strip() for part in value.split(",") if part.strip()]
    for pair in pairs:
        application, _, version = pair.partition(":")
        if parse_number(application) is None or parse_number(version, low=0) is None:
            raise PydanticCustomError("choice", "Choose applications from the list.")
    if not pairs:
        raise PydanticCustomError("choice", "Choose applications from the list.")
    return ",".join(pairs)


class BulkPublishForm(ApplicationFilter):
    """The confirmation of a bulk publish: each chosen application as
    "application:version", its newest version when the recruiter confirmed (0: none);
    and the list's filters, for the way back."""

    confirmed: Annotated[
        str,
        Field(min_length=1, max_length=BULK_MAX * 22),
        AfterValidator(_versions),
        Say(missing="Choose applications from the list."),
    ]

    @property
    def versions(self) -> dict[int, int]:
        """Application id -> the version confirmed, in the order posted."""
        found: dict[int, int] = {}
        for pair in self.confirmed.split(","):
            application, _, version = pair.partition(":")
            found.setdefault(int(application), int(version))
        return found


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
    """Publish a version; `reason` is a second recruiter's override of risky findings,
    `confirm_incomplete` the answer to the warning about incomplete feedback."""

    version: Id
    reason: Annotated[str, Field(max_length=TEXT_MAX)] = ""
    confirm_incomplete: Checkbox = False


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
