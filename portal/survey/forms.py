"""The survey's answer (candidates) and its wording (admins)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from portal.forms import InputModel, OneLine, Say

COMMENT_MAX = 1_000


class SurveyAnswerForm(InputModel):
    helpfulness: Annotated[
        int, Field(ge=1, le=5), Say(missing="Choose from 1 to 5.", invalid="Choose from 1 to 5.")
    ]
    fairness: Annotated[
        int, Field(ge=1, le=5), Say(missing="Choose from 1 to 5.", invalid="Choose from 1 to 5.")
    ]
    comment: Annotated[str, Field(max_length=COMMENT_MAX)] = ""


class SurveyWordingForm(InputModel):
    helpfulness: Annotated[
        str, Field(min_length=1, max_length=300), OneLine, Say(missing="Write the question.")
    ]
    fairness: Annotated[
        str, Field(min_length=1, max_length=300), OneLine, Say(missing="Write the question.")
    ]
    comment: Annotated[
        str, Field(min_length=1, max_length=300), OneLine, Say(missing="Write the invitation.")
    ]
    version: Annotated[int, Field(ge=0, le=2**31 - 1)]


LABELS = {
    "helpfulness": "The question about helpfulness",
    "fairness": "The question about fairness",
    "comment": "The invitation to comment",
}
