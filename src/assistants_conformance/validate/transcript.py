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
    parser = SSEParser()
    validator = StreamValidator(schemas, operation=operation, keep_snapshots=keep_snapshots)
    frames = 0
    for chunk in chunks:
        for frame in parser.feed(chunk):
            frames += 1
            validator.feed(frame)
    for frame in parser.close(cut=cut is not None):
        frames += 1
        validator.feed(frame)
    found = parser.violations + validator.finish(cut=cut)
    found.sort(key=lambda v: (v.line or 0, v.frame or 0))
    judged = parser.judged | validator.judged | {v.check for v in found}
    return StreamReport(
        found, frames, dict(validator.events_seen), validator.last_snapshots, judged, dict(validator.dropped)
    )


def validate_stream_bytes(
    body: bytes,
    *,
    operation: str | None = None,
    schemas: FastSchemas | None = None,
    keep_snapshots: bool = False,
    cut: str | None = None,
) -> StreamReport:
    return validate_stream_chunks([body], operation=operation, schemas=schemas, keep_snapshots=keep_snapshots, cut=cut)
