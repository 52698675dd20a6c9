"""The property phase: Schemathesis generates valid and invalid requests for every operation
from the same contract; every answer goes through our validators.

Negative cases count only when the contract is broken in the body, query or path: headers
(auth, OpenAI-Beta) are always sent by us, so a case negative only in its headers is sent as a
valid request. Objects that generated requests create are recorded for clean-up.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import functools
import hashlib
import json
import re
import sys
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Flaky, FlakyStrategyDefinition
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transport import Response as STResponse
from schemathesis.openapi.checks import UseAfterFree
from schemathesis.specs.openapi.checks import use_after_free

from assistants_conformance import cache
from assistants_conformance.checks.catalogue import SCHEMATHESIS_EQUIVALENTS
from assistants_conformance.context import Context
from assistants_conformance.contract import load_document
from assistants_conformance.contract.document import spec_path
from assistants_conformance.errors import TargetUnreachable
from assistants_conformance.target import FRAMING_HEADERS, BudgetExhausted, Response

# The creates whose valid bodies carry metadata, where the run's tag goes.
TAGGED = frozenset({"createAssistant", "createThread", "createThreadAndRun", "createMessage", "createRun"})
CREATES = {
    "createAssistant": "/assistants/{id}",
    "createThread": "/threads/{id}",
    "createThreadAndRun": "/threads/{thread_id}",
}
# Schemathesis' built-in checks that judge a sequence (a read after an earlier step's DELETE),
# which our per-response validators cannot; why the others are not run here is in
# checks.catalogue (SCHEMATHESIS_EQUIVALENTS, SCHEMATHESIS_NOT_ADOPTED).
SEQUENCE_CHECKS = (use_after_free,)
SEQUENCE_FAILURES: dict[type, str] = {UseAfterFree: SCHEMATHESIS_EQUIVALENTS[use_after_free.__name__]}


# Headers Schemathesis adds for its own transport, and ours that the Target sets (auth, beta; a
# custom auth header is left out when sent). How a message is framed and carried is the
# transport's to say: a generated `Transfer-Encoding: x` is a request our client refuses to send
# (h11), and the hop-by-hop ones are not the API's.
# Schemathesis' test-case id is a random label of its own, not of the seed: it would make the same
# seed send different requests.
_OWN_HEADERS = frozenset(
    {
        "user-agent",
        "accept-encoding",
        "connection",
        "accept",
        "authorization",
        "openai-beta",
        "x-schemathesis-testcaseid",
    }
)
_TRANSPORT_HEADERS = FRAMING_HEADERS | {"host", "te", "trailer", "upgrade", "keep-alive", "expect"}
_NOT_PASSED = _OWN_HEADERS | _TRANSPORT_HEADERS
_DRAWN_AT = "http://drawn.invalid"  # cases are drawn against no target; sent, they join its base URL


def _contract_for_generation() -> dict[str, Any]:
    """The contract without the OpenAI-Beta header parameter (we always send it ourselves)."""
    doc = copy.deepcopy(load_document())
    beta = "#/components/parameters/OpenAIBeta"
    for item in doc["paths"].values():
        if "parameters" in item:
            item["parameters"] = [p for p in item["parameters"] if p.get("$ref") != beta]
        for value in item.values():
            if isinstance(value, dict) and "parameters" in value:
                value["parameters"] = [p for p in value["parameters"] if p.get("$ref") != beta]
    return doc


def _negative_outside_headers(case: Any) -> bool:
    """Whether the case breaks the contract where a server must notice: body, path or a declared query
    parameter. Unknown query parameters are not a contract violation (servers ignore them)."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    mutations = getattr(data, "mutations", None)
    if mutations:
        return any(
            m.parameter_location is not ParameterLocation.HEADER
            and not (m.parameter_location is ParameterLocation.QUERY and "additionalProperties" in m.keywords)
            for m in mutations
        )
    components = getattr(case.meta, "components", {}) or {}
    return any(
        location is not ParameterLocation.HEADER and info.mode is schemathesis.GenerationMode.NEGATIVE
        for location, info in components.items()
    )


