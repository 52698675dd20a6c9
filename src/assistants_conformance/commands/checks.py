"""`assistants-conformance checks`: the catalogue, as JSON or Markdown."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TextIO

from assistants_conformance.checks import CATALOGUE


def run_checks(fmt: str, out: TextIO) -> int:
    if fmt == "json":
        print(json.dumps([asdict(c) for c in CATALOGUE.values()], indent=2), file=out)
        return 0
    print("| ID | level | category | requirement | enforces |", file=out)
    print("|---|---|---|---|---|", file=out)
    for c in CATALOGUE.values():
        print(f"| {c.id} | {c.level.value} | {c.category} | {c.requirement} | `{c.spec}` |", file=out)
    return 0
