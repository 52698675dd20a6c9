"""The named contract defects: each a realistic mistake an implementer makes, and the checks that must catch it.

`expects` is the exact set of MUST checks that fail when the default run meets the fault, and
`warns` the SHOULD checks that warn: the detection matrix holds the suite to both, so a fault
that starts firing a different check (or none) is a visible change. `phase` says which part of
the run can see the defect: `scenarios` faults are found without generated requests; the
`properties` ones need the Schemathesis phase. The defects themselves live in `defects/`, one
module per kind of thing they break; they import this registry, and it imports none of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assistants_conformance.lab.faults import sse
from assistants_conformance.lab.faults.middleware import Fault, Req, Res, set_json
from assistants_conformance.lab.faults.sse import Frame

ASSISTANT = re.compile(r"^/v1/assistants/([^/]+)$")
THREAD = re.compile(r"^/v1/threads/([^/]+)$")
RUN = re.compile(r"^/v1/threads/([^/]+)/runs/([^/]+)$")
MESSAGE = re.compile(r"^/v1/threads/[^/]+/messages/[^/]+$")
RUNS = re.compile(r"^/v1/threads/([^/]+)/runs$")
UNKNOWN_ASSISTANT = "asst_conformance_does_not_exist"


@dataclass(frozen=True)
class FaultSpec:
    name: str
    summary: str
    category: str
    build: Callable[[str], Fault] = field(repr=False)
    expects: frozenset[str] = frozenset()
    warns: frozenset[str] = frozenset()
    phase: str = "scenarios"
    # A fault whose deletes do not delete leaves objects behind, and the run must say so (its
    # clean-up reads every object back): predicted here, asserted by the detection test.
    leaves_objects: bool = False

    def make(self, api_key: str) -> Fault:
        """A fresh fault (faults that remember objects keep that state per server)."""
        fault = self.build(api_key)
        fault.name = self.name
        return fault


FAULTS: dict[str, FaultSpec] = {}


def fault(
    name: str,
    summary: str,
    category: str,
    expects: set[str],
    warns: set[str] | None = None,
    phase: str = "scenarios",
    leaves_objects: bool = False,
) -> Callable[[Callable[[str], Fault]], Callable[[str], Fault]]:
    def register(build: Callable[[str], Fault]) -> Callable[[str], Fault]:
        assert name not in FAULTS, name
        FAULTS[name] = FaultSpec(
            name, summary, category, build, frozenset(expects), frozenset(warns or ()), phase, leaves_objects
        )
        return build

    return register


def before(fn: Callable[[Req], Res | None]) -> Callable[[str], Fault]:
    return lambda key: Fault("", before=fn)


def after(fn: Callable[[Req, Res], None]) -> Callable[[str], Fault]:
    return lambda key: Fault("", after=fn)


def json_answer(res: Res) -> Any:
    return res.json() if res.headers.get("content-type", "").startswith("application/json") else None


def rewrite_objects(res: Res, kind: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply `change` to every object of `kind` in a JSON answer (alone or in a list page)."""
    body = json_answer(res)
    if not isinstance(body, dict):
        return
    items = body.get("data") if body.get("object") == "list" else [body]
    touched = False
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("object") == kind:
            change(item)
            touched = True
    if touched:
        set_json(res, body)


def on_objects(kind: str, change: Callable[[dict[str, Any]], None]) -> Callable[[str], Fault]:
    return after(lambda req, res: rewrite_objects(res, kind, change))


def on_streams(edit: Callable[[Req, list[Frame]], list[Frame] | bytes | None]) -> Callable[[str], Fault]:
    """A fault on event streams: `edit` changes the frames in place, or returns new frames or raw bytes."""

    def rewrite(req: Req, res: Res) -> None:
        if not res.headers.get("content-type", "").startswith("text/event-stream"):
            return
        frames = sse.parse(res.body)
        edited = edit(req, frames)
        res.body = edited if isinstance(edited, bytes) else sse.serialise(edited if edited is not None else frames)

    return after(rewrite)


def json_post(req: Req, path: str | re.Pattern[str]) -> dict[str, Any] | None:
    """The request's JSON object body when it is a POST to `path`."""
    matches = path.match(req.path) if isinstance(path, re.Pattern) else req.path == path
    body = req.json()
    return body if req.method == "POST" and matches and isinstance(body, dict) else None


# Checks no fault here reaches, each proven by its own test instead: a route the suite itself gets
# wrong (RESP-ROUTE-001, test_validate_http), a line over 16 MiB (SSE-LINE-001, test_cli_validate),
# a server `error` event and interleaved message deltas (STREAM-ERROR-001, STREAM-ITEM-003:
# test_validate_stream; the reference server emits neither, so no rewrite of its streams can).
MUST_BE_SHOWN_ELSEWHERE = frozenset({"RESP-ROUTE-001", "SSE-LINE-001", "STREAM-ERROR-001", "STREAM-ITEM-003"})
