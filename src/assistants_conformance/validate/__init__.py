"""Validators: what a server sent, checked against the contract, as lists of Violations."""

from assistants_conformance.validate.http import validate_response
from assistants_conformance.validate.sse import Frame, SSEParser
from assistants_conformance.validate.stream import RULES as STREAM_RULES
from assistants_conformance.validate.stream import StreamValidator
from assistants_conformance.validate.transcript import StreamReport, validate_stream_bytes, validate_stream_chunks
from assistants_conformance.validate.violations import Severity, Violation

__all__ = [
    "STREAM_RULES",
    "Frame",
    "SSEParser",
    "Severity",
    "StreamReport",
    "StreamValidator",
    "Violation",
    "validate_response",
    "validate_stream_bytes",
    "validate_stream_chunks",
]
