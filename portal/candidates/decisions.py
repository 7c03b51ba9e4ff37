"""When a rejection was decided: the dates a person may give, and the time stored.

A recruiter adding a rejection by hand and a CSV import's `decided_on` column give
the decision as a day (ISO 8601, YYYY-MM-DD). The same rules hold for both: not
in the future, and not more than `YEARS_BACK` years ago (an older date is far more
likely a typing slip than a decision worth writing feedback about). Pure: the
caller says what day it is.
"""

from __future__ import annotations

import datetime as dt
import re

YEARS_BACK = 5
# Only the plain form: `date.fromisoformat` would also take 20260331 and 2026-W13-1.
_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def parse_day(text: str) -> dt.date | None:
    """`text` (YYYY-MM-DD, an existing day) as a date, or None when it is not one."""
    if not _ISO_DAY.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:  # 2026-02-30, 2026-13-01
        return None


def earliest_day(today: dt.date) -> dt.date:
    """The earliest decision date accepted on `today`."""
    try:
        return today.replace(year=today.year - YEARS_BACK)
    except ValueError:  # 29 February, in a year without one
        return today.replace(year=today.year - YEARS_BACK, day=28)


def day_problem(day: dt.date, *, today: dt.date) -> str:
    """What is wrong with `day` as a decision date on `today`, or "" when nothing is."""
    if day > today:
        return (
            f"{day.isoformat()} is in the future: the decision date is the day the candidate "
            f"was turned down, today ({today.isoformat()}) at the latest."
        )
    earliest = earliest_day(today)
    if day < earliest:
        return (
            f"{day.isoformat()} is more than {YEARS_BACK} years ago: the earliest decision "
            f"date accepted is {earliest.isoformat()}."
        )
    return ""


def decided_at(day: dt.date, *, now: dt.datetime) -> dt.datetime:
    """The time stored for a decision taken on `day`: `now` for today (so that the
    day's decisions keep their order), otherwise the start of that day (UTC)."""
    if day == now.date():
        return now
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
