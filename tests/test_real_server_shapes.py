"""Shapes met on independent servers, each a miniature wrong in one way, with the outcome stated in
advance: the check that names the defect fails, nothing passes without a success behind it, nothing
is errored, and the clean-up figures are what the server holds."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest

from assistants_conformance.checks import CATALOGUE
from assistants_conformance.cli import main
from assistants_conformance.errors import TargetUnusable
from assistants_conformance.lab.faults import FAULTS, CutConnection, Fault, FaultyApp, Req, Res, error
from assistants_conformance.lab.faults.registry import rewrite_objects
from assistants_conformance.reference import create_app, running_server
from assistants_conformance.results import Outcome, RunResult, Verdict
from assistants_conformance.runner import Options, run

KEY = "sk-canary-shapes-0123456789"


def _run(base_url: str, **options: Any) -> RunResult:
    kw: dict[str, Any] = {"poll_timeout": 3.0, "timeout": 10.0, "max_examples": 0, **options}
    return run(Options(base_url=base_url, api_key=KEY, **kw))


def _served(*faults: Fault) -> Any:
    app: Any = create_app(api_key=KEY)
    for fault in faults:
        app = FaultyApp(app, fault)
    return running_server(api_key=KEY, app=app)


def by(result: RunResult, outcome: Outcome) -> set[str]:
    return {c.id for c in result.checks if c.outcome is outcome}


def check(result: RunResult, check_id: str) -> Any:
    return next(c for c in result.checks if c.id == check_id)


def _nothing_passes_without(result: RunResult, operation: str) -> None:
    """No check that needs an operation the server does not serve has passed."""
    for c in result.checks:
        if operation in CATALOGUE[c.id].needs:
            assert c.outcome is not Outcome.PASSED, c.id


# ----------------------------------------------------------------------------- cut streams
class _CutAfterFirstDelta:
    """Drops the connection in the middle of the first message delta of every stream."""

    def feed(self, raw: bytes) -> bytes:
        if raw.startswith(b"event: thread.message.delta"):
            raise CutConnection(raw[: len(raw) // 2])
        return raw

    def end(self) -> bytes:
        return b""


def test_a_stream_cut_mid_message_is_one_finding_and_the_run_goes_on() -> None:
    """Every stream with a message is dropped mid-chunk: STREAM-END-001 fails with the frames that
    arrived and the moment it broke; the checks built on a finished stream are not exercised on
    those streams (no cascade of snapshot or tool findings), the scenario goes on, nothing errors."""
    with _served(Fault("cut streams", frames=lambda req: _CutAfterFirstDelta())) as server:
        result = _run(server.base_url)
    assert by(result, Outcome.FAILED) == {"STREAM-END-001"}
    assert by(result, Outcome.ERRORED) == set()
    for cut in check(result, "STREAM-END-001").findings:
        assert re.search(r"broke off after \d+ frame\(s\), the last `thread\.message\.", cut.message)
        assert "RemoteProtocolError" in cut.message
        assert "bytes and" in cut.message  # the moment: bytes read and seconds
        assert cut.exchange is not None
        assert "thread.message.created" in result.exchanges[cut.exchange].response_body  # the frames received
    assert check(result, "RUN-POLL-001").outcome is Outcome.PASSED  # later steps ran on fresh connections
    assert result.resources["leaked"] == []


def test_a_stream_cut_after_a_cancel_is_a_finding_not_an_unreachable_target() -> None:
    """The clone's shape: cancelling a run mid-stream drops the connection mid-chunk."""
    with _served(FAULTS["stream-dropped-on-cancel"].make(KEY)) as server:
        result = _run(server.base_url)
    assert by(result, Outcome.FAILED) == {"STREAM-END-001"}
    assert "RUN-CANCEL-002" in by(result, Outcome.WARNED)
    assert "broke off before the run's end" in check(result, "RUN-CANCEL-002").findings[0].message
    assert by(result, Outcome.ERRORED) == set()
    assert result.verdict is Verdict.NON_CONFORMANT
    assert result.resources["created"] == result.resources["deleted"]


