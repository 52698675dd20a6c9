"""Findings as a reader meets them: one finding per defect however often it recurs (grouped by
check, rule and normalised place), its kind (what a baseline matches), and values in messages
shown as JSON, never as Python reprs."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from assistants_conformance.results import Finding

MAX_EXAMPLES = 3
_INDEX = re.compile(r"\[\d+\]|(?<=/)\d+(?=/|$)")
_OBJECT_ID = re.compile(r"\b(asst|thread|msg|run|step|call)_[A-Za-z0-9]+")
_NUMBER = re.compile(r"(?<![A-Za-z_])\d[\d,.]*|\b[0-9a-f]{8,}(?:-[0-9a-f]{4,})*\b")
_STATUS = re.compile(r"[1-5]\d\d")


@dataclasses.dataclass
class Group:
    """One finding and its recurrences: how often, up to three example exchanges, and where seen."""

    first: Finding
    count: int = 0
    examples: list[int] = dataclasses.field(default_factory=list)
    places: list[str] = dataclasses.field(default_factory=list)  # "operation (HTTP status)"
    operations: set[str] = dataclasses.field(default_factory=set)  # of every occurrence, not just the examples
    scenarios: set[str] = dataclasses.field(default_factory=set)  # where it was found (the terminal's lines)

    def add(self, exchange: int | None, seen_in: str | None, operation: str | None, scenario: str | None) -> None:
        self.count += 1
        if exchange is not None and len(self.examples) < MAX_EXAMPLES and exchange not in self.examples:
            self.examples.append(exchange)
        if seen_in and seen_in not in self.places:
            self.places.append(seen_in)
        if operation:
            self.operations.add(operation)
        if scenario:
            self.scenarios.add(scenario)

    def finding(self) -> Finding:
        """`createAssistant (HTTP 200), getAssistant (HTTP 200) and 3 more: <message>`, with its count."""
        seen = ", ".join(self.places[:3]) + (f" and {len(self.places) - 3} more" if len(self.places) > 3 else "")
        return dataclasses.replace(
            self.first,
            message=f"{seen}: {self.first.message}" if self.places else self.first.message,
            count=self.count,
            examples=tuple(self.examples),
            operations=tuple(sorted(self.operations)),
            kind=kind_of(self.first.message),
        )


def kind_of(message: str) -> str:
    """A finding's rule in words, with what varies from run to run (ids, numbers, indexes) made `*`
    or `#`: two runs that meet the same defect give the same kind (the baseline matches on it).
    HTTP statuses stay: a 403 where a 200 was accepted is another defect."""
    return _NUMBER.sub(lambda m: m.group() if _STATUS.fullmatch(m.group()) else "#", normalise(message))[:300]


def normalise(text: str) -> str:
    """`data[2].metadata` → `data[*].metadata`, `/data/2/x` → `/data/*/x`, `run_ab12` → `run_*`: what
    varies per item or per object, so that one defect seen on every item is one finding."""
    return _OBJECT_ID.sub(r"\1_*", _INDEX.sub(lambda m: "[*]" if m.group().startswith("[") else "*", text))


def article(noun: Any) -> str:
    """`an assistant`, `a thread.run`: the article a noun of ours takes."""
    return f"{'an' if str(noun)[:1] in 'aeiou' else 'a'} {noun}"


def shown(value: Any, limit: int = 80) -> str:
    """A value as a message shows it: a string quoted, anything else as JSON (`null`, `true`,
    `{"k": 1}`), never a Python repr; cut to `limit` characters with an ellipsis."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
