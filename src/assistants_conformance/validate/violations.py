"""A broken contract is data: a Violation names the rule, where it broke, and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"  # the contract is broken
    WARNING = "warning"  # tolerated by the contract but worth knowing (e.g. an unknown event)


@dataclass(frozen=True, slots=True)
class Violation:
    """One place where what a server sent breaks one rule of the contract."""

    check: str  # stable check ID, e.g. STREAM-DONE-001
    message: str  # expected vs actual, one sentence
    where: str = ""  # JSON pointer into the response body or event data ("" = the whole)
    spec: str = ""  # pointer into the contract document
    severity: Severity = Severity.ERROR
    frame: int | None = None  # 1-based event frame number in a stream
    line: int | None = None  # 1-based line of the frame's first field in a stream

    def render(self) -> str:
        at = []
        if self.frame is not None:
            at.append(f"frame {self.frame}")
        if self.line is not None:
            at.append(f"line {self.line}")
        if self.where:
            at.append(self.where)
        location = f" [{', '.join(at)}]" if at else ""
        spec = f" (spec: {self.spec})" if self.spec else ""
        return f"{self.severity.value.upper():7} {self.check}{location}: {self.message}{spec}"


def errors(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.severity is Severity.ERROR]