# ----------------------------------------------------------------------------- routes not served
def _405(method: str, pattern: str) -> Fault:
    def refuse(req: Req) -> Res | None:
        if req.method == method and re.match(pattern, req.path):
            return Res(405, {"content-type": "text/plain", "allow": "GET, POST"}, b"Method Not Allowed")
        return None

    return Fault(f"{method} {pattern} 405", before=refuse)


@pytest.mark.parametrize(
    ("operation", "method", "pattern", "examples"),
    [
        ("deleteMessage", "DELETE", r"^/v1/threads/[^/]+/messages/[^/]+$", 0),
        ("getAssistant", "GET", r"^/v1/assistants/[^/]+$", 3),
        ("deleteThread", "DELETE", r"^/v1/threads/[^/]+$", 0),
    ],
)
def test_an_operation_answered_405_is_not_served_and_nothing_passes_on_it(
    operation: str, method: str, pattern: str, examples: int
) -> None:
    """One finding of RESP-ROUTE-002 names it with an example; the checks that need it are not
    exercised with that reason (never passed, never a field diff against the 405's body)."""
    with _served(_405(method, pattern)) as server:
        result = _run(server.base_url, max_examples=examples)
    routes = check(result, "RESP-ROUTE-002")
    assert routes.outcome is Outcome.FAILED
    (finding,) = [f for f in routes.findings if operation in f.message]
    assert f"the server does not serve {operation}: it answered 405" in finding.message
    assert result.exchanges[finding.exchange].status == 405
    _nothing_passes_without(result, operation)
    needing = [c for c in result.checks if operation in CATALOGUE[c.id].needs and c.outcome is Outcome.SKIPPED]
    assert needing
    assert all(f"does not serve {operation}" in c.reason for c in needing)
    for c in result.checks:  # no finding anywhere is a diff computed against the 405 answer
        assert all("405" not in f.message or c.id == "RESP-ROUTE-002" for f in c.findings), c.id
    assert by(result, Outcome.ERRORED) == set()
    assert check(result, "RESP-ROUTE-001").outcome is Outcome.PASSED  # on the operations it does serve
    if operation == "getAssistant":
        assert check(result, "PROP-GONE-001").outcome is not Outcome.PASSED
    if operation == "deleteThread":  # every thread the run made is still there, and said so
        leaked = result.resources["leaked"]
        assert leaked
        assert all("the server does not serve deleteThread" in line for line in leaked)
        assert result.resources["deleted"] == result.resources["created"] - len(leaked)
    else:
        assert result.resources["leaked"] == []


def test_a_thread_delete_route_missing_with_its_read_is_never_counted_as_deleted() -> None:
    """The middleware's shape: no thread delete and no thread read route (404 "no route" to both):
    a 404 read-back after a 404 delete proves nothing, so no thread counts as deleted."""

    def no_route(req: Req) -> Res | None:
        if req.method in ("GET", "DELETE") and re.match(r"^/v1/threads/[^/]+$", req.path):
            return Res(404, {"content-type": "text/html"}, f"Cannot {req.method} {req.path}".encode())
        return None

    with _served(Fault("no thread routes", before=no_route)) as server:
        result = _run(server.base_url, only={"THREAD-001", "PAGE-001", "RESP-ROUTE-002"})
    leaked = [line for line in result.resources["leaked"] if line.startswith("/threads/")]
    assert leaked
    assert all("does not serve deleteThread" in line for line in leaked)
    assert not any(line.startswith("/threads/") for line in result.resources.get("unverified", []))
    assert {"getThread", "deleteThread"} <= {
        f.operations[0] for f in check(result, "RESP-ROUTE-002").findings if f.operations
    }


