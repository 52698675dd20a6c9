"""The CI gate: a YAML baseline of accepted findings, so a team can gate on regressions only.

    accepted:
      - check: RESP-SCHEMA-001
        operations: [getAssistant, listAssistants]
        where: /tools
        kind: "Invalid value for 'tools': expected array; got null."
        reason: "tools null until v2.3"
        expires: 2027-03-01      # optional; after it the finding counts again

A baseline holds findings, not check IDs: an entry accepts a finding of its check, at its place
(`where`) and of its kind (the finding's words with ids and numbers made `*` and `#`), seen in the
operations it lists. Any other finding of a failed MUST check is new and fails the gate, the same
check accepted for another defect or another operation included. An entry whose check was judged
and showed it no more is fixed: it fails the gate too, so that the baseline only ever shrinks
("remove it from the baseline"). `--write-baseline` writes one from a run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistants_conformance import config_files
from assistants_conformance.contract.document import operation_id
from assistants_conformance.errors import UsageError
from assistants_conformance.results import CheckResult, Finding, Outcome, RunResult


@dataclass(frozen=True)
class Entry:
    check: str
    where: str
    kind: str
    operations: tuple[str, ...]
    reason: str
    expires: dt.date | None = None

    def describe(self) -> str:
        return describe(self.check, self.operations, self.where, self.kind)


def describe(check: str, operations: tuple[str, ...] | list[str], where: str, kind: str) -> str:
    """`RESP-SCHEMA-001 in getAssistant at /tools: <kind>`: one finding, as the gate names it."""
    place = f" in {', '.join(operations)}" if operations else ""
    at = f" at {where}" if where else ""
    return f"{check}{place}{at}: {kind}"


@dataclass(frozen=True)
class Gate:
    file: str
    accepted: list[str] = field(default_factory=list)  # findings the baseline accepts
    new: list[str] = field(default_factory=list)  # findings it does not: they fail the gate
    fixed: list[str] = field(default_factory=list)  # entries no longer seen where they were judged
    expired: list[str] = field(default_factory=list)  # entries past their date: they excuse nothing
    unjudged: list[str] = field(default_factory=list)  # entries whose check this run did not judge

    @property
    def passed(self) -> bool:
        return not self.new and not self.fixed

    def summary(self) -> str:
        """`3 accepted findings, 0 new`; when it failed, what failed it first."""
        if self.passed:
            return f"{len(self.accepted)} accepted finding{'s' * (len(self.accepted) != 1)}, 0 new"
        fixed = f", {len(self.fixed)} fixed (remove them from the baseline)" if self.fixed else ""
        return f"{len(self.new)} new finding{'s' * (len(self.new) != 1)}{fixed}, {len(self.accepted)} accepted"

    def headline(self) -> str:
        return f"gate {'passed' if self.passed else 'failed'}: {self.summary()}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "passed": self.passed,
            "headline": self.headline(),
            "accepted": self.accepted,
            "new_failures": self.new,
            "stale": self.fixed,
            "expired": self.expired,
            "unjudged": self.unjudged,
        }


def load_baseline(path: Path) -> list[Entry]:
    data = config_files.load(path, "--baseline") or {}
    items = data.get("accepted") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise UsageError(f"--baseline {path} must hold an `accepted:` list of findings (see --write-baseline)")
    return [_entry(path, item) for item in items]


def _entry(path: Path, item: Any) -> Entry:
    if isinstance(item, dict) and "id" in item and "check" not in item:
        raise UsageError(
            f"--baseline {path}: the entry for {str(item.get('id'))[:40]} names a check only; a baseline now holds "
            "findings (check, operations, where, kind), so that a new defect under an accepted check is caught: "
            "write one afresh with --write-baseline"
        )
    if not isinstance(item, dict) or not isinstance(item.get("check"), str) or not item.get("reason"):
        raise UsageError(f"--baseline {path}: every entry needs a check and a reason, got {item!r}"[:300])
    name = item["check"]
    operations = item.get("operations", [])
    if not isinstance(operations, list) or not all(isinstance(op, str) for op in operations):
        raise UsageError(f"--baseline {path}: operations of {name} must be a list of operationIds")
    operations = [operation_id(op) for op in operations]  # submitToolOutputsToRun, spelt right, too
    for key in ("where", "kind"):
        if not isinstance(item.get(key, ""), str):
            raise UsageError(f"--baseline {path}: {key} of {name} must be text")
    expires = item.get("expires")
    if expires is not None and not isinstance(expires, dt.date):
        raise UsageError(f"--baseline {path}: expires of {name} must be a date (YYYY-MM-DD)")
    return Entry(name, item.get("where", ""), item.get("kind", ""), tuple(operations), str(item["reason"]), expires)


def apply(result: RunResult, entries: list[Entry], file: str, today: dt.date | None = None) -> tuple[Gate, RunResult]:
    """The gate's decision, and the result with every accepted finding marked with its reason."""
    today = today or dt.date.today()
    live = [e for e in entries if e.expires is None or e.expires >= today]
    expired = [e.describe() for e in entries if e not in live]
    matched: set[int] = set()
    accepted: list[str] = []
    new: list[str] = []
    checks: list[CheckResult] = []
    for check in result.checks:
        findings = []
        for finding in check.findings:
            if check.outcome is not Outcome.FAILED or finding.severity != "error":
                findings.append(finding)
                continue
            entry, uncovered = _match(check.id, finding, live)
            said = describe(check.id, finding.operations, finding.where, finding.message)
            if entry is not None:
                matched.add(entry)
            if entry is None or uncovered:
                new.append(describe(check.id, uncovered, finding.where, finding.message) if entry is not None else said)
                findings.append(finding)
            else:
                accepted.append(said)
                findings.append(dataclasses.replace(finding, accepted=live[entry].reason))
        checks.append(dataclasses.replace(check, findings=tuple(findings)))
    outcomes = {c.id: c.outcome for c in result.checks}
    judged = {Outcome.PASSED, Outcome.FAILED, Outcome.WARNED}
    fixed = [e.describe() for n, e in enumerate(live) if n not in matched and outcomes.get(e.check) in judged]
    unjudged = [e.describe() for n, e in enumerate(live) if n not in matched and outcomes.get(e.check) not in judged]
    gate = Gate(file, accepted, new, fixed, expired, unjudged)
    return gate, dataclasses.replace(result, checks=tuple(checks), baseline=gate.to_dict())


