"""What a scorecard may contain, from the application page's form (rows posted as
``attributes-0-name``), and the job's attribute mapping and suggestion library."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from portal.candidates.decisions import parse_day
from portal.drafting.models import ScorecardRating
from portal.drafting.service import AttributeInput, QuestionInput, ScorecardInput
from portal.forms import InputModel, OneLine, Say, WebAddress

NOTE_MAX = 5_000
NAME_MAX = 300
ROWS_MAX = 30
# Blank attribute and question rows the form offers.
BLANK_ROWS = 3

Checkbox = Annotated[bool, BeforeValidator(lambda v: False if v == "" else v)]


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _day(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            return None
        day = parse_day(value.strip())
        if day is None:
            raise PydanticCustomError("date_parsing", "not a date")
        return day
    return value


OptionalRating = Annotated[
    ScorecardRating | None,
    BeforeValidator(_blank_is_none),
    Say(invalid="Choose a rating from the list."),
]
Note = Annotated[str, Field(max_length=NOTE_MAX)]
Name = Annotated[str, Field(max_length=NAME_MAX), OneLine]


class AttributeRow(InputModel):
    name: Name = ""
    rating: OptionalRating = None
    note: Note = ""
    private: Checkbox = False


class QuestionRow(InputModel):
    question: Name = ""
    answer: Note = ""
    private: Checkbox = False


class ScorecardForm(InputModel):
    """A scorecard typed on the application page. Blank rows are left out."""

    interviewer: Annotated[
        str,
        Field(min_length=1, max_length=200),
        OneLine,
        Say(missing="Enter the interviewer's name."),
    ]
    step: Annotated[str, Field(max_length=200), OneLine] = ""
    interviewed_on: Annotated[
        dt.date | None, BeforeValidator(_day), Say(invalid="Enter a date like 2026-11-30.")
    ] = None
    overall_recommendation: OptionalRating = None
    attributes: Annotated[list[AttributeRow], Field(default_factory=list, max_length=ROWS_MAX)]
    questions: Annotated[list[QuestionRow], Field(default_factory=list, max_length=ROWS_MAX)]

    MAX_FIELDS: ClassVar[int] = 4 + ROWS_MAX * 4 + ROWS_MAX * 3

    @model_validator(mode="after")
    def _named(self) -> ScorecardForm:
        for row in self.attributes:
            if not row.name.strip() and (row.rating or row.note.strip()):
                raise PydanticCustomError("attribute_name", "Name each rated attribute.")
        return self

    def scorecard(self) -> ScorecardInput:
        return ScorecardInput(
            interviewer=self.interviewer,
            step=self.step,
            interviewed_on=self.interviewed_on,
            overall_recommendation=self.overall_recommendation,
            attributes=[
                AttributeInput(name=a.name.strip(), rating=a.rating, note=a.note, private=a.private)
                for a in self.attributes
                if a.name.strip()
            ],
            questions=[
                QuestionInput(question=q.question.strip(), answer=q.answer, private=q.private)
                for q in self.questions
                if q.question.strip() or q.answer.strip()
            ],
        )


class DeleteScorecardForm(InputModel):
    scorecard: Annotated[int, Field(ge=1, le=2**31 - 1)]


class MappingRow(InputModel):
    attribute: Name = ""
    # A requirement's id; "0": rates none; "": the requirement of the same name.
    requirement: Annotated[str, Field(max_length=12)] = ""


class MappingForm(InputModel):
    rows: Annotated[list[MappingRow], Field(default_factory=list, max_length=200)]

    MAX_FIELDS: ClassVar[int] = 200 * 2


class SuggestionForm(InputModel):
    requirement: Annotated[str, Field(min_length=1, max_length=100), OneLine]
    text: Annotated[str, Field(max_length=2_000)] = ""
    url: WebAddress = ""
