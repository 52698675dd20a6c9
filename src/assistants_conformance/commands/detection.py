"""`assistants-conformance detection`: the faulty servers met by our suite and by plain Schemathesis.

Exit 0 when our suite detects every selected fault with the checks named for it and reports
nothing on the clean server; 1 otherwise. The Schemathesis columns are measurements, not gates.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from assistants_conformance.contract import spec_path
from assistants_conformance.errors import UsageError
from assistants_conformance.lab.detection.matrix import (
    Column,
    fill,
    judge_schemathesis,
    schemathesis_cell,
    schemathesis_cell_named,
    selected,
    suite_cell,
    suite_cell_named,
)
from assistants_conformance.lab.detection.report import matrix_to_dict, render_html


def run_detection(args: argparse.Namespace, *, out: TextIO) -> int:
    try:
        faults = selected(args.faults)
    except KeyError as exc:
        raise UsageError(f"unknown fault(s): {exc.args[0]}; `serve --list-faults` names them") from None
    if args.max_examples < 0 or not 1 <= args.jobs <= 8:
        raise UsageError("--max-examples must not be negative and --jobs must be between 1 and 8")
    seed, examples = args.seed, args.max_examples

    def progress(line: str) -> None:
        print(line, file=out, flush=True)

    suite = Column("suite", "assistants-conformance (default run)")
    ours = Column("schemathesis_ours", "plain Schemathesis + our spec")
    vendor = Column("schemathesis_vendor", "plain Schemathesis + vendor spec")
    if args.vendor_spec is None:
        vendor.status = "skipped: no --vendor-spec given"
    elif not args.vendor_spec.is_file():
        vendor.status = f"skipped: vendor spec {args.vendor_spec} not found"
    if vendor.status != "ran":
        print(f"detection: the vendor spec column is {vendor.status}", file=sys.stderr)
    if args.skip_schemathesis:
        ours.status = "skipped: --skip-schemathesis"
        if vendor.ran:
            vendor.status = ours.status

    progress(f"our suite: {len(faults)} faults + the clean server (seed {seed}, {examples} examples)")
    # In --jobs worker processes: the property phase runs Hypothesis, whose seeded generation is
    # only reproducible (and only thread-safe) with one test running in a process.
    fill(
        suite,
        lambda spec: suite_cell(spec, seed=seed, max_examples=examples),
        faults,
        args.jobs,
        progress,
        by_name=functools.partial(suite_cell_named, seed=seed, max_examples=examples),
    )
    reuse = not args.remeasure
    for column, document in ((ours, spec_path()), (vendor, args.vendor_spec)):
        if column.ran and document is not None:
            progress(f"{column.title}: {len(faults)} faults + the clean server")

            def cell(spec: Any, doc: Any = document) -> Any:
                return schemathesis_cell(doc, spec, seed=seed, max_examples=examples, reuse=reuse)

            fill(
                column,
                cell,
                faults,
                args.jobs,
                progress,
                by_name=functools.partial(
                    schemathesis_cell_named, document=document, seed=seed, max_examples=examples, reuse=reuse
                ),
            )
            judge_schemathesis(column)

    columns = [suite, ours, vendor]
    matrix = matrix_to_dict(
        columns,
        faults,
        seed=seed,
        max_examples=examples,
        vendor_spec=str(args.vendor_spec) if args.vendor_spec else None,
    )
    args.report_dir.mkdir(parents=True, exist_ok=True)
    (args.report_dir / "detection.json").write_text(json.dumps(matrix, indent=2) + "\n")
    (args.report_dir / "detection.html").write_text(render_html(matrix))
    for column in columns:
        summary = column.summary()
        if column.ran:
            progress(
                f"{column.title}: {summary['detected']}/{summary['faults']} detected, "
                f"{summary['false_alarms']} false alarm(s) on the clean server, {summary['wall_s']} s"
                + (f" ({summary['cached']} cell(s) measured by an earlier run)" if summary["cached"] else "")
                + (f", {summary['errors']} run(s) that could not finish" if summary["errors"] else "")
            )
        else:
            progress(f"{column.title}: {column.status}")
    if args.mutants:
        mutation_run(args, progress)
    missed = [name for name, cell in suite.cells.items() if not cell.detected]
    if missed:
        progress(f"our suite missed (or did not fire every named check for): {', '.join(missed)}")
    progress(f"wrote {args.report_dir / 'detection.html'} and detection.json")
    return 0 if not missed and suite.clean is not None and not suite.clean.fired else 1


def mutation_run(args: argparse.Namespace, progress: Callable[[str], None]) -> dict[str, Any]:
    """Every mutant (or a stratified sample) against the reference server, in --jobs processes;
    writes mutants.json (each mutant with its verdict) and mutants.md (the score and survivors)."""
    import time

    from assistants_conformance.lab.detection.mutants import generate, record, run_many, sample
    from assistants_conformance.lab.detection.report import render_mutants_markdown

    if args.mutants_sample is not None and args.mutants_sample < 1:
        raise UsageError("--mutants-sample must be at least 1")
    every = generate()
    chosen = sample(every, args.mutants_sample)
    progress(f"mutants: {len(chosen)} of {len(every)} ({args.jobs} processes)")
    began = time.monotonic()
    results = run_many(chosen, jobs=args.jobs, seed=args.seed, progress=progress)
    mutants = record(len(every), results, sample_per_operator=args.mutants_sample, wall_s=time.monotonic() - began)
    args.report_dir.mkdir(parents=True, exist_ok=True)
    (args.report_dir / "mutants.json").write_text(json.dumps(mutants, indent=2) + "\n")
    (args.report_dir / "mutants.md").write_text(render_mutants_markdown(mutants))
    overall = mutants["score"]["overall"]
    progress(
        f"mutation score: {overall['score']} ({overall['killed']} killed, {overall['survived']} survived, "
        f"{overall['equivalent']} equivalent, {overall['unreached']} unreached) in {mutants['wall_s']} s; "
        "wrote mutants.json and mutants.md"
    )
    return mutants
