"""Watched traffic judged: exchanges a client sent and a server answered (live through the proxy,
or read back from a HAR), judged by the same validators and checks a run uses, and by the rules
only several answers show (a check's `traffic` field says which). The client's requests are judged
too, apart (checks/client.py), never against the server.

Memory stays bounded however long it watches: only exchanges a finding points at are kept, and
what is remembered across answers is the most recent MEMORY objects and pages.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from assistants_conformance import __version__
from assistants_conformance.checks import CATALOGUE
from assistants_conformance.checks.client import CLIENT
from assistants_conformance.contract import spec_path
from assistants_conformance.findings import shown
from assistants_conformance.observations import Observations, changed_fields
from assistants_conformance.outcomes import evidence_only, observed_verdict, outcomes
from assistants_conformance.profile import Profile
from assistants_conformance.results import (
    REDACTED,
    REDACTED_KEY,
    CheckResult,
    Exchange,
    RunResult,
    scrub,
    secrets_of,
)
from assistants_conformance.target import SECRET_HEADERS, Response, excerpt
from assistants_conformance.validate.http import Route
from assistants_conformance.validate.requests import RequestValidator
from assistants_conformance.validate.transcript import StreamJudge, StreamReport
from assistants_conformance.validate.violations import Violation

MAX_EVENT_NAMES = 200  # event names counted in the coverage map; a server inventing names adds no more
MEMORY = 5_000  # objects, pages and snapshots remembered across answers, the most recent kept
NOT_HERE = (
    "it needs the suite's own requests (a probe, a limit, a wrong key, a run it starts); watched traffic cannot show it"
)

# What a read, a write and a delete of each kind is, and the check that holds a later read to it.
READS = {
    "getAssistant": ("assistant_id", "assistant"),
    "getThread": ("thread_id", "thread"),
    "getMessage": ("message_id", "thread.message"),
    "getRun": ("run_id", "thread.run"),
    "getRunStep": ("step_id", "thread.run.step"),
}
WRITES = {  # operation → the path parameter naming what it wrote (None: the answer's id), the check
    "createAssistant": (None, "ASST-CRUD-002"),
    "modifyAssistant": ("assistant_id", "ASST-CRUD-002"),
    "createThread": (None, "THREAD-001"),
    "modifyThread": ("thread_id", "THREAD-001"),
    "createMessage": (None, "THREAD-001"),
    "modifyMessage": ("message_id", "THREAD-001"),
    "modifyRun": ("run_id", "RUN-MODIFY-001"),
}
# Fields a run's write is held to: modifyRun changes metadata only; the rest of a run moves on.
ONLY = {"modifyRun": ("metadata",)}
DELETES = {
    "deleteAssistant": ("assistant_id", "ASST-CRUD-005"),
    "deleteThread": ("thread_id", "THREAD-001"),
    "deleteMessage": ("message_id", "THREAD-001"),
}
LISTS = frozenset({"listAssistants", "listMessages", "listRuns", "listRunSteps"})
SCHEMA_OF = {"thread.run": "Run", "thread.message": "Message", "thread.run.step": "RunStep"}
FINAL = {
    "thread.run": {"completed", "incomplete", "failed", "cancelled", "expired"},
    "thread.message": {"completed", "incomplete"},
    "thread.run.step": {"completed", "failed", "cancelled", "expired"},
}

K = TypeVar("K")
V = TypeVar("V")


class Recent(OrderedDict[K, V], Generic[K, V]):
    """A mapping that keeps its most recent `size` entries (set or read), forgetting the oldest."""

    def __init__(self, size: int = MEMORY) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)

    def setdefault(self, key: K, default: V) -> V:
        if key in self:
            return self[key]
        self[key] = default
        return default


class RecentSet:
    """A set that keeps its most recent `size` members."""

    def __init__(self, size: int = MEMORY) -> None:
        self._members: Recent[str, None] = Recent(size)

    def add(self, item: str) -> None:
        self._members[item] = None

    def discard(self, item: str) -> None:
        self._members.pop(item, None)

    def __contains__(self, item: object) -> bool:
        return item in self._members


@dataclass
class Seen:
    """One exchange as it was watched. `body` is the whole answer, or of a stream judged as it
    passed (`stream`), what was kept of it (its two ends) with `size` the bytes there were."""

    method: str
    url: str  # the server's URL (the upstream's, below its base)
    request_headers: Mapping[str, str]
    request_body: bytes
    status: int | None  # None: no answer at all (`error` says why)
    response_headers: httpx.Headers
    body: bytes
    size: int
    began: float
    ended: float
    cut: str | None = None  # the answer began but broke off: why
    stream: StreamReport | None = None
    error: str | None = None
    abandoned: bool = False  # the client left before the end: what arrived is judged, not its end


def _is_stream(seen: Seen) -> bool:
    return str(seen.response_headers.get("content-type", "")).startswith("text/event-stream")


class _ClientSide(Observations):
    """The client's findings: kept apart, in the same store."""

    nothing_judged = "no request watched so far gave it anything to judge"

    def __init__(self, owner: Traffic) -> None:
        super().__init__()
        self.owner = owner

    def found(self, finding: Violation) -> None:
        if self.owner.listener is not None:
            self.owner.listener("client", finding)

    def exchange(self, index: int) -> Exchange | None:
        return self.owner.exchange(index)

    def scrub(self, text: str) -> str:
        return self.owner.scrub(text)

    def kept(self, exchange: int) -> None:
        self.owner.kept(exchange)