# ----------------------------------------------------------------------------- streams without names
def test_frames_without_event_lines_fail_only_the_naming_rule() -> None:
    """A gateway that wraps each event as `data: {"event": …, "data": …}` with no `event:` line:
    SSE-EVENT-001 fails; no stream rule passes on streams with no named event, and none of the
    checks that read the stream is failed on what it could not read."""

    def wrap(req: Req, res: Res) -> None:
        if not res.headers.get("content-type", "").startswith("text/event-stream"):
            return
        out = []
        for block in res.body.decode().split("\n\n"):
            event = re.search(r"^event: (.*)$", block, re.M)
            data = re.search(r"^data: (.*)$", block, re.M)
            if event and data:
                payload = data.group(1) if event.group(1) == "done" else json.loads(data.group(1))
                out.append("data: " + json.dumps({"event": event.group(1), "data": payload}) + "\n\n")
        res.body = "".join(out).encode()

    with _served(Fault("wrapped events", after=wrap)) as server:
        result = _run(server.base_url)
    assert "SSE-EVENT-001" in by(result, Outcome.FAILED)
    for rule in ("STREAM-THREAD-001", "STREAM-SCHEMA-001", "STREAM-END-001", "STREAM-RUN-001", "RUN-SNAP-001"):
        assert check(result, rule).outcome is Outcome.SKIPPED, rule
    assert by(result, Outcome.FAILED) == {"SSE-EVENT-001"}
    assert by(result, Outcome.ERRORED) == set()


# ----------------------------------------------------------------------------- a refused model
MODELS = ("gpt-4o", "llama-3.1-8b")


def _one_model_only(req: Req) -> Res | None:
    """The Node middleware's shape: a fixed set of models, 400 listing them for any other."""
    body = req.json()
    if req.method == "POST" and isinstance(body, dict) and "model" in body and body["model"] not in MODELS:
        return error(400, f"Model {body['model']} is not supported. Supported models: {', '.join(MODELS)}", "model")
    return None


def test_a_refused_model_ends_the_run_with_one_sentence_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    with _served(Fault("one model", before=_one_model_only)) as server:
        with pytest.raises(TargetUnusable) as refused:
            _run(server.base_url)
        code = main(["run", "--base-url", server.base_url, "--api-key", KEY, "--max-examples", "0", "--quiet"])
    said = str(refused.value)
    assert "refused the model 'gpt-4o-mini'" in said
    assert "Supported models: gpt-4o, llama-3.1-8b" in said
    assert "--model" in said
    assert code == 3
    err = capsys.readouterr().err
    assert "refused the model 'gpt-4o-mini'" in err
    assert "VALID-001" not in err


def test_with_a_served_model_the_same_server_accepts_the_limits() -> None:
    with _served(Fault("one model", before=_one_model_only)) as server:
        result = _run(server.base_url, model="gpt-4o", only={"VALID-001", "VALID-002", "ASST-CRUD-001"})
    assert by(result, Outcome.PASSED) == {"VALID-001", "VALID-002", "ASST-CRUD-001"}
    assert result.resources["leaked"] == []


def test_probes_are_not_judged_when_their_control_is_refused() -> None:
    """A server refusing every create for a reason of its own (not the model): the control fails,
    so VALID-002/004/005 are not exercised rather than passed on refusals of everything."""

    def refuse_creates(req: Req) -> Res | None:
        if req.method == "POST" and req.path == "/v1/assistants":
            return error(400, "Assistants are read-only here.")
        return None

    with _served(Fault("read-only", before=refuse_creates)) as server:
        result = _run(server.base_url, only={"VALID-002", "VALID-004", "VALID-005", "VALID-001"})
    for rule in ("VALID-001", "VALID-002", "VALID-004", "VALID-005"):
        c = check(result, rule)
        assert c.outcome is Outcome.SKIPPED, rule
        assert "the control" in c.reason
    assert result.verdict is Verdict.INCOMPLETE


