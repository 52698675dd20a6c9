"""Hand-audited expectations for `make compat`: for each check, the outcome a careful reader expects
of one implementation and why, each reason verified against the running server (curl).

`expectations/NAME.toml`, one per implementation (and `reference.toml` for the bundled server):

    audited = "2026-12-07"            # when the reasons were last verified
    [checks]
    "RESP-SCHEMA-001" = { outcome = "failed", why = "tools is null on every assistant" }
    "PAGE-004" = { outcome = "skipped", why = "no `before` cursor: the thread list is never paged" }

A run's outcome that differs from the expectation is a disagreement, named by what it means for a
user: a *false alarm* (a failure the server does not have), a *missed defect* (a pass or skip where
the server is wrong), a *vacuous pass* (a pass where nothing could be judged), or *other*.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUTCOMES = frozenset({"passed", "failed", "warned", "skipped", "errored"})
BAD = frozenset({"failed", "warned"})


@dataclass(frozen=True)
class Disagreement:
    check: str
    expected: str
    actual: str
    kind: str  # false alarm | missed defect | vacuous pass | unaudited | other
    why: str  # the audited reason

    def line(self) -> str:
        return f"{self.kind}: {self.check} {self.actual}, expected {self.expected} ({self.why})"


def expectations_file(slug: str) -> Path:
    return HERE / "expectations" / f"{slug}.toml"


def load(slug: str) -> dict[str, dict[str, str]] | None:
    """The expectations of one implementation, checked for shape; None when it has none."""
    path = expectations_file(slug)
    if not path.is_file():
        return None
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    checks = data.get("checks", {})
    for check, entry in checks.items():
        if not isinstance(entry, dict) or entry.get("outcome") not in OUTCOMES or not entry.get("why"):
            raise SystemExit(f"{path}: {check} needs an outcome ({', '.join(sorted(OUTCOMES))}) and a why")
    return checks


def kind_of(expected: str, actual: str) -> str:
    if expected in BAD and actual not in BAD:
        return "missed defect"
    if actual in BAD and expected not in BAD:
        return "false alarm"
    if actual == "passed" and expected == "skipped":
        return "vacuous pass"
    return "other"


def disagreements(report: dict[str, Any], expected: dict[str, dict[str, str]]) -> list[Disagreement]:
    """Every check of the run whose outcome is not the audited one (or that has no audit)."""
    out = []
    for check in report["checks"]:
        entry = expected.get(check["id"])
        if entry is None:
            out.append(Disagreement(check["id"], "(not audited)", check["outcome"], "unaudited", ""))
        elif entry["outcome"] != check["outcome"]:
            kind = kind_of(entry["outcome"], check["outcome"])
            out.append(Disagreement(check["id"], entry["outcome"], check["outcome"], kind, entry["why"]))
    return out


def as_json(found: list[Disagreement]) -> list[dict[str, str]]:
    return [asdict(d) for d in found]
