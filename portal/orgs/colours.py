"""Whether an organization's accent colour can carry white text (WCAG 2.2, 1.4.3).

The accent is the background of the page header and of buttons, both with white
text, and white is the header's focus ring (2.4.7): a colour under 4.5:1 against
white would make the organization's name, its buttons and the focus hard to see.
"""

from __future__ import annotations

import re

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
WHITE = "#ffffff"
# WCAG's minimum for normal-size text (AA).
MIN_CONTRAST = 4.5


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG's relative luminance of a #rrggbb colour (0 black, 1 white)."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG's contrast ratio between two #rrggbb colours, from 1 to 21."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)))[::-1]
    return (lighter + 0.05) / (darker + 0.05)


def carries_white_text(colour: str) -> bool:
    return contrast_ratio(colour, WHITE) >= MIN_CONTRAST


def darker_shade(colour: str) -> str:
    """The lightest shade of `colour` (same hue, scaled towards black) that carries
    white text: a suggestion for an admin whose colour is too light."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(100, -1, -1):
        factor = step / 100
        shade = "#{:02x}{:02x}{:02x}".format(*(round(v * factor) for v in (r, g, b)))
        if carries_white_text(shade):
            return shade
    return "#000000"
