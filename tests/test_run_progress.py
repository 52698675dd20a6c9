"""Progress that tells the truth: a live status on a terminal, plain lines in a log, nothing with
--quiet; the status names the phase, the requests sent, the time and the checks failing so far."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from assistants_conformance.cli import main
from assistants_conformance.progress import LiveProgress, Progress, for_terminal


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(out: io.StringIO, tmp_path: Path, *extra: str) -> int:
    argv = ["run", "--reference", "--max-examples", "2", "--report-dir", str(tmp_path), *extra]
    return main(argv, stdout=out)


def test_on_a_terminal_the_status_is_redrawn_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    out = Terminal()
    assert _run(out, tmp_path) == 0
    text = out.getvalue()
    assert "\x1b[2K" in text  # the status line is erased and redrawn, not appended
    assert "properties (" in text
    assert "failing so far" in text
    assert "  runs               ok" in text  # finished scenarios stay above the status
    assert text.rstrip().endswith("summary.md beside it)")  # the status is gone before the summary


def test_in_a_log_there_are_plain_lines_only(tmp_path: Path) -> None:
    out = io.StringIO()
    assert _run(out, tmp_path) == 0
    text = out.getvalue()
    assert "\x1b" not in text
    assert "  properties         ok" in text
    assert "CONFORMANT" in text


def test_quiet_prints_the_verdict_and_nothing_while_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    out = Terminal()
    assert _run(out, tmp_path, "--quiet") == 0
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())  # the verdict is coloured on a terminal
    assert "\x1b" not in text  # but no status was drawn
    assert "properties" not in text
    assert text.splitlines() == ["CONFORMANT: every selected MUST check passed on evidence"]


def test_a_long_phase_gets_a_plain_status_line_now_and_then() -> None:
    out = io.StringIO()
    progress = Progress(out)
    progress.EVERY = 0.0
    progress.update("properties", 10, 0, "createAssistant, 3 cases")  # a new phase: no line yet
    assert out.getvalue() == ""
    progress.update("properties", 250, 2, "listAssistants, 90 cases")
    line = out.getvalue()
    assert "properties (listAssistants, 90 cases): 250 requests" in line
    assert "2 failing so far" in line


def test_lines_from_the_target_cannot_repaint_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    for out in (io.StringIO(), Terminal()):
        progress = for_terminal(out, quiet=False)
        assert progress is not None
        assert isinstance(progress, LiveProgress) is isinstance(out, Terminal)
        progress.line("  note: the server said \x1b]0;pwned\x07 [bold]x[/bold]")
        progress.close()
        assert "\x1b]0;pwned" not in out.getvalue()
        assert "[bold]x[/bold]" in out.getvalue()  # shown as sent, never as rich markup


def test_a_dumb_terminal_gets_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    assert type(for_terminal(Terminal(), quiet=False)) is Progress
    assert for_terminal(Terminal(), quiet=True) is None
