"""The detection matrix: every named fault, and the clean server, met by each detector.

A detector is our suite (the default run, in process) or plain `schemathesis run` with all its
checks against a given OpenAPI document (a subprocess, so it is exactly what a user would run).
A fault counts as detected by our suite when every check named for it fired; by plain
Schemathesis when it reported any failure it does not also report on the clean server (it has
no check IDs of ours to name, and it already fails on the clean server for reasons of its own).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistants_conformance.lab.detection import measured
from assistants_conformance.lab.faults import FAULTS, Fault, FaultSpec, FaultyApp
from assistants_conformance.reference import RunningServer, create_app, running_server
from assistants_conformance.results import Outcome, RunResult
from assistants_conformance.runner import Options, run
from assistants_conformance.target import BaseURL

KEY = "sk-detection-local"
ASSISTANTS_PATHS = "^/(assistants|threads)"  # the vendor document covers the whole API: keep to our surface
SCHEMATHESIS_DEADLINE_S = 900.0


@dataclass
class Cell:
    """What one detector made of one server."""

    fired: list[str] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)  # of `fired`, those that only warned (SHOULD checks)
    detected: bool = False
    seconds: float = 0.0
    outcome: str = ""  # verdict of our run, or Schemathesis' exit code
    note: str = ""
    new: list[str] = field(default_factory=list)  # Schemathesis: failures the clean server does not get
    error: bool = False  # the detector could not run to the end: no verdict either way
    cached: bool = False  # a Schemathesis cell measured by an earlier run with the same inputs (measured.py)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cached": self.cached,
            "fired": self.fired,
            "warned": self.warned,
            "detected": self.detected,
            "seconds": self.seconds,
            "outcome": self.outcome,
            "note": self.note,
            "new": self.new,
            "error": self.error,
        }


@dataclass
class Column:
    key: str
    title: str
    status: str = "ran"
    wall_s: float = 0.0
    clean: Cell | None = None
    cells: dict[str, Cell] = field(default_factory=dict)

    @property
    def ran(self) -> bool:
        return self.status == "ran"

    def summary(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "status": self.status,
            "wall_s": round(self.wall_s, 1),
            "faults": len(self.cells),
            "detected": sum(c.detected for c in self.cells.values()),
            "errors": sum(c.error for c in self.cells.values()) + bool(self.clean and self.clean.error),
            "false_alarms": len(self.clean.fired) if self.clean else 0,
            "cached": sum(c.cached for c in self.cells.values()) + bool(self.clean and self.clean.cached),
        }


def _quiet_about_malformed_requests(record: logging.LogRecord) -> bool:
    """Schemathesis sends malformed HTTP on purpose; uvicorn's warning for each is noise here."""
    return "Invalid HTTP request" not in record.getMessage()


@contextmanager
def serving(spec: FaultSpec | None) -> Iterator[RunningServer]:
    """A fresh reference server (with fresh fault state) on a free port. The clean server sits behind
    the same middleware with no fault, so whatever the middleware itself changes is in every
    detector's baseline and never counts as a detection (it changes nothing: an answer no fault is
    for goes out as the server sends it, streams live)."""
    fault = spec.make(KEY) if spec else Fault("none")
    logging.getLogger("uvicorn.error").addFilter(_quiet_about_malformed_requests)  # kept once, however often added
    with running_server(api_key=KEY, app=FaultyApp(create_app(api_key=KEY), fault)) as server:
        yield server


def suite_run(spec: FaultSpec | None, *, seed: int, max_examples: int) -> RunResult:
    """The default conformance run against one server."""
    with serving(spec) as server:
        return run(
            Options(
                base_url=BaseURL.parse(server.root),
                api_key=KEY,
                seed=seed,
                max_examples=max_examples,
                poll_timeout=10.0,
                timeout=10.0,
            )
        )


def suite_cell(spec: FaultSpec | None, *, seed: int, max_examples: int) -> Cell:
    began = time.monotonic()
    result = suite_run(spec, seed=seed, max_examples=max_examples)
    fired = sorted(c.id for c in result.checks if c.outcome in (Outcome.FAILED, Outcome.WARNED, Outcome.ERRORED))
    named = (spec.expects | spec.warns) if spec else frozenset()
    return Cell(
        fired=fired,
        warned=sorted(c.id for c in result.checks if c.outcome is Outcome.WARNED),
        detected=bool(named) and named <= set(fired),
        seconds=round(time.monotonic() - began, 2),
        outcome=result.verdict.value,
    )


def suite_cell_named(name: str | None, *, seed: int, max_examples: int) -> Cell:
    """`suite_cell` by fault name: what a worker process is handed (a name pickles; a fault's
    closures need not)."""
    return suite_cell(FAULTS[name] if name else None, seed=seed, max_examples=max_examples)


