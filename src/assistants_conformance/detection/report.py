"""The detection matrix as JSON (the record) and as one self-contained HTML page (rendered from the JSON)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import jinja2
from markupsafe import Markup, escape

from assistants_conformance import __version__
from assistants_conformance.detection.matrix import Column
from assistants_conformance.faults import FaultSpec

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("assistants_conformance.reporting", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _code_spans(text: str) -> Markup:
    """`name` in a fault's summary shown as code; everything else escaped."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


_ENV.filters["code_spans"] = _code_spans


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
