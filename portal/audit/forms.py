"""The audit log's filters, as given in the page's query string."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from portal.forms import Id, InputModel, Say


class AuditFilter(InputModel):
    """Who, what and when to show; a field left empty filters nothing."""

    actor: Annotated[Id | None, Say(invalid="Choose a person.")] = None
    action: Annotated[str, Field(max_length=60)] = ""
    since: dt.date | None = None
    until: dt.date | None = None
    page: Annotated[int, Field(ge=1, le=100_000)] = 1

    @field_validator("until")
    @classmethod
    def _not_before_since(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        since = info.data.get("since")
        if value is not None and since is not None and value < since:
            raise PydanticCustomError("range_order", "The end date comes before the start date.")
        return value
