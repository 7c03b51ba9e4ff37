"""How values are written for people (pages and email alike), and the time zones
people read times in."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

# An organization's time zone until an admin chooses one; a staff member's zone is
# their organization's until they choose their own.
DEFAULT_TIME_ZONE = "UTC"
# Names the tz database lists that name no place: the machine's own zone, and a
# placeholder whose abbreviation is "-00".
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})
# The regions whose zones a list to choose from offers (the rest are old aliases).
_REGIONS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Arctic/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)


def long_date(value: dt.datetime | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


@functools.cache
def _known_zones() -> dict[str, str]:
    """Every zone name the tz database knows, by its lower-cased form."""
    return {
        name.lower(): name for name in zoneinfo.available_timezones() if name not in _NOT_PLACES
    }


def time_zone_name(text: str) -> str | None:
    """The tz database's name for `text` ("europe/berlin" -> "Europe/Berlin"), or
    None when it names no zone."""
    return _known_zones().get(text.strip().lower())


@functools.cache
def time_zone_choices() -> tuple[str, ...]:
    """The zones to offer in a list, by name: one per place, and UTC."""
    return (
        DEFAULT_TIME_ZONE,
        *sorted(name for name in _known_zones().values() if name.startswith(_REGIONS)),
    )


@functools.cache
def zone_info(name: str | None) -> zoneinfo.ZoneInfo:
    """The zone called `name`; UTC for none, or for a name the tz database no longer
    knows (a stored choice outlives a system update)."""
    try:
        return zoneinfo.ZoneInfo(name or DEFAULT_TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)


def in_zone(value: dt.datetime, zone: str | None) -> dt.datetime:
    """The moment `value` (aware; naive values are taken as UTC) on the clocks of `zone`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(zone_info(zone))


def zone_abbreviation(local: dt.datetime) -> str:
    """ "CET", "EST" or, for a zone with no letters of its own, "UTC+05:30"."""
    letters = local.strftime("%Z")
    if letters and letters[0] not in "+-":
        return letters
    offset = local.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    hours, minutes = divmod(minutes, 60)
    return f"UTC{sign}{hours:02d}" + (f":{minutes:02d}" if minutes else "")


def date_and_time(value: dt.datetime, zone: str | None) -> str:
    """ "6 Dec 2026, 14:05 CET": a moment as people in `zone` read it."""
    local = in_zone(value, zone)
    return f"{local.day} {local:%b %Y, %H:%M} {zone_abbreviation(local)}"
