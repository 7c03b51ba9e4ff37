"""How values are written for people (pages and email alike)."""

from __future__ import annotations

import datetime as dt


def long_date(value: dt.datetime | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""
