"""`assistants-conformance spec`: where the contract is, and whether it holds up."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from assistants_conformance.contract.check import iter_problems
from assistants_conformance.contract.document import parse_document, spec_path


def run_spec(file: Path | None, *, check: bool, out: TextIO) -> int:
    path = file if file is not None else spec_path()
    print(path, file=out)
    if not check:
        return 0
    problems = list(iter_problems(parse_document(path)))
    for problem in problems:
        print(f"  problem: {problem}", file=out)
    if problems:
        print(f"{len(problems)} problem(s): the document cannot serve as the contract", file=out)
        return 1
    print("ok: valid OpenAPI 3.1; every schema compiles; every stream event is mapped", file=out)
    return 0
