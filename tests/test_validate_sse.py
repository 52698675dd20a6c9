"""The SSE parser follows the WHATWG rules over any chunking and flags framing defects."""

from __future__ import annotations

import pytest

from assistants_conformance.validate import SSEParser
from assistants_conformance.validate.sse import Frame


def parse(raw: bytes, size: int | None = None) -> tuple[list[Frame], list[str]]:
    parser = SSEParser()
    chunks = [raw] if size is None else [raw[i : i + size] for i in range(0, len(raw), size)]
    out = [f for chunk in chunks for f in parser.feed(chunk)] + parser.close()
    return out, [v.check for v in parser.violations]


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
@pytest.mark.parametrize("size", [None, 1, 2, 7])
def test_line_ends_and_chunking(eol: bytes, size: int | None) -> None:
    """LF, CRLF and CR all end lines, whatever the chunk boundaries (a CR split from its LF too)."""
    raw = eol.join([b"event: a", b"data: 1", b"", b"event: b", b"data: 2", b"", b""])
    frames, problems = parse(raw, size)
    assert [(f.event, f.data) for f in frames] == [("a", "1"), ("b", "2")]
    assert problems == []


def test_bom_comments_multiline_data_id_retry() -> None:
    """A leading BOM is dropped, comments skipped, data lines joined with LF, id and retry kept."""
    raw = "\ufeff: hello\nevent: x\ndata: first\ndata:second\nid: 7\nretry: 1500\n\n".encode()
    (frame,), problems = parse(raw)
    assert (frame.event, frame.data, frame.id, frame.retry, frame.line) == ("x", "first\nsecond", "7", 1500, 2)
    assert problems == []


def test_line_separators_inside_json_are_not_line_ends() -> None:
    """U+2028 and U+0085 inside data stay in the data (unlike str.splitlines)."""
    raw = 'event: x\ndata: {"t": "a\u2028b\u0085c"}\n\n'.encode()
    (frame,), _ = parse(raw, 3)
    assert frame.data == '{"t": "a\u2028b\u0085c"}'


def test_final_cr_at_end_of_stream_ends_its_line() -> None:
    """A bare CR as the last byte terminates the last (blank) line, dispatching the frame."""
    frames, problems = parse(b"event: x\rdata: 1\r\r")
    assert [f.data for f in frames] == ["1"]
    assert problems == []


@pytest.mark.parametrize(
    ("raw", "check"),
    [
        (b"event: x\ndata: 1", "SSE-EOF-001"),
        (b"event: x\ndata: 1\n", "SSE-EOF-001"),
        (b"event: x\n\n", "SSE-FIELD-002"),
        (b"evnt: x\ndata: 1\n\n", "SSE-FIELD-001"),
        (b"retry: -5\ndata: 1\n\n", "SSE-FIELD-001"),
        (b"event: a\ndata: 1\nevent: b\ndata: 2\n\n", "SSE-FRAME-001"),
        (b"event: x\ndata: \xc3\x28\n\n", "SSE-UTF8-001"),
    ],
)
def test_framing_defects_are_reported(raw: bytes, check: str) -> None:
    """Each defect a lenient client would swallow is reported with its own check ID."""
    _, problems = parse(raw)
    assert problems == [check]


def test_unterminated_final_frame_is_not_dispatched() -> None:
    """As in browsers, a frame without its blank line is discarded."""
    frames, _ = parse(b"event: a\ndata: 1\n\nevent: b\ndata: 2")
    assert [f.event for f in frames] == ["a"]
