"""Several reports side by side: checks x implementations, grouped by category, each cell linking
to that run's evidence; regressions and fixes are marked when two reports of the same target are
compared (the first is the older run)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from assistants_conformance.reporting.render import _ENV

Report = dict[str, Any]
MARK = {"passed": "✅", "failed": "❌", "errored": "💥", "warned": "⚠️", "skipped": "·", "—": "—"}


def matrix(
    reports: list[Report],
    labels: list[str] | None = None,
    links: list[str | None] | None = None,
    *,
    changed: bool = False,
) -> dict[str, Any]:
    """`labels` name the columns (default: each report's target); `links` are where each report's
    HTML lives (relative to the page that shows the matrix), so each cell can link to its check.
    `changed`: only the rows whose outcome is not the same in every report."""
    ids: list[str] = []
    category: dict[str, str] = {}
    for report in reports:
        for check in report["checks"]:
            if check["id"] not in category:
                ids.append(check["id"])
                category[check["id"]] = check["category"]
    same_target = len(reports) == 2 and reports[0]["target"] == reports[1]["target"]
    columns = [
        {
            "label": (labels[i] if labels and i < len(labels) else None) or report["target"],
            "target": report["target"],
            "verdict": report["verdict"],
            "started_at": report["started_at"],
            "link": links[i] if links and i < len(links) else None,
            "failed": sum(1 for c in report["checks"] if c["outcome"] == "failed" and c["level"] == "MUST"),
        }
        for i, report in enumerate(reports)
    ]
    rows: list[dict[str, Any]] = []
    first_seen = {name: n for n, name in enumerate(dict.fromkeys(category.values()))}
    for check_id in sorted(ids, key=lambda i: first_seen[category[i]]):  # by category, catalogue order within
        found = [next((c for c in r["checks"] if c["id"] == check_id), None) for r in reports]
        outcomes = [c["outcome"] if c else "—" for c in found]
        change = ""
        if same_target:
            before, after = outcomes
            if before == "passed" and after in ("failed", "errored"):
                change = "regression"
            elif before in ("failed", "errored") and after == "passed":
                change = "fixed"
        cells = [
            {
                "outcome": outcome,
                "count": sum(f.get("count", 1) for f in (check or {}).get("findings", [])),
                "first": ((check or {}).get("findings") or [{}])[0].get("message") or (check or {}).get("reason", ""),
                "href": f"{columns[i]['link']}#{check_id}" if columns[i]["link"] and check else None,
            }
            for i, (check, outcome) in enumerate(zip(found, outcomes, strict=True))
        ]
        level = next((c["level"] for c in found if c), "")
        rows.append(
            {
                "id": check_id,
                "category": category[check_id],
                "level": level,
                "cells": cells,
                "change": change,
            }
        )
    if changed:
        rows = [row for row in rows if len({cell["outcome"] for cell in row["cells"]}) > 1]
    return {
        "reports": reports,
        "columns": columns,
        "rows": rows,
        "changed_only": changed,
        "same_target": same_target,
        "regressions": [r["id"] for r in rows if r["change"] == "regression"],
        "fixes": [r["id"] for r in rows if r["change"] == "fixed"],
    }


def evidence_links(files: list[Path], page: Path | None) -> list[str | None]:
    """Each report's HTML (written beside its JSON by `run`), relative to the page showing the
    matrix; None where there is none."""
    where = (page or Path("compare.html")).resolve().parent
    links: list[str | None] = []
    for file in files:
        html = file.resolve().with_name("conformance.html")
        links.append(Path(os.path.relpath(html, where)).as_posix() if html.is_file() else None)
    return links


def render_compare_html(
    reports: list[Report],
    labels: list[str] | None = None,
    links: list[str | None] | None = None,
    *,
    changed: bool = False,
) -> str:
    return _ENV.get_template("compare.html.j2").render(m=matrix(reports, labels, links, changed=changed))


def render_compare_markdown(
    reports: list[Report],
    labels: list[str] | None = None,
    links: list[str | None] | None = None,
    *,
    changed: bool = False,
) -> str:
    m = matrix(reports, labels, links, changed=changed)
    head = "| check | level | " + " | ".join(f"{i + 1}: {c['label']}" for i, c in enumerate(m["columns"])) + " |"
    lines = [head, "|---|---|" + "---|" * len(reports)]
    lines.append("| **verdict** | | " + " | ".join(f"**{c['verdict']}**" for c in m["columns"]) + " |")
    current = None
    for row in m["rows"]:
        if row["category"] != current:
            current = row["category"]
            lines.append(f"| *{current}* | | " + " | ".join("" for _ in reports) + " |")
        mark = {"regression": " ⬇ regression", "fixed": " ⬆ fixed"}.get(row["change"], "")
        cells = []
        for cell in row["cells"]:
            text = f"{MARK.get(cell['outcome'], '')} {cell['outcome']}"
            if cell["outcome"] in ("failed", "warned") and cell["count"] > 1:
                text += f" ×{cell['count']}"  # noqa: RUF001 - the count sign the HTML report uses
            cells.append(f"[{text}]({cell['href']})" if cell["href"] else text)
        lines.append(f"| `{row['id']}` | {row['level']} | " + " | ".join(cells) + f"{mark} |")
    if changed and not m["rows"]:
        lines.append(
            "| *every check has the same outcome in every report* | | " + " | ".join("" for _ in reports) + " |"
        )
    return "\n".join(lines) + "\n"
