"""Text from outside (a target's answers, a HAR file, a saved report) on the user's terminal:
control characters are shown escaped, so that an ANSI or OSC sequence a server sends can neither
repaint the terminal nor pose as the tool's own output."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with every control character (bar tab and newline) as a visible \\xNN / \\uNNNN escape."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
