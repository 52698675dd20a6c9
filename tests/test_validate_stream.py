"""The event-stream contract: each rule fails on a stream broken in exactly that way, and only then."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from assistants_conformance.checks import CATALOGUE
from assistants_conformance.reference import RunningServer
from assistants_conformance.validate import Severity, validate_stream_bytes, validate_stream_chunks
from tests.recordings import Frames, Recording, edit, find, frames, record_all, serialize


@pytest.fixture(scope="module")
def recorded(server: RunningServer) -> dict[str, Recording]:
    return record_all(server)


def fired(raw: bytes, operation: str | None = None, severity: Severity = Severity.ERROR) -> set[str]:
    report = validate_stream_bytes(raw, operation=operation)
    return {v.check for v in report.violations if v.severity is severity}


@pytest.mark.parametrize("name", ["text", "run", "failed", "incomplete", "tool", "submit", "cancelled"])
def test_recorded_reference_streams_conform(recorded: dict[str, Recording], name: str) -> None:
    """Every kind of stream the reference server produces passes, with and without the operation known."""
    rec = recorded[name]
    for operation in (rec.operation, None):
        report = validate_stream_bytes(rec.raw, operation=operation)
        assert [v.render() for v in report.violations] == []
    assert report.frames == len(frames(rec.raw))


def test_recordings_cover_every_run_ending(recorded: dict[str, Recording]) -> None:
    """Between them the recordings use every event the reference server emits."""
    seen: set[str] = set()
    for rec in recorded.values():
        seen |= set(validate_stream_bytes(rec.raw).events)
    assert {
        "thread.run.completed",
        "thread.run.failed",
        "thread.run.incomplete",
        "thread.run.cancelled",
        "thread.run.cancelling",
        "thread.run.requires_action",
        "thread.run.step.delta",
        "thread.message.incomplete",
        "thread.run.step.cancelled",
        "thread.created",
        "done",
    } <= seen


def test_chunking_does_not_change_the_verdict(recorded: dict[str, Recording]) -> None:
    """Byte-at-a-time delivery gives the same frames and violations as one chunk."""
    raw = recorded["tool"].raw.replace(b"\n", b"\r\n")
    whole = validate_stream_bytes(raw)
    one_by_one = validate_stream_chunks(raw[i : i + 1] for i in range(len(raw)))
    assert whole.frames == one_by_one.frames > 10
    assert whole.violations == one_by_one.violations == []


# ---------------------------------------------------------------- one mutation per rule
Mutation = Callable[[Frames], Frames]


def _insert(at: Callable[[Frames], int], event: str, data: Any) -> Mutation:
    def mutate(items: Frames) -> Frames:
        copy = [list(f) for f in items]
        copy.insert(at(copy), [event, data if isinstance(data, str) else json.dumps(data)])
        return copy

    return mutate


def _drop(event: str) -> Mutation:
    return lambda items: [f for f in items if f[0] != event]


def _move_before(event: str, anchor: str) -> Mutation:
    def mutate(items: Frames) -> Frames:
        moving = items[find(items, event)]
        rest = [f for f in items if f is not moving]
        rest.insert(find(rest, anchor), moving)
        return rest

    return mutate


def _set(event: str, change: Callable[[dict[str, Any]], None], nth: int = 0) -> Mutation:
    return lambda items: edit(items, find(items, event, nth), change)


def _interleave_two_messages(items: Frames) -> Frames:
    """A second message B whose deltas alternate with A's."""
    a_deltas = [f for f in items if f[0] == "thread.message.delta"]
    out: Frames = []
    for e, d in items:
        if e == "thread.message.delta":
            continue
        if e in ("thread.message.created", "thread.message.in_progress", "thread.message.completed"):
            out.append([e, d])
            out.append([e, d.replace(json.loads(d)["id"], "msg_second")])
            if e == "thread.message.in_progress":
                for delta in a_deltas:
                    out.append(delta)
                    out.append([delta[0], delta[1].replace(json.loads(delta[1])["id"], "msg_second")])
            continue
        out.append([e, d])
    return out


