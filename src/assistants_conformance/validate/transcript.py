"""A whole stream, from raw chunks: SSE framing plus the event-stream contract."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from assistants_conformance.validate.schemas import FastSchemas
from assistants_conformance.validate.sse import SSEParser
from assistants_conformance.validate.stream import StreamValidator
from assistants_conformance.validate.violations import Severity, Violation


@dataclass
class StreamReport:
    violations: list[Violation]
    frames: int
    events: dict[str, int]
    last_snapshots: dict[str, dict[str, Any]] = field(default_factory=dict)
    judged: set[str] = field(default_factory=set)  # the rules this stream gave evidence on
    # Violations beyond the first hundred of a rule, counted by rule and severity, not kept.
    dropped: dict[tuple[str, Severity], int] = field(default_factory=dict)


class StreamJudge:
    """One stream judged as its chunks arrive (constant memory unless snapshots are kept): the
    proxy feeds it frame by frame while the client receives the same bytes."""

    def __init__(
        self, *, operation: str | None = None, schemas: FastSchemas | None = None, keep_snapshots: bool = False
    ) -> None:
        self.parser = SSEParser()
        self.validator = StreamValidator(schemas, operation=operation, keep_snapshots=keep_snapshots)
        self.frames = 0

    def feed(self, chunk: bytes) -> None:
        for frame in self.parser.feed(chunk):
            self.frames += 1
            self.validator.feed(frame)

    def finish(self, cut: str | None = None) -> StreamReport:
        """The report; `cut` says why the stream broke off before its end, when it did."""
        for frame in self.parser.close(cut=cut is not None):
            self.frames += 1
            self.validator.feed(frame)
        found = self.parser.violations + self.validator.finish(cut=cut)
        found.sort(key=lambda v: (v.line or 0, v.frame or 0))
        judged = self.parser.judged | self.validator.judged | {v.check for v in found}
        validator = self.validator
        return StreamReport(
            found, self.frames, dict(validator.events_seen), validator.last_snapshots, judged, dict(validator.dropped)
        )


def validate_stream_chunks(
    chunks: Iterable[bytes],
    *,
    operation: str | None = None,
    schemas: FastSchemas | None = None,
    keep_snapshots: bool = False,
    cut: str | None = None,
) -> StreamReport:
    """Parse and check a stream chunk by chunk (constant memory unless snapshots are kept). `cut`
    says why the stream broke off before its end, when it did (the transport's reason)."""
    judge = StreamJudge(operation=operation, schemas=schemas, keep_snapshots=keep_snapshots)
    for chunk in chunks:
        judge.feed(chunk)
    return judge.finish(cut)


def validate_stream_bytes(
    body: bytes,
    *,
    operation: str | None = None,
    schemas: FastSchemas | None = None,
    keep_snapshots: bool = False,
    cut: str | None = None,
) -> StreamReport:
    return validate_stream_chunks([body], operation=operation, schemas=schemas, keep_snapshots=keep_snapshots, cut=cut)