@dataclass
class _Written:
    ended: float
    operation: str
    check: str
    fields: dict[str, Any]


class Traffic(Observations):
    """Judges watched exchanges one by one, in the order they ended."""

    nothing_judged = "no answer watched so far gave it anything to judge"

    def __init__(self, *, secrets: Iterable[str] = (), auth_header: str = "Authorization") -> None:
        super().__init__()
        self._identity = Recent()
        self._live = RecentSet()  # type: ignore[assignment]
        self.client = _ClientSide(self)
        self.requests = RequestValidator()
        self.auth_header = auth_header.lower()
        self._secrets: set[str] = set(secrets_of("", None, secrets))
        self._scrubbing = sorted(self._secrets, key=len, reverse=True)
        self._store: dict[int, Exchange] = {}
        self._pointed: set[int] = set()
        self.count = 0  # exchanges judged
        self.unjudged = 0  # exchanges the proxy could not judge (it fell behind, or judging failed)
        self.other = 0  # exchanges to no operation of the contract, passed on and not judged
        self.began = time.monotonic()
        self.started_at = datetime.now(UTC)
        self._written: Recent[str, _Written] = Recent()
        self._gone: Recent[str, tuple[float, str, str]] = Recent()
        self._pages: Recent[tuple[str, str, str], tuple[float, frozenset[str]]] = Recent()
        self._snapshots: Recent[str, tuple[float, dict[str, Any]]] = Recent()
        # Told of each finding as it is made, with its side ("server" or "client"): validate-har
        # prints them under the entry they came from.
        self.listener: Callable[[str, Violation], None] | None = None

    # ---------------------------------------------------------------- the store and secrets
    def exchange(self, index: int) -> Exchange | None:
        return self._store.get(index)

    def found(self, finding: Violation) -> None:
        if self.listener is not None:
            self.listener("server", finding)

    def kept(self, exchange: int) -> None:
        self._pointed.add(exchange)

    def scrub(self, text: str) -> str:
        return scrub(text, self._scrubbing)

    def secrets(self) -> list[str]:
        """Every secret the session carried (for a last scrub of each report file)."""
        return list(self._scrubbing)

    def _learn(self, headers: Mapping[str, str]) -> None:
        """The secrets a request carries (its key, a cookie): never shown in anything kept."""
        found = set()
        for name, value in headers.items():
            lowered = name.lower()
            if lowered in SECRET_HEADERS or lowered == self.auth_header:
                found.add(value)
                found.add(value.partition(" ")[2] if value.lower().startswith(("bearer ", "basic ")) else value)
        new = set(secrets_of("", None, found)) - self._secrets
        if new and len(self._secrets) < 1000:  # a client that sends a new key per request is not ours to remember
            self._secrets |= new
            self._scrubbing = sorted(self._secrets, key=len, reverse=True)

    def redacted(self, headers: Mapping[str, str]) -> dict[str, str]:
        out = {}
        for name, value in headers.items():
            lowered = name.lower()
            if lowered == self.auth_header:
                out[name] = REDACTED_KEY  # a report's curl line reads the key from the environment here
            elif lowered in SECRET_HEADERS:
                out[name] = REDACTED
            else:
                out[name] = self.scrub(value)
        return out

    def _record(self, seen: Seen) -> int:
        index = self.count
        self.count += 1
        self._store[index] = Exchange(
            method=seen.method,
            url=self.scrub(seen.url),
            request_headers=self.redacted(seen.request_headers),
            request_body=excerpt(seen.request_body, self.scrub),
            status=seen.status,
            response_headers=self.redacted(seen.response_headers),
            response_body=excerpt(
                seen.body, self.scrub, tail=seen.cut is not None or seen.stream is not None, size=seen.size
            ),
            response_size=seen.size,
            elapsed_ms=round((seen.ended - seen.began) * 1000, 1),
            error=seen.error or seen.cut,
        )
        return index

    # ---------------------------------------------------------------- judging
    def judge(self, seen: Seen) -> None:
        """One watched exchange: the client's request, the server's answer, and what it shows
        beside the answers before it. Only an exchange a finding points at stays in memory."""
        self._learn(seen.request_headers)
        route = self.router.match(seen.method, seen.url)
        if route is None:  # another API through the same server (models, files): not this contract's
            self.other += 1
            return
        index = self._record(seen)
        try:
            self._client(seen, route, index)
            if seen.status is None:
                operation = route.operation.operation_id
                self.add_finding(
                    "RESP-WHOLE-001", f"{operation}: no answer ({seen.error})", exchange=index, operation=operation
                )
                return
            response = Response(seen.status, seen.response_headers, seen.body, index, seen.cut)
            if seen.stream is None and _is_stream(seen):  # a stream read whole (a HAR): judged as the proxy does
                judge = StreamJudge(operation=route.operation.operation_id, keep_snapshots=True)
                judge.feed(seen.body)
                seen.stream = judge.finish(seen.cut)
            if seen.stream is not None:
                for name, count in seen.stream.events.items():
                    if name in self.events or len(self.events) < MAX_EVENT_NAMES:
                        self.events[name] += count
            if seen.abandoned:  # the client went away: its status and headers are judged, not the rest
                self.notes_once("a client closed some answers before their end; those were judged no further")
                return
            self.observe(seen.method, seen.url, response, elapsed=seen.ended - seen.began, stream=seen.stream)
            if seen.cut is None:
                self._across(seen, route, response, index)
        finally:
            if index not in self._pointed:
                self._store.pop(index, None)

    def notes_once(self, line: str) -> None:
        if line not in self.notes:
            self.notes.append(line)

    def _client(self, seen: Seen, route: Route, index: int) -> None:
        operation = route.operation.operation_id
        judged: set[str] = set()
        found = self.requests.validate(seen.method, seen.url, seen.request_headers, seen.request_body, judged, route)
        for check in judged:
            self.client.judged(check, operation)
        for violation in found:
            self.client.add_finding(
                violation.check,
                violation.message,
                violation.where,
                violation.spec,
                violation.severity.value,
                index,
                operation=operation,
            )

    # ---------------------------------------------------------------- across answers
    def _across(self, seen: Seen, route: Route, response: Response, index: int) -> None:
        """The rules only several answers show, each judged against what came before this
        exchange began (an answer that raced a write is not held to it)."""
        operation = route.operation.operation_id
        params = {name: unquote(value) for name, value in route.params.items()}
        self._after_delete(seen, operation, params, response, index)
        if not response.ok:
            return
        body = response.object()
        if operation in READS and body:
            self._read(seen, operation, params, body, index)
        if operation in WRITES and body:
            self._wrote(seen, operation, params, body)
        if operation in DELETES and body.get("deleted") is True:
            name, check = DELETES[operation]
            self._gone[params[name]] = (seen.ended, operation, check)
            self._snapshots.pop(params[name], None)
        if operation in LISTS and isinstance(body.get("data"), list):
            self._page(seen, operation, response, body, index)
        if seen.stream is not None and seen.cut is None:
            for object_id, snapshot in seen.stream.last_snapshots.items():
                kind = snapshot.get("object")
                if kind in FINAL and snapshot.get("status") in FINAL[kind]:
                    self._snapshots[object_id] = (seen.ended, snapshot)

    def _wrote(self, seen: Seen, operation: str, params: dict[str, str], body: dict[str, Any]) -> None:
        name, check = WRITES[operation]
        object_id = params.get(name) if name else body.get("id")
        try:
            sent = json.loads(seen.request_body) if seen.request_body.strip() else {}
        except (ValueError, RecursionError):
            return
        if not isinstance(object_id, str) or not isinstance(sent, dict):
            return
        fields = {k: body[k] for k in ONLY.get(operation, tuple(sent)) if k in sent and k in body}
        before = self._written.get(object_id)
        merged = {**(before.fields if before is not None else {}), **fields}
        self._written[object_id] = _Written(seen.ended, operation, check, merged)
        self._snapshots.pop(object_id, None)  # a modify after a stream: its snapshot is no longer the object

    def _read(self, seen: Seen, operation: str, params: dict[str, str], body: dict[str, Any], index: int) -> None:
        name, kind = READS[operation]
        object_id = params.get(name, "")
        written = self._written.get(object_id)
        if written is not None and written.ended <= seen.began:
            self.judged(written.check, operation)
            for field, value in sorted(written.fields.items()):
                if body.get(field) != value:
                    self.add_finding(
                        written.check,
                        f"{operation} after {written.operation} shows {field} {shown(body.get(field))}; "
                        f"{written.operation} answered {shown(value)}",
                        f"/{field}",
                        exchange=index,
                        operation=operation,
                    )
        snapshot = self._snapshots.get(object_id)
        if snapshot is not None and snapshot[0] <= seen.began and kind in SCHEMA_OF:
            self.judged("RUN-SNAP-001", operation)
            differing = changed_fields(snapshot[1], body, SCHEMA_OF[kind])
            if differing:
                self.add_finding(
                    "RUN-SNAP-001",
                    f"{operation} of a {kind} after its stream ended differs from the stream's last snapshot in "
                    f"{', '.join(differing)}",
                    differing[0],
                    exchange=index,
                    operation=operation,
                )

    def _after_delete(self, seen: Seen, operation: str, params: dict[str, str], response: Response, index: int) -> None:
        """An object whose delete answered `deleted: true` answers 404 from then on, and so does
        everything below a deleted thread."""
        for name, value in params.items():
            gone = self._gone.get(value)
            if gone is None or gone[0] > seen.began:
                continue
            _, deleted_by, check = gone
            if operation == deleted_by == "deleteAssistant":
                check = "ASST-CRUD-006"
            self.judged(check, operation)
            if response.ok:
                self.add_finding(
                    check,
                    f"{operation} answered {response.status} for {name} {shown(value)} after {deleted_by} answered "
                    "`deleted: true` for it",
                    name,
                    exchange=index,
                    operation=operation,
                )
            return

    def _page(self, seen: Seen, operation: str, response: Response, body: dict[str, Any], index: int) -> None:
        ids = [item.get("id") for item in body["data"] if isinstance(item, dict)]
        if ids:
            self.judged("PAGE-002", operation)
            if body.get("first_id") != ids[0] or body.get("last_id") != ids[-1]:
                self.add_finding(
                    "PAGE-002",
                    f"{operation}: first_id {shown(body.get('first_id'))} and last_id {shown(body.get('last_id'))} "
                    f"are not the ids of the page's first and last items ({shown(ids[0])}, {shown(ids[-1])})",
                    exchange=index,
                    operation=operation,
                )
        query = parse_qs(urlsplit(seen.url).query)
        path = urlsplit(seen.url).path
        order = query.get("order", ["desc"])[-1]
        run_id = query.get("run_id", [""])[-1]
        if operation == "listMessages" and run_id and ids:
            self.judged("MSG-001", operation)
            others = sorted({str(item.get("run_id")) for item in body["data"] if isinstance(item, dict)} - {run_id})
            if others:
                self.add_finding(
                    "MSG-001",
                    f"listMessages with run_id {shown(run_id)} lists messages of run {shown(others[0])}",
                    "/data",
                    exchange=index,
                    operation=operation,
                )
        key = f"{path}?order={order}&run_id={run_id}"
        after = query.get("after", [""])[-1]
        if after and "before" not in query:
            before = self._pages.get((key, after, ""))
            if before is not None and before[0] <= seen.began:
                self.judged("PAGE-001", operation)
                repeated = [i for i in ids if i in before[1] or i == after]
                if repeated:
                    self.add_finding(
                        "PAGE-001",
                        f"{operation} after={shown(after)} repeats {shown(repeated[0])} from the page that ended there",
                        "/data",
                        exchange=index,
                        operation=operation,
                    )
        if ids and isinstance(ids[-1], str) and "before" not in query:
            self._pages[(key, ids[-1], "")] = (seen.ended, frozenset(i for i in ids if isinstance(i, str)))

    # ---------------------------------------------------------------- the report
    def result(self, target: str, *, notes: Iterable[str] = ()) -> RunResult:
        """The report of what was watched so far, from the same model as a run's."""
        not_here = {check.id: NOT_HERE for check in CATALOGUE.values() if not check.observable}
        server = outcomes(self, CATALOGUE, Profile(), not_here=not_here)
        client = outcomes(self.client, CLIENT, Profile(), table=CLIENT)
        both, exchanges = evidence_only(server + client, self.exchange, replayable=False)
        server, client = both[: len(server)], both[len(server) :]
        operations = sum(1 for op in self.coverage if not op.endswith("(undocumented)"))
        verdict, reason = observed_verdict(server, self.count, operations)
        return RunResult(
            tool_version=__version__,
            spec_sha256=hashlib.sha256(spec_path().read_bytes()).hexdigest(),
            target=self.scrub(target),
            seed=0,
            started_at=self.started_at.isoformat(timespec="seconds"),
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            duration_s=round(time.monotonic() - self.began, 2),
            verdict=verdict,
            verdict_reason=reason,
            checks=server,
            exchanges=exchanges,
            coverage={
                "operations": {op: dict(statuses) for op, statuses in self.coverage.items()},
                "events": dict(self.events),
                "notes": [*notes, *self.notes, *self.overflow(), *self._unjudged()],
                "requests": self.count,
                "timings_ms": {op: round(sorted(t)[len(t) // 2] * 1000, 1) for op, t in self.timings.items()},
            },
            resources={},
            profile={"source": "observed traffic", "capabilities": {}, "model": None},
            scope="observed",
            client=client,
        )

    def _unjudged(self) -> list[str]:
        lines = []
        if self.unjudged:
            lines.append(f"{self.unjudged} exchange(s) passed through but were not judged (see the proxy's log)")
        if self.other:
            lines.append(f"{self.other} exchange(s) to no operation of this contract passed through, not judged")
        return lines


def client_failed(client: tuple[CheckResult, ...]) -> list[str]:
    """The client rules its requests broke (for a line of its own, never the server's verdict)."""
    return [c.id for c in client if c.findings and any(f.severity == "error" for f in c.findings)]
