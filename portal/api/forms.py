"""What the API's requests may contain, and what its answers hold: pydantic models,
the same ones the handlers validate with and the OpenAPI document describes
(`portal.api.openapi`). A job's fields are the job page's (`JobForm`), a
rejection's the CSV import's (`portal.imports.forms.Rejection`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from portal.forms import InputModel, OneLine, Say
from portal.imports.forms import EXTERNAL_ID_MAX, FeedbackContent, Rejection
from portal.postings.forms import JobForm, RequirementForm

ExternalId = Annotated[str, Field(min_length=1, max_length=EXTERNAL_ID_MAX), OneLine]
MAX_REQUIREMENTS = 50


class Strict(InputModel):
    """API bodies refuse fields they do not know (a typo is an error, not ignored)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid", frozen=True)


class RequirementIn(RequirementForm, Strict):
    model_config = Strict.model_config


class JobIn(JobForm, Strict):
    """A new job: the job page's fields, the ATS's id of it, and its requirements in
    order."""

    model_config = Strict.model_config
    external_id: ExternalId | None = None
    requirements: list[RequirementIn] = Field(default_factory=list, max_length=MAX_REQUIREMENTS)


class JobPatch(Strict):
    """Changes to a job: only the fields given change. `requirements` adds those whose
    name the job lacks and rewords those it has (by name, any case); requirements
    not named stay."""

    title: Annotated[str, Field(min_length=1, max_length=200), OneLine] | None = None
    team: Annotated[str, Field(max_length=200), OneLine] | None = None
    location: Annotated[str, Field(max_length=200), OneLine] | None = None
    posting_url: Annotated[str, Field(max_length=500)] | None = None
    requirements: list[RequirementIn] | None = Field(default=None, max_length=MAX_REQUIREMENTS)


class FeedbackIn(FeedbackContent, Strict):
    model_config = Strict.model_config


class ApplicationIn(Rejection, Strict):
    """A rejected application, created or updated by the ATS's id of it
    (`external_id`): the candidate (found by email address within the organization),
    the job (by Afterword's id, `job_id`, or the ATS's, `job_external_id`), how far
    it got, the day of the decision, and its feedback, saved as a draft version (a
    version with the same content as the newest adds nothing)."""

    model_config = Strict.model_config
    external_id: ExternalId
    job_id: Annotated[int, Field(ge=1, le=2_147_483_647)] | None = None
    job_external_id: ExternalId | None = None
    feedback: FeedbackIn | None = None


MAX_BATCH = 100


class ApplicationBatchIn(Strict):
    """Up to 100 rejected applications at once, each exactly what
    `POST /applications` takes (validated by the same model: one invalid item refuses
    the batch with 422, each field named `items.<n>.<field>`, and writes nothing)."""

    items: list[ApplicationIn] = Field(min_length=1, max_length=MAX_BATCH)


class PublishIn(Strict):
    """Publish the newest version and email the candidate their link, as the editor
    does. Incomplete feedback (no assessment, or neither strengths nor growth areas)
    is refused unless `confirm_incomplete`; risky findings of the feedback check
    always refuse it (a person must reword it, or a second recruiter override the
    check in the editor)."""

    confirm_incomplete: bool = False


class SendLinkIn(Strict):
    """Email the candidate a fresh link to their published feedback."""


# --- answers -------------------------------------------------------------------------


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class RequirementOut(Out):
    id: int
    name: str
    description: str


class JobOut(Out):
    id: int
    external_id: str | None
    title: str
    team: str
    location: str
    posting_url: str | None
    archived: bool
    requirements: list[RequirementOut]


class Page(Out):
    next: str | None = Field(description="The next page's URL; null on the last page.")


class JobPage(Page):
    items: list[JobOut]


class FeedbackState(Out):
    """Where the application's feedback stands: its newest version and the published one."""

    newest_version: int | None
    newest_state: Literal["draft", "published"] | None
    published_version: int | None
    published_at: dt.datetime | None


class ThreadOut(Out):
    id: int
    state: Literal["waiting", "answered", "open", "closed"]
    created_at: dt.datetime
    waiting_since: dt.datetime | None
    messages: int


class ApplicationOut(Out):
    id: int
    external_id: str | None
    job_id: int
    candidate_email: str
    candidate_name: str
    stage: str
    decided_at: dt.datetime | None
    feedback: FeedbackState
    threads: list[ThreadOut]


class ApplicationPage(Page):
    items: list[ApplicationOut]


class BatchItemOut(Out):
    """What became of one item of a batch, in the order sent."""

    index: int = Field(description="The item's position in `items`, from 0.")
    external_id: str
    status: Literal[200, 201, 409, 422] = Field(
        description="201 created, 200 updated (as `POST /applications` answers), or the "
        "item's problem's status: nothing of that item was written."
    )
    application: ApplicationOut | None = None
    problem: Problem | None = None


class ApplicationBatchOut(Out):
    items: list[BatchItemOut]
    created: int
    updated: int
    failed: int


class FindingOut(Out):
    rule: str
    severity: str
    field: str
    message: str
    words: str


