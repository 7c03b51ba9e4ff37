"""Reply promises in working days: "waiting for a reply, expected by <date>".

Working days are Monday to Friday; public holidays are not known here.
"""

from __future__ import annotations

import datetime as dt

SATURDAY = 5


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < SATURDAY


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start`, weekends skipped.

    Asked on a Friday with a promise of one working day: due on Monday. Asked on a
    Saturday or Sunday: counted as if asked on the Friday before, so also due on Monday
    after one working day. Zero days is `start`, or the Monday after when it is a weekend.
    """
    if days < 0:
        raise ValueError(f"a reply promise cannot be negative: {days}")
    day = start
    if days == 0:
        while not is_working_day(day):
            day += dt.timedelta(days=1)
        return day
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    # Whole weeks at once, so a long promise costs no more than a short one.
    weeks, rest = divmod(days, 5)
    day += dt.timedelta(weeks=weeks)
    while rest:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            rest -= 1
    return day


def reply_due(asked_at: dt.datetime, promise_days: int, *, tz: dt.tzinfo = dt.UTC) -> dt.date:
    """The day a reply is expected by, for a question asked at `asked_at` (aware, any zone),
    counted in the calendar of `tz`."""
    if asked_at.tzinfo is None:
        raise ValueError("asked_at must be timezone-aware")
    return add_working_days(asked_at.astimezone(tz).date(), promise_days)
