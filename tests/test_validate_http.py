"""The response contract: routing, status, media type, headers, JSON and schema, each its own check."""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistants_conformance.validate import validate_response
from assistants_conformance.validate.http import Router
from tests import samples

JSON_CT = {"content-type": "application/json"}


def checks(method: str, url: str, status: int, headers: dict[str, str], body: Any) -> set[str]:
    return {v.check for v in validate_response(method, url, status, headers, body)}


@pytest.mark.parametrize(
    ("method", "url", "status", "body"),
    [
        ("GET", "https://api.example.com/v1/assistants/asst_1", 200, samples.ASSISTANT),
        ("GET", "/v1/assistants?limit=2", 200, samples.page(samples.ASSISTANT)),
        ("POST", "/threads/thread_1/runs", 200, samples.run("queued")),
        ("GET", "/v1/threads/thread_1/runs/run_1/steps/step_1", 200, samples.STEP_TOOLS),
        ("DELETE", "/v1/threads/thread_1/messages/msg_1", 404, samples.ERROR),
        ("POST", "/v1/assistants", 503, samples.ERROR),
    ],
)
def test_conforming_responses_have_no_violations(method: str, url: str, status: int, body: Any) -> None:
    """Full URLs or paths, with or without /v1, dicts or raw bytes: conforming answers pass."""
    assert validate_response(method, url, status, JSON_CT, body) == []
    assert validate_response(method, url, status, JSON_CT, json.dumps(body).encode()) == []


def test_router_prefers_literal_paths_and_extracts_parameters() -> None:
    """/threads/runs is createThreadAndRun, not getThread('runs'); parameters come out by name."""
    from assistants_conformance.contract import get_contract

    router = Router(get_contract())
    route = router.match("POST", "http://h/v1/threads/runs")
    assert route is not None
    assert route.operation.operation_id == "createThreadAndRun"
    route = router.match("GET", "/v1/threads/t1/runs/r1/steps/s1")
    assert route is not None
    assert route.operation.operation_id == "getRunStep"
    assert route.params == {"thread_id": "t1", "run_id": "r1", "step_id": "s1"}
    assert router.match("PATCH", "/v1/assistants") is None


@pytest.mark.parametrize(
    ("check", "args"),
    [
        ("RESP-ROUTE-001", ("GET", "/v1/files", 200, JSON_CT, {})),
        ("RESP-STATUS-001", ("GET", "/v1/assistants/a", 422, JSON_CT, {"detail": "x"})),
        ("RESP-MEDIA-001", ("GET", "/v1/assistants/a", 200, {"content-type": "text/html"}, b"<html>")),
        ("RESP-MEDIA-001", ("GET", "/v1/assistants/a", 200, {}, samples.ASSISTANT)),
        ("RESP-HEADER-001", ("GET", "/v1/assistants/a", 429, JSON_CT, samples.ERROR)),
        ("RESP-JSON-001", ("GET", "/v1/assistants/a", 200, JSON_CT, b"{oops")),
        ("RESP-SCHEMA-001", ("GET", "/v1/assistants/a", 404, JSON_CT, {"detail": "Not Found"})),
        ("RESP-SCHEMA-001", ("GET", "/v1/assistants/a", 200, JSON_CT, {**samples.ASSISTANT, "object": "bot"})),
    ],
)
def test_each_response_rule_fails_alone(check: str, args: tuple[Any, ...]) -> None:
    """A response broken in one way fails exactly that check."""
    assert checks(*args) == {check}


def test_union_errors_name_the_matching_branch() -> None:
    """A wrong tool is reported through its tag, never as 'not valid under any of the given schemas'."""
    body = {
        **samples.ASSISTANT,
        "tools": [{"type": "function", "function": {"name": "bad name"}}, {"type": "retrieval"}],
    }
    violations = validate_response("GET", "/v1/assistants/a", 200, JSON_CT, body)
    rendered = {(v.where, v.spec) for v in violations}
    assert ("/tools/0/function/name", "#/components/schemas/FunctionDefinition/properties/name/pattern") in rendered
    assert any(v.where == "/tools/1/type" and "code_interpreter" in v.message for v in violations)
    assert all("not valid under any" not in v.message for v in violations)


def test_streamed_responses_go_through_the_stream_contract() -> None:
    """A text/event-stream answer is checked as a stream (here: it ends without `done`, which is the
    one finding: the run's missing end is not a second one)."""
    raw = b"event: thread.run.created\ndata: " + json.dumps(samples.run("queued")).encode() + b"\n\n"
    found = validate_response("POST", "/v1/threads/t/runs", 200, {"content-type": "text/event-stream"}, raw)
    assert {v.check for v in found} == {"STREAM-END-001"}
