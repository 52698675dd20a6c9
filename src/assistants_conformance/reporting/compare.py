"""Several reports side by side: checks x implementations, with regressions and fixes marked
when two reports of the same target are compared (the first is the older run)."""

from __future__ import annotations

from typing import Any

from assistants_conformance.reporting.render import _ENV

Report = dict[str, Any]


def matrix(reports: list[Report]) -> dict[str, Any]:
    ids: list[str] = []
    for report in reports:
        ids += [c["id"] for c in report["checks"] if c["id"] not in ids]
    rows = []
    same_target = len(reports) == 2 and reports[0]["target"] == reports[1]["target"]
    for check_id in ids:
        cells = [next((c for c in r["checks"] if c["id"] == check_id), None) for r in reports]
        outcomes = [c["outcome"] if c else "—" for c in cells]
        change = ""
        if same_target:
            before, after = outcomes
            if before == "passed" and after in ("failed", "errored"):
                change = "regression"
            elif before in ("failed", "errored") and after == "passed":
                change = "fixed"
        level = next((c["level"] for c in cells if c), "")
        rows.append({"id": check_id, "level": level, "outcomes": outcomes, "change": change})
    return {
        "reports": reports,
        "rows": rows,
        "same_target": same_target,
        "regressions": [r["id"] for r in rows if r["change"] == "regression"],
        "fixes": [r["id"] for r in rows if r["change"] == "fixed"],
    }


def render_compare_html(reports: list[Report]) -> str:
    return _ENV.get_template("compare.html.j2").render(m=matrix(reports))


def render_compare_markdown(reports: list[Report]) -> str:
    m = matrix(reports)
    head = "| check | level | " + " | ".join(f"{i + 1}: {r['target']}" for i, r in enumerate(reports)) + " |"
    lines = [head, "|---|---|" + "---|" * len(reports)]
    for row in m["rows"]:
        mark = {"regression": " ⬇ regression", "fixed": " ⬆ fixed"}.get(row["change"], "")
        lines.append(f"| `{row['id']}` | {row['level']} | " + " | ".join(row["outcomes"]) + f"{mark} |")
    return "\n".join(lines) + "\n"
