"""Characters a person cannot see that input refuses.

**Control characters** (C0: U+0000 to U+001F, except tab, line feed and carriage
return; and DEL, U+007F) have no place in anything a person types. PostgreSQL
refuses a NUL in text (the request would fail) and SQLite stores the string cut
at it. `control_character_problem` says where one is; the form layer
(`portal.forms.InputModel`) and the CSV import (`portal.imports.format`) refuse
any field or cell holding one, with that message.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_character_problem(value: str) -> str | None:
    """What to tell a person whose text holds a control character, or None."""
    found = _CONTROL.search(value)
    if found is None:
        return None
    return (
        f"This contains an invisible control character (U+{ord(found.group()):04X}, "
        f"character {found.start() + 1:,}). Delete it and try again."
    )


def without_control_characters(value: str) -> str:
    """`value` with its control characters removed, for text no person typed (a file name)."""
    return _CONTROL.sub("", value)
