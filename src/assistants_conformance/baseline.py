"""The CI gate: a YAML baseline of accepted failures, so a team can gate on regressions only.

    accepted:
      - id: PAGE-004
        reason: "before cursors land in v2.3"
        expires: 2027-03-01      # optional; after it the failure counts again

The gate fails on a failure not in the baseline, and on a baseline entry whose check now passes
(stale: delete it, so the baseline only ever shrinks). Expired entries no longer excuse anything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistants_conformance import config_files
from assistants_conformance.errors import UsageError
from assistants_conformance.results import Outcome, RunResult


@dataclass(frozen=True)
class Entry:
    id: str
    reason: str
    expires: dt.date | None = None


@dataclass(frozen=True)
class Gate:
    file: str
    accepted: list[str] = field(default_factory=list)  # failing, and excused
    new_failures: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # excused but passing now
    expired: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.new_failures and not self.stale

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "passed": self.passed,
            "accepted": self.accepted,
            "new_failures": self.new_failures,
            "stale": self.stale,
            "expired": self.expired,
        }


def load_baseline(path: Path) -> list[Entry]:
    data = config_files.load(path, "--baseline") or {}
    items = data.get("accepted") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise UsageError(f"--baseline {path} must hold an `accepted:` list of {{id, reason[, expires]}}")
    entries = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item.get("reason"):
            raise UsageError(f"--baseline {path}: every entry needs an id and a reason, got {item!r}"[:300])
        expires = item.get("expires")
        if expires is not None and not isinstance(expires, dt.date):
            raise UsageError(f"--baseline {path}: expires of {item['id']} must be a date (YYYY-MM-DD)")
        entries.append(Entry(item["id"], str(item["reason"]), expires))
    return entries


def apply(result: RunResult, entries: list[Entry], file: str, today: dt.date | None = None) -> Gate:
    today = today or dt.date.today()
    outcomes = {c.id: c.outcome for c in result.checks}
    live = {e.id: e for e in entries if e.expires is None or e.expires >= today}
    expired = sorted(e.id for e in entries if e.id not in live)
    failing = sorted(i for i, o in outcomes.items() if o is Outcome.FAILED)
    return Gate(
        file=file,
        accepted=[i for i in failing if i in live],
        new_failures=[i for i in failing if i not in live],
        stale=sorted(i for i in live if outcomes.get(i) is Outcome.PASSED),
        expired=expired,
    )


def write_baseline(result: RunResult, path: Path) -> int:
    failing = [c for c in result.checks if c.outcome is Outcome.FAILED]
    data = {
        "accepted": [
            {
                "id": c.id,
                "reason": f"failing since {result.started_at[:10]}: "
                + (c.findings[0].message[:120] if c.findings else c.requirement),
            }
            for c in failing
        ]
    }
    try:
        path.write_text(
            "# Accepted failures; the gate fails on any other failure and on entries that pass.\n"
            + yaml.safe_dump(data, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
    except OSError as exc:
        raise UsageError(f"--write-baseline {path}: {exc.strerror or exc}") from exc
    return len(failing)
