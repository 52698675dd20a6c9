"""Profiles: undeclared capabilities are skipped with a reason; bad profile files are usage errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from assistants_conformance.cli import main
from assistants_conformance.errors import UsageError
from assistants_conformance.profile import load_profile

NO_STREAMING_TOML = """
[capabilities]
streaming = false
function_tools = false

[run]
model = "local-model"
"""


def test_profile_formats_load(tmp_path: Path) -> None:
    """TOML and YAML both work; unstated capabilities default to true."""
    toml = tmp_path / "p.toml"
    toml.write_text(NO_STREAMING_TOML)
    yml = tmp_path / "p.yaml"
    yml.write_text("capabilities:\n  file_search: false\n")
    from_toml, from_yaml = load_profile(toml), load_profile(yml)
    assert from_toml.capabilities["streaming"] is False
    assert from_toml.model == "local-model"
    assert from_yaml.capabilities == {
        "streaming": True,
        "function_tools": True,
        "code_interpreter": True,
        "file_search": False,
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[capabilities]\nstreaming = 'yes'\n", "true/false"),
        ("[capabilities]\nteleport = true\n", "teleport"),
        ("[capabilities\n", "cannot be parsed"),
        ("- a list\n", "must be a table"),
    ],
)
def test_bad_profiles_are_usage_errors(tmp_path: Path, content: str, message: str) -> None:
    """Mistakes in a profile say what is wrong."""
    target = tmp_path / ("p.toml" if content.startswith("[") else "p.yaml")
    target.write_text(content)
    with pytest.raises(UsageError, match=message):
        load_profile(target)


def test_undeclared_capabilities_are_skipped_with_a_reason(tmp_path: Path) -> None:
    """Without streaming and function tools, their checks are skipped (not passed), and the run is conformant."""
    profile = tmp_path / "p.toml"
    profile.write_text(NO_STREAMING_TOML)
    out = io.StringIO()
    code = main(
        [
            "run",
            "--reference",
            "--profile",
            str(profile),
            "--max-examples",
            "0",
            "--quiet",
            "--report-dir",
            str(tmp_path),
        ],
        stdout=out,
    )
    report = json.loads((tmp_path / "conformance.json").read_text())
    checks = {c["id"]: c for c in report["checks"]}
    assert code == 0, out.getvalue()
    for skipped in ("RUN-STREAM-001", "RUN-SNAP-001", "RUN-TOOL-001", "STREAM-DONE-001", "SSE-EOF-001"):
        assert checks[skipped]["outcome"] == "skipped"
        assert "does not declare" in checks[skipped]["reason"]
    assert checks["RUN-POLL-001"]["outcome"] == "passed"
    assert checks["MSG-001"]["outcome"] == "passed"
    assert report["profile"]["model"] == "local-model"
    assert report["coverage"]["events"] == {}


def test_workers_give_the_same_verdict(tmp_path: Path) -> None:
    """Scenarios in parallel: same outcome as one at a time, nothing leaked."""
    out = io.StringIO()
    assert (
        main(["run", "--reference", "--workers", "4", "--max-examples", "0", "--report-dir", str(tmp_path)], stdout=out)
        == 0
    )
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["resources"]["leaked"] == []
    assert "runs" in out.getvalue()  # a progress line per scenario


def test_workers_out_of_range_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--reference", "--workers", "0"], stdout=io.StringIO()) == 2
    assert "--workers" in capsys.readouterr().err
