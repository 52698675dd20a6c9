"""`assistants-conformance report`: re-render a saved report, or print the report's JSON Schema."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from assistants_conformance.errors import UsageError
from assistants_conformance.reporting.render import (
    Report,
    load_report,
    render_html,
    render_junit,
    render_markdown,
    schema,
)
from assistants_conformance.results import scrub

RENDERERS = {"html": render_html, "junit": render_junit, "markdown": render_markdown}
DEFAULT_NAMES = {"html": "conformance.html", "junit": "junit.xml", "markdown": "summary.md"}


def write_views(report: Report, targets: dict[str, Path], *, secrets: Iterable[str] = ()) -> list[Path]:
    written = []
    for kind, path in targets.items():
        text = scrub(RENDERERS[kind](report), secrets)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
        written.append(path)
    return written


def run_report(
    file: Path | None, *, html: Path | None, junit: Path | None, markdown: Path | None, show_schema: bool, out: TextIO
) -> int:
    if show_schema:
        print(json.dumps(schema(), indent=2), file=out)
        return 0
    if file is None:
        raise UsageError("give a report file (reports/conformance.json), or --schema")
    targets = {k: v for k, v in (("html", html), ("junit", junit), ("markdown", markdown)) if v is not None}
    if not targets:
        raise UsageError("say what to render: --html FILE, --junit FILE and/or --markdown FILE")
    refuse_overwriting([file], targets.values())
    for path in write_views(load_report(file), targets):
        print(f"wrote {path}", file=out)
    return 0


def refuse_overwriting(inputs: list[Path], outputs: Iterable[Path]) -> None:
    """An output that is an input (or another output) would destroy what the command reads."""
    seen: dict[Path, str] = {_same(p): "input" for p in inputs}
    for path in outputs:
        key = _same(path)
        if key in seen:
            raise UsageError(f"{path} is also an {seen[key]} of this command; it would be overwritten")
        seen[key] = "output"


def _same(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def run_compare(
    files: list[Path],
    *,
    html: Path | None,
    markdown: Path | None,
    labels: list[str] | None = None,
    changed: bool = False,
    out: TextIO,
) -> int:
    """Exit 1 when two runs of one target show a regression, so CI can gate on it."""
    from assistants_conformance.reporting.compare import (
        evidence_links,
        matrix,
        render_compare_html,
        render_compare_markdown,
    )

    if len(files) < 2:
        raise UsageError("compare needs at least two reports")
    if labels and len(labels) != len(files):
        raise UsageError(f"--label is given {len(labels)} time(s) for {len(files)} report(s); give one per report")
    refuse_overwriting(files, [p for p in (html, markdown) if p is not None])
    reports = [load_report(f) for f in files]
    for path, content in (
        (html, render_compare_html(reports, labels, evidence_links(files, html), changed=changed) if html else ""),
        (
            markdown,
            render_compare_markdown(reports, labels, evidence_links(files, markdown), changed=changed)
            if markdown
            else "",
        ),
    ):
        if path is not None:
            try:
                path.write_text(content, encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    if html is None and markdown is None:
        print(render_compare_markdown(reports, labels, changed=changed), file=out, end="")
    found = matrix(reports)
    if found["same_target"]:
        print(
            f"{len(found['regressions'])} regression(s): {', '.join(found['regressions']) or 'none'}; "
            f"{len(found['fixes'])} fix(es): {', '.join(found['fixes']) or 'none'}",
            file=out,
        )
    return 1 if found["regressions"] else 0
