"""Reply promises in working days (weekends skipped)."""

from __future__ import annotations

import datetime as dt

import pytest

from portal.threads.working_days import add_working_days, is_working_day, reply_due

# November 2026: the 16th is a Monday.
MON, TUE, WED, THU, FRI, SAT, SUN = (dt.date(2026, 11, day) for day in range(16, 23))
NEXT_MON = dt.date(2026, 11, 23)


def naive_add(start: dt.date, days: int) -> dt.date:
    """The rule spelled out one day at a time, to check the fast version against."""
    day = start
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    while days:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (MON, 1, TUE),
        (MON, 4, FRI),
        (MON, 5, NEXT_MON),
        (THU, 1, FRI),
        (FRI, 1, NEXT_MON),
        (FRI, 5, dt.date(2026, 11, 27)),
        (SAT, 1, NEXT_MON),
        (SUN, 1, NEXT_MON),
        (SAT, 5, dt.date(2026, 11, 27)),
        (WED, 10, dt.date(2026, 12, 2)),
        (MON, 0, MON),
        (SAT, 0, NEXT_MON),
    ],
)
def test_promise_skips_weekends(start: dt.date, days: int, due: dt.date) -> None:
    assert add_working_days(start, days) == due
    assert is_working_day(due)


def test_every_start_and_promise_agrees_with_counting_day_by_day() -> None:
    for offset in range(14):
        start = MON + dt.timedelta(days=offset)
        for days in range(1, 61):
            assert add_working_days(start, days) == naive_add(start, days), (start, days)


def test_a_negative_promise_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(MON, -1)


def test_due_date_is_counted_in_the_organizations_calendar() -> None:
    # Friday 23:30 in UTC is already Saturday in Tokyo: one working day is Monday either way,
    # but Thursday 23:30 UTC is Friday in Tokyo, which moves the answer.
    thursday_night = dt.datetime(2026, 11, 19, 23, 30, tzinfo=dt.UTC)
    assert reply_due(thursday_night, 1) == FRI
    tokyo = dt.timezone(dt.timedelta(hours=9))
    assert reply_due(thursday_night, 1, tz=tokyo) == NEXT_MON


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        reply_due(dt.datetime(2026, 11, 19, 12, 0), 5)
