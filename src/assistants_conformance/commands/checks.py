"""`assistants-conformance checks`: the catalogue, as JSON or Markdown, then the client's rules
(judged on watched traffic only, never against the server)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TextIO

from assistants_conformance.checks import CATALOGUE
from assistants_conformance.checks.catalogue import SCHEMATHESIS_EQUIVALENTS
from assistants_conformance.checks.client import CLIENT


def run_checks(fmt: str, out: TextIO) -> int:
    schemathesis: dict[str, list[str]] = {}
    for name, check_id in SCHEMATHESIS_EQUIVALENTS.items():
        schemathesis.setdefault(check_id, []).append(name)
    every = [*CATALOGUE.values(), *CLIENT.values()]
    if fmt == "json":
        listed = [{**asdict(c), "observable": c.observable, "schemathesis": schemathesis.get(c.id, [])} for c in every]
        print(json.dumps(listed, indent=2), file=out)
        return 0
    print("| ID | level | category | requirement | enforces | on watched traffic | Schemathesis |", file=out)
    print("|---|---|---|---|---|---|---|", file=out)
    for c in every:
        same = ", ".join(f"`{n}`" for n in schemathesis.get(c.id, []))
        watched = c.traffic or ("every answer" if c.observable else "no: needs the suite's own requests")
        print(
            f"| {c.id} | {c.level.value} | {c.category} | {c.requirement} | `{c.spec}` | {watched} | {same} |", file=out
        )
    return 0