def schemathesis_failures(
    document: Path, base_url: str, *, seed: int, max_examples: int
) -> tuple[list[str], str, bool]:
    """Run plain `schemathesis run` with all its checks: its failures as `CODE title: operation` lines,
    its exit status, and whether it failed to run (no report)."""
    with tempfile.TemporaryDirectory(prefix="detection-st-") as tmp:
        report = Path(tmp) / "report.json"
        argv = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            str(document.resolve()),
            "--url",
            base_url,
            "-H",
            f"Authorization: Bearer {KEY}",
            "-H",
            "OpenAI-Beta: assistants=v2",
            "--checks",
            "all",
            "--seed",
            str(seed),
            "--max-examples",
            str(max(1, max_examples)),
            "--request-timeout",
            "10",
            "--include-path-regex",
            ASSISTANTS_PATHS,
            "--report",
            "json",
            "--report-json-path",
            str(report),
            "--no-color",
        ]
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=SCHEMATHESIS_DEADLINE_S, cwd=tmp, check=False
            )
        except subprocess.TimeoutExpired:
            return [], f"no answer within {SCHEMATHESIS_DEADLINE_S:.0f} s", True
        if not report.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return [], f"exit {done.returncode}, no report: {' | '.join(tail)[:300]}", True
        data = json.loads(report.read_text())
    fired = sorted(
        f"{failure['code']} {failure['title']}: {operation}"
        for failure in data.get("failures", [])
        for operation in failure.get("operations") or ["(run)"]
    )
    return fired, f"exit {data.get('exit_code', done.returncode)}", False


def schemathesis_cell(
    document: Path, spec: FaultSpec | None, *, seed: int, max_examples: int, reuse: bool = True
) -> Cell:
    """Plain Schemathesis against one server; a cell measured before with the same inputs is
    taken from the cache (`reuse`), and every cell that ran to its end is kept there."""
    cell_key = measured.key(document, spec.name if spec else None, seed=seed, max_examples=max_examples)
    kept = measured.load(cell_key) if reuse else None
    if kept is not None:
        return Cell(fired=kept["fired"], seconds=kept.get("seconds", 0.0), outcome=kept.get("outcome", ""), cached=True)
    began = time.monotonic()
    fired: list[str] = []
    error = False
    # Its findings depend on what the server answered along the way, so the clean server is met
    # twice and the union is the baseline: noise must not count as a detection.
    for _ in range(1 if spec else 2):
        with serving(spec) as server:
            found, outcome, failed = schemathesis_failures(
                document, server.base_url, seed=seed, max_examples=max_examples
            )
        fired = sorted(set(fired) | set(found))
        error = error or failed
    cell = Cell(fired=fired, seconds=round(time.monotonic() - began, 2), outcome=outcome, error=error)
    if not error:
        measured.store(cell_key, {"fired": cell.fired, "seconds": cell.seconds, "outcome": cell.outcome})
    return cell


def schemathesis_cell_named(
    name: str | None, document: Path, *, seed: int, max_examples: int, reuse: bool = True
) -> Cell:
    """`schemathesis_cell` by fault name, for a worker process: the server it meets then runs in
    that process, not beside every other server in this one (one interpreter lock for all)."""
    spec = FAULTS[name] if name else None
    return schemathesis_cell(document, spec, seed=seed, max_examples=max_examples, reuse=reuse)


def fill(
    column: Column,
    measure: Callable[[FaultSpec | None], Cell],
    faults: list[FaultSpec],
    jobs: int,
    progress: Callable[[str], None] = lambda line: None,
    *,
    by_name: Callable[[str | None], Cell] | None = None,
) -> None:
    """Measure the clean server, then every fault (`jobs` at a time); the column's wall time covers
    both. With `by_name` (a picklable function of a fault's name) the faults run in `jobs` worker
    processes: our run drives Hypothesis, which is neither thread-safe nor reproducible with two
    tests in one process, and every server is Python, which one process runs one at a time."""
    began = time.monotonic()
    column.clean = measure(None)
    progress(f"  clean server: {_said(column.clean)}")
    if by_name is not None and jobs > 1:
        context = multiprocessing.get_context("spawn")  # no threads or servers inherited from this process
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as processes:
            cells = processes.map(by_name, [spec.name for spec in faults])
            for n, (spec, cell) in enumerate(zip(faults, cells, strict=True), 1):
                column.cells[spec.name] = cell
                progress(f"  [{n}/{len(faults)}] {spec.name}: {_said(cell)}")
    else:
        with ThreadPoolExecutor(max_workers=max(1, jobs) if by_name is None else 1) as pool:
            for n, (spec, cell) in enumerate(zip(faults, pool.map(measure, faults), strict=True), 1):
                column.cells[spec.name] = cell
                progress(f"  [{n}/{len(faults)}] {spec.name}: {_said(cell)}")
    column.wall_s = time.monotonic() - began


def _said(cell: Cell) -> str:
    took = f"measured earlier ({cell.seconds} s)" if cell.cached else f"{cell.seconds} s"
    return f"{len(cell.fired)} finding(s), {took}"


def judge_schemathesis(column: Column) -> None:
    """A fault is detected when Schemathesis reports a failure the clean server does not also get."""
    baseline = set(column.clean.fired) if column.clean else set()
    for cell in column.cells.values():
        cell.new = [line for line in cell.fired if line not in baseline]
        cell.detected = bool(cell.new) and not cell.error
        if cell.error:
            cell.note = f"could not run: {cell.outcome}"
        elif cell.new:
            codes = sorted({line.split(" ", 1)[0] for line in cell.new})
            cell.note = f"{len(cell.new)} failure(s) not seen on the clean server ({', '.join(codes)})"
        else:
            cell.note = "nothing beyond the clean run"


def selected(names: str | None) -> list[FaultSpec]:
    if not names or names == "all":
        return list(FAULTS.values())
    if names == "none":  # e.g. mutants only
        return []
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in FAULTS]
    if unknown:
        raise KeyError(", ".join(unknown))
    return [FAULTS[n] for n in wanted]
