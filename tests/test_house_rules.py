"""The house rules a tool enforces: who may import whom (import-linter's contracts in
pyproject.toml), types (mypy), the lab beside the product, and every check ID used declared."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from assistants_conformance.checks import CATALOGUE
from assistants_conformance.checks.client import CLIENT

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "assistants_conformance"
TOOLS = Path(sys.executable).parent


def _lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"PYTHONPATH": str(pythonpath)} if pythonpath else {})}
    return subprocess.run(
        [str(TOOLS / "lint-imports"), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_import_contracts_hold() -> None:
    done = _lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "0 broken" in done.stdout


def test_a_forbidden_import_breaks_the_contracts(tmp_path: Path) -> None:
    """A copy of the package whose runner imports the lab: the contracts say so, naming it."""
    shutil.copytree(PACKAGE, tmp_path / "src" / "assistants_conformance")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    runner = tmp_path / "src" / "assistants_conformance" / "runner.py"
    runner.write_text(runner.read_text() + "\nfrom assistants_conformance.lab import faults  # noqa\n")
    done = _lint_imports(tmp_path, pythonpath=tmp_path / "src")
    assert done.returncode != 0
    assert "The product never imports the lab" in done.stdout
    assert "assistants_conformance.runner -> assistants_conformance.lab" in done.stdout


def test_the_code_is_ruff_clean() -> None:
    """Style as `make lint` checks it, here too: CI runs `make test`."""
    for argv in (["check", "src", "tests"], ["format", "--check", "src", "tests"]):
        done = subprocess.run([str(TOOLS / "ruff"), *argv], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-3000:]


def test_the_package_type_checks() -> None:
    done = subprocess.run(
        [str(TOOLS / "mypy"), "--no-incremental"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:]


def test_no_product_module_loads_the_lab() -> None:
    """Importing every module of the product (not the commands that front the lab) leaves the lab
    unloaded: the lab composes the product, never the other way round."""
    modules = sorted(
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for path in PACKAGE.rglob("*.py")
        if "lab" not in path.relative_to(PACKAGE).parts[:1]
        and path.name != "__main__.py"
        and path.relative_to(PACKAGE).parts[:1] != ("commands",)
        and path.name != "cli.py"
    )
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "print(sorted(m for m in sys.modules if m.startswith('assistants_conformance.lab')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
    assert len(modules) > 50


CHECK_ID = re.compile(r"^[A-Z]+(?:-[A-Z0-9]+)*-\d{3}$")


def test_every_check_id_used_in_the_code_is_declared() -> None:
    """A mistyped ID in a scenario, a validator, a fault's prediction or a test is caught here."""
    used: dict[str, list[str]] = {}
    for root in (PACKAGE, ROOT / "tests"):
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and CHECK_ID.match(node.value):
                    used.setdefault(node.value, []).append(str(path.relative_to(ROOT)))
    known = {*CATALOGUE, *CLIENT, "NOPE-001"}  # NOPE-001: the unknown ID a usage-error test gives --only
    undeclared = {check: places[:3] for check, places in used.items() if check not in known}
    assert undeclared == {}
    assert len(used) >= len(CATALOGUE) - 5  # nearly every check is named somewhere beside its declaration


# The objects a run shares between modules: each changes only through its own methods.
SHARED = {"target", "ctx", "options", "stop", "probe"}


def _writes_to_shared(path: Path, root: Path = PACKAGE) -> list[str]:
    """`target.x = …`, `ctx.target.x += …`, `options.x = …` and the like, outside `self`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        stores = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AugAssign | ast.AnnAssign)
            else []
        )
        for store in stores:
            for part in ast.walk(store):
                if not (isinstance(part, ast.Attribute) and isinstance(part.ctx, ast.Store)):
                    continue
                names, base = [], part.value
                while isinstance(base, ast.Attribute | ast.Subscript):
                    if isinstance(base, ast.Attribute):
                        names.append(base.attr)
                    base = base.value
                if isinstance(base, ast.Name):
                    names.append(base.id)
                if SHARED & set(names):
                    found.append(f"{path.relative_to(root)}:{node.lineno}: {ast.unparse(part)}")
    return found


def test_no_module_writes_the_fields_of_a_target_options_context_or_stop() -> None:
    """Inputs are read once and nothing rewrites another object's fields late: the target is
    interrupted and resumed through its methods, the options are frozen, findings and polls are
    recorded through the context's."""
    writes = [w for path in sorted(PACKAGE.rglob("*.py")) for w in _writes_to_shared(path)]
    assert writes == []


def test_the_shared_write_rule_sees_a_late_write(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f(ctx, target):\n    ctx.target.budget += 1\n    target.base_url = 'x'\n")
    assert _writes_to_shared(module, tmp_path) == ["m.py:2: ctx.target.budget", "m.py:3: target.base_url"]
