"""Test helpers: check a live response against the contract, and read an SSE body.

Deliberately small and independent of the product's validators, so the reference server's
tests do not lean on the code they will later be used to judge.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from assistants_conformance.contract import Contract


def response_schema(contract: Contract, operation_id: str, status: int) -> str:
    responses = contract.operation_object(operation_id)["responses"]
    entry = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    assert entry is not None, f"{operation_id} does not declare {status}"
    if "$ref" in entry:
        entry = contract.document["components"]["responses"][entry["$ref"].rsplit("/", 1)[-1]]
    return str(entry["content"]["application/json"]["schema"]["$ref"])


def conforms(contract: Contract, operation_id: str, response: httpx.Response) -> Any:
    """Assert the JSON response matches the declared schema for its status; return the body."""
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    pointer = response_schema(contract, operation_id, response.status_code)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in contract.validator(pointer).iter_errors(body)]
    assert errors == [], f"{operation_id} {response.status_code} breaks {pointer}: {errors}"
    return body


def sse_events(raw: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a well-formed SSE body (LF line ends, one data line per frame)."""
    events = []
    for block in raw.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((fields["event"], fields["data"]))
    return events


def stream_conforms(contract: Contract, raw: str) -> list[tuple[str, Any]]:
    """Each event's data valid for its name; the last is done/[DONE]. Returns decoded events."""
    decoded = []
    for event, data in sse_events(raw):
        entry = contract.event_schemas[event]
        if entry.literal is not None:
            assert data == entry.literal
            decoded.append((event, data))
            continue
        value = json.loads(data)
        errors = [e.message for e in contract.validator(entry.data_schema).iter_errors(value)]
        assert errors == [], f"{event}: {errors}"
        decoded.append((event, value))
    assert decoded[-1] == ("done", "[DONE]")
    return decoded
