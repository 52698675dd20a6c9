"""The bundled contract document: a valid OpenAPI 3.1 description of the whole v2 surface."""

from __future__ import annotations

import pytest

from assistants_conformance.contract import Contract, operations
from assistants_conformance.contract.check import iter_problems

VENDOR_OPERATIONS = {
    "listAssistants": ("GET", "/assistants"),
    "createAssistant": ("POST", "/assistants"),
    "getAssistant": ("GET", "/assistants/{assistant_id}"),
    "modifyAssistant": ("POST", "/assistants/{assistant_id}"),
    "deleteAssistant": ("DELETE", "/assistants/{assistant_id}"),
    "createThread": ("POST", "/threads"),
    "createThreadAndRun": ("POST", "/threads/runs"),
    "getThread": ("GET", "/threads/{thread_id}"),
    "modifyThread": ("POST", "/threads/{thread_id}"),
    "deleteThread": ("DELETE", "/threads/{thread_id}"),
    "listMessages": ("GET", "/threads/{thread_id}/messages"),
    "createMessage": ("POST", "/threads/{thread_id}/messages"),
    "getMessage": ("GET", "/threads/{thread_id}/messages/{message_id}"),
    "modifyMessage": ("POST", "/threads/{thread_id}/messages/{message_id}"),
    "deleteMessage": ("DELETE", "/threads/{thread_id}/messages/{message_id}"),
    "listRuns": ("GET", "/threads/{thread_id}/runs"),
    "createRun": ("POST", "/threads/{thread_id}/runs"),
    "getRun": ("GET", "/threads/{thread_id}/runs/{run_id}"),
    "modifyRun": ("POST", "/threads/{thread_id}/runs/{run_id}"),
    "cancelRun": ("POST", "/threads/{thread_id}/runs/{run_id}/cancel"),
    "submitToolOuputsToRun": ("POST", "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"),
    "listRunSteps": ("GET", "/threads/{thread_id}/runs/{run_id}/steps"),
    "getRunStep": ("GET", "/threads/{thread_id}/runs/{run_id}/steps/{step_id}"),
}

STREAM_EVENTS = {
    "thread.created": "Thread",
    **{
        f"thread.run.{s}": "Run"
        for s in (
            "created",
            "queued",
            "in_progress",
            "requires_action",
            "completed",
            "incomplete",
            "failed",
            "cancelling",
            "cancelled",
            "expired",
        )
    },
    **{
        f"thread.run.step.{s}": "RunStep"
        for s in ("created", "in_progress", "completed", "failed", "cancelled", "expired")
    },
    "thread.run.step.delta": "RunStepDelta",
    **{f"thread.message.{s}": "Message" for s in ("created", "in_progress", "completed", "incomplete")},
    "thread.message.delta": "MessageDelta",
    "error": "Error",
}


def test_document_is_valid_openapi_31_with_compiling_schemas(contract: Contract) -> None:
    """openapi-spec-validator, the 2020-12 metaschema and our own reference walk find nothing."""
    assert contract.document["openapi"] == "3.1.0"
    assert list(iter_problems(contract.document)) == []


def test_operation_inventory_is_exactly_the_23_vendor_operations(contract: Contract) -> None:
    """operationIds, methods and paths match the vendor's, including its `Ouputs` spelling."""
    found = {op.operation_id: (op.method, op.path) for op in operations(contract.document)}
    assert found == VENDOR_OPERATIONS


def test_submit_tool_outputs_carries_a_correctly_spelled_alias(contract: Contract) -> None:
    """The vendor's typo is kept for tools; the alias documents the intended name."""
    op = contract.operation_object("submitToolOuputsToRun")
    assert op["x-conformance-alias"] == "submitToolOutputsToRun"


def test_exactly_the_three_run_starting_operations_may_stream(contract: Contract) -> None:
    """createRun, createThreadAndRun and submitToolOuputsToRun declare text/event-stream."""
    streaming = {op.operation_id for op in contract.operations if op.streams}
    assert streaming == {"createRun", "createThreadAndRun", "submitToolOuputsToRun"}


def test_each_of_the_25_events_maps_to_its_data_schema(contract: Contract) -> None:
    """The discriminator mapping names every event; `done` carries the literal [DONE]."""
    table = contract.event_schemas
    assert len(table) == 25
    for event, schema in STREAM_EVENTS.items():
        assert table[event].data_schema == f"#/components/schemas/{schema}", event
    assert table["done"].data_schema is None
    assert table["done"].literal == "[DONE]"