@dataclass(frozen=True)
class Generated:
    """One generated request, as sent and as judged, without the Schemathesis case it came from.

    The stateless phase's cases depend only on the contract, the seed and the budget, never on
    what a server answers, so they are drawn once (`_drawn`) and replayed against every target:
    drawing them is most of a run's CPU time, and the lab meets about a hundred servers per
    process. The `url` is relative to the target's base URL."""

    operation_id: str
    method: str
    path: str  # the template, e.g. /threads/{thread_id}
    url: str
    params: dict[str, Any] | None
    headers: dict[str, str]
    raw: bytes | None
    negative: bool
    invalid: str  # Schemathesis' description of what a negative case broke

    @classmethod
    def of(cls, case: Any) -> Generated:
        """Placed below no base path: a generated `..` then stays below the target's base URL when
        joined to it (placed below the target's own, it could climb out of the API)."""
        base_url = _DRAWN_AT
        kw = case.as_transport_kwargs(base_url=base_url)
        headers = {str(k): str(v) for k, v in (kw.get("headers") or {}).items() if str(k).lower() not in _NOT_PASSED}
        raw: bytes | None = None
        if "json" in kw:
            raw = json.dumps(kw["json"]).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(kw.get("data"), bytes):
            raw = kw["data"]
        elif isinstance(kw.get("data"), dict):
            raw = urlencode(kw["data"]).encode()
        elif "data" in kw:
            raw = str(kw["data"]).encode()
        url = str(kw["url"])
        if not url.startswith(base_url):
            raise ValueError(f"Schemathesis placed {url!r} outside {base_url!r}")
        return cls(
            operation_id=_operation_id(case),
            method=str(kw["method"]).upper(),
            path=str(case.operation.path),
            url=url[len(base_url) :],
            params=kw.get("params") or None,
            headers=headers,
            raw=raw,
            negative=_negative_outside_headers(case),
            invalid=_what_was_invalid(case),
        )

    def to_json(self) -> dict[str, Any]:
        kept = dataclasses.asdict(self)
        kept["raw"] = None if self.raw is None else base64.b64encode(self.raw).decode()
        return kept

    @classmethod
    def from_json(cls, kept: dict[str, Any]) -> Generated:
        raw = kept["raw"]
        return cls(**{**kept, "raw": None if raw is None else base64.b64decode(raw)})


Groups = tuple[tuple[str, tuple[Generated, ...]], ...]
KEPT_DRAWS = 16  # draws (a seed and a budget each) kept (about 0.6 MB each): the most recently drawn


@functools.cache
def _drawn(seed_: int, max_examples: int) -> Groups:
    """The stateless phase's cases, per operation and mode, in the order Hypothesis draws them;
    drawn once per process, and kept between runs in the user's cache (cache.py) under a key of
    everything they depend on, since a run spends most of its CPU time drawing them."""
    name = _drawn_key(seed_, max_examples)
    kept = cache.load("cases", name)
    if kept is not None:
        try:
            return tuple((str(label), tuple(Generated.from_json(c) for c in cases)) for label, cases in kept)
        except (TypeError, ValueError, KeyError):
            pass  # written by something else: draw them again
    groups = _draw(seed_, max_examples)
    as_json = [[label, [case.to_json() for case in cases]] for label, cases in groups]
    again = tuple(
        (label, tuple(Generated.from_json(c) for c in cases)) for label, cases in json.loads(json.dumps(as_json))
    )
    if again == groups:  # a value JSON cannot carry exactly (say NaN) is not kept
        cache.store("cases", name, as_json, keep=KEPT_DRAWS)
    return groups


def _drawn_key(seed_: int, max_examples: int) -> str:
    return cache.key(
        {
            "contract": hashlib.sha256(spec_path().read_bytes()).hexdigest(),
            "drawn by": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
            "schemathesis": metadata.version("schemathesis"),
            "hypothesis": metadata.version("hypothesis"),
            "python": sys.version.split()[0],
            "seed": seed_,
            "max_examples": max_examples,
        }
    )


def _draw(seed_: int, max_examples: int) -> Groups:
    """Hypothesis draws each operation's valid, then invalid cases, as Schemathesis' strategies make them."""
    schema = schemathesis.openapi.from_dict(_contract_for_generation())
    groups: list[tuple[str, tuple[Generated, ...]]] = []
    for result in schema.get_all_operations():
        op = result.ok()  # type: ignore[union-attr]  # the contract is valid (spec --check): no Err
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            drawn: list[Generated] = []

            @seed(seed_)
            @settings(
                max_examples=max_examples,
                deadline=None,
                database=None,
                derandomize=False,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.generate],
            )
            @given(case=op.as_strategy(generation_mode=mode))
            def draw(case: Any) -> None:
                if getattr(_drawing, "interrupted", lambda: False)():  # a signal: stop within a case
                    raise BudgetExhausted("the run was interrupted")
                drawn.append(Generated.of(case))  # noqa: B023 - called only within this iteration

            draw()
            groups.append((str(op.label), tuple(drawn)))
    return tuple(groups)


# Per thread: what tells the drawing of cases (minutes without a cache) that the run was interrupted.
_drawing = threading.local()


