"""Mutants derived from the contract: each changes one thing in what the reference server sends —
one field of one operation's answer (or of one event type's data), or the frames of one event type
in every stream — and the run either notices (the mutant is killed) or not (it survives).

The hand-written fault catalogue covers the mistakes its authors thought of; mutants cover every
field and every event the contract declares, mechanically. Operators:

- per field (answers and event data): `remove` (required fields), `null` (non-nullable),
  `wrong-type`, `int-as-float` (integers), `outside-enum` (enums and consts), `cut-short`
  (strings), `past-max-length` (strings with maxLength), `reversed`, `duplicated`, `emptied`
  (arrays), `times-1000` (numbers);
- per event type: `drop`, `duplicate`, `swap` (with the next frame), `rename`, `merge` (with the
  next frame, the blank line lost), `cut` (the stream ends after it).

A mutant is *equivalent* by one stated rule: it met its target during the run but changed no byte
the server sent (reversing a one-item array, emptying an empty one). A mutant whose target the run
never met (an event the scenarios never cause, such as `thread.run.expired`) is *unreached*. Both
are counted and shown, never scored. The score is killed / (killed + survived); each survivor is
listed with the reason it survives where one is known (EXPLAINED).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from assistants_conformance.contract import get_contract, load_document
from assistants_conformance.contract.document import resolve_pointer
from assistants_conformance.lab.faults import sse
from assistants_conformance.lab.faults.middleware import Fault, Req, Res
from assistants_conformance.validate.http import Router

FIELD_OPERATORS = (
    "remove",
    "null",
    "wrong-type",
    "int-as-float",
    "outside-enum",
    "cut-short",
    "past-max-length",
    "reversed",
    "duplicated",
    "emptied",
    "times-1000",
)
STREAM_OPERATORS = ("drop", "duplicate", "swap", "rename", "merge", "cut")

# Survivors that are not defects the contract lets a client notice, by id pattern, with why.
EXPLAINED: tuple[tuple[str, str], ...] = (
    (
        r"^event:thread\.(run|message|run\.step)\.(queued|in_progress):(drop|duplicate)$",
        "a status event that repeats the status the previous event already carried: the documentation "
        "lists the events but does not require each status echo to appear exactly once",
    ),
    (
        r"^event:thread\.run\.step\.delta:swap$",
        "the first two deltas of the one tool call change places: the first carries the call's id and name with "
        "empty arguments, so folding by index gives the same call; the documentation does not say which delta "
        "carries the id",
    ),
    (
        r"^event:thread\.message\.(completed|incomplete):swap$",
        "a message's end and the end of the step that made it change places: the documentation does not order them",
    ),
    (
        r"^event:thread\.run\.cancelling:(drop|duplicate|swap)$",
        "the cancelling status is announced when a cancel request lands, at any point of the stream, and the "
        "cancelRun answer shows it too: the documentation requires neither that the stream repeat it exactly "
        "once nor where it falls among the events of the run's message and step",
    ),
)


def explanation(mutant_id: str) -> str:
    return next((why for pattern, why in EXPLAINED if re.search(pattern, mutant_id)), "")


@dataclass(frozen=True)
class Mutant:
    id: str
    target: str  # an operation id, or `event:<name>`
    field: str  # the field changed ("" for a stream operator)
    operator: str


@dataclass
class Applied:
    """What the mutant did during one run: how often it met its target and changed something."""

    met: int = 0
    changed: int = 0


# ----------------------------------------------------------------------------- the schemas
def _resolve(schema: Any) -> dict[str, Any]:
    doc = load_document()
    while isinstance(schema, dict) and "$ref" in schema:
        schema = resolve_pointer(doc, schema["$ref"])
    return schema if isinstance(schema, dict) else {}


def _flatten(schema: Any) -> tuple[dict[str, Any], set[str]]:
    """Properties and required names of an object schema, through $ref and allOf."""
    schema = _resolve(schema)
    properties: dict[str, Any] = dict(schema.get("properties") or {})
    required: set[str] = set(schema.get("required") or [])
    for part in schema.get("allOf") or []:
        more, needed = _flatten(part)
        for name, sub in more.items():
            properties.setdefault(name, sub)
        required |= needed
    return properties, required


def _kinds(schema: Any) -> tuple[set[str], bool, dict[str, Any]]:
    """The JSON types a field may take, whether null is one, and the non-null branch's schema."""
    schema = _resolve(schema)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        types: set[str] = set()
        nullable = False
        main: dict[str, Any] = {}
        for branch in branches:
            kinds, null, sub = _kinds(branch)
            nullable |= null or kinds == {"null"}
            if kinds - {"null"}:
                types |= kinds - {"null"}
                main = main or sub
        return types, nullable, main
    declared = schema.get("type")
    kinds = set(declared) if isinstance(declared, list) else ({declared} if declared else set())
    if "const" in schema and not kinds:
        kinds = {type(schema["const"]).__name__.replace("str", "string").replace("bool", "boolean")}
    return kinds - {"null"}, "null" in kinds, schema


