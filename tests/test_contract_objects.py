"""Real-shaped objects validate; each loses validity when a required field goes or `object` is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from assistants_conformance.contract import Contract, get_contract
from tests import samples

IDS = [f"{name}-{i}" for i, (name, _) in enumerate(samples.OBJECTS)]


def _errors(contract: Contract, schema: str, instance: Any) -> list[str]:
    return [e.message for e in contract.schema_validator(schema).iter_errors(instance)]


@pytest.mark.parametrize(("schema", "instance"), samples.OBJECTS, ids=IDS)
def test_real_shaped_object_validates(contract: Contract, schema: str, instance: dict[str, Any]) -> None:
    """Every sample a conforming server could send passes its schema."""
    assert _errors(contract, schema, instance) == []


def _required(schema: str) -> list[str]:
    schemas = get_contract().document["components"]["schemas"]
    node = schemas[schema]
    if "required" not in node:  # list pages: the envelope plus the item type
        node = schemas["ListPage"]
    return list(node["required"])


REQUIRED_CASES = [(schema, instance, field) for schema, instance in samples.OBJECTS for field in _required(schema)]


@pytest.mark.parametrize(
    ("schema", "instance", "field"), REQUIRED_CASES, ids=[f"{s}-{f}-{i}" for i, (s, _, f) in enumerate(REQUIRED_CASES)]
)
def test_removing_a_required_field_invalidates(
    contract: Contract, schema: str, instance: dict[str, Any], field: str
) -> None:
    """Dropping any field the contract requires makes the object invalid, for that reason: the
    `required` rule names the field (not some other error the change happened to cause)."""
    broken = samples.clone(instance)
    del broken[field]
    errors = list(contract.schema_validator(schema).iter_errors(broken))
    reasons = [e for error in errors for e in (error, *(error.context or ()))]
    assert any(e.validator == "required" and e.message == f"{field!r} is a required property" for e in reasons), (
        f"{schema} without {field}: {[e.message for e in reasons][:3]}"
    )


OBJECT_CASES = [(schema, instance) for schema, instance in samples.OBJECTS if "object" in instance]


@pytest.mark.parametrize(
    ("schema", "instance"), OBJECT_CASES, ids=[f"{s}-{i}" for i, (s, _) in enumerate(OBJECT_CASES)]
)
def test_wrong_object_tag_invalidates(contract: Contract, schema: str, instance: dict[str, Any]) -> None:
    """`object` names the type exactly; any other value fails."""
    broken = samples.clone(instance)
    broken["object"] = "thread.message" if broken["object"] != "thread.message" else "thread"
    assert _errors(contract, schema, broken)


SEMANTIC_BREAKS: list[tuple[str, str, dict[str, Any], Any]] = [
    ("timestamp as string", "Assistant", {"created_at": "2024-11-19T00:00:00Z"}, None),
    ("v1 retrieval tool", "Assistant", {"tools": [{"type": "retrieval"}]}, None),
    ("17 metadata pairs in a response", "Thread", {"metadata": {str(i): "v" for i in range(17)}}, None),
    ("unknown message status", "Message", {"status": "done"}, None),
    ("unknown content part", "Message", {"content": [{"type": "audio", "audio": {}}]}, None),
    ("text part without annotations", "Message", {"content": [{"type": "text", "text": {"value": "x"}}]}, None),
    ("deleted false", "AssistantDeleted", {"deleted": False}, None),
    (
        "image url that is not a URI",
        "Message",
        {"content": [{"type": "image_url", "image_url": {"url": "not a uri"}}]},
        None,
    ),
]


@pytest.mark.parametrize(("case", "schema", "patch", "_"), SEMANTIC_BREAKS, ids=[c[0] for c in SEMANTIC_BREAKS])
def test_typical_implementation_mistakes_invalidate(
    contract: Contract, case: str, schema: str, patch: dict[str, Any], _: Any
) -> None:
    """Mistakes the docs rule out explicitly are caught by the schema alone."""
    base = next(instance for name, instance in samples.OBJECTS if name == schema)
    broken = {**samples.clone(base), **patch}
    assert _errors(contract, schema, broken), case


@pytest.mark.parametrize(("schema", "kind"), [("Assistant", "assistant"), ("Message", "thread.message")])
def test_a_v1_file_ids_is_a_warning_not_a_schema_failure(contract: Contract, schema: str, kind: str) -> None:
    """`file_ids` breaks no v2 client (they ignore unknown fields), so it is RESP-V1-001's warning,
    said once per object, and never RESP-SCHEMA-001."""
    from assistants_conformance.validate.advice import advise

    base = next(instance for name, instance in samples.OBJECTS if name == schema)
    with_v1 = {**samples.clone(base), "file_ids": []}
    assert not _errors(contract, schema, with_v1)
    judged: set[str] = set()
    (warning,) = advise(with_v1, judged)
    assert (warning.check, warning.severity.value) == ("RESP-V1-001", "warning")
    assert "v1 field" in warning.message
    assert judged == {"RESP-V1-001"}
    assert advise(samples.clone(base), set()) == []


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled", "expired", "incomplete"])
def test_a_run_that_ended_without_usage_is_warned(contract: Contract, status: str) -> None:
    """RUN-USAGE-001: null usage is valid (the field is nullable) but, in a terminal status, a warning."""
    from assistants_conformance.validate.advice import advise

    ended = samples.run(status)
    ended["usage"] = None
    assert not _errors(contract, "Run", ended)
    (warning,) = advise(ended, set())
    assert warning.check == "RUN-USAGE-001"
    running = samples.run("in_progress")
    assert advise(running, judged := set()) == []
    assert judged == set()


def test_run_required_action_is_set_exactly_in_requires_action(contract: Contract) -> None:
    """requires_action without tool calls fails; a completed run with required_action fails."""
    paused = samples.run("requires_action")
    paused["required_action"] = None
    assert _errors(contract, "Run", paused)
    empty = samples.run("requires_action")
    empty["required_action"]["submit_tool_outputs"]["tool_calls"] = []
    assert _errors(contract, "Run", empty)
    done = samples.run("completed")
    done["required_action"] = samples.run("requires_action")["required_action"]
    assert _errors(contract, "Run", done)


def test_failed_and_incomplete_runs_say_why(contract: Contract) -> None:
    """A failed run has last_error; an incomplete run has incomplete_details."""
    failed = samples.run("failed")
    failed["last_error"] = None
    assert _errors(contract, "Run", failed)
    incomplete = samples.run("incomplete")
    incomplete["incomplete_details"] = None
    assert _errors(contract, "Run", incomplete)


def test_step_type_agrees_with_its_details(contract: Contract) -> None:
    """A tool_calls step cannot carry message_creation details."""
    broken = samples.clone(samples.STEP_TOOLS)
    broken["step_details"] = samples.STEP_MESSAGE["step_details"]
    assert _errors(contract, "RunStep", broken)


def test_list_cursors_are_null_exactly_when_the_page_is_empty(contract: Contract) -> None:
    """first_id/last_id: null on an empty page, the item ids otherwise; has_more false when empty."""
    empty = samples.page()
    assert not _errors(contract, "AssistantList", empty)
    assert _errors(contract, "AssistantList", {**empty, "first_id": "asst_x"})
    assert _errors(contract, "AssistantList", {**empty, "has_more": True})
    full = samples.page(samples.ASSISTANT)
    assert _errors(contract, "AssistantList", {**full, "last_id": None})
    assert _errors(contract, "AssistantList", {**full, "object": "page"})
    assert _errors(contract, "AssistantList", {**full, "data": [samples.THREAD]})


def test_error_envelope_requires_all_four_fields(contract: Contract) -> None:
    """{"error": {message, type, param, code}}; FastAPI's {"detail": ...} is not it."""
    assert _errors(contract, "ErrorResponse", {"detail": "Not Found"})
    for field in ("message", "type", "param", "code"):
        broken = samples.clone(samples.ERROR)
        del broken["error"][field]
        assert _errors(contract, "ErrorResponse", broken), field


def test_message_delta_indexes_are_required(contract: Contract) -> None:
    """A content fragment without its `index` cannot be folded, so it is invalid."""
    broken = samples.clone(samples.MESSAGE_DELTA)
    del broken["delta"]["content"][0]["index"]
    assert _errors(contract, "MessageDelta", broken)
