"""The send window's form (admins), and "send now" (staff)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from portal.forms import InputModel, Say
from portal.timing.window import DAY_NAMES, MINUTES_PER_DAY

# A window must open within this many days of today (a year and a week).
OPENS_WITHIN_DAYS = 365 + 7

HOLIDAYS_MAX = 100
CLOCK = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


def _days(value: str) -> str:
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts or any(part not in {str(day) for day in DAY_NAMES} for part in parts):
        raise PydanticCustomError("send_window", "Choose at least one day on which email may go.")
    return ",".join(sorted(set(parts)))


def minutes(value: str) -> int:
    found = CLOCK.match(value.strip())
    assert found is not None
    return int(found.group(1)) * 60 + int(found.group(2))


def _clock(value: str) -> str:
    found = CLOCK.match(value.strip())
    if found is None or int(found.group(1)) * 60 + int(found.group(2)) > MINUTES_PER_DAY:
        raise PydanticCustomError(
            "send_window", "Enter a time of day as hours and minutes, like 09:00."
        )
    return f"{int(found.group(1)):02d}:{found.group(2)}"


def _holidays(value: str) -> str:
    lines = [line.strip() for line in re.split(r"[\n,]", value) if line.strip()]
    if len(lines) > HOLIDAYS_MAX:
        raise PydanticCustomError(
            "send_window",
            "List at most {maximum} days (this has {count}); remove past ones.",
            {"maximum": HOLIDAYS_MAX, "count": len(lines)},
        )
    days = set()
    for line in lines:
        try:
            days.add(dt.date.fromisoformat(line))
        except ValueError:
            raise PydanticCustomError(
                "send_window",
                "“{line}” is not a date: write one date a line as year-month-day, like 2026-12-24.",
                {"line": line[:40]},
            ) from None
    return "\n".join(day.isoformat() for day in sorted(days))


def joined_days(pairs: list[tuple[str, str]]) -> Mapping[str, str]:
    """The posted form's values, the ticked days joined into one."""
    values = {name: value for name, value in pairs if name != "days"}
    values["days"] = ",".join(value for name, value in pairs if name == "days")
    values["holidays"] = values.get("holidays", "").replace("\r\n", "\n")
    return values


class SendSettingsForm(InputModel):
    """When candidates may be emailed about their feedback, and the version the admin
    saw (0 while the organization uses the defaults)."""

    MAX_FIELDS: ClassVar[int] = 7 + len(DAY_NAMES)

    days: Annotated[
        str,
        Field(max_length=20),
        AfterValidator(_days),
        Say(missing="Choose at least one day on which email may go."),
    ] = ""
    start: Annotated[
        str, Field(max_length=5), AfterValidator(_clock), Say(missing="Enter a time, like 09:00.")
    ]
    end: Annotated[
        str, Field(max_length=5), AfterValidator(_clock), Say(missing="Enter a time, like 16:00.")
    ]
    holidays: Annotated[str, Field(max_length=2_000), AfterValidator(_holidays)] = ""
    call_finalists_first: Literal["", "on"] = ""
    untold_days: Annotated[
        int, Field(ge=1, le=90), Say(missing="Enter a number of days from 1 to 90, like 5.")
    ]
    version: Annotated[int, Field(ge=0, le=2**31 - 1)]

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: str, info: ValidationInfo) -> str:
        start = info.data.get("start")
        if start is not None and minutes(start) >= minutes(value):
            raise PydanticCustomError("send_window", "End the window after it starts, like 16:00.")
        return value

    @field_validator("holidays")
    @classmethod
    def _opens_within_a_year(cls, value: str, info: ValidationInfo) -> str:
        """A window whose every working day is a holiday for a year would never let an
        email go: refused here rather than failing each publishing."""
        days = info.data.get("days")
        if not days or not value:
            return value
        working = {int(part) for part in days.split(",")}
        holidays = {dt.date.fromisoformat(line) for line in value.split("\n")}
        # From yesterday: today in UTC may still be yesterday in the organization's zone.
        first = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
        if all(
            day in holidays or day.isoweekday() not in working
            for day in (first + dt.timedelta(days=n) for n in range(OPENS_WITHIN_DAYS))
        ):
            raise PydanticCustomError(
                "send_window",
                "With these holidays the window would not open in the coming year: "
                "tick more days or remove some holidays.",
            )
        return value

    @property
    def day_numbers(self) -> list[int]:
        return [int(part) for part in self.days.split(",")]

    @property
    def start_minute(self) -> int:
        return minutes(self.start)

    @property
    def end_minute(self) -> int:
        return minutes(self.end)

    @property
    def holiday_dates(self) -> list[dt.date]:
        return [dt.date.fromisoformat(line) for line in self.holidays.split("\n") if line]

    @property
    def calls_first(self) -> bool:
        return self.call_finalists_first == "on"


LABELS = {
    "days": "Days on which email may go",
    "start": "From",
    "end": "Until",
    "holidays": "Holidays",
    "untold_days": "Remind recruiters after (days)",
}


class SendNowForm(InputModel):
    """Sending a scheduled invitation at once, outside the window: why."""

    reason: Annotated[
        str,
        Field(min_length=1, max_length=500),
        Say(missing="Say why the candidate should hear now, outside the send window."),
    ]