ERROR_CASES: list[tuple[str, str, Mutation]] = [
    ("SSE-JSON-001", "text", lambda f: [[e, "not json" if e == "thread.run.queued" else d] for e, d in f]),
    ("STREAM-SCHEMA-001", "text", _set("thread.run.queued", lambda d: d.update(created_at="yesterday"))),
    ("STREAM-END-001", "text", _drop("done")),
    ("STREAM-DONE-001", "text", lambda f: [[e, "[done]" if e == "done" else d] for e, d in f]),
    ("STREAM-DONE-002", "text", _insert(len, "thread.run.completed", "{}")),
    ("STREAM-THREAD-001", "text", _move_before("thread.run.created", "thread.created")),
    ("STREAM-RUN-001", "run", lambda f: [x for x in f if x[0] not in ("thread.run.created", "thread.run.queued")]),
    (  # created twice
        "STREAM-RUN-001",
        "text",
        lambda f: _insert(
            lambda c: find(c, "thread.run.queued"), "thread.run.created", f[find(f, "thread.run.created")][1]
        )(f),
    ),
    (
        "STREAM-RUN-002",
        "text",
        lambda f: _insert(lambda c: find(c, "done"), "thread.run.queued", f[find(f, "thread.run.queued")][1])(f),
    ),
    ("STREAM-RUN-003", "text", _drop("thread.run.completed")),
    ("STREAM-RUN-005", "text", _move_before("thread.run.completed", "thread.message.completed")),
    ("STREAM-RUN-005", "text", _move_before("thread.run.step.created", "thread.run.in_progress")),  # while queued
    ("STREAM-STATUS-001", "text", _set("thread.run.in_progress", lambda d: d.update(status="queued"))),
    ("STREAM-STATUS-001", "text", _set("thread.message.completed", lambda d: d.update(status="in_progress"))),
    (
        "STREAM-ITEM-001",
        "text",
        lambda f: _insert(
            lambda c: find(c, "thread.message.in_progress"),
            "thread.message.created",
            f[find(f, "thread.message.created")][1],
        )(f),
    ),
    (
        "STREAM-ITEM-002",
        "text",
        _insert(
            lambda c: find(c, "thread.message.completed"),
            "thread.message.delta",
            {
                "id": "msg_ghost",
                "object": "thread.message.delta",
                "delta": {"content": [{"index": 0, "type": "text", "text": {"value": ""}}]},
            },
        ),
    ),
    ("STREAM-ITEM-003", "text", _interleave_two_messages),
    (
        "STREAM-ITEM-004",
        "text",
        _set("thread.run.step.created", lambda d: d["step_details"]["message_creation"].update(message_id="msg_other")),
    ),
    (
        "STREAM-FOLD-001",
        "text",
        _set("thread.message.delta", lambda d: d["delta"]["content"][0]["text"].update(value="XYZ")),
    ),
    ("STREAM-FOLD-001", "text", _drop("thread.message.delta")),  # text that no delta streamed
    (
        "STREAM-FOLD-002",
        "tool",
        _set(
            "thread.run.step.delta",
            lambda d: d["delta"]["step_details"]["tool_calls"][0]["function"].update(arguments='{"ci'),
            nth=1,
        ),
    ),
    ("STREAM-IDS-001", "text", _set("thread.message.created", lambda d: d.update(thread_id="thread_other"))),
    (
        "STREAM-ACTION-001",
        "tool",
        _set(
            "thread.run.requires_action",
            lambda d: d["required_action"]["submit_tool_outputs"]["tool_calls"][0].update(id="call_other"),
        ),
    ),
]


