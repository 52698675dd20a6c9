"""Text from outside (a target's answers, a HAR file, a saved report) on the user's terminal:
control characters are shown escaped, so that an ANSI or OSC sequence a server sends can neither
repaint the terminal nor pose as the tool's own output."""

from __future__ import annotations

import os
import re
from typing import ClassVar, TextIO

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with every control character (bar tab and newline) as a visible \\xNN / \\uNNNN escape."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def clip(text: str, width: int) -> str:
    """`text` in at most `width` characters: cut at a word where one is near, always marked "…"."""
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if space >= width * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


def colour_wanted(out: TextIO) -> bool:
    """Colour on a terminal, none in a pipe or file; NO_COLOR (any value) and FORCE_COLOR decide
    first (https://no-color.org, https://force-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(out, "isatty", lambda: False)()) and os.environ.get("TERM", "") != "dumb"


class Paint:
    """ANSI colour for the tool's own words (never for text a target sent: that is `printable`)."""

    CODES: ClassVar[dict[str, str]] = {"red": "31", "green": "32", "yellow": "33", "bold": "1", "dim": "2"}

    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, text: str, *styles: str) -> str:
        if not self.on or not styles:
            return text
        return f"\x1b[{';'.join(self.CODES[s] for s in styles)}m{text}\x1b[0m"
