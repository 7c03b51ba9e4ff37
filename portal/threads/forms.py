"""What candidates and staff may post about a thread."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import Field

from portal.forms import Id, InputModel, Say

MESSAGE_MAX = 2000
REASON_MAX = 500


def one_newline(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """A posted form's values (`portal.forms.read_form`'s `values`): browsers send a
    textarea's line breaks as CR LF, made one character, as people count them,
    before lengths are checked."""
    return {name: value.replace("\r\n", "\n") for name, value in pairs}


Body = Annotated[
    str,
    Field(min_length=1, max_length=MESSAGE_MAX),
    Say(missing="Write your message first."),
]
Reason = Annotated[
    str,
    Field(min_length=1, max_length=REASON_MAX),
    Say(missing="Give a reason; it is kept in the audit trail."),
]


class QuestionForm(InputModel):
    """A candidate's question or follow-up."""

    body: Body


class ReplyForm(InputModel):
    body: Body
    markdown: bool = False
    version: Id


class NoteForm(InputModel):
    """A staff message (no reply needed, closing) or an internal note."""

    body: Body
    version: Id


class ReasonForm(InputModel):
    reason: Reason
    version: Id


class VersionForm(InputModel):
    version: Id


class AssignForm(InputModel):
    # Empty: nobody; "me"; or a colleague's id.
    assignee: Annotated[
        Literal["", "me"] | Id, Say(invalid="Choose an active colleague of your organization.")
    ] = ""
    version: Id


class ReviewForm(InputModel):
    """Approving (comment optional) or returning (comment required) a pending reply."""

    comment: Annotated[str, Field(max_length=MESSAGE_MAX)] = ""
    version: Id


class SavedAnswerForm(InputModel):
    title: Annotated[
        str, Field(min_length=1, max_length=120), Say(missing="Give the answer a short title.")
    ]
    body: Body


class QuestionSettingsForm(InputModel):
    """An organization's rules for questions, and the settings version the admin saw."""

    reply_promise_days: Annotated[
        int, Field(ge=1, le=60), Say(missing="Enter a number of working days, like 5.")
    ]
    replies_need_approval: bool = False
    version: Id
