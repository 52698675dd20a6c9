"""The property phase: Schemathesis generates valid and invalid requests for every operation
from the same contract; every answer goes through our validators.

Negative cases count only when the contract is broken in the body, query or path: headers
(auth, OpenAI-Beta) are always sent by us, so a case negative only in its headers is sent as a
valid request. Objects that generated requests create are recorded for clean-up.
"""

from __future__ import annotations

import copy
import json
import re
import time
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

from assistants_conformance.checks.catalogue import SCHEMATHESIS_EQUIVALENTS
from assistants_conformance.context import Context
from assistants_conformance.contract import load_document
from assistants_conformance.errors import TargetUnreachable
from assistants_conformance.target import FRAMING_HEADERS, BudgetExhausted, Response

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


def run(ctx: Context) -> None:
    schema = schemathesis.openapi.from_dict(_contract_for_generation())
    ticker = _Ticker(ctx)
    for result in schema.get_all_operations():
        op = result.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @seed(ctx.seed)
            @settings(
                max_examples=ctx.max_examples,
                deadline=None,
                database=None,
                derandomize=False,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.generate],
            )
            @given(case=op.as_strategy(generation_mode=mode))
            def exercise(case: Any) -> None:
                label = case.operation.label
                try:
                    _judge(ctx, case, send(ctx, case)[0])
                except TargetUnreachable as exc:
                    # No answer (a timeout, a dropped connection): nothing to judge, so the check
                    # cannot pass; recorded here, not raised, or Hypothesis would replay the case.
                    ctx.errored.setdefault("PROP-5XX-001", f"{label}: {exc}"[:300])
                ticker.tick(label)

            try:
                exercise()
            except BudgetExhausted:
                raise
            except Flaky as exc:
                # A case failed once and not when Hypothesis replayed it: every answer was judged
                # already, so this is recorded, not a check outcome.
                ctx.notes.append(f"property phase, {op.label}: Hypothesis saw a non-repeatable error: {exc!s:.200}")
            except Exception as exc:  # Hypothesis re-raises what a case raised: a transport failure
                ctx.errored.setdefault(
                    "PROP-5XX-001", f"{op.label}: {exc.__class__.__name__}: {ctx.target.scrub(str(exc))[:200]}"
                )
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


# Headers Schemathesis adds for its own transport, and ours that the Target sets (auth, beta).
_OWN_HEADERS = frozenset({"user-agent", "accept-encoding", "connection", "accept", "authorization", "openai-beta"})
# How a message is framed and carried is the transport's to say: a generated `Transfer-Encoding: x`
# is a request our client refuses to send (h11), and the hop-by-hop ones are not the API's.
_TRANSPORT_HEADERS = FRAMING_HEADERS | {"host", "te", "trailer", "upgrade", "keep-alive", "expect"}


def send(ctx: Context, case: Any) -> tuple[Response, STResponse]:
    """Send a generated case through the run's one Target: the same headers (--header), query
    (--query), auth, total deadline, budget, 429 handling, redaction and recording as every
    scenario request. Returns our response and the same as Schemathesis' type, for its checks."""
    target = ctx.target
    kw = case.as_transport_kwargs(base_url=target.base_url)
    mine = _OWN_HEADERS | _TRANSPORT_HEADERS | {target.auth_header.lower()}
    headers = {str(k): str(v) for k, v in (kw.get("headers") or {}).items() if str(k).lower() not in mine}
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
    params = kw.get("params") or None
    began = time.monotonic()
    response = ctx.call(kw["method"], "", url=kw["url"], raw=raw, params=params, headers=headers)
    request = requests.Request(method=kw["method"], url=kw["url"], headers=headers, params=params, data=raw).prepare()
    as_schemathesis = STResponse(
        status_code=response.status,
        headers={k: [v] for k, v in response.headers.items()},
        content=response.content,
        request=request,
        elapsed=time.monotonic() - began,
        verify=True,
    )
    return response, as_schemathesis


def _stateful(ctx: Context, schema: Any, ticker: _Ticker) -> None:
    """Follow the contract's links (create → get/modify/delete, thread → message → run → steps)."""
    target = ctx.target
    schema.config.update(base_url=target.base_url)
    # Sequences are for reaching real objects; invalid input is the stateless phase's job.
    schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE])
    machine = schema.as_state_machine()

    class Driven(machine):  # type: ignore[misc, valid-type]
        def call(self, case: Any, **kwargs: Any) -> STResponse:
            ours, theirs = send(ctx, case)
            ticker.tick("stateful")
            self._ours = ours
            return theirs

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            operation_id = _operation_id(case)
            ours: Response = self._ours
            _judge(ctx, case, ours)
            # use_after_free has something to judge only when a read follows a DELETE that succeeded
            # on the same object (or its parent) in this sequence; that is its evidence.
            deleted: list[str] = self.__dict__.setdefault("_deleted", [])
            path = case.formatted_path.rstrip("/")
            if case.method.upper() == "DELETE":
                if 200 <= response.status_code < 300:
                    deleted.append(path)
            elif case.method.upper() == "GET" and any(path == d or path.startswith(d + "/") for d in deleted):
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


def _judge(ctx: Context, case: Any, response: Response) -> None:
    """The property checks on one generated answer (the contract checks ran in ctx.call)."""
    operation_id = _operation_id(case)
    status = response.status
    content = response.content
    negative = _negative_outside_headers(case)
    problems: list[tuple[str, str]] = []
    ctx.judged("PROP-5XX-001", operation_id)
    if negative:
        ctx.judged("PROP-NEG-001", operation_id)
    elif "{" not in case.operation.path:
        ctx.judged("PROP-POS-001", operation_id)
    if status >= 500:
        problems.append(("PROP-5XX-001", f"{case.method} {case.operation.path} answered {status}"))
    if negative and status < 400:
        why = _what_was_invalid(case)
        problems.append(("PROP-NEG-001", f"{case.method} {case.operation.path} with {why} was accepted ({status})"))
    if not negative and status in (400, 422) and "{" not in case.operation.path:
        problems.append(("PROP-POS-001", f"a valid {case.method} {case.operation.path} was refused with {status}"))
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
    except ValueError:
        found = _THREAD_CREATED.search(content)
        try:
            return json.loads(found.group(1)) if found else None
        except ValueError:
            return None
