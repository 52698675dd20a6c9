"""`assistants-conformance spec`: prints where the contract is and checks it."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from assistants_conformance.cli import main
from assistants_conformance.contract import spec_path

REPO = Path(__file__).resolve().parents[1]


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


def test_spec_prints_the_bundled_path() -> None:
    """The printed path is a readable OpenAPI file other tools can be pointed at."""
    code, out = run("spec")
    assert code == 0
    path = Path(out.strip())
    assert path == spec_path()
    assert path.read_text(encoding="utf-8").startswith("openapi: 3.1.0")


def test_spec_check_passes_on_the_bundled_document() -> None:
    """--check validates and says so."""
    code, out = run("spec", "--check")
    assert code == 0
    assert "ok: valid OpenAPI 3.1" in out


def test_spec_check_reports_a_broken_document(tmp_path: Path) -> None:
    """A document with a dangling $ref and a bad schema is reported, exit 1, no traceback."""
    broken = (
        spec_path()
        .read_text(encoding="utf-8")
        .replace(
            "schema: {$ref: '#/components/schemas/AssistantList'}",
            "schema: {$ref: '#/components/schemas/NoSuchList'}",
        )
        .replace("maxProperties: 16", "maxProperties: sixteen")
    )
    target = tmp_path / "broken.yaml"
    target.write_text(broken, encoding="utf-8")
    code, out = run("spec", "--check", "--file", str(target))
    assert code == 1
    assert "NoSuchList" in out
    assert "does not resolve" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"openapi: [unclosed", "is not valid YAML"),
        (b"- just a list\n", "is not an OpenAPI document"),
        (b"\xff\xfe\x00garbage", "is not UTF-8"),
    ],
)
def test_spec_check_bad_files_give_one_readable_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    """Unreadable input ends in exit 2 and a one-line message on stderr."""
    target = tmp_path / "bad.yaml"
    target.write_bytes(content)
    code, _ = run("spec", "--check", "--file", str(target))
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_spec_check_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    """A path that does not exist is a usage-level error, not a traceback."""
    code, _ = run("spec", "--check", "--file", "/nonexistent/spec.yaml")
    assert code == 2
    assert "cannot read /nonexistent/spec.yaml" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse errors exit 2 with usage, as the exit-code table says."""
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_wheel_carries_the_one_spec_file(tmp_path: Path) -> None:
    """The built wheel holds spec/assistants.openapi.yaml byte for byte, as package data."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("assistants_conformance-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        packaged = zf.read("assistants_conformance/_spec/assistants.openapi.yaml")
        names = zf.namelist()
    assert packaged == (REPO / "spec" / "assistants.openapi.yaml").read_bytes()
    assert "assistants_conformance/py.typed" in names


def test_spec_check_reports_an_invalid_schema_keyword(tmp_path: Path) -> None:
    """A schema keyword with a wrong type is named with its component."""
    broken = spec_path().read_text(encoding="utf-8").replace("maxProperties: 16", "maxProperties: sixteen")
    target = tmp_path / "broken.yaml"
    target.write_text(broken, encoding="utf-8")
    code, out = run("spec", "--check", "--file", str(target))
    assert code == 1
    assert "Metadata" in out
