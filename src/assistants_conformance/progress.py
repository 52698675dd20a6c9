"""What the terminal shows while a run goes: a live status line on a terminal, plain lines in a
CI log or a pipe, nothing with `--quiet`.

The property phase is most of a run; without a status it would look hung. The runner reports
lines (a scenario ended, a note) and a status (phase, requests sent, checks failing so far); how
often and how they are drawn is decided here, so the runner never asks what the terminal is.
"""

from __future__ import annotations

import os
import re
import time
from typing import TYPE_CHECKING, Any, TextIO

from assistants_conformance.terminal import Paint, colour_wanted, printable

# A finished scenario's line: its name, then how it ended ("ok", "failed: …", "stopped: …").
_ENDED = re.compile(r"^(  \S+\s+)(failed|errored|stopped|incomplete)\b")

if TYPE_CHECKING:
    from rich.live import Live


class Progress:
    """Plain lines. The status becomes a line of its own only while one phase runs long (every
    EVERY seconds), so a CI log shows a long phase advancing without a line per request."""

    EVERY = 3.0

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.paint = Paint(colour_wanted(out))
        self.began = time.monotonic()
        self.phase = ""
        self.detail = ""
        self.requests = 0
        self.failing = 0
        self._since = self.began

    def line(self, text: str) -> None:
        print(self.coloured(printable(text)), file=self.out, flush=True)

    def coloured(self, text: str) -> str:
        """A scenario that failed says so in red (the text is already printable: only our codes)."""
        if not self.paint.on:
            return text
        return _ENDED.sub(lambda m: m.group(1) + self.paint(m.group(2), "red"), text, count=1)

    def update(self, phase: str, requests: int, failing: int, detail: str = "") -> None:
        now = time.monotonic()
        if self._record(phase, requests, failing, detail):
            self._since = now
        elif now - self._since >= self.EVERY:
            self._since = now
            self.line(f"  … {self.describe()}")

    def _record(self, phase: str, requests: int, failing: int, detail: str) -> bool:
        """Keep the status; whether a new phase began."""
        began = phase != self.phase
        self.phase, self.detail, self.requests, self.failing = phase, detail, requests, failing
        return began

    def describe(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        elapsed = time.monotonic() - self.began
        return f"{self.phase}{detail}: {self.requests} requests, {elapsed:.1f} s elapsed, {self.failing} failing so far"

    def close(self) -> None:
        """Nothing to take down for plain lines."""


class LiveProgress(Progress):
    """One status line redrawn in place (rich), with the finished scenarios' lines above it."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        from rich.console import Console
        from rich.live import Live

        self._live: Live = Live(
            console=Console(file=out, highlight=False),
            get_renderable=self._render,
            refresh_per_second=8,
            transient=True,  # the status goes when the run ends; the summary follows
        )
        self._live.start()

    def line(self, text: str) -> None:
        from rich.text import Text

        self._live.console.print(Text.from_ansi(self.coloured(printable(text))), highlight=False, soft_wrap=True)

    def update(self, phase: str, requests: int, failing: int, detail: str = "") -> None:
        if self._record(phase, requests, failing, detail):
            self._live.refresh()  # a new phase shows at once; the rest at the next refresh

    def _render(self) -> Any:
        from rich.spinner import Spinner

        return Spinner("dots", text=self.describe() if self.phase else "starting …")

    def close(self) -> None:
        self._live.stop()


def for_terminal(out: TextIO, *, quiet: bool) -> Progress | None:
    """Live on an interactive terminal; plain lines when `out` is a file, a pipe or a dumb terminal."""
    if quiet:
        return None
    interactive = getattr(out, "isatty", lambda: False)() and os.environ.get("TERM", "") != "dumb"
    return LiveProgress(out) if interactive else Progress(out)
