"""What a scenario works with: the target, findings per check, evidence and created resources."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, unquote

from assistants_conformance.errors import TargetUnreachable
from assistants_conformance.observations import Observations
from assistants_conformance.progress import Progress
from assistants_conformance.results import Exchange
from assistants_conformance.target import RateLimited, Response, Target
from assistants_conformance.validate import Severity, Violation, validate_stream_bytes
from assistants_conformance.validate.sse import SSEParser
from assistants_conformance.validate.transcript import StreamReport

TAG = "conformance_run"
_URL_UNSAFE = re.compile(r"[/?#%\s\x00-\x1f\x7f]")


class Context(Observations):
    """Observations of the run's own requests, with what a scenario needs to make them."""

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
        progress: Progress | None = None,
        watch: Callable[[str, str], bool] | None = None,
    ) -> None:
        super().__init__()
        self.target = target
        # Told of every finding; True ends the run (runner.Options.watch).
        self.watch = watch
        self.progress = progress  # the terminal's status, for phases that run long
        self.capabilities = capabilities if capabilities is not None else {}
        self.poll_timeout = poll_timeout
        self.seed = seed
        self.max_examples = max_examples
        self.run_id = run_id
        self.model = model
        self.created: list[tuple[str, str]] = []  # (kind, path) in creation order
        self.deleted: set[str] = set()
        # The preflight's ordinary create (runner.control): the control a probe's refusal is read against.
        self.control: Response | None = None

    @property
    def tag(self) -> dict[str, str]:
        return {TAG: self.run_id}

    # ---------------------------------------------------------------- sending and judging
    def call(self, method: str, path: str, *, generated: bool = False, **kwargs: Any) -> Response:
        """Send, then check the response against the contract (findings land on RESP-*/SSE-*/STREAM-*).
        A request that got no answer at all is a finding too (RESP-WHOLE-001) before it is raised:
        the scenario stops there, and what it had judged stands. `generated`: a request of the
        property phase, whose refusals say nothing of whether its operation is served."""
        began = time.monotonic()
        url = kwargs.get("url") or self.target.base_url + path
        try:
            response = self.target.request(method, path, **kwargs)
        except RateLimited:
            raise
        except TargetUnreachable as exc:
            exchange = len(self.target.exchanges) - 1 if self.target.exchanges else None
            self.add_finding(
                "RESP-WHOLE-001",
                f"{self._operation(method, url)}: no answer ({exc})",
                exchange=exchange,
                seen_in=None,
                operation=self._operation(method, url),
            )
            raise
        while True:
            try:  # workers share the target: pop, never check-then-pop
                retried = self.target.retried.pop()
            except IndexError:
                break
            self.judge_answer(*retried)
        self.observe(method, url, response, generated=generated, elapsed=time.monotonic() - began)
        return response

    def exchange(self, index: int) -> Exchange | None:
        return self.target.exchanges[index] if 0 <= index < len(self.target.exchanges) else None

    def scrub(self, text: str) -> str:
        return self.target.scrub(text)

    def found(self, finding: Violation) -> None:
        if self.watch is not None and self.watch(finding.check, finding.severity.value):
            self.target.interrupt()

    def polled(self, why: str, answer: Response | None) -> None:
        """A poll of a run ended without one: why (for the message) and its last answer. Kept per
        thread, so that scenarios polling side by side (--workers) never read each other's."""
        self._where.poll = (why, answer)

    @property
    def last_poll(self) -> str:
        return str(getattr(self._where, "poll", ("", None))[0])

    @property
    def last_poll_answer(self) -> Response | None:
        answer: Response | None = getattr(self._where, "poll", ("", None))[1]
        return answer

    def controlled(self, made: Response) -> None:
        """The control create's answer (runner.control), which limit probes are read against."""
        self.control = made

    @contextlib.contextmanager
    def scenario(self, name: str) -> Iterator[None]:
        """Findings made in this thread meanwhile are the scenario's (its line on the terminal)."""
        self._where.scenario = name
        try:
            yield
        finally:
            self._where.scenario = None

    def stream_report(self, response: Response) -> StreamReport:
        report = validate_stream_bytes(response.content, keep_snapshots=True, cut=response.cut)
        for name, count in report.events.items():
            self.events[name] += count
        return report

    def _operation_of(self, response: Response | None) -> str:
        shown = self.exchange(response.exchange) if response is not None else None
        return "(several requests)" if shown is None else self._operation(shown.method, shown.url)

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
        *,
        evidence: bool = True,
        reads: bool = True,
    ) -> bool:
        """Record that `check` judged something and, when `ok` is false, a finding with its evidence.
        `evidence=False`: a failure counts, but a success here is not what the check needs to pass
        (say, a one-item list for a pagination rule). An answer that broke off is judged by
        RESP-WHOLE-001 or STREAM-END-001 alone: nothing else is built on what it did not say
        (`reads=False`: the check asks only of the answer's status and headers)."""
        unreadable = self.unreadable(response) if response is not None and reads else None
        if unreadable is not None:
            self.cannot((check,), unreadable)
            return False
        if evidence:
            self.judged(check, self._operation_of(response))
        if not ok:
            self.add_finding(
                check, message, where, severity=severity.value, exchange=response.exchange if response else None
            )
        return ok

    def unreadable(self, response: Response) -> str | None:
        """Why an answer cannot be read for what a scenario asks of it, or None: it broke off
        (RESP-WHOLE-001, STREAM-END-001), or it is an event stream none of whose frames is named
        (SSE-EVENT-001). Those checks say so once; nothing else is built on such an answer."""
        if response.cut is not None:
            return f"the answer it needed broke off ({response.cut})"
        if response.headers.get("content-type", "").startswith("text/event-stream") and response.content:
            parser = SSEParser()
            frames = [*parser.feed(response.content), *parser.close()]
            if frames and not any(frame.event for frame in frames):
                return "the event stream it needed names no event (SSE-EVENT-001), so it could not be followed"
        return None

    def envelope_ok(self, response: Response) -> bool:
        body = response.json()
        return isinstance(body, dict) and isinstance(body.get("error"), dict) and "message" in body["error"]

    def refusal(self, response: Response, expected: int) -> str:
        """How a refusal went wrong, in the words that fit: the status, or only the envelope."""
        if response.status == expected:
            return f"answered {expected} without the error envelope"
        return f"answered {response.status}; expected {expected} with the error envelope"

    # ---------------------------------------------------------------- resources
    def created_resource(self, kind: str, path: str) -> None:
        """An object the run made (the server answered its id): the run's to delete at the end."""
        with self._lock:
            self.created.append((kind, path))
            self._live.add(unquote(path.rstrip("/").rpartition("/")[2]))

    def track(self, response: Response, kind: str, path: str = "") -> dict[str, Any] | None:
        """A create that answered any 2xx made an object: it is the scenario's to use and the run's to
        delete, whatever the exact status (RESP-STATUS-001 judges that). `path` defaults to /{kind}s/{id}."""
        data = response.object()
        if response.ok and isinstance(data.get("id"), str) and data["id"]:
            safe = {k: quote(v, safe="") if isinstance(v, str) else v for k, v in data.items()}
            self.created_resource(kind, path.format(**safe) if path else f"/{kind}s/{safe['id']}")
            if _URL_UNSAFE.search(data["id"]):
                # Deleted at the end (quoted), but no path can be built from it as it is.
                self.add_finding(
                    "RESP-SCHEMA-001",
                    f"the {kind} id {data['id'][:60]!r} cannot stand in a URL path as it is "
                    "(it holds a slash, ?, #, space or control character); no client can address the object",
                    "/id",
                    exchange=response.exchange,
                )
                return None
            return data
        return None

    def make_assistant(self, **fields: Any) -> dict[str, Any] | None:
        body = {"model": self.model, "metadata": self.tag, **fields}
        return self.track(self.call("POST", "/assistants", json_body=body), "assistant")

    def make_thread(self, *texts: str) -> dict[str, Any] | None:
        body = {"metadata": self.tag, "messages": [{"role": "user", "content": t} for t in texts]}
        return self.track(self.call("POST", "/threads", json_body=body), "thread")
