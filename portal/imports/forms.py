"""What an import may contain: the upload page's choice, and one rejection with its
feedback, the model shared by the CSV import (each valid row becomes one,
`portal.imports.format`) and the JSON API (`POST /api/v1/applications`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from portal.candidates.decisions import day_problem
from portal.candidates.models import Stage
from portal.feedback.check import Draft, DraftItem
from portal.forms import Email, InputModel, OneLine, WebAddress

# The limits of one application's feedback, whichever way it comes in.
MAX_ITEMS = 20  # strengths, and growth areas
MAX_ASSESSMENTS = 50
MAX_TEXT = 5_000  # characters in one text
MAX_NAME = 200
MAX_ROLES = 10
REQUIREMENT_MAX = 100
EXTERNAL_ID_MAX = 200
RatingValue = Literal["met", "partly_met", "not_yet_met"]

# The email address of the CSV templates' example row (`.invalid` can never receive
# mail, RFC 2606): a rejection for it is refused, whatever else it says.
EXAMPLE_EMAIL = "example-row@example.invalid"

Text = Annotated[str, Field(max_length=MAX_TEXT)]
RequirementName = Annotated[str, Field(min_length=1, max_length=REQUIREMENT_MAX), OneLine]


class UploadForm(InputModel):
    """Publish the rows' feedback at once ("yes"), or keep them as drafts to review."""

    publish: Literal["", "yes"] = ""


class Assessment(InputModel):
    """How the candidate did against one of the job's requirements (by its name)."""

    requirement: RequirementName
    rating: RatingValue
    evidence: Text = ""


class Strength(InputModel):
    body: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    requirement: RequirementName | None = None


class GrowthArea(InputModel):
    body: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    suggestion: Text = ""
    suggestion_url: WebAddress | None = None
    requirement: RequirementName | None = None


def _role_names(roles: list[str]) -> list[str]:
    if any(not role or len(role) > MAX_NAME for role in roles):
        raise PydanticCustomError(
            "roles", f"Each role needs a name of at most {MAX_NAME} characters."
        )
    return roles


class FeedbackContent(InputModel):
    """An application's feedback: what a draft version holds (DESIGN §3)."""

    decision_summary: Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
    assessments: list[Assessment] = Field(default_factory=list, max_length=MAX_ASSESSMENTS)
    strengths: list[Strength] = Field(default_factory=list, max_length=MAX_ITEMS)
    growth_areas: list[GrowthArea] = Field(default_factory=list, max_length=MAX_ITEMS)
    reapply_after_months: Annotated[int, Field(ge=0, le=60)] | None = None
    suggested_roles: Annotated[list[str], AfterValidator(_role_names)] = Field(
        default_factory=list, max_length=MAX_ROLES
    )
    # Role -> the web address of its posting, for suggested roles that have one.
    suggested_role_urls: dict[str, WebAddress] = Field(default_factory=dict, max_length=MAX_ROLES)
    pool_invitation_offered: bool = False
    personal_note: Text = ""

    def draft(self) -> Draft:
        """The feedback as the check and `portal.feedback.drafts` take it; requirements
        by name (resolved against the job when saved)."""
        items = [
            DraftItem(
                kind="assessment", body=a.evidence, rating=a.rating, requirement=a.requirement
            )
            for a in self.assessments
        ]
        items += [
            DraftItem(kind="strength", body=s.body, requirement=s.requirement)
            for s in self.strengths
        ]
        items += [
            DraftItem(
                kind="growth_area",
                body=g.body,
                suggestion=g.suggestion,
                suggestion_url=g.suggestion_url or None,
                requirement=g.requirement,
            )
            for g in self.growth_areas
        ]
        return Draft(
            decision_summary=self.decision_summary,
            personal_note=self.personal_note,
            items=tuple(items),
            suggested_roles=tuple(self.suggested_roles),
            suggested_role_urls=tuple(sorted(self.suggested_role_urls.items())),
            reapply_after_months=self.reapply_after_months,
            pool_invitation_offered=self.pool_invitation_offered,
        )


def _not_example(email: str) -> str:
    email = email.lower()
    if email == EXAMPLE_EMAIL:
        raise PydanticCustomError(
            "example_row",
            "This is the template's example row: delete it (or write a real application "
            "over it), then import again.",
        )
    return email


class Rejection(InputModel):
    """One rejected application and its feedback: a CSV row, or the body of
    `POST /api/v1/applications` (which names the job and the application by the
    ATS's ids beside it)."""

    email: Annotated[Email, AfterValidator(_not_example)]
    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME), OneLine]
    stage: Stage
    # The day of the decision; None: the day it is recorded.
    decided_on: dt.date | None = None
    feedback: FeedbackContent | None = None

    @field_validator("decided_on")
    @classmethod
    def _decided_in_range(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        if value is not None:
            # `today` may be given in the validation context (an import's day).
            today = (info.context or {}).get("today") or dt.datetime.now(dt.UTC).date()
            problem = day_problem(value, today=today)
            if problem:
                raise PydanticCustomError("decided_on", problem)
        return value