def run(ctx: Context) -> None:
    ticker = _Ticker(ctx)
    _drawing.interrupted = lambda: ctx.target.interrupted
    try:
        groups = _drawn(ctx.seed, ctx.max_examples)
    finally:
        del _drawing.interrupted
    for label, cases in groups:
        for case in cases:
            try:
                _judge(ctx, case, send(ctx, case))
            except TargetUnreachable:
                # No answer (a timeout, a dropped connection): RESP-WHOLE-001 has the finding (ctx.call);
                # nothing else to judge, and the operation's next case is sent.
                pass
            except BudgetExhausted:
                raise
            except Exception as exc:  # a transport failure of ours: the rest of this group is not sent
                ctx.errored.setdefault(
                    "PROP-5XX-001", f"{label}: {exc.__class__.__name__}: {ctx.target.scrub(str(exc))[:200]}"
                )
                break
            ticker.tick(label)
    schema = schemathesis.openapi.from_dict(_contract_for_generation())
    _stateful(ctx, schema, ticker)
    ticker.tick("done", force=True)


class _Ticker:
    """The phase's status for the terminal, after every case: it is most of a run and would
    otherwise look hung (how often a line is drawn is the display's business, see progress.py)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.sent = 0

    def tick(self, where: str, *, force: bool = False) -> None:
        self.sent += not force
        if self.ctx.progress is not None:
            failing = len(self.ctx.failing_checks())
            detail = f"{where}, {self.sent} cases"
            self.ctx.progress.update("properties", self.ctx.target.used, failing, detail)


def send(ctx: Context, case: Generated) -> Response:
    """Send a generated request through the run's one Target: the same headers (--header), query
    (--query), auth, total deadline, budget, 429 handling, redaction and recording as every
    scenario request. A valid create carries the run's tag like every object the run makes."""
    target = ctx.target
    headers = {k: v for k, v in case.headers.items() if k.lower() != target.auth_header.lower()}
    params = dict(case.params) if case.params else None
    raw = tagged(case, ctx.tag)
    return ctx.call(
        case.method, "", url=target.base_url + case.url, raw=raw, params=params, headers=headers, generated=True
    )


def tagged(case: Generated, tag: dict[str, str]) -> bytes | None:
    """The body of a valid generated create with the run's tag added to its metadata (and to its
    thread's, for createThreadAndRun), so that whatever it stores can be found and deleted; left as
    drawn where the tag does not fit (metadata of 16 pairs, not an object) and for invalid cases,
    whose broken part may be the metadata itself."""
    if case.negative or case.operation_id not in TAGGED or case.raw is None:
        return case.raw
    try:
        body = json.loads(case.raw)
    except ValueError:
        return case.raw
    if not isinstance(body, dict):
        return case.raw
    places = [body] + ([body["thread"]] if isinstance(body.get("thread"), dict) else [])
    for place in places:
        metadata = place.get("metadata")
        if metadata is None:
            place["metadata"] = dict(tag)
        elif isinstance(metadata, dict) and len(metadata) < 16:
            metadata.update(tag)
    return json.dumps(body).encode()


def _as_schemathesis(case: Generated, response: Response, url: str, elapsed: float) -> STResponse:
    """Our response as Schemathesis' type, for its sequence checks."""
    request = requests.Request(
        method=case.method, url=url, headers=case.headers, params=case.params, data=case.raw
    ).prepare()
    return STResponse(
        status_code=response.status,
        headers={k: [v] for k, v in response.headers.items()},
        content=response.content,
        request=request,
        elapsed=elapsed,
        verify=True,
    )


