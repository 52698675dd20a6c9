"""The GitHub Action at the repository's root, its steps run as a script: what a workflow that
`uses:` it does, without GitHub. The `uses:` steps (Python, the cache, the artifact) are GitHub's
own; the install step is checked for syntax (it installs from PyPI, which CI's clean clone does
through `make`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistants_conformance.lab.faults import FAULTS, FaultyApp
from assistants_conformance.reference import create_app, running_server

ROOT = Path(__file__).resolve().parents[1]
KEY = "sk-action-canary-0123456789"
COMMAND = Path(sys.executable).with_name("assistants-conformance")


def _action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return loaded


def _outputs(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if "=" in line)


def run_action(inputs: dict[str, str], work: Path) -> tuple[int, str, str]:
    """Every `run:` step of the action but the install, in order, as GitHub runs them (bash -e,
    expressions substituted, GITHUB_OUTPUT/STEP_SUMMARY files); the exit code of the last step."""
    action = _action()
    values = {name: spec.get("default", "") for name, spec in action["inputs"].items()} | inputs
    summary = work / "summary.md"
    env = {
        **os.environ,
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(work),
        "ASSISTANTS_CONFORMANCE": str(COMMAND),  # what the install step writes to GITHUB_ENV
        "XDG_CACHE_HOME": str(work / "cache"),
    }
    log: list[str] = []
    code = 0
    for step in action["runs"]["steps"]:
        if "run" not in step or step.get("id") == "install":
            continue
        step_outputs = work / f"outputs-{step.get('id', 'step')}"

        def expression(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("inputs."):
                return values[name.removeprefix("inputs.")]
            if name.startswith("steps."):
                _, step_id, _, key = name.split(".")
                return _outputs(work / f"outputs-{step_id}").get(key, "")
            raise AssertionError(f"an expression the test does not know: {name}")

        step_env = {k: re.sub(r"\$\{\{(.*?)\}\}", expression, str(v)) for k, v in (step.get("env") or {}).items()}
        script = re.sub(r"\$\{\{(.*?)\}\}", expression, step["run"])
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=work,
            env={**env, **step_env, "GITHUB_OUTPUT": str(step_outputs)},
            capture_output=True,
            text=True,
            timeout=600,
        )
        log.append(done.stdout + done.stderr)
        code = done.returncode
    return code, "".join(log), summary.read_text(encoding="utf-8") if summary.exists() else ""


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    app = create_app(api_key=KEY)
    if request.param:
        app = FaultyApp(app, FAULTS[request.param].make(KEY))  # type: ignore[assignment]
    with running_server(api_key=KEY, app=app) as running:
        yield running.base_url


@pytest.mark.parametrize("server", [None], indirect=True)
def test_the_action_passes_a_conforming_server(server: str, tmp_path: Path) -> None:
    inputs = {"base-url": server, "api-key": KEY, "args": "--max-examples 0", "wait-for": "5"}
    code, log, summary = run_action(inputs, tmp_path)
    assert code == 0, log
    assert "conformance: passed" in log
    assert "::error" not in log
    assert "CONFORMANT" in summary
    assert (tmp_path / "conformance-reports" / "conformance.json").is_file()
    assert KEY not in log + summary


@pytest.mark.parametrize("server", ["errors-as-detail"], indirect=True)
def test_the_action_fails_a_broken_server_with_annotations(server: str, tmp_path: Path) -> None:
    inputs = {"base-url": server, "api-key": KEY, "args": "--max-examples 0 --only 'AUTH-*,RESP-*'"}
    code, log, summary = run_action(inputs, tmp_path)
    assert code == 1, log
    assert "::error title=conformance%3A 3 checks%2C one cause::" in log
    assert "::error::conformance: the server does not honour the contract" in log
    assert "NON-CONFORMANT" in summary
    assert KEY not in log + summary


def test_the_action_installs_itself_and_keeps_the_drawn_cases_per_version_and_seed(tmp_path: Path) -> None:
    steps = _action()["runs"]["steps"]
    install = next(s for s in steps if s.get("id") == "install")
    assert '"$GITHUB_ACTION_PATH"' in install["run"]
    assert subprocess.run(["bash", "-n", "-c", install["run"]], check=False).returncode == 0
    cache = next(s for s in steps if str(s.get("uses", "")).startswith("actions/cache@"))
    assert "steps.install.outputs.version" in cache["with"]["key"]
    assert "inputs.seed" in cache["with"]["key"]
    assert cache["with"]["path"] == "~/.cache/assistants-conformance"
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()"
