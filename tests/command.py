"""Test helper: the command line in-process, with what it printed anywhere."""

from __future__ import annotations

import io
import os

import pytest

from assistants_conformance.cli import main


def cli(
    argv: list[str], capsys: pytest.CaptureFixture[str], env: dict[str, str] | None = None, **variables: str
) -> tuple[int, str]:
    """Exit code and all output (stdout given, captured stdout, stderr), with `env` and the
    keyword `variables` set in the environment for the call only."""
    wanted = {**(env or {}), **variables}
    old = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        out = io.StringIO()
        code = main(argv, stdout=out)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    captured = capsys.readouterr()
    return code, out.getvalue() + captured.out + captured.err