def _operators(schema: Any, required: bool) -> list[str]:
    kinds, nullable, main = _kinds(schema)
    found = []
    if required:
        found.append("remove")
    if not nullable:
        found.append("null")
    if kinds:
        found.append("wrong-type")
    if "integer" in kinds:
        found.append("int-as-float")
    if "enum" in main or "const" in main:
        found.append("outside-enum")
    if "string" in kinds and not ("enum" in main or "const" in main):
        found.append("cut-short")
        if "maxLength" in main:
            found.append("past-max-length")
    if "array" in kinds:
        found += ["reversed", "duplicated", "emptied"]
    if kinds & {"integer", "number"}:
        found.append("times-1000")
    return found


@cache
def answer_schemas() -> dict[str, tuple[dict[str, Any], set[str], bool]]:
    """Operation id → (fields, required, is a list page) of its 200 JSON answer's object."""
    contract = get_contract()
    table: dict[str, tuple[dict[str, Any], set[str], bool]] = {}
    for op in contract.operations:
        ok = _resolve(contract.operation_object(op.operation_id).get("responses", {}).get("200", {}))
        schema = ok.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            continue
        fields, required = _flatten(schema)
        data = _resolve(fields.get("data", {}))
        is_list = "data" in fields and (data.get("type") == "array" or "items" in data)
        if is_list:
            fields, required = _flatten(data.get("items", {}))
            if not fields:  # the page's item schema is stated in an allOf branch
                for part in _resolve(schema).get("allOf") or []:
                    items = (_resolve(part).get("properties") or {}).get("data", {}).get("items")
                    if items:
                        fields, required = _flatten(items)
        table[op.operation_id] = (fields, required, is_list)
    return table


@cache
def event_schemas() -> dict[str, tuple[dict[str, Any], set[str]]]:
    doc = load_document()
    table = {}
    for name, event in get_contract().event_schemas.items():
        if event.data_schema:
            table[name] = _flatten(resolve_pointer(doc, event.data_schema))
    return table


def generate() -> list[Mutant]:
    """Every mutant of the contract, in a stable order (ids are stable across runs of one contract)."""
    mutants: list[Mutant] = []
    for operation, (fields, required, _) in sorted(answer_schemas().items()):
        for name in sorted(fields):
            for operator in _operators(fields[name], name in required):
                mutants.append(Mutant(f"{operation}.{name}:{operator}", operation, name, operator))
    for event, (fields, required) in sorted(event_schemas().items()):
        for name in sorted(fields):
            for operator in _operators(fields[name], name in required):
                mutants.append(Mutant(f"event:{event}.{name}:{operator}", f"event:{event}", name, operator))
    for event in sorted(get_contract().event_schemas):
        for operator in STREAM_OPERATORS:
            mutants.append(Mutant(f"event:{event}:{operator}", f"event:{event}", "", operator))
    return mutants