def test_event_branches_are_discriminated_by_their_constant_name(contract: Contract) -> None:
    """Each branch pins `event` to the name the mapping files it under."""
    schemas = contract.document["components"]["schemas"]
    for event, entry in contract.event_schemas.items():
        branch = schemas[entry.branch.rsplit("/", 1)[-1]]
        assert branch["properties"]["event"] == {"const": event}
        assert branch["required"] == ["event", "data"]


@pytest.mark.parametrize("operation_id", sorted(VENDOR_OPERATIONS))
def test_every_operation_declares_the_error_statuses(contract: Contract, operation_id: str) -> None:
    """200, 400, 401, 404, 429 and 5XX on every operation, errors in the one envelope."""
    responses = contract.operation_object(operation_id)["responses"]
    assert set(responses) == {"200", "400", "401", "404", "429", "5XX"}
    for status in ("400", "401", "404", "429", "5XX"):
        ref = responses[status]["$ref"]
        target = contract.document["components"]["responses"][ref.rsplit("/", 1)[-1]]
        schema = target["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorResponse"}


def test_rate_limited_responses_require_retry_after(contract: Contract) -> None:
    """429 declares a required Retry-After header."""
    header = contract.document["components"]["responses"]["RateLimited"]["headers"]["Retry-After"]
    resolved = contract.document["components"]["headers"][header["$ref"].rsplit("/", 1)[-1]]
    assert resolved["required"] is True


def test_bearer_auth_applies_to_every_operation(contract: Contract) -> None:
    """One HTTP bearer scheme, required globally and never waived per operation."""
    doc = contract.document
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        **doc["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }
    assert doc["security"] == [{"bearerAuth": []}]
    assert all("security" not in contract.operation_object(op) for op in VENDOR_OPERATIONS)


@pytest.mark.parametrize("operation_id", sorted(VENDOR_OPERATIONS))
def test_openai_beta_header_is_documented_on_every_operation(contract: Contract, operation_id: str) -> None:
    """`OpenAI-Beta` is a declared (optional) header parameter everywhere."""
    names = {(p["name"], p["in"]) for p in contract.parameters(operation_id)}
    assert ("OpenAI-Beta", "header") in names


def test_links_chain_the_stateful_operations(contract: Contract) -> None:
    """Links lead from each created object to the operations that use its id."""
    doc = contract.document

    def link_targets(operation_id: str) -> set[str]:
        ok = contract.operation_object(operation_id)["responses"]["200"]
        if "$ref" in ok:
            ok = doc["components"]["responses"][ok["$ref"].rsplit("/", 1)[-1]]
        return {link["operationId"] for link in ok.get("links", {}).values()}

    assert {"getAssistant", "modifyAssistant", "deleteAssistant"} <= link_targets("createAssistant")
    assert {"getThread", "createMessage", "createRun", "deleteThread"} <= link_targets("createThread")
    assert {"getMessage", "modifyMessage", "deleteMessage"} <= link_targets("createMessage")
    assert {"getRun", "listRunSteps", "cancelRun"} <= link_targets("createRun")
    assert {"getRun", "listRunSteps"} <= link_targets("createThreadAndRun")


def test_no_openapi_30_nullable_keyword_anywhere(contract: Contract) -> None:
    """One nullability style: 3.1 type arrays or anyOf with null, never `nullable`."""

    def walk(node: object) -> bool:
        if isinstance(node, dict):
            return "nullable" in node or any(walk(v) for v in node.values())
        if isinstance(node, list):
            return any(walk(v) for v in node)
        return False

    assert not walk(contract.document)


def test_every_schema_and_operation_is_described(contract: Contract) -> None:
    """Operations carry a summary and description; the conformance notes are recorded."""
    for op in contract.operations:
        obj = contract.operation_object(op.operation_id)
        assert obj.get("summary"), op.operation_id
        assert obj.get("description"), op.operation_id
    notes = {note["id"] for note in contract.document["x-conformance-notes"]}
    assert {"NOTE-OPID-SUBMIT", "NOTE-REASONING-EFFORT", "NOTE-EMPTY-LIST-CURSORS"} <= notes


def test_request_bodies_are_closed(contract: Contract) -> None:
    """Every JSON request body rejects unknown fields, as the vendor's do."""
    for op in contract.operations:
        pointer = contract.request_body_pointer(op.operation_id)
        if pointer is None:
            continue
        name = pointer.rsplit("/", 1)[-1]
        assert contract.document["components"]["schemas"][name]["additionalProperties"] is False, name
