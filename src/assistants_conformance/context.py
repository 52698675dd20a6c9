"""What a scenario works with: the target, findings per check, evidence and created resources."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, unquote

from assistants_conformance.checks import CATALOGUE
from assistants_conformance.contract import get_contract
from assistants_conformance.errors import TargetUnreachable
from assistants_conformance.findings import Group, article, normalise
from assistants_conformance.progress import Progress
from assistants_conformance.results import Finding
from assistants_conformance.target import RateLimited, Response, Target
from assistants_conformance.validate import Severity, validate_response, validate_stream_bytes
from assistants_conformance.validate.http import Route, Router
from assistants_conformance.validate.sse import SSEParser
from assistants_conformance.validate.transcript import StreamReport

TAG = "conformance_run"
_URL_UNSAFE = re.compile(r"[/?#%\s\x00-\x1f\x7f]")
# Statuses that say a route is not there at all (404 only in the circumstances `_answered` states).
NOT_SERVED = frozenset({404, 405, 501})


@dataclasses.dataclass
class Answers:
    """How one operation answered over the run: whether it is served at all (RESP-ROUTE-002)."""

    served: int = 0
    unserved: int = 0
    statuses: dict[int, int] = dataclasses.field(default_factory=dict)  # of the unserved answers
    example: int | None = None  # an exchange that shows it not served

    @property
    def not_served(self) -> bool:
        return self.unserved > 0 and self.served == 0


# What never changes of an object once it was answered: its identity, and for a run the settings
# it was created with (modifyRun changes only metadata), for a message who wrote it and with what.
_BASE = ("object", "created_at")
IDENTITY: dict[str, tuple[str, ...]] = {
    "assistant": _BASE,
    "thread": _BASE,
    "thread.message": (*_BASE, "thread_id", "assistant_id", "run_id", "role", "attachments"),
    "thread.run": (
        *_BASE,
        "thread_id",
        "assistant_id",
        "model",
        "instructions",
        "tools",
        "tool_choice",
        "temperature",
        "top_p",
        "max_prompt_tokens",
        "max_completion_tokens",
        "truncation_strategy",
        "response_format",
        "parallel_tool_calls",
    ),
    "thread.run.step": (*_BASE, "thread_id", "assistant_id", "run_id", "type"),
}


# The rules that follow a stream's named events: none of them can judge a stream without names.
STREAM_GRAMMAR = frozenset(
    check
    for check, declared in CATALOGUE.items()
    if (declared.category == "stream" or check == "SSE-JSON-001") and not declared.trigger
)

# The operations that store an object: one that answered 5xx may have stored it all the same.
CREATES = frozenset({"createAssistant", "createThread", "createThreadAndRun", "createMessage", "createRun"})

# The path parameter that names an object of each kind (`thread.run` → run_id).
OWN_ID = {
    "assistant": "assistant_id",
    "thread": "thread_id",
    "thread.message": "message_id",
    "thread.run": "run_id",
    "thread.run.step": "step_id",
}


def _objects_of(response: Response) -> tuple[list[Any], bool]:
    """The objects an answer shows, and whether it is one object answered alone: a JSON object,
    a list page's items, or the run, messages and steps of a stream's events (deltas aside)."""
    kind = response.headers.get("content-type", "")
    if kind.startswith("text/event-stream"):
        parser = SSEParser()
        frames = [*parser.feed(response.content), *parser.close()]
        return [
            _json(f.data) for f in frames if (f.event or "").startswith("thread.") and "delta" not in (f.event or "")
        ], False
    if kind.startswith("application/json"):
        body = response.json()
        page = body.get("data") if isinstance(body, dict) and body.get("object") == "list" else None
        return (page, False) if isinstance(page, list) else ([body], True)
    return [], False


def _operation_name(route: Route | None, method: str) -> str:
    return route.operation.operation_id if route else f"{method} (undocumented)"


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None  # the stream's own checks report it


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
        progress: Progress | None = None,
        watch: Callable[[str, str], bool] | None = None,
    ) -> None:
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
        # check → grouping key → _Group: one finding per (check, rule, normalised place), however
        # often it recurs (see add_finding).
        self._groups: dict[str, dict[tuple[str, ...], Group]] = defaultdict(dict)
        self._lock = threading.Lock()
        self.notes: list[str] = []  # things a reader of the report should know, not check outcomes
        # check → operation → how many times it judged something there: the evidence behind a pass.
        self.evidence: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.errored: dict[str, str] = {}
        # check → why it could not be exercised (a step it depends on failed), for the report.
        self.unexercised: dict[str, str] = {}
        self.created: list[tuple[str, str]] = []  # (kind, path) in creation order
        self.deleted: set[str] = set()
        self.coverage: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.events: dict[str, int] = defaultdict(int)
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.router = Router(get_contract())
        # id → the identity fields of the object as first answered (RESP-IDENTITY-001).
        self._identity: dict[str, dict[str, Any]] = {}
        # Per operation: answers that show it served or not (RESP-ROUTE-002); ids of objects a
        # successful answer showed and no successful delete removed (a 404 naming them is a route's).
        self.answers: dict[str, Answers] = defaultdict(Answers)
        self._live: set[str] = set()
        self._where = threading.local()  # the scenario this thread runs, for its findings
        # Creates answered 5xx: the server may have stored an object the run cannot name (clean-up looks).
        self.failed_creates: dict[str, int] = defaultdict(int)
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
            self._judge(*retried)
        self._judge(method, url, response.status, response.headers, response.content, response.exchange, response.cut)
        found = self.router.match(method, url)
        route = _operation_name(found, method)
        if response.ok:
            objects, single = _objects_of(response)
            self._same_identity(objects, route, response.exchange)
            if found is not None:
                self._ids_agree(objects, single, found.params, route, response.exchange)
        if found is not None:
            self._answered(found, response, generated)
        self.coverage[route][str(response.status)] += 1
        self.timings[route].append(time.monotonic() - began)
        return response

    def _answered(self, route: Route, response: Response, generated: bool = False) -> None:
        """Count the answer for or against its operation being served. 405 and 501 say no such
        route; so does a 404 to a path without ids, or one whose ids all name objects the run has
        seen and not deleted, unless the body names one of them (then it is about that object).
        A 404 for an id the run does not know is neither (generated ids are meant to be unknown),
        and so is a generated request's refusal: another route's validator may have answered it
        (POST /threads/runs taken for a modifyThread of thread `runs`)."""
        operation = route.operation.operation_id
        ids = [unquote(value) for value in route.params.values()]
        status = response.status
        if generated and not response.ok and status not in NOT_SERVED:
            verdict: bool | None = None
        elif status == 404 and ids:
            text = response.content[:4096].decode("utf-8", "replace")
            about_object = response.headers.get("content-type", "").startswith("application/json") and any(
                i in text for i in ids
            )
            verdict = None if about_object or not all(i in self._live for i in ids) else False
        else:
            verdict = status not in NOT_SERVED
        with self._lock:
            answers = self.answers[operation]
            if verdict is True:
                answers.served += 1
            elif verdict is False:
                answers.unserved += 1
                answers.statuses[status] = answers.statuses.get(status, 0) + 1
                if answers.example is None:
                    answers.example = response.exchange
            if route.operation.method == "DELETE" and response.ok and ids:
                self._live.discard(ids[-1])
        if route.operation.method == "POST" and status >= 500 and operation in CREATES:
            self.failed_creates[operation] += 1

    def is_live(self, path: str) -> bool:
        """Whether the object a path names was shown by a successful answer and not deleted since."""
        with self._lock:
            return unquote(path.rstrip("/").rpartition("/")[2]) in self._live

    def not_served(self) -> dict[str, Answers]:
        """The operations the server does not serve: every answer said so, none said otherwise."""
        with self._lock:
            return {op: a for op, a in sorted(self.answers.items()) if a.not_served}

    def _same_identity(self, items: list[Any], operation: str, exchange: int | None) -> None:
        """Every object an answer shows agrees with how it was first answered on the fields that
        never change: a stale cache, a join that mixes rows or a serialiser that rewrites a field
        shows only here. A stream shows its run, messages and steps once per event."""
        for item in items:
            if not (isinstance(item, dict) and isinstance(item.get("id"), str) and item.get("object") in IDENTITY):
                continue
            now = {name: item[name] for name in IDENTITY[item["object"]] if name in item}
            if item["object"] == "thread.message" and item.get("status") == "completed":
                now["content (once completed)"] = item.get("content")  # a finished message's text is final
            with self._lock:
                first = self._identity.setdefault(item["id"], now)
                self._live.add(item["id"])
            self.judged("RESP-IDENTITY-001", operation)
            for name in sorted(set(first) & set(now)):
                if first[name] == now[name]:
                    continue
                if name == "object":  # one id, two objects: ids are meant to name one object each
                    message = (
                        f"{operation}: the id {item['id']!r} names {article(now[name])} here; it was first answered as "
                        f"{article(first[name])}"
                    )
                else:
                    message = (
                        f"{operation}: {item['object']} {item['id']} has {name} {str(now[name])[:80]!r}; it was "
                        f"first answered with {str(first[name])[:80]!r}"
                    )
                self.add_finding("RESP-IDENTITY-001", message, name, "#/components/schemas", exchange=exchange)

    def _ids_agree(
        self, items: list[Any], single: bool, params: dict[str, str], operation: str, exchange: int | None
    ) -> None:
        """RESP-ID-001: the ids an answer gives agree with the path that reached it: the object
        asked for by id is that object, what a thread or run holds names that thread or run, and a
        run's steps and messages name the run's assistant."""
        asked = {name: unquote(value) for name, value in params.items()}
        for item in items:
            if not (isinstance(item, dict) and isinstance(item.get("id"), str)):
                continue
            kind = str(item.get("object", "")).removesuffix(".deleted")
            expected: dict[str, str] = {}
            own = OWN_ID.get(kind)
            if single and own in asked:
                expected["id"] = asked[own]
            for parent in ("thread_id", "run_id"):
                if parent in asked and parent in item and not (kind == "thread.run" and parent == "run_id"):
                    expected[parent] = asked[parent]
            # A step, and a message the assistant wrote, are the assistant's of their run.
            authored = kind == "thread.run.step" or (kind == "thread.message" and item.get("role") == "assistant")
            run = self._identity.get(str(item.get("run_id"))) if authored else None
            if run is not None and isinstance(item.get("run_id"), str) and "assistant_id" in run:
                expected["assistant_id"] = run["assistant_id"]
            if not expected:
                continue
            self.judged("RESP-ID-001", operation)
            for name, value in expected.items():
                if item.get(name) != value:
                    source = "its run" if name == "assistant_id" else "the path"
                    self.add_finding(
                        "RESP-ID-001",
                        f"{operation}: {article(kind)} has {name} "
                        f"{str(item.get(name))[:80]!r}; {source} says {value[:80]!r}",
                        name,
                        "#/paths",
                        exchange=exchange,
                    )

    def judged(self, check: str, operation: str) -> None:
        """Record that `check` had something to judge in an answer of `operation`."""
        self.evidence[check][operation] += 1

    def _judge(
        self,
        method: str,
        url: str,
        status: int,
        headers: Any,
        content: bytes,
        exchange: int | None,
        cut: str | None = None,
    ) -> None:
        judged: set[str] = set()
        found = validate_response(method, url, status, headers, content, judged, cut)
        operation = self._operation(method, url)
        if "SSE-EVENT-001" in judged and not judged & STREAM_GRAMMAR and cut is None:
            self.cannot(
                sorted(STREAM_GRAMMAR),
                f"the event streams {operation} answered named no event (SSE-EVENT-001), so their events "
                "could not be followed",
            )
        for check in judged:
            self.judged(check, operation)
        for violation in found:
            self.add_finding(
                violation.check,
                violation.message,
                violation.where,
                violation.spec,
                violation.severity.value,
                exchange,
                violation.frame,
                seen_in=None if violation.message.startswith(operation) else f"{operation} (HTTP {status})",
                operation=operation,
            )

    def add_finding(
        self,
        check: str,
        message: str,
        where: str = "",
        spec: str = "",
        severity: str = "error",
        exchange: int | None = None,
        frame: int | None = None,
        seen_in: str | None = None,
        operation: str | None = None,
    ) -> None:
        """Record a finding; the same one again (same check, rule and place once list indexes and
        object ids are normalised) only adds to its count and, up to three, its example exchanges.
        `seen_in` (operation and HTTP status) is collected per finding and leads its message;
        `operation` defaults to that of the exchange."""
        message = self.target.scrub(message)
        key = (normalise(message), normalise(where), spec, severity)
        if operation is None and exchange is not None and exchange < len(self.target.exchanges):
            shown = self.target.exchanges[exchange]
            operation = self._operation(shown.method, shown.url)
        with self._lock:
            group = self._groups[check].get(key)
            if group is None:
                group = self._groups[check][key] = Group(
                    Finding(message, normalise(where), spec, severity, exchange, frame)
                )
            group.add(exchange, seen_in, operation, getattr(self._where, "scenario", None))
        if self.watch is not None and self.watch(check, severity):
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

    def read_back(self, operation: str) -> None:
        """A read of `operation` answered an object (clean-up's read-back): it is served."""
        with self._lock:
            self.answers[operation].served += 1

    @contextlib.contextmanager
    def scenario(self, name: str) -> Iterator[None]:
        """Findings made in this thread meanwhile are the scenario's (its line on the terminal)."""
        self._where.scenario = name
        try:
            yield
        finally:
            self._where.scenario = None

    def failed_in(self, scenario: str) -> list[str]:
        """The checks an error finding was made for while `scenario` ran, whatever their scenario."""
        with self._lock:
            return sorted(
                check
                for check, groups in self._groups.items()
                if any(key[3] == "error" and scenario in group.scenarios for key, group in groups.items())
            )

    def failing_checks(self) -> set[str]:
        """The checks with an error finding so far (cheap: for the progress status)."""
        with self._lock:
            return {check for check, groups in self._groups.items() if any(key[3] == "error" for key in groups)}

    @property
    def findings(self) -> dict[str, list[Finding]]:
        """Findings per check, each with its count and example exchanges."""
        out: dict[str, list[Finding]] = {}
        with self._lock:
            for check, groups in self._groups.items():
                out[check] = [group.finding() for group in groups.values()]
        return out

    def stream_report(self, response: Response) -> StreamReport:
        report = validate_stream_bytes(response.content, keep_snapshots=True, cut=response.cut)
        for name, count in report.events.items():
            self.events[name] += count
        return report

    def _operation_of(self, response: Response | None) -> str:
        if response is None:
            return "(several requests)"
        exchange = self.target.exchanges[response.exchange]
        return self._operation(exchange.method, exchange.url)

    def _operation(self, method: str, url: str) -> str:
        return _operation_name(self.router.match(method, url), method)

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

    def cannot(self, checks: tuple[str, ...] | list[str], why: str) -> None:
        """These checks could not be exercised because a step they depend on failed (said in the report)."""
        for check in checks:
            self.unexercised.setdefault(check, why)
