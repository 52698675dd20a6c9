"""Validators: what a server sent, checked against the contract, as lists of Violations.

Names load on first use (PEP 562): the validators compile the contract with jsonschema, which
the commands that only read the catalogue (`checks`, `--help`) should not pay for.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_WHERE = {
    "Frame": ("sse", "Frame"),
    "SSEParser": ("sse", "SSEParser"),
    "Severity": ("violations", "Severity"),
    "StreamReport": ("transcript", "StreamReport"),
    "StreamValidator": ("stream", "StreamValidator"),
    "Violation": ("violations", "Violation"),
    "validate_response": ("http", "validate_response"),
    "validate_stream_bytes": ("transcript", "validate_stream_bytes"),
    "validate_stream_chunks": ("transcript", "validate_stream_chunks"),
}
__all__ = [
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

if TYPE_CHECKING:
    from assistants_conformance.validate.http import validate_response
    from assistants_conformance.validate.sse import Frame, SSEParser
    from assistants_conformance.validate.stream import StreamValidator
    from assistants_conformance.validate.transcript import StreamReport, validate_stream_bytes, validate_stream_chunks
    from assistants_conformance.validate.violations import Severity, Violation


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(import_module(f"{__name__}.{module}"), attribute)
    globals()[name] = value
    return value
