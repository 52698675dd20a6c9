"""An incremental, strict `text/event-stream` parser (WHATWG rules) that reports framing defects.

It takes bytes as they arrive, in chunks of any size, and yields dispatched frames. Lines end
in LF, CRLF or CR (a CR at the end of a chunk is held back in case LF follows); a leading BOM is
dropped; `:` lines are comments; `data` lines join with LF; a frame is dispatched on a blank
line; a frame without data is not dispatched (as a browser would not). What a lenient client
would silently accept is reported instead: bytes that are not UTF-8, unknown fields, a
non-numeric `retry`, two `event` fields in one frame (a missing blank line), a frame without
data, and a stream that ends mid-frame.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from assistants_conformance.validate.violations import Severity, Violation

_LINES = re.compile(r"\r\n|\r|\n")
MAX_LINE = 16 << 20  # characters; a longer "line" is garbage or an attack, not an event
MAX_FIELD_WARNINGS = 10


@dataclass(frozen=True, slots=True)
class Frame:
    number: int  # 1-based, in dispatch order
    line: int  # line of the frame's first field
    event: str | None
    data: str
    id: str | None = None
    retry: int | None = None


class SSEParser:
    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._carry = ""
        self._started = False
        self._bytes = 0
        self._line = 0
        self._frames = 0
        self._bad_utf8 = False
        self._skipping = False
        self._field_warnings = 0
        self.comments = 0
        self.violations: list[Violation] = []
        # The framing rules this stream gave evidence on (filled by close()): a rule is judged only
        # when there was something to judge, so an empty body proves nothing about framing.
        self.judged: set[str] = set()
        self._reset()

    def _reset(self) -> None:
        self._event: str | None = None
        self._data: list[str] = []
        self._id: str | None = None
        self._retry: int | None = None
        self._first_line: int | None = None
        self._events_in_frame = 0
        self._frame_chars = 0  # a frame that never ends (no blank line) is capped like a line
        self._oversized = False

    def _decode(self, chunk: bytes, final: bool = False) -> str:
        try:
            text = self._decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            if not self._bad_utf8:
                self.violations.append(
                    Violation(
                        "SSE-UTF8-001",
                        f"the stream is not valid UTF-8: byte {self._bytes + exc.start} "
                        f"({chunk[exc.start : exc.start + 1]!r}) {exc.reason}",
                        line=self._line + 1,
                    )
                )
                self._bad_utf8 = True
            self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
            text = self._decoder.decode(chunk, final)
        self._bytes += len(chunk)
        if not self._started and text:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        return text

    def feed(self, chunk: bytes) -> list[Frame]:
        """Frames completed by this chunk, in order."""
        text = self._carry + self._decode(chunk)
        tail = ""
        if text.endswith("\r"):  # may be the first half of CRLF
            text, tail = text[:-1], "\r"
        lines = _LINES.split(text)
        self._carry = lines.pop() + tail
        if self._skipping:  # inside an over-long line: drop it up to its end
            if lines:
                lines.pop(0)
                self._skipping = False
            else:
                self._carry = tail
        if len(self._carry) > MAX_LINE:
            self.violations.append(
                Violation(
                    "SSE-LINE-001", f"a line longer than {MAX_LINE:,} characters; it was skipped", line=self._line + 1
                )
            )
            self._carry, self._skipping = "", True
        out: list[Frame] = []
        take = self._take
        data = self._data
        for line in lines:
            # Fast path for the two lines of every well-formed Assistants frame; all else via _take.
            if line.startswith("data: "):
                self._line += 1
                if self._first_line is None:
                    self._first_line = self._line
                self._frame_chars += len(line)
                if self._frame_chars > MAX_LINE:
                    self._oversize()
                else:
                    data.append(line[6:])
            elif line.startswith("event: ") and not self._events_in_frame:
                self._line += 1
                if self._first_line is None:
                    self._first_line = self._line
                self._events_in_frame = 1
                self._event = line[7:]
            else:
                frame = take(line)
                data = self._data
                if frame is not None:
                    out.append(frame)
        return out

    def close(self, *, cut: bool = False) -> list[Frame]:
        """End of stream: a trailing CR ends its line; anything else unterminated is discarded.
        A stream `cut` (the connection broke) ends where it broke: its unfinished frame and
        character are the cut's doing, said once by the stream's end rule, not again here."""
        text = "" if self._skipping or cut else self._carry + self._decode(b"", final=True)
        out: list[Frame] = []
        if text.endswith("\r"):
            frame = self._take(text[:-1])
            if frame is not None:
                out.append(frame)
            text = ""
        if not cut and (text or self._first_line is not None):
            self.violations.append(
                Violation(
                    "SSE-EOF-001",
                    "the stream ended in the middle of a frame (no blank line after it); clients discard that frame",
                    line=self._first_line or self._line + 1,
                )
            )
        self._carry = ""
        if self._bytes:
            self.judged.update(
                ("SSE-UTF8-001", "SSE-FIELD-001") if cut else ("SSE-UTF8-001", "SSE-EOF-001", "SSE-FIELD-001")
            )
        if self._frames:
            self.judged.update(("SSE-FRAME-001", "SSE-FIELD-002"))
        self.judged.update(v.check for v in self.violations)
        return out

    def _take(self, line: str) -> Frame | None:
        self._line += 1
        if not line:
            return self._dispatch()
        if line[0] == ":":
            self.comments += 1
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if self._first_line is None:
            self._first_line = self._line
        if name == "data":
            self._frame_chars += len(line)
            if self._frame_chars > MAX_LINE:
                self._oversize()
            else:
                self._data.append(value)
        elif name == "event":
            self._events_in_frame += 1
            if self._events_in_frame == 2:
                self.violations.append(
                    Violation(
                        "SSE-FRAME-001",
                        "two `event` fields in one frame: the blank line between frames is missing",
                        line=self._line,
                    )
                )
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self._retry = int(value)
            else:
                self._field_warning(f"`retry` must be ASCII digits, got {value[:40]!r}")
        else:
            self._field_warning(f"unknown field {name[:40]!r} is ignored by clients")
        return None

    def _field_warning(self, message: str) -> None:
        self._field_warnings += 1
        if self._field_warnings > MAX_FIELD_WARNINGS:
            return
        if self._field_warnings == MAX_FIELD_WARNINGS:
            message += " (further field warnings in this stream are not reported)"
        self.violations.append(Violation("SSE-FIELD-001", message, severity=Severity.WARNING, line=self._line))

    def _oversize(self) -> None:
        """A frame past MAX_LINE characters: said once, its data dropped (memory stays flat) until
        the blank line that ends it."""
        if not self._oversized:
            self._oversized = True
            self.violations.append(
                Violation(
                    "SSE-LINE-001",
                    f"a frame of over {MAX_LINE:,} characters without a blank line; it was dropped",
                    line=self._first_line,
                )
            )
        self._data.clear()

    def _dispatch(self) -> Frame | None:
        first = self._first_line
        if first is None:  # consecutive blank lines
            return None
        if self._oversized:
            self._reset()
            return None
        if not self._data:
            if self._event is not None:
                self.violations.append(
                    Violation(
                        "SSE-FIELD-002", f"frame `{self._event}` has no data field, so clients never see it", line=first
                    )
                )
            self._reset()
            return None
        self._frames += 1
        frame = Frame(self._frames, first, self._event, "\n".join(self._data), self._id, self._retry)
        self._reset()
        return frame
