"""The detection matrix as JSON (the record) and as one self-contained HTML page (rendered from the JSON)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jinja2

from assistants_conformance import __version__
from assistants_conformance.lab.detection.matrix import Column
from assistants_conformance.lab.faults import FaultSpec
from assistants_conformance.reporting.render import inline_markdown

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("assistants_conformance.reporting", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


# A fault's summary is Markdown (`code`), rendered as the report renders requirements.
_ENV.filters["code_spans"] = inline_markdown


def matrix_to_dict(
    columns: list[Column], faults: list[FaultSpec], *, seed: int, max_examples: int, vendor_spec: str | None
) -> dict[str, Any]:
    rows = []
    for spec in faults:
        row: dict[str, Any] = {
            "fault": spec.name,
            "summary": spec.summary,
            "category": spec.category,
            "phase": spec.phase,
            "named": sorted(spec.expects | spec.warns),
        }
        for column in columns:
            cell = column.cells.get(spec.name)
            row[column.key] = cell.to_dict() if cell else None
        rows.append(row)
    return {
        "tool_version": __version__,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "max_examples": max_examples,
        "vendor_spec": vendor_spec,
        "columns": {c.key: c.summary() for c in columns},
        "clean": {c.key: c.clean.to_dict() for c in columns if c.clean},
        "faults": rows,
    }


def render_html(matrix: dict[str, Any]) -> str:
    fired_anywhere = sorted(
        {check for row in matrix["faults"] if row.get("suite") for check in row["suite"]["fired"]}
        | {check for row in matrix["faults"] for check in row["named"]}
    )
    return _ENV.get_template("detection.html.j2").render(m=matrix, checks=fired_anywhere)


def render_mutants_markdown(record: dict[str, Any]) -> str:
    """mutants.md: the score, per operator, and every survivor with its explanation."""
    overall = record["score"]["overall"]
    lines = [
        f"# Mutation score: {overall['score']}",
        "",
        f"{record['run']} of {record['generated']} mutants run"
        + (
            f" (a stratified sample of {record['sample_per_operator']} per operator)"
            if record["sample_per_operator"]
            else ""
        )
        + f" in {record['wall_s']} s: {overall['killed']} killed, {overall['survived']} survived, "
        f"{overall['equivalent']} equivalent ({record['equivalence_rule']}), {overall['unreached']} unreached "
        "(their target never occurred in the run).",
        "",
        "| operator | killed | survived | equivalent | unreached | score |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for operator, t in record["score"]["by_operator"].items():
        lines.append(
            f"| {operator} | {t['killed']} | {t['survived']} | {t['equivalent']} | {t['unreached']} | {t['score']} |"
        )
    lines += ["", "## Survivors", ""]
    survivors = [m for m in record["mutants"] if m["verdict"] == "survived"]
    lines += [
        f"- `{m['id']}` (changed {m['changed']} answer(s))" + (f": {m['explained']}" if m["explained"] else "")
        for m in survivors
    ] or ["none"]
    return "\n".join(lines) + "\n"