# ----------------------------------------------------------------------------- creates that fail yet store
def _every_third(operation: re.Pattern[str]) -> Fault:
    """A post-commit hook that fails one time in three: the object is stored, the answer is a 500."""
    counter = itertools.count(1)

    def fail(req: Req, res: Res) -> None:
        if req.method == "POST" and operation.match(req.path) and res.status == 200 and next(counter) % 3 == 0:
            failed = error(500, "The server had an error while processing your request.")
            res.status, res.body = failed.status, failed.body

    return Fault("stores, then answers 500", after=fail)


def test_an_assistant_stored_under_a_500_is_found_by_its_tag_and_deleted() -> None:
    with _served(_every_third(re.compile(r"^/v1/assistants$"))) as server:
        result = _run(server.base_url, max_examples=3)
    found = result.resources["found_by_tag"]
    assert found
    assert result.resources["leaked"] == []
    assert result.resources["created"] == result.resources["deleted"]
    assert any("createAssistant answered 5xx" in line for line in result.resources["may_remain"])
    assert by(result, Outcome.ERRORED) == set()


def test_threads_stored_under_a_500_are_said_to_be_possibly_left() -> None:
    with _served(_every_third(re.compile(r"^/v1/threads$"))) as server:
        result = _run(server.base_url, max_examples=3)
    (line,) = [line for line in result.resources["may_remain"] if line.startswith("createThread")]
    assert "no list can show" in line
    assert by(result, Outcome.ERRORED) == set()


# ----------------------------------------------------------------------------- v1 fields, usage
def test_file_ids_on_every_object_is_one_warning_per_object_type() -> None:
    def v1(req: Req, res: Res) -> None:
        for kind in ("assistant", "thread.message"):
            rewrite_objects(res, kind, lambda item: item.setdefault("file_ids", []))

    with _served(Fault("file_ids everywhere", after=v1)) as server:
        result = _run(server.base_url)
    assert by(result, Outcome.FAILED) == set()
    assert by(result, Outcome.WARNED) == {"RESP-V1-001"}
    findings = check(result, "RESP-V1-001").findings
    assert len(findings) == 2
    assert sum(f.count for f in findings) > 20
    assert result.verdict is Verdict.CONFORMANT


def test_a_completed_run_with_usage_null_is_a_warning_in_answers_and_streams() -> None:
    with _served(FAULTS["usage-null-when-done"].make(KEY)) as server:
        result = _run(server.base_url)
    assert by(result, Outcome.FAILED) == set()
    assert by(result, Outcome.WARNED) == {"RUN-USAGE-001"}
    places = " ".join(f.message for f in check(result, "RUN-USAGE-001").findings)
    assert "thread.run.completed" in places  # in a stream
    assert "getRun" in places  # and in an answer
    assert "thread.run.step.completed" in places  # steps too


# ----------------------------------------------------------------------------- messages
def test_the_verdict_line_names_every_failed_check_or_says_how_many_more() -> None:
    from assistants_conformance.outcomes import verdict_of
    from assistants_conformance.results import CheckResult

    def failed(n: int) -> tuple[CheckResult, ...]:
        return tuple(CheckResult(f"X-{i:03d}", "MUST", "c", "r", Outcome.FAILED) for i in range(n))

    assert verdict_of(failed(3), [])[1] == "3 MUST check(s) failed: X-000, X-001, X-002"
    reason = verdict_of(failed(15), [])[1]
    assert reason.startswith("15 MUST check(s) failed: X-000, ")
    assert reason.endswith("X-007 and 7 more")


def test_a_run_polled_through_a_get_run_that_is_not_served_says_so() -> None:
    """getRun answers 405: RESP-ROUTE-002 names it, and no message calls it a timeout."""
    with _served(_405("GET", r"^/v1/threads/[^/]+/runs/[^/]+$")) as server:
        result = _run(server.base_url)
    assert "does not serve getRun" in check(result, "RUN-POLL-001").reason
    for c in result.checks:
        for f in c.findings:
            assert "within 3 s" not in f.message, (c.id, f.message)
            assert "None" not in f.message, (c.id, f.message)
