"""`assistants-conformance checks`: the catalogue, as JSON or Markdown."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TextIO

from assistants_conformance.checks import CATALOGUE
from assistants_conformance.checks.catalogue import SCHEMATHESIS_EQUIVALENTS


def run_checks(fmt: str, out: TextIO) -> int:
    schemathesis: dict[str, list[str]] = {}
    for name, check_id in SCHEMATHESIS_EQUIVALENTS.items():
        schemathesis.setdefault(check_id, []).append(name)
    if fmt == "json":
        listed = [{**asdict(c), "schemathesis": schemathesis.get(c.id, [])} for c in CATALOGUE.values()]
        print(json.dumps(listed, indent=2), file=out)
        return 0
    print("| ID | level | category | requirement | enforces | Schemathesis |", file=out)
    print("|---|---|---|---|---|---|", file=out)
    for c in CATALOGUE.values():
        same = ", ".join(f"`{n}`" for n in schemathesis.get(c.id, []))
        print(f"| {c.id} | {c.level.value} | {c.category} | {c.requirement} | `{c.spec}` | {same} |", file=out)
    return 0