def _match(check: str, finding: Finding, entries: list[Entry]) -> tuple[int | None, tuple[str, ...]]:
    """The entry for this finding (same check, place and kind) and the operations it does not list."""
    best: tuple[int | None, tuple[str, ...]] = (None, finding.operations)
    for n, entry in enumerate(entries):
        if (entry.check, entry.where, entry.kind) != (check, finding.where, finding.kind):
            continue
        uncovered = tuple(op for op in finding.operations if op not in entry.operations)
        if best[0] is None or len(uncovered) < len(best[1]):
            best = (n, uncovered)
    return best


def write_baseline(result: RunResult, path: Path) -> int:
    """Every error finding of every failed MUST check, as entries that accept exactly it."""
    entries = [
        {
            "check": check.id,
            "operations": list(finding.operations),
            "where": finding.where,
            "kind": finding.kind,
            "reason": f"failing since {result.started_at[:10]}: {finding.message[:120]}",
        }
        for check in result.checks
        if check.outcome is Outcome.FAILED
        for finding in check.findings
        if finding.severity == "error"
    ]
    try:
        path.write_text(
            "# Accepted findings: the gate fails on any other finding of a failed MUST check, and on entries\n"
            "# no longer seen (fixed: remove them). `reason` is yours to edit; `expires: YYYY-MM-DD` is optional.\n"
            + yaml.safe_dump({"accepted": entries}, sort_keys=False, allow_unicode=True, width=120),
            encoding="utf-8",
        )
    except OSError as exc:
        raise UsageError(f"--write-baseline {path}: {exc.strerror or exc}") from exc
    return len(entries)
