"""`validate-stream` and `validate-har`: exit 0 or 1 on evidence, 2 with one line on bad input."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest

from assistants_conformance.cli import main
from assistants_conformance.reference import RunningServer
from assistants_conformance.validate import sse
from tests.recordings import Recording, record_all


@pytest.fixture(scope="module")
def recorded(server: RunningServer) -> dict[str, Recording]:
    return record_all(server)


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), stdout=out), out.getvalue()


def test_conforming_transcript_exits_0(tmp_path: Path, recorded: dict[str, Recording]) -> None:
    """A recorded reference stream conforms."""
    target = tmp_path / "ok.sse"
    target.write_bytes(recorded["tool"].raw)
    code, out = run("validate-stream", str(target), "--operation", "createThreadAndRun")
    assert code == 0
    assert "0 violation(s)" in out
    assert "conforms" in out


def test_broken_transcript_exits_1_with_frame_and_line(tmp_path: Path, recorded: dict[str, Recording]) -> None:
    """Violations are listed with their frame and line numbers."""
    target = tmp_path / "bad.sse"
    target.write_bytes(recorded["text"].raw.replace(b'"status":"in_progress"', b'"status":"queued"', 1))
    code, out = run("validate-stream", str(target))
    assert code == 1
    assert "STREAM-STATUS-001 [frame 4, line 10, /status]" in out


def test_standard_input(monkeypatch: pytest.MonkeyPatch, recorded: dict[str, Recording]) -> None:
    """`-` reads the transcript from standard input."""

    class Stdin:
        buffer = io.BytesIO(recorded["text"].raw)

    monkeypatch.setattr("sys.stdin", Stdin)
    assert run("validate-stream", "-")[0] == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "no events at all"),
        (bytes(range(256)) * 40, "SSE-UTF8-001"),
    ],
)
def test_empty_and_garbage_input_fail_readably(tmp_path: Path, content: bytes, expected: str) -> None:
    """Empty files and binary garbage are non-conforming streams, reported without a traceback."""
    target = tmp_path / "x.sse"
    target.write_bytes(content)
    code, out = run("validate-stream", str(target))
    assert code == 1
    assert expected in out
    assert out.count("SSE-FIELD-001") <= sse.MAX_FIELD_WARNINGS


def test_overlong_lines_are_skipped_in_constant_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recorded: dict[str, Recording]
) -> None:
    """A line past the limit (16 MiB; lowered here) is reported and dropped, not buffered."""
    monkeypatch.setattr(sse, "MAX_LINE", 1000)
    monkeypatch.setattr("assistants_conformance.commands.validate.CHUNK", 256)
    target = tmp_path / "long.sse"
    target.write_bytes(b"x" * 50_000 + b"\n\n" + recorded["text"].raw)
    code, out = run("validate-stream", str(target))
    assert code == 1
    assert "SSE-LINE-001" in out
    assert out.count("SSE-LINE-001") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("validate-stream", "/no/such/file"), "no such file"),
        (("validate-stream", "/"), "is a directory"),
        (("validate-stream", "-", "--operation", "listAssistants"), "--operation must be one of"),
        (("validate-har", "/no/such.har"), "no such file"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    """Usage problems are one readable line on stderr, exit 2."""
    code, _ = run(*argv)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def _entry(method: str, url: str, status: int, body: bytes, mime: str, *, b64: bool = False) -> dict[str, Any]:
    content = {"mimeType": mime, "text": base64.b64encode(body).decode() if b64 else body.decode()}
    if b64:
        content["encoding"] = "base64"
    return {
        "request": {"method": method, "url": url, "headers": []},
        "response": {"status": status, "headers": [{"name": "Content-Type", "value": mime}], "content": content},
    }


def test_har_checks_assistants_exchanges_and_skips_others(tmp_path: Path, recorded: dict[str, Recording]) -> None:
    """JSON and streamed exchanges are checked; unrelated entries are skipped; one bad entry fails it."""
    good = json.dumps(
        {
            "id": "asst_1",
            "object": "assistant",
            "created_at": 1732000000,
            "name": None,
            "description": None,
            "model": "gpt-4o",
            "instructions": None,
            "tools": [],
            "metadata": {},
        }
    ).encode()
    har = {
        "log": {
            "version": "1.2",
            "entries": [
                _entry("GET", "https://api.example.com/v1/assistants/asst_1", 200, good, "application/json"),
                _entry(
                    "POST",
                    "https://api.example.com/v1/threads/runs",
                    200,
                    recorded["text"].raw,
                    "text/event-stream",
                    b64=True,
                ),
                _entry("GET", "https://cdn.example.com/app.js", 200, b"x", "text/javascript"),
            ],
        }
    }
    target = tmp_path / "ok.har"
    target.write_text(json.dumps(har))
    code, out = run("validate-har", str(target))
    assert (code, "2 Assistants exchange(s) checked, 0 failing, 1 other" in out) == (0, True)
    har["log"]["entries"].append(
        _entry("GET", "https://api.example.com/v1/assistants", 200, b'{"detail": 1}', "application/json")
    )
    target.write_text(json.dumps(har))
    code, out = run("validate-har", str(target))
    assert code == 1
    assert "entry 4: GET https://api.example.com/v1/assistants → 200: " in out
    assert "RESP-SCHEMA-001" in out


@pytest.mark.parametrize(("content", "message"), [(b"{not json", "not JSON"), (b'{"log": {}}', "no log.entries")])
def test_har_that_is_not_a_har_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    """A file that is not a HAR says so in one line."""
    target = tmp_path / "x.har"
    target.write_bytes(content)
    assert run("validate-har", str(target))[0] == 2
    assert message in capsys.readouterr().err