def _stateful(ctx: Context, schema: Any, ticker: _Ticker) -> None:
    """Follow the contract's links (create → get/modify/delete, thread → message → run → steps)."""
    target = ctx.target
    schema.config.update(base_url=target.base_url)
    # Sequences are for reaching real objects; invalid input is the stateless phase's job.
    schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE])
    machine = schema.as_state_machine()

    class Driven(machine):  # type: ignore[misc, valid-type]
        def call(self, case: Any, **kwargs: Any) -> STResponse:
            generated = Generated.of(case)
            began = time.monotonic()
            ours = send(ctx, generated)
            ticker.tick("stateful")
            self._ours, self._generated = ours, generated
            return _as_schemathesis(generated, ours, target.base_url + generated.url, time.monotonic() - began)

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            operation_id = _operation_id(case)
            ours: Response = self._ours
            _judge(ctx, self._generated, ours)
            # use_after_free has something to judge only when a read follows a DELETE that succeeded
            # on the same object (or its parent) in this sequence; that is its evidence.
            deleted: list[str] = self.__dict__.setdefault("_deleted", [])
            path = case.formatted_path.rstrip("/")
            if case.method.upper() == "DELETE":
                if 200 <= response.status_code < 300:
                    deleted.append(path)
            elif (
                case.method.upper() == "GET"
                and any(path == d or path.startswith(d + "/") for d in deleted)
                and (response.status_code < 300 or response.status_code in (404, 410))
            ):  # a read that answered (the object, or that it is gone): a 405 shows nothing of a delete
                ctx.judged("PROP-GONE-001", operation_id)
            try:  # the built-in checks that need the sequence so far (our validators cover the rest)
                case.validate_response(
                    response, checks=list(SEQUENCE_CHECKS), transport_kwargs=kwargs or None, recorder=self.recorder
                )
            except FailureGroup as group:
                _sequence_failures(ctx, case, ours, group)

    # Hypothesis copies a seed set on the machine class to the test it runs (stateful.py), so
    # --seed makes the sequences' random draws reproducible like the stateless phase's.
    seed(ctx.seed)(Driven)
    try:
        Driven.run(
            settings=settings(
                max_examples=ctx.max_examples,
                stateful_step_count=6,
                deadline=None,
                database=None,
                derandomize=False,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.generate],
            )
        )
    except BudgetExhausted:
        raise
    except (FlakyStrategyDefinition, Flaky):
        # Sequences depend on what the server answers, so Hypothesis may stop replaying a
        # sequence; every step sent until then was judged. Recorded, not a check outcome.
        ctx.notes.append("stateful phase: Hypothesis stopped early (server-dependent sequences)")
    except Exception as exc:
        ctx.errored.setdefault(
            "PROP-5XX-001", f"stateful phase: {exc.__class__.__name__}: {ctx.target.scrub(str(exc))[:200]}"
        )


def _sequence_failures(ctx: Context, case: Any, response: Response, group: FailureGroup) -> None:
    """Schemathesis' sequence checks, reported under our IDs with its explanation."""
    for failure in group.exceptions:
        check = SEQUENCE_FAILURES.get(type(failure))
        if check is not None:
            message = f"{case.method} {case.operation.path}: {failure.title}. {failure.message}"
            ctx.add_finding(check, message[:600], exchange=response.exchange)


def _operation_id(case: Any) -> str:
    return str(case.operation.definition.raw.get("operationId", case.operation.label))


def _what_was_invalid(case: Any) -> str:
    """Schemathesis' description of a negative case, one line, and only what was sent: its header
    mutations never are (this run sends its own auth and beta headers)."""
    mutation = getattr(getattr(case.meta, "phase", None), "data", None)
    parts = [line.strip().removeprefix("- ").strip() for line in str(getattr(mutation, "description", "")).splitlines()]
    sent = [part for part in parts if part and not part.startswith("header:")]
    return "; ".join(sent) or "an invalid request"


def _judge(ctx: Context, case: Generated, response: Response) -> None:
    """The property checks on one generated answer (the contract checks ran in ctx.call)."""
    operation_id = case.operation_id
    status = response.status
    content = response.content
    negative = case.negative
    problems: list[tuple[str, str]] = []
    ctx.judged("PROP-5XX-001", operation_id)
    if negative:
        ctx.judged("PROP-NEG-001", operation_id)
    elif "{" not in case.path:
        ctx.judged("PROP-POS-001", operation_id)
    if status >= 500:
        problems.append(("PROP-5XX-001", f"{case.method} {case.path} answered {status}"))
    if negative and status < 400:
        problems.append(("PROP-NEG-001", f"{case.method} {case.path} with {case.invalid} was accepted ({status})"))
    if not negative and status in (400, 422) and "{" not in case.path:
        problems.append(("PROP-POS-001", f"a valid {case.method} {case.path} was refused with {status}"))
    if response.ok and operation_id in CREATES:
        body = _created_object(content)
        if isinstance(body, dict) and isinstance(body.get("id"), str) and body["id"]:
            safe = quote(body["id"], safe="")
            thread = quote(body["thread_id"], safe="") if isinstance(body.get("thread_id"), str) else safe
            ctx.created_resource(operation_id, CREATES[operation_id].format(id=safe, thread_id=thread))
    for check, message in problems:
        ctx.add_finding(check, message, exchange=response.exchange)


_THREAD_CREATED = re.compile(rb"event: ?thread\.created\r?\ndata: ?(\{[^\r\n]*\})")


def _created_object(content: bytes) -> Any:
    """What a create answered: its JSON body, or, for `stream: true`, the thread its stream announced
    (the run lives in that thread, so deleting the thread cleans up both)."""
    try:
        return json.loads(content) if content else None
    except RecursionError:
        return None
    except ValueError:
        found = _THREAD_CREATED.search(content)
        try:
            return json.loads(found.group(1)) if found else None
        except (ValueError, RecursionError):
            return None