# ----------------------------------------------------------------------------- applying one
def mutate_value(value: Any, operator: str, schema: Any) -> Any:
    """The field's value after `operator` (`remove` is handled by the caller)."""
    _, _, main = _kinds(schema)
    if operator == "null":
        return None
    if operator == "wrong-type":
        if isinstance(value, str):
            return 12345
        if isinstance(value, bool):
            return "true"
        if isinstance(value, int | float):
            return str(value)
        if isinstance(value, list):
            return {"items": value}
        if isinstance(value, dict):
            return [value]
        return "not null"
    if operator == "int-as-float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if operator == "outside-enum":
        return "not_a_documented_value"
    if operator == "cut-short" and isinstance(value, str):
        return value[: len(value) // 2]
    if operator == "past-max-length":
        return "x" * (int(main.get("maxLength", 0)) + 1)
    if operator == "reversed" and isinstance(value, list):
        return value[::-1]
    if operator == "duplicated" and isinstance(value, list) and value:
        return [*value, copy.deepcopy(value[0])]
    if operator == "emptied" and isinstance(value, list):
        return []
    if operator == "times-1000" and isinstance(value, int | float) and not isinstance(value, bool):
        return value * 1000
    return value


def _mutate_object(obj: Any, mutant: Mutant, schema: Any, applied: Applied) -> None:
    if not isinstance(obj, dict) or (mutant.field not in obj and mutant.operator != "remove"):
        return
    applied.met += 1
    if mutant.operator == "remove":
        obj.pop(mutant.field, None)
    else:
        obj[mutant.field] = mutate_value(obj[mutant.field], mutant.operator, schema)


class _StreamMutant:
    """One stream with the mutant applied as it goes out, frame by frame (the server's bytes for every
    frame it leaves alone), so a client still meets the stream live and can act mid-stream."""

    def __init__(self, mutant: Mutant, applied: Applied) -> None:
        self.mutant = mutant
        self.event = mutant.target.removeprefix("event:")
        self.applied = applied
        self.met = False
        self.changed = False
        self.cut = False
        self.held: bytes | None = None  # a swap or merge waits for the frame after the first match
        self.done = False  # swap, merge and cut act on the first match only

    def feed(self, raw: bytes) -> bytes:
        if self.cut:
            self.changed = True
            return b""
        frame = (sse.parse(raw) or [sse.Frame(None, "")])[0]
        if self.held is not None:
            held, self.held = self.held, None
            self.changed = True
            if self.mutant.operator == "swap":
                return raw + held
            return held[:-1] + raw  # merge: the blank line between the two frames is lost
        if frame.event != self.event:
            return raw
        if not self.met:
            self.met = True
            self.applied.met += 1
        out = self._edit(raw, frame)
        self.changed = self.changed or (out != raw and self.held is None)
        return out

    def _edit(self, raw: bytes, frame: sse.Frame) -> bytes:
        operator = self.mutant.operator
        if self.mutant.field:
            fields, _ = event_schemas()[self.event]
            data = frame.json()
            before = json.dumps(data)
            _mutate_object(data, self.mutant, fields.get(self.mutant.field), Applied())
            if json.dumps(data) == before:
                return raw  # untouched frames keep their bytes
            frame.set_json(data)
            return sse.serialise([frame])
        if operator == "drop":
            return b""
        if operator == "duplicate":
            return raw + raw
        if operator == "rename":
            return sse.serialise([sse.Frame(f"{self.event}.renamed", frame.data)])
        if self.done:
            return raw
        self.done = True
        if operator == "cut":
            self.cut = True
            return raw
        self.held = raw  # swap or merge, with whatever comes next
        return b""

    def end(self) -> bytes:
        """A held frame that nothing followed goes out as it was: no swap, no merge."""
        held, self.held = self.held, None
        if self.changed:
            self.applied.changed += 1
        return held or b""


def fault_for(mutant: Mutant, applied: Applied) -> Fault:
    """The mutant as a fault in front of the reference server. `applied` counts the answers it met
    and those whose bytes it changed (the equivalence rule reads the latter). Every other answer
    goes out as the server sends it (streams live)."""
    if mutant.target.startswith("event:"):
        return Fault(mutant.id, frames=lambda req: _StreamMutant(mutant, applied))
    fields, _, is_list = answer_schemas()[mutant.target]
    router = Router(get_contract())

    def targeted(req: Req) -> bool:
        route = router.match(req.method, req.path)
        return route is not None and route.operation.operation_id == mutant.target

    def rewrite(req: Req, res: Res) -> None:
        if not 200 <= res.status < 300 or not res.headers.get("content-type", "").startswith("application/json"):
            return
        body = res.json()
        before = json.dumps(body)
        targets = body.get("data") if is_list and isinstance(body, dict) else [body]
        for obj in targets if isinstance(targets, list) else []:
            _mutate_object(obj, mutant, fields.get(mutant.field), applied)
        after = json.dumps(body)  # `1.0` and `1` differ here, as they do on the wire
        if after != before:
            applied.changed += 1
            res.body = after.encode()

    return Fault(mutant.id, after=rewrite, sees=targeted)


# ----------------------------------------------------------------------------- the verdicts
@dataclass
class MutantResult:
    mutant: Mutant
    fired: list[str] = field(default_factory=list)
    outcome: str = ""
    met: int = 0
    changed: int = 0
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        """unreached (the run never met its target), equivalent (met, but no byte changed), killed
        (some check fired), or survived."""
        if self.met == 0:
            return "unreached"
        if self.changed == 0:
            return "equivalent"
        return "killed" if self.fired else "survived"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.mutant.id,
            "target": self.mutant.target,
            "field": self.mutant.field,
            "operator": self.mutant.operator,
            "verdict": self.verdict,
            "fired": self.fired,
            "outcome": self.outcome,
            "met": self.met,
            "changed": self.changed,
            "seconds": self.seconds,
            "explained": explanation(self.mutant.id) if self.verdict == "survived" else "",
        }


