"""compare: checks x implementations; regressions and fixes between two runs of one target."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from assistants_conformance.cli import main
from assistants_conformance.commands.run import write_json
from assistants_conformance.lab.faults import Fault, FaultyApp, Req, Res, error
from assistants_conformance.reference import create_app, running_server
from assistants_conformance.runner import Options, run

KEY = "sk-canary-compare-0123456789"


def _unknown_is_400(req: Req) -> Res | None:
    return error(400, "bad id") if req.path.endswith("/asst_conformance_does_not_exist") else None


def _report(tmp: Path, name: str, faulty: bool) -> Path:
    app: Any = create_app(api_key=KEY)
    if faulty:
        app = FaultyApp(app, Fault("unknown id is 400", before=_unknown_is_400))
    with running_server(api_key=KEY, app=app) as server:
        # Same target URL for both runs, as for two runs of one deployment.
        result = run(Options(base_url=server.root, api_key=KEY, max_examples=0))
    data = result.to_dict()
    data["target"] = "http://deployment.test/v1"
    result_dir = tmp / name
    write_json(result, result_dir, secrets=[KEY])
    (result_dir / "conformance.json").write_text(json.dumps(data))
    return result_dir / "conformance.json"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("cmp")
    return _report(tmp, "good", faulty=False), _report(tmp, "bad", faulty=True)


def test_regression_between_two_runs_exits_1(pair: tuple[Path, Path], tmp_path: Path) -> None:
    good, bad = pair
    out = io.StringIO()
    assert main(["compare", str(good), str(bad), "--html", str(tmp_path / "m.html")], stdout=out) == 1
    assert "1 regression(s): ASST-CRUD-007" in out.getvalue()
    html = (tmp_path / "m.html").read_text()
    assert 'class="regression"' in html


def test_fix_between_two_runs_exits_0(pair: tuple[Path, Path]) -> None:
    good, bad = pair
    out = io.StringIO()
    assert main(["compare", str(bad), str(good)], stdout=out) == 0
    assert "1 fix(es): ASST-CRUD-007" in out.getvalue()
    assert "| `ASST-CRUD-007` | MUST | ❌ failed | ✅ passed ⬆ fixed |" in out.getvalue()


def test_the_matrix_names_its_columns_groups_checks_and_links_each_cell_to_its_evidence(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    """Implementations side by side: a label per column, its verdict, checks under their category,
    and every cell a link to that run's HTML report at that check."""
    good, bad = pair
    page, table = tmp_path / "compat.html", tmp_path / "compat.md"
    argv = ["compare", str(good), str(bad), "--label", "reference", "--label", "lax", "--html", str(page)]
    assert main([*argv, "--markdown", str(table)], stdout=io.StringIO()) == 1
    html = page.read_text()
    assert ">reference</a>" in html
    assert ">lax</a>" in html
    assert '<tr class="category"><td colspan="5">lifecycle</td></tr>' in html
    link = Path(os.path.relpath(bad.with_name("conformance.html"), tmp_path)).as_posix()
    assert f'<a href="{link}#ASST-CRUD-007">failed</a>' in html
    text = table.read_text()
    assert "| check | level | 1: reference | 2: lax |" in text
    assert "| **verdict** | | **conformant** | **non-conformant** |" in text
    assert f"[❌ failed]({link}#ASST-CRUD-007)" in text


def test_labels_must_match_the_reports(pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(pair[0]), str(pair[1]), "--label", "one"], stdout=io.StringIO()) == 2
    assert "one per report" in capsys.readouterr().err


def test_compare_needs_two_reports(pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(pair[0])], stdout=io.StringIO()) == 2
    assert "at least two" in capsys.readouterr().err
