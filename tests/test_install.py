"""Installs as the README says: the wheel built from this tree, installed into a fresh venv
outside the repository, carries the contract and checks the reference server on its own.

It downloads (pip into a fresh venv), so it runs in `make dist` and the release workflow, not in
every `make test` (marker `dist`)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.dist


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        timeout=600,
    )
    (built,) = out.glob("assistants_conformance-*.whl")
    return built


def test_the_wheel_carries_the_contract_and_nothing_of_the_lab_bench(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    packed = zipfile.ZipFile(wheel).read("assistants_conformance/_spec/assistants.openapi.yaml")
    assert packed == (ROOT / "spec" / "assistants.openapi.yaml").read_bytes()
    assert not [n for n in names if n.startswith(("tests/", "spec/"))]
    assert "assistants_conformance/reporting/templates/report.html.j2" in names


def test_the_wheel_installed_in_a_fresh_venv_runs_on_its_own(wheel: Path, tmp_path: Path) -> None:
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    pip = subprocess.run(
        [env / "bin" / "python", "-m", "pip", "install", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert pip.returncode == 0, pip.stderr[-2000:]
    command = env / "bin" / "assistants-conformance"
    version = subprocess.run([command, "--version"], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert hashlib.sha256((ROOT / "spec" / "assistants.openapi.yaml").read_bytes()).hexdigest() in version.stdout
    reports = tmp_path / "reports"
    done = subprocess.run(
        [command, "run", "--reference", "--max-examples", "0", "--quiet", "--report-dir", str(reports)],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # outside the repository: nothing can come from the source tree
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "CONFORMANT" in done.stdout
    assert sorted(p.name for p in reports.iterdir()) == [
        "conformance.html",
        "conformance.json",
        "junit.xml",
        "summary.md",
    ]
