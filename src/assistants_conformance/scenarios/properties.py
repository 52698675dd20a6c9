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

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Flaky, FlakyStrategyDefinition
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.openapi.checks import UseAfterFree
from schemathesis.specs.openapi.checks import use_after_free

from assistants_conformance.checks.catalogue import SCHEMATHESIS_EQUIVALENTS
from assistants_conformance.context import Context
from assistants_conformance.contract import load_document
from assistants_conformance.results import Exchange, Finding
from assistants_conformance.target import BudgetExhausted, normalise_base_url
from assistants_conformance.validate import validate_response

CREATES = {
    "createAssistant": "/assistants/{id}",
    "createThread": "/threads/{id}",
    "createThreadAndRun": "/threads/{thread_id}",
}
MAX_FINDINGS_PER_CHECK = 20
# The checks this phase decides (the scenario table lists the same tuple).
CHECKS = ("PROP-5XX-001", "PROP-NEG-001", "PROP-POS-001", "PROP-GONE-001")
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
    if ctx.max_examples <= 0:  # --max-examples 0 turns the phase off; its checks are then skipped
        return
    target = ctx.target
    schema = schemathesis.openapi.from_dict(_contract_for_generation())
    headers = (
        {"Authorization": f"Bearer {target.api_key}", "OpenAI-Beta": "assistants=v2"}
        if target.api_key
        else {"OpenAI-Beta": "assistants=v2"}
    )
    base = normalise_base_url(target.base_url)
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
                if target.interrupted or target.used >= target.budget or time.monotonic() > target.deadline:
                    raise BudgetExhausted("the request budget or time ran out during the property phase")
                target.used += 1
                began = time.monotonic()
                response = _call(case, base, headers, target.timeout)
                _judge(
                    ctx, case, response, case.operation.definition.raw.get("operationId", case.operation.label), began
                )

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
                    "PROP-5XX-001", f"{op.label}: {exc.__class__.__name__}: {target.scrub(str(exc))[:200]}"
                )
    _stateful(ctx, schema, base, headers)
    ctx.exercised.update(CHECKS)


def _call(case: Any, base: str, headers: dict[str, str], timeout: float) -> Any:
    """Send a generated case; a connection dropped before any answer is tried once more (a
    keep-alive connection the server closed as we reused it), anything else is the target's."""
    try:
        return case.call(base_url=base, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.ConnectionError:
        return case.call(base_url=base, headers=headers, timeout=timeout, allow_redirects=False)


def _stateful(ctx: Context, schema: Any, base: str, headers: dict[str, str]) -> None:
    """Follow the contract's links (create → get/modify/delete, thread → message → run → steps)."""
    target = ctx.target
    schema.config.update(base_url=base)
    # Sequences are for reaching real objects; invalid input is the stateless phase's job.
    schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE])
    machine = schema.as_state_machine()

    class Driven(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            if target.interrupted or target.used >= target.budget or time.monotonic() > target.deadline:
                raise BudgetExhausted("the request budget or time ran out during the stateful phase")
            target.used += 1
            self._began = time.monotonic()
            return {"base_url": base, "headers": headers, "timeout": target.timeout, "allow_redirects": False}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            operation_id = case.operation.definition.raw.get("operationId", case.operation.label)
            began = getattr(self, "_began", time.monotonic())
            _judge(ctx, case, response, operation_id, began)
            try:  # the built-in checks that need the sequence so far (our validators cover the rest)
                case.validate_response(
                    response, checks=list(SEQUENCE_CHECKS), transport_kwargs=kwargs or None, recorder=self.recorder
                )
            except FailureGroup as group:
                _sequence_failures(ctx, case, response, group, began)

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
            "PROP-5XX-001", f"stateful phase: {exc.__class__.__name__}: {target.scrub(str(exc))[:200]}"
        )


def _sequence_failures(ctx: Context, case: Any, response: Any, group: FailureGroup, began: float) -> None:
    """Schemathesis' sequence checks, reported under our IDs with its explanation."""
    index = None
    for failure in group.exceptions:
        check = SEQUENCE_FAILURES.get(type(failure))
        if check is None or len(ctx.findings[check]) >= MAX_FINDINGS_PER_CHECK:
            continue
        if index is None:
            index = _record(ctx, case, response, response.content or b"", began)
        message = f"{case.method} {case.formatted_path}: {failure.title}. {failure.message}"
        ctx.findings[check].append(Finding(ctx.target.scrub(message)[:600], exchange=index))


def _judge(ctx: Context, case: Any, response: Any, operation_id: str, began: float) -> None:
    status = response.status_code
    url = ctx.target.base_url + case.formatted_path
    content = response.content or b""
    found = validate_response(case.method, url, status, dict(response.headers), content)
    ctx.coverage[operation_id][str(status)] += 1
    negative = _negative_outside_headers(case)
    problems: list[tuple[str, str]] = [(v.check, v.message) for v in found]
    if status >= 500:
        problems.append(("PROP-5XX-001", f"{case.method} {case.formatted_path} answered {status}"))
    if negative and status < 400:
        mutation = getattr(getattr(case.meta, "phase", None), "data", None)
        why = getattr(mutation, "description", "") or "an invalid request"
        problems.append(("PROP-NEG-001", f"{case.method} {case.formatted_path} with {why} was accepted ({status})"))
    if not negative and status in (400, 422) and "{" not in case.operation.path:
        problems.append(("PROP-POS-001", f"a valid {case.method} {case.operation.path} was refused with {status}"))
    if status == 200 and operation_id in CREATES:
        body = _created_object(content)
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            path = CREATES[operation_id].format(id=body["id"], thread_id=body.get("thread_id", body["id"]))
            ctx.created_resource(operation_id, path)
    ctx.exercised.update({check for check, _ in problems})
    if not problems:
        return
    index = _record(ctx, case, response, content, began)
    for check, message in problems:
        if len(ctx.findings[check]) < MAX_FINDINGS_PER_CHECK:
            ctx.findings[check].append(Finding(ctx.target.scrub(message), exchange=index))


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


def _flat(headers: Any) -> dict[str, str]:
    return {k: ", ".join(v) if isinstance(v, list | tuple) else str(v) for k, v in dict(headers).items()}


def _record(ctx: Context, case: Any, response: Any, content: bytes, began: float) -> int:
    target = ctx.target
    request = response.request
    body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
    target.exchanges.append(
        Exchange(
            method=case.method,
            url=target.scrub(str(request.url)),
            request_headers=target._redact(_flat(request.headers)),
            request_body=target._excerpt(body),
            status=response.status_code,
            response_headers=target._redact(_flat(response.headers)),
            response_body=target._excerpt(content),
            response_size=len(content),
            elapsed_ms=round((time.monotonic() - began) * 1000, 1),
        )
    )
    return len(target.exchanges) - 1
