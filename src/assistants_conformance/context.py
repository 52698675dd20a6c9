"""What a scenario works with: the target, findings per check, evidence and created resources."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from assistants_conformance.contract import get_contract
from assistants_conformance.results import Finding
from assistants_conformance.target import Response, Target
from assistants_conformance.validate import STREAM_RULES, Severity, validate_response, validate_stream_bytes
from assistants_conformance.validate.http import Router
from assistants_conformance.validate.transcript import StreamReport

RESPONSE_CHECKS = ("RESP-ROUTE-001", "RESP-STATUS-001", "RESP-MEDIA-001", "RESP-JSON-001", "RESP-SCHEMA-001")
TAG = "conformance_run"


class Context:
    def __init__(
        self,
        target: Target,
        run_id: str,
        model: str,
        poll_timeout: float = 60.0,
        *,
        seed: int = 0,
        max_examples: int = 10,
        capabilities: dict[str, bool] | None = None,
    ) -> None:
        self.target = target
        self.capabilities = capabilities if capabilities is not None else {}
        self.poll_timeout = poll_timeout
        self.seed = seed
        self.max_examples = max_examples
        self.run_id = run_id
        self.model = model
        self.findings: dict[str, list[Finding]] = defaultdict(list)
        self.notes: list[str] = []  # things a reader of the report should know, not check outcomes
        self.exercised: set[str] = set()
        self.errored: dict[str, str] = {}
        self.created: list[tuple[str, str]] = []  # (kind, path) in creation order
        self.deleted: set[str] = set()
        self.coverage: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.events: dict[str, int] = defaultdict(int)
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.router = Router(get_contract())

    @property
    def tag(self) -> dict[str, str]:
        return {TAG: self.run_id}

    # ---------------------------------------------------------------- sending and judging
    def call(self, method: str, path: str, **kwargs: Any) -> Response:
        """Send, then check the response against the contract (findings land on RESP-*/SSE-*/STREAM-*)."""
        began = time.monotonic()
        response = self.target.request(method, path, **kwargs)
        url = self.target.base_url + path
        while True:
            try:  # workers share the target: pop, never check-then-pop
                retried = self.target.retried.pop()
            except IndexError:
                break
            self._judge(*retried)
        self._judge(method, url, response.status, response.headers, response.content, response.exchange)
        route = self._operation(method, url)
        self.coverage[route][str(response.status)] += 1
        self.timings[route].append(time.monotonic() - began)
        return response

    def _judge(self, method: str, url: str, status: int, headers: Any, content: bytes, exchange: int | None) -> None:
        found = validate_response(method, url, status, headers, content)
        self.exercised.update(RESPONSE_CHECKS)
        if status == 429:
            self.exercised.add("RESP-HEADER-001")
        if headers.get("content-type", "").startswith("text/event-stream"):
            self.exercised.update(STREAM_RULES)
            self.exercised.update(
                {"SSE-UTF8-001", "SSE-EOF-001", "SSE-FRAME-001", "SSE-FIELD-001", "SSE-FIELD-002", "SSE-LINE-001"}
            )
        for violation in found:
            self.findings[violation.check].append(
                Finding(
                    self.target.scrub(violation.message),
                    violation.where,
                    violation.spec,
                    violation.severity.value,
                    exchange,
                    violation.frame,
                )
            )

    def stream_report(self, response: Response) -> StreamReport:
        report = validate_stream_bytes(response.content, keep_snapshots=True)
        for name, count in report.events.items():
            self.events[name] += count
        return report

    def _operation(self, method: str, url: str) -> str:
        route = self.router.match(method, url)
        return route.operation.operation_id if route else f"{method} (undocumented)"

    def can(self, capability: str) -> bool:
        """Whether the profile lets the run exercise this capability (all do by default)."""
        return self.capabilities.get(capability, True)

    def expect(
        self,
        check: str,
        ok: bool,
        message: str,
        response: Response | None = None,
        where: str = "",
        severity: Severity = Severity.ERROR,
    ) -> bool:
        """Record that `check` was exercised and, when `ok` is false, a finding with its evidence."""
        self.exercised.add(check)
        if not ok:
            self.findings[check].append(
                Finding(
                    self.target.scrub(message),
                    where,
                    severity=severity.value,
                    exchange=response.exchange if response else None,
                )
            )
        return ok

    def envelope_ok(self, response: Response) -> bool:
        body = response.json()
        return isinstance(body, dict) and isinstance(body.get("error"), dict) and "message" in body["error"]

    # ---------------------------------------------------------------- resources
    def created_resource(self, kind: str, path: str) -> None:
        self.created.append((kind, path))

    def make_assistant(self, **fields: Any) -> dict[str, Any] | None:
        body = {"model": self.model, "metadata": self.tag, **fields}
        response = self.call("POST", "/assistants", json_body=body)
        data = response.json()
        if response.status == 200 and isinstance(data, dict) and isinstance(data.get("id"), str):
            self.created_resource("assistant", f"/assistants/{data['id']}")
            return data
        return None

    def make_thread(self, *texts: str) -> dict[str, Any] | None:
        body = {"metadata": self.tag, "messages": [{"role": "user", "content": t} for t in texts]}
        response = self.call("POST", "/threads", json_body=body)
        data = response.json()
        if response.status == 200 and isinstance(data, dict) and isinstance(data.get("id"), str):
            self.created_resource("thread", f"/threads/{data['id']}")
            return data
        return None
