"""What the answers a server gave say about it, whoever sent the requests: the validators'
verdict on each answer, and what only several answers show (an object's identity, the ids a path
asks for, whether an operation is served). The run's Context judges its own requests with it; the
proxy and validate-har judge observed traffic with the same code, so a check means one thing."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import defaultdict
from functools import cache
from typing import Any
from urllib.parse import unquote

from assistants_conformance.checks import CATALOGUE
from assistants_conformance.contract import get_contract
from assistants_conformance.findings import Group, article, normalise
from assistants_conformance.results import Exchange, Finding
from assistants_conformance.target import Response
from assistants_conformance.validate import validate_response
from assistants_conformance.validate.http import Route, Router
from assistants_conformance.validate.sse import SSEParser
from assistants_conformance.validate.transcript import StreamReport
from assistants_conformance.validate.violations import Severity, Violation

# Distinct findings kept per check; more are counted (a server broken in endless ways, watched for
# days through the proxy, must not fill the memory).
MAX_GROUPS = 200
TIMINGS = 1000  # answer times kept per operation (the report shows their median)

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


def _objects_of(response: Response, stream: StreamReport | None = None) -> tuple[list[Any], bool]:
    """The objects an answer shows, and whether it is one object answered alone: a JSON object,
    a list page's items, or the run, messages and steps of a stream's events (deltas aside); of a
    stream judged as it passed (`stream`), the last state of each."""
    kind = response.headers.get("content-type", "")
    if stream is not None and kind.startswith("text/event-stream"):
        return list(stream.last_snapshots.values()), False
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


@cache
def documented(schema: str) -> frozenset[str]:
    """The fields the contract documents for an object; others are the server's own additions."""
    return frozenset(get_contract().document["components"]["schemas"][schema].get("properties", {}))


def changed_fields(before: dict[str, Any], after: dict[str, Any], schema: str) -> list[str]:
    """Documented fields whose value differs between two answers for the same object."""
    return sorted(k for k in documented(schema) if before.get(k) != after.get(k))


def _operation_name(route: Route | None, method: str) -> str:
    return route.operation.operation_id if route else f"{method} (undocumented)"


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None  # the stream's own checks report it


class Observations:
    """Findings grouped per check, the evidence behind each, and what the answers seen so far
    showed. `exchange(i)` and `scrub(text)` say where recorded exchanges live and what is secret."""

    # Why a check with no evidence was not exercised, when nothing more particular is known.
    nothing_judged = "no answer this run received gave it anything to judge"

    def __init__(self) -> None:
        # check → grouping key → Group: one finding per (check, rule, normalised place), however
        # often it recurs (see add_finding).
        self._groups: dict[str, dict[tuple[str, ...], Group]] = defaultdict(dict)
        self._lock = threading.Lock()
        self.notes: list[str] = []  # things a reader of the report should know, not check outcomes
        # check → operation → how many times it judged something there: the evidence behind a pass.
        self.evidence: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.errored: dict[str, str] = {}
        # check → why it could not be exercised (a step it depends on failed), for the report.
        self.unexercised: dict[str, str] = {}
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
        self.beyond: dict[str, int] = {}  # check → distinct findings past MAX_GROUPS, counted only

    # ---------------------------------------------------------------- where exchanges live
    def exchange(self, index: int) -> Exchange | None:
        """The recorded exchange `index` names, or None."""
        raise NotImplementedError

    def scrub(self, text: str) -> str:
        """`text` with every secret of the session replaced."""
        raise NotImplementedError

    def found(self, finding: Violation) -> None:
        """Told of every finding as it is made, its message already scrubbed (the run's watch
        hook; the proxy's live listener)."""

    # ---------------------------------------------------------------- judging answers
    def observe(
        self,
        method: str,
        url: str,
        response: Response,
        *,
        generated: bool = False,
        elapsed: float | None = None,
        stream: StreamReport | None = None,
    ) -> None:
        """Judge one answer: the validators' rules, then what it shows across answers. `stream`:
        the answer's event stream already judged as it arrived (the proxy), not judged again."""
        self.judge_answer(
            method, url, response.status, response.headers, response.content, response.exchange, response.cut, stream
        )
        found = self.router.match(method, url)
        route = _operation_name(found, method)
        if response.ok:
            objects, single = _objects_of(response, stream)
            self._same_identity(objects, route, response.exchange)
            if found is not None:
                self._ids_agree(objects, single, found.params, route, response.exchange)
        if found is not None:
            self._answered(found, response, generated)
        with self._lock:
            self.coverage[route][str(response.status)] += 1
            if elapsed is not None:
                timings = self.timings[route]
                timings.append(elapsed)
                if len(timings) > 2 * TIMINGS:  # the most recent, for a median: a long watch stays small
                    del timings[:TIMINGS]

    def judge_answer(
        self,
        method: str,
        url: str,
        status: int,
        headers: Any,
        content: bytes,
        exchange: int | None,
        cut: str | None = None,
        stream: StreamReport | None = None,
    ) -> None:
        """The validators' rules on one answer, as findings and evidence. `stream`: its event
        stream, already judged as it arrived."""
        judged: set[str] = set()
        found = validate_response(method, url, status, headers, content, judged, cut, stream)
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
                    self.kept(response.exchange)
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
        message = self.scrub(message)
        key = (normalise(message), normalise(where), spec, severity)
        shown = self.exchange(exchange) if operation is None and exchange is not None else None
        if shown is not None:
            operation = self._operation(shown.method, shown.url)
        with self._lock:
            groups = self._groups[check]
            group = groups.get(key)
            if group is None and len(groups) >= MAX_GROUPS:
                self.beyond[check] = self.beyond.get(check, 0) + 1  # counted, not kept: memory stays bounded
            else:
                if group is None:
                    group = groups[key] = Group(Finding(message, normalise(where), spec, severity, exchange, frame))
                group.add(exchange, seen_in, operation, getattr(self._where, "scenario", None))
                if exchange is not None and exchange in group.examples:
                    self.kept(exchange)
        self.found(Violation(check, message, where, spec, Severity(severity), frame))

    def kept(self, exchange: int) -> None:
        """A finding points at this exchange: it goes in the report (a store that keeps only
        those, the proxy's, keeps it)."""

    def overflow(self) -> list[str]:
        """The notes for checks with more distinct findings than are kept."""
        return [
            f"{check}: more than {MAX_GROUPS} distinct findings; {count} more were counted, not kept"
            for check, count in sorted(self.beyond.items())
        ]

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

    def cannot(self, checks: tuple[str, ...] | list[str], why: str) -> None:
        """These checks could not be exercised because a step they depend on failed (said in the report)."""
        for check in checks:
            self.unexercised.setdefault(check, why)

    def read_back(self, operation: str) -> None:
        """A read of `operation` answered an object (clean-up's read-back): it is served."""
        with self._lock:
            self.answers[operation].served += 1

    def _operation(self, method: str, url: str) -> str:
        return _operation_name(self.router.match(method, url), method)
