"""Characters a person cannot see: the ones input refuses, the ones word matching sees through.

**Control characters** (C0: U+0000 to U+001F, except tab, line feed and carriage
return; and DEL, U+007F) have no place in anything a person types. PostgreSQL
refuses a NUL in text (the request would fail) and SQLite stores the string cut
at it. `control_character_problem` says where one is; the form layer
(`portal.forms.InputModel`) and the CSV import (`portal.imports.format`) refuse
any field or cell holding one, with that message.

**Format characters** (Unicode category Cf: zero-width space, soft hyphen, word
joiner, byte-order mark, direction marks...) are invisible, and compatibility
characters (full-width letters, ligatures, non-breaking spaces) look like plain
ones: "age" with a zero-width space inside reads as "age" to a person, not to a
pattern. The abuse flagging and the feedback check match
`matching_text(text).text` instead: NFKC, with format characters removed.
`MatchingText.span` maps a span found there back to the original, so a
highlight lands on the characters the person wrote.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

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


# What breaks an email header: every control character (tab, CR and LF included),
# C1 controls, and Unicode's line and paragraph separators.
_HEADER_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def as_one_line(value: str) -> str:
    """`value` with each run of line breaks and other control characters turned into
    one space: for a stored name that goes into an email header (`From`), where a
    line break would make every message of that organization fail."""
    return " ".join(_HEADER_BREAKING.sub(" ", value).split())


def without_control_characters(value: str) -> str:
    """`value` with its control characters removed, for text no person typed (a file name)."""
    return _CONTROL.sub("", value)


def _invisible(character: str) -> bool:
    return unicodedata.category(character) == "Cf"


@dataclass(frozen=True)
class MatchingText:
    """A text as word matching reads it, and the way back to the original."""

    original: str
    text: str
    # For each character of `text`, where in `original` the characters it came from
    # start and end; None when `text` is `original`.
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span of `original` that `text[start:end]` came from."""
        if self.starts is None or self.ends is None:
            return start, end
        if end <= start:
            at = self.starts[start] if start < len(self.starts) else len(self.original)
            return at, at
        return self.starts[start], self.ends[end - 1]


def matching_text(text: str) -> MatchingText:
    """`text` in NFKC with its format characters removed (see the module's docstring)."""
    if text.isascii() or (
        unicodedata.is_normalized("NFKC", text)
        and not any(_invisible(character) for character in text if not character.isascii())
    ):
        return MatchingText(text, text)
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    index, length = 0, len(text)
    while index < length:
        # A character and the combining marks after it normalize together ("e" and an
        # acute accent become "é"); each character they give maps to all of them.
        end = index + 1
        while end < length and unicodedata.combining(text[end]):
            end += 1
        kept = "".join(c for c in text[index:end] if not _invisible(c))
        piece = unicodedata.normalize("NFKC", kept)
        pieces.append(piece)
        starts.extend([index] * len(piece))
        ends.extend([end] * len(piece))
        index = end
    return MatchingText(text, "".join(pieces), tuple(starts), tuple(ends))
