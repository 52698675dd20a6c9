"""Helpers the defects of several kinds share."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from assistants_conformance.lab.faults import sse
from assistants_conformance.lab.faults.middleware import Fault, Req, Res, answer
from assistants_conformance.lab.faults.registry import before, json_answer


def answer_gets_from(pattern: re.Pattern[str], held: dict[str, Any]) -> Callable[[Req], Res | None]:
    """A GET of an object the fault holds (by the id `pattern` captures) is answered from it."""

    def serve(req: Req) -> Res | None:
        found = pattern.match(req.path)
        if found and req.method == "GET" and found.group(1) in held:
            return answer(200, held[found.group(1)])
        return None

    return serve


def strip_query(name: str, when: Callable[[str], bool] = lambda v: True) -> Callable[[str], Fault]:
    def strip(req: Req) -> None:
        if name in req.query and when(req.query[name]):
            del req.query[name]

    return before(strip)


def runs_in(res: Res) -> list[dict[str, Any]]:
    """The runs an answer announces: a JSON run, or a stream's `thread.run.created`."""
    if res.headers.get("content-type", "").startswith("text/event-stream"):
        found = [f.json() for f in sse.parse(res.body) if f.event == "thread.run.created"]
    else:
        found = [json_answer(res)]
    return [item for item in found if isinstance(item, dict) and item.get("object") == "thread.run"]
