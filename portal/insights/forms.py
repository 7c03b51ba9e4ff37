"""The dashboard's filters, from its query string."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from portal.forms import Id, InputModel, Say


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class InsightsFilter(InputModel):
    job: Annotated[Id | None, BeforeValidator(_blank_is_none), Say(invalid="Choose a job.")] = (
        None  # None: every job
    )
    period: Annotated[
        str,
        Field(max_length=7, pattern=r"^(12m|\d{4}-\d{2})$"),
        Say(invalid="Choose a month or the last twelve months."),
    ] = "12m"
