"""What a check is: one requirement with a stable ID, declared once with everything about it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


# `judged_by` for the rules the validators apply to every answer and stream of every phase.
ANSWERS = "answers"


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    id: str
    level: Level
    category: str
    requirement: str
    spec: str  # what in the contract it enforces (operationId, schema pointer, note)
    doc: str  # the documentation clause behind it
    # What has to have happened for a pass: without it the check is "not exercised", never passed.
    evidence: str
    # Where it is judged: scenario names (scenarios/registry.py), or ANSWERS for the validators.
    judged_by: tuple[str, ...] = (ANSWERS,)
    # The operations it cannot be judged without: when the server does not serve one of them
    # (RESP-ROUTE-002), the check is not exercised, with that reason, unless it failed elsewhere.
    needs: tuple[str, ...] = ()
    # Non-empty for a check that judges a behaviour only when the server shows it (a 429, an
    # `error` event): what has to happen. Such a check reports "not triggered", never "passed",
    # when it did not happen, and does not hold the verdict back.
    trigger: str = ""
    # How the check is judged on traffic the suite did not send (the proxy, validate-har), beyond
    # the validators' rules, which judge every answer whoever asked: empty when it needs the
    # suite's own requests (a probe, a limit, a wrong key), and is then not exercised there.
    traffic: str = ""

    @property
    def observable(self) -> bool:
        """Whether a watched client's traffic can decide it."""
        return ANSWERS in self.judged_by or bool(self.traffic)
