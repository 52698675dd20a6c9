"""Each command loads what it uses and no more: `--help` and `checks` answer without the
validators' or the property phase's libraries, a run without a property phase never loads
Schemathesis, and the lab (faults, detection) loads only when asked for. Start-up times are
measured in `make bench` (tests/benchmarks/bench_startup.py); here, what is imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
from assistants_conformance.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit_:
    code = exit_.code
print("\\nLOADED " + json.dumps(sorted(sys.modules)))
"""
HEAVY = ("schemathesis", "hypothesis", "jsonschema", "httpx", "openapi_core", "uvicorn", "jinja2")
LAB = ("assistants_conformance.lab.faults", "assistants_conformance.lab.detection")


def _loaded(*argv: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120, check=False
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("LOADED "))
    return {
        name.split(".")[0] if not name.startswith("assistants_conformance") else name for name in json.loads(line[7:])
    }


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["checks"], ["checks", "--format", "json"]])
def test_help_and_the_catalogue_load_no_heavy_library(argv: list[str]) -> None:
    loaded = _loaded(*argv)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    assert not loaded & set(LAB)


def test_a_run_without_a_property_phase_never_loads_schemathesis_nor_the_lab(tmp_path: Path) -> None:
    loaded = _loaded("run", "--reference", "--max-examples", "0", "--quiet", "--report-dir", str(tmp_path))
    assert "assistants_conformance.runner" in loaded  # the run did happen
    assert not loaded & {"schemathesis", "hypothesis", "openapi_core", *LAB}


def test_serving_the_reference_server_does_not_load_the_lab() -> None:
    code = "import sys, assistants_conformance.reference.serve; print(sorted(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert "assistants_conformance.lab.faults" not in done.stdout
    assert "'schemathesis'" not in done.stdout