class PublishedOut(Out):
    application_id: int
    version: int
    published: bool = Field(description="False when that version was published already.")
    link_sent: bool = Field(
        description="True when the candidate was emailed their link now; false when the email "
        "waits for the send window or a recruiter's call, or went with an earlier version."
    )


class LinkSentOut(Out):
    application_id: int
    link_sent: bool


class ThreadPage(Page):
    items: list[ThreadOut]


class MemberOut(Out):
    id: int
    candidate_email: str
    candidate_name: str
    state: str
    joined_at: dt.datetime
    expires_at: dt.datetime
    consent_version: int
    role_families: str
    locations: str
    remote: str
    contact_frequency: str
    only_chosen_roles: bool


class MemberPage(Page):
    items: list[MemberOut]


# --- the admins' page (/staff/api-keys) -------------------------------------------------

SCOPE_VALUES = ("applications:write", "applications:read", "threads:read", "pool:read")


def _scope_list(value: str) -> str:
    chosen = [part for part in value.split(" ") if part]
    if not chosen:
        raise PydanticCustomError("scopes", "Choose at least one thing the key may do.")
    if any(part not in SCOPE_VALUES for part in chosen):
        raise PydanticCustomError("scopes", "Choose from the listed scopes.")
    return " ".join(dict.fromkeys(chosen))


class NewKeyForm(InputModel):
    """A new API key: a name to tell it by, and what it may do (a checkbox per scope,
    joined with spaces by `joined_scopes`)."""

    name: Annotated[
        str,
        Field(min_length=1, max_length=100),
        OneLine,
        Say(missing="Name the key after what uses it, like Greenhouse sync."),
    ]
    scopes: Annotated[
        str,
        Field(max_length=200),
        AfterValidator(_scope_list),
        Say(missing="Choose at least one thing the key may do."),
    ]


def joined_scopes(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The posted values: the scope checkboxes joined with spaces, the last value of any
    other field."""
    values: dict[str, str] = {}
    for name, value in pairs:
        if name == "scopes" and values.get(name):
            values[name] += " " + value
        else:
            values[name] = value
    return values


class FieldError(Out):
    field: str = Field(
        description="The field, as a dotted path in the body (`feedback.strengths.0.body`)."
    )
    message: str


class Problem(Out):
    """An error, as RFC 9457 problem details (`application/problem+json`)."""

    type: str = Field(description="`about:blank`, or `urn:afterword:problem:<kind>` (docs/api.md).")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="The request's path.")
    errors: list[FieldError] | None = Field(
        default=None, description="One entry per invalid field."
    )
    findings: list[FindingOut] | None = Field(
        default=None, description="The feedback check's risky findings (risky-feedback only)."
    )
    missing: list[str] | None = Field(
        default=None, description="The parts incomplete feedback lacks (incomplete-feedback only)."
    )


# --- scorecards (portal.drafting) ---------------------------------------------------

ScorecardRatingValue = Literal["definitely_not", "no", "mixed", "yes", "strong_yes", "no_decision"]


class ScorecardAttributeIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=300), OneLine]
    rating: ScorecardRatingValue | None = None
    note: Annotated[str, Field(max_length=5_000)] = ""
    private: bool = Field(
        default=False,
        description="A private note never reaches a draft or the candidate; a candidate-safe "
        "one (the default) may be quoted in a draft.",
    )


class ScorecardQuestionIn(Strict):
    question: Annotated[str, Field(min_length=1, max_length=300), OneLine]
    answer: Annotated[str, Field(max_length=5_000)] = ""
    private: bool = Field(default=True, description="Private unless said otherwise.")


class ScorecardIn(Strict):
    """An interviewer's scorecard. With `external_id`, sending the same card again
    stores nothing new (200 with the stored one)."""

    external_id: ExternalId | None = None
    interviewer: Annotated[str, Field(min_length=1, max_length=200), OneLine]
    step: Annotated[str, Field(max_length=200), OneLine] = ""
    interviewed_on: dt.date | None = None
    overall_recommendation: ScorecardRatingValue | None = None
    attributes: list[ScorecardAttributeIn] = Field(default_factory=list, max_length=50)
    questions: list[ScorecardQuestionIn] = Field(default_factory=list, max_length=50)


class ScorecardAttributeOut(Out):
    name: str
    rating: ScorecardRatingValue | None
    note: str
    private: bool


class ScorecardQuestionOut(Out):
    question: str
    answer: str
    private: bool


class ScorecardOut(Out):
    id: int
    application_id: int
    source: Literal["greenhouse", "lever", "ashby", "api", "csv", "form"]
    external_id: str | None
    interviewer: str
    step: str
    interviewed_on: dt.date | None
    overall_recommendation: ScorecardRatingValue | None
    created_at: dt.datetime
    attributes: list[ScorecardAttributeOut]
    questions: list[ScorecardQuestionOut]


class ScorecardList(Out):
    items: list[ScorecardOut]


BatchItemOut.model_rebuild()
ApplicationBatchOut.model_rebuild()
