"""What the privacy pages' forms may contain."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from portal.forms import InputModel, Say

SURE = "Tick the box to confirm, or simply leave this page: nothing has been erased."
REASON_MAX = 1000
# Bounds of the retention settings: at least a month, at most ten years.
MONTHS_MAX = 120
_MONTHS = "Give a whole number of months from 1 to 120."


class EraseForm(InputModel):
    """The candidate's first step: they have read what erasure removes."""

    confirm: Annotated[Literal["yes"], Say(missing=SURE, invalid=SURE)]


class StaffRequestForm(InputModel):
    """Staff acting on a candidate's written request: which request it was."""

    reason: Annotated[
        str,
        Field(min_length=1, max_length=REASON_MAX),
        Say(
            missing="Say which written request this answers (when it came, how); "
            "it is kept in the audit trail."
        ),
    ]


class StaffEraseForm(StaffRequestForm):
    confirm: Annotated[Literal["yes"], Say(missing=SURE, invalid=SURE)]


class RetentionForm(InputModel):
    retention_months: Annotated[
        int, Field(ge=1, le=MONTHS_MAX), Say(missing=_MONTHS, invalid=_MONTHS)
    ]
    legal_hold_months: Annotated[
        int, Field(ge=1, le=MONTHS_MAX), Say(missing=_MONTHS, invalid=_MONTHS)
    ]
    version: int