def sample(mutants: list[Mutant], per_operator: int | None) -> list[Mutant]:
    """All mutants, or a stratified, deterministic sample: every operator, spread over targets."""
    if per_operator is None:
        return mutants
    chosen: list[Mutant] = []
    for operator in (*FIELD_OPERATORS, *STREAM_OPERATORS):
        group = [m for m in mutants if m.operator == operator]
        if group:
            step = max(1, len(group) // per_operator)
            chosen += group[::step][:per_operator]
    return chosen


def score(results: list[MutantResult]) -> dict[str, Any]:
    def tally(items: Iterator[MutantResult] | list[MutantResult]) -> dict[str, Any]:
        items = list(items)
        killed = sum(r.verdict == "killed" for r in items)
        survived = sum(r.verdict == "survived" for r in items)
        return {
            "killed": killed,
            "survived": survived,
            "equivalent": sum(r.verdict == "equivalent" for r in items),
            "unreached": sum(r.verdict == "unreached" for r in items),
            "score": round(killed / (killed + survived), 4) if killed + survived else None,
        }

    return {
        "overall": tally(results),
        "by_operator": {
            op: tally(r for r in results if r.mutant.operator == op)
            for op in sorted({r.mutant.operator for r in results})
        },
        "by_target": {
            t: tally(r for r in results if r.mutant.target == t) for t in sorted({r.mutant.target for r in results})
        },
    }


@cache
def by_id() -> dict[str, Mutant]:
    return {m.id: m for m in generate()}


KEY = "sk-mutants-local"


def first_failure(check: str, severity: str) -> bool:
    """A mutant is decided by one failure: the run ends at its first (Options.watch)."""
    return severity == "error"


def _options(root: str, seed: int, **lab: Any) -> Any:
    from assistants_conformance.runner import Options
    from assistants_conformance.target import BaseURL

    return Options(
        base_url=BaseURL.parse(root), api_key=KEY, seed=seed, max_examples=0, poll_timeout=3.0, timeout=10.0, **lab
    )


def reach(*, seed: int = 0) -> dict[str, frozenset[str] | None]:
    """Which scenarios meet each target (an operation, or `event:<name>`), from one clean run per
    scenario and one of them all. A mutant changes only what its target answers, so a scenario that
    never meets the target sees exactly what it sees on the clean server and cannot kill it: it
    need not run. A target only the whole run met maps to None (run them all); a target no run met
    is absent: its mutants are unreached, since nothing differs from the clean run until it is met."""
    from assistants_conformance.lab.faults import FaultyApp
    from assistants_conformance.reference import create_app, running_server
    from assistants_conformance.runner import run
    from assistants_conformance.scenarios import SCENARIOS

    router = Router(get_contract())
    met: dict[str, set[str]] = {}
    whole = "(all scenarios)"
    for name in [*(scenario.name for scenario in SCENARIOS), whole]:

        def note(req: Req, res: Res, name: str = name) -> None:
            route = router.match(req.method, req.path)
            if route is not None:
                met.setdefault(route.operation.operation_id, set()).add(name)

        def watch(req: Req, name: str = name) -> _Seen:
            note(req, Res(200, {}, b""), name)

            def seen(event: str, name: str = name) -> None:
                met.setdefault(f"event:{event}", set()).add(name)

            return _Seen(seen)

        # Streams are watched as they go out, live, as every mutant meets them.
        app = FaultyApp(create_app(api_key=KEY), Fault("reach", after=note, frames=watch))
        with running_server(api_key=KEY, app=app) as server:
            run(_options(server.root, seed, scenarios=None if name == whole else frozenset({name})))
    return {target: frozenset(names - {whole}) or None for target, names in met.items()}


class _Seen:
    """A frame editor that changes nothing and names each event it sees."""

    def __init__(self, seen: Callable[[str], Any]) -> None:
        self.seen = seen

    def feed(self, raw: bytes) -> bytes:
        for frame in sse.parse(raw):
            if frame.event is not None:
                self.seen(frame.event)
        return raw

    def end(self) -> bytes:
        return b""


def run_mutant(mutant_id: str, *, seed: int = 0, scenarios: frozenset[str] | None = None) -> MutantResult:
    """The default run (scenarios; the property phase off: its budget would multiply the hour
    this takes) against the reference server with one mutant in front of it. Only `scenarios`
    run when given (see `reach`), and the run ends at its first failure: one decides the verdict,
    so `fired` names the check(s) that killed the mutant, not every check that would have."""
    import time

    from assistants_conformance.lab.faults import FaultyApp
    from assistants_conformance.reference import create_app, running_server
    from assistants_conformance.results import Outcome
    from assistants_conformance.runner import run

    mutant = by_id()[mutant_id]
    applied = Applied()
    began = time.monotonic()
    app = FaultyApp(create_app(api_key=KEY), fault_for(mutant, applied))
    with running_server(api_key=KEY, app=app) as server:
        result = run(_options(server.root, seed, scenarios=scenarios, watch=first_failure))
    fired = sorted(c.id for c in result.checks if c.outcome in (Outcome.FAILED, Outcome.WARNED, Outcome.ERRORED))
    return MutantResult(
        mutant,
        fired,
        result.verdict.value,
        applied.met,
        applied.changed,
        round(time.monotonic() - began, 2),
    )


def run_many(
    mutants: list[Mutant], *, jobs: int, seed: int, progress: Callable[[str], None] = lambda line: None
) -> list[MutantResult]:
    """Each mutant in a worker process (spawned: nothing inherited from this one), running only
    the scenarios that meet its target (`reach`). A mutant whose target no clean run met is
    unreached without a run of its own."""
    import multiprocessing
    import time
    from concurrent.futures import ProcessPoolExecutor

    began = time.monotonic()
    reached = reach(seed=seed)
    progress(f"  which scenarios meet which target: {len(reached)} targets met, {time.monotonic() - began:.0f} s")
    results: list[MutantResult] = []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {
            m.id: pool.submit(run_mutant, m.id, seed=seed, scenarios=reached[m.target])
            for m in mutants
            if m.target in reached
        }
        for n, mutant in enumerate(mutants, 1):
            future = futures.get(mutant.id)
            results.append(future.result() if future else MutantResult(mutant, outcome="not run: no clean run met it"))
            if n % 25 == 0 or n == len(mutants):
                killed = sum(r.verdict == "killed" for r in results)
                progress(f"  [{n}/{len(mutants)}] {killed} killed so far, {time.monotonic() - began:.0f} s")
    return results


def record(
    generated: int, results: list[MutantResult], *, sample_per_operator: int | None, wall_s: float
) -> dict[str, Any]:
    """What mutants.json holds: the rules, the score, and every mutant with its verdict."""
    return {
        "generated": generated,
        "run": len(results),
        "sample_per_operator": sample_per_operator,
        "wall_s": round(wall_s, 1),
        "equivalence_rule": "the mutant met its target but changed no byte the server sent",
        "unreached_rule": (
            "no clean run (each scenario alone, and all together) met the target, so the mutant changes nothing; "
            "it is not run"
        ),
        "kill_rule": (
            "some check failed, warned or errored (the default run's scenarios that meet the target, property "
            "phase off; the run ends at its first failure, so `fired` names what killed it)"
        ),
        "score": score(results),
        "mutants": [r.to_dict() for r in results],
    }