@pytest.mark.parametrize(
    ("check", "name", "mutate"), ERROR_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(ERROR_CASES)]
)
def test_each_rule_fails_alone_on_its_broken_stream(
    recorded: dict[str, Recording], check: str, name: str, mutate: Mutation
) -> None:
    """The mutated stream fails exactly that check; the same stream unbroken passes."""
    rec = recorded[name]
    assert fired(rec.raw, rec.operation) == set()
    broken = serialize(mutate(frames(rec.raw)))
    assert fired(broken, rec.operation) == {check}


def test_every_stream_rule_has_a_failing_case() -> None:
    """No rule in the catalogue is left without a stream that makes it fail."""
    tested = {c[0] for c in ERROR_CASES} | set(RAW_CASES) | {"STREAM-UNKNOWN-001", "STREAM-ERROR-001"}
    stream_rules = {c.id for c in CATALOGUE.values() if c.spec == "#/components/schemas/AssistantStreamEvent"}
    assert stream_rules <= tested


RAW_CASES: dict[str, Callable[[bytes], bytes]] = {
    "SSE-EVENT-001": lambda raw: raw.replace(b"event: thread.run.queued\n", b"", 1),
    "SSE-UTF8-001": lambda raw: raw.replace(b"event: done\n", b": keep-alive \xff\n\nevent: done\n", 1),
    "SSE-EOF-001": lambda raw: raw + b"event: thread.run.completed",
    "SSE-FRAME-001": lambda raw: raw.replace(b"event: thread.run.queued\n", b"event: thread.run.queued\n" * 2, 1),
    "SSE-FIELD-002": lambda raw: raw.replace(b"event: done\n", b"event: ping\n\nevent: done\n", 1),
}


@pytest.mark.parametrize("check", sorted(RAW_CASES))
def test_each_framing_rule_fails_alone(recorded: dict[str, Recording], check: str) -> None:
    """Byte-level framing defects fail their own check only."""
    rec = recorded["text"]
    assert fired(RAW_CASES[check](rec.raw), rec.operation) == {check}


@pytest.mark.parametrize(
    ("check", "raw_edit"),
    [
        (
            "STREAM-UNKNOWN-001",
            lambda raw: raw.replace(b"event: done\n", b"event: thread.future\ndata: {}\n\nevent: done\n"),
        ),
        (
            "STREAM-ERROR-001",
            lambda raw: raw.replace(
                b"event: done\n",
                b'event: error\ndata: {"message": "m", "type": "t", "param": null, "code": null}\n\nevent: done\n',
            ),
        ),
        ("SSE-FIELD-001", lambda raw: raw.replace(b"event: done\n", b"evnt: x\nretry: soon\nevent: done\n")),
    ],
)
def test_tolerated_oddities_are_warnings_not_failures(
    recorded: dict[str, Recording], check: str, raw_edit: Callable[[bytes], bytes]
) -> None:
    """Unknown events, server error events and unknown fields warn without failing the stream."""
    broken = raw_edit(recorded["text"].raw)
    assert fired(broken) == set()
    assert fired(broken, severity=Severity.WARNING) == {check}


def test_violations_carry_frame_and_line(recorded: dict[str, Recording]) -> None:
    """A stream violation says which frame and line it is about."""
    broken = serialize(
        _set("thread.run.in_progress", lambda d: d.update(status="queued"))(frames(recorded["text"].raw))
    )
    (violation,) = validate_stream_bytes(broken).violations
    assert violation.frame == 4
    assert violation.line == 10
    assert violation.where == "/status"
    assert "thread.run.in_progress" in violation.message


def test_schema_errors_in_events_point_into_the_spec(recorded: dict[str, Recording]) -> None:
    """Schema failures inside event data name the pointer in the data and in the contract."""
    broken = serialize(
        _set("thread.message.completed", lambda d: d["content"][0].update(type="txt"))(frames(recorded["text"].raw))
    )
    violations = [v for v in validate_stream_bytes(broken).violations if v.check == "STREAM-SCHEMA-001"]
    assert violations
    assert violations[0].where == "/content/0/type"
    assert "not valid under any" not in violations[0].message
