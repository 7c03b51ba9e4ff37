"""The send window: the hours of an organization's working week in which a candidate
may be told that they were not chosen (no bad news at 23:00 on a Friday).

Pure functions over aware datetimes: every comparison is made in UTC, since Python
compares two datetimes of the same zone by their wall-clock time alone, which is
wrong across a daylight-saving change.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

# Monday to Thursday, 09:00 to 16:00 in the organization's own time zone.
DEFAULT_DAYS = (1, 2, 3, 4)
DEFAULT_START = 9 * 60
DEFAULT_END = 16 * 60
MINUTES_PER_DAY = 24 * 60
# A window with working days always opens within a week, or a little more after a
# run of holidays; a year and a week covers a calendar full of them.
_LOOK_AHEAD_DAYS = 372
DAY_NAMES = {
    1: "Monday",
    2: "Tuesday",
    3: "Wednesday",
    4: "Thursday",
    5: "Friday",
    6: "Saturday",
    7: "Sunday",
}


class NeverOpens(ValueError):
    """No day within a year is a working day that is not a holiday."""


@dataclass(frozen=True)
class SendWindow:
    """Working days (ISO numbers, Monday 1 to Sunday 7), the hours as minutes after
    local midnight (`end` may be 1440, the end of the day), the zone, the holidays."""

    zone: zoneinfo.ZoneInfo
    days: frozenset[int] = frozenset(DEFAULT_DAYS)
    start: int = DEFAULT_START
    end: int = DEFAULT_END
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ValueError("a send window starts before it ends, within one day")
        if not self.days or not self.days <= set(DAY_NAMES):
            raise ValueError("a send window needs working days, numbered 1 to 7")

    def open_on(self, day: dt.date) -> bool:
        return day.isoweekday() in self.days and day not in self.holidays


def _at(day: dt.date, minute: int, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """The UTC moment of `minute` after midnight of `day` in `zone`. A wall-clock time
    that a spring change skips is read with the offset before the change (02:30 on
    that night is 03:30 summer time); one that an autumn change repeats is its first
    occurrence."""
    if minute == MINUTES_PER_DAY:
        day, minute = day + dt.timedelta(days=1), 0
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(dt.UTC)


def is_open(window: SendWindow, moment: dt.datetime) -> bool:
    return next_opening(window, moment) == moment.astimezone(dt.UTC)


def next_opening(window: SendWindow, moment: dt.datetime) -> dt.datetime:
    """The first moment at or after `moment` inside the window, in UTC: `moment`
    itself when the window is open then."""
    moment = moment.astimezone(dt.UTC)
    day = moment.astimezone(window.zone).date()
    for _ in range(_LOOK_AHEAD_DAYS):
        if window.open_on(day):
            opens = _at(day, window.start, window.zone)
            closes = _at(day, window.end, window.zone)
            if moment < closes:
                return max(moment, opens)
        day += dt.timedelta(days=1)
    raise NeverOpens()


def describe(window: SendWindow) -> str:
    """The window in words: "Monday to Thursday, 09:00 to 16:00 (Europe/Berlin)"."""
    days = sorted(window.days)
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        named = f"{DAY_NAMES[days[0]]} to {DAY_NAMES[days[-1]]}"
    else:
        named = ", ".join(DAY_NAMES[d] for d in days)
    return f"{named}, {clock(window.start)} to {clock(window.end)} ({window.zone.key})"


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
