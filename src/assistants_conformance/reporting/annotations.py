"""GitHub Actions workflow commands (`::error …::`), one per finding group, so that a run's
findings show among the job's annotations. Read from the report's JSON form, like every view."""

from __future__ import annotations

from typing import Any

from assistants_conformance.reporting.causes import shared_causes


def _data(text: str) -> str:
    # https://docs.github.com/actions/reference/workflow-commands-for-github-actions: a message
    # escapes %, CR and LF; a property value also : and ,.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_commands(report: dict[str, Any], *, limit: int = 50) -> list[str]:
    """One `::error`/`::warning` line per shared cause and per finding group of every other
    failing check (GitHub shows ten of each kind per step, so the widest come first: causes, then
    checks in the report's order; past `limit`, one notice counts the rest)."""
    lines: list[str] = []
    grouped: set[str] = set()
    for cause in shared_causes(report):
        fresh = [c for c in cause.checks if c not in grouped]
        if len(fresh) >= 2:
            grouped.update(fresh)
            title = _property(f"conformance: {len(fresh)} checks, one cause")
            lines.append(f"::error title={title}::{_data(cause.text + ' (fails ' + ', '.join(fresh) + ')')}")
    for check in report["checks"]:
        if check["id"] in grouped or check["outcome"] not in ("failed", "errored", "warned"):
            continue
        findings = [f for f in check["findings"] if not f.get("accepted")]
        if check["findings"] and not findings:
            continue  # every finding accepted by the baseline: not a problem of this run
        title = _property(f"{check['id']} ({check['level']}, {check['category']})")
        if not findings:  # errored: the tool could not judge it, and says why
            lines.append(f"::error title={title}::{_data(check.get('reason', '')[:2000])}")
        for finding in findings:
            kind = "warning" if finding.get("severity") == "warning" or check["outcome"] == "warned" else "error"
            count = finding.get("count", 1)
            message = finding["message"] + (f" (seen {count} times)" if count > 1 else "")
            lines.append(f"::{kind} title={title}::{_data(message[:2000])}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"::notice::{len(lines) - limit} more finding group(s): see the reports"]
    return lines
